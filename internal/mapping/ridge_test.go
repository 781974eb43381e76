package mapping

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"compactv4/internal/metrics"
	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/ridge.json with its script (needs Python with numpy and scikit-learn: /usr/bin/python3 or $V4PYTHON)")

// sklearnTol is how close the Go results must be to scikit-learn's (float64 both): |Δ| ≤
// 1e-8·(1 + |reference|).
const sklearnTol = 1e-8

// hashFeatures returns the float32 features gen_ridge.py hashes from (member, image, feature).
func hashFeatures(member, m, p int, scale float64) Features {
	x := make([]float32, m*p)
	for i := range m {
		for j := range p {
			u := uint32(i)*2654435761 + uint32(j)*40503 + uint32(member)*97 + 1
			u ^= u >> 13
			u = u*1103515245 + 12345
			u ^= u >> 16
			x[i*p+j] = float32((float64(u%20001)/10000.0 + 0.5) * scale)
		}
	}
	return Features{N: m, P: p, X: x, Name: fmt.Sprintf("hashed member %d", member)}
}

type ridgeCase struct {
	Name                   string
	Members, M, P, N, R, T int
	Scale                  float64
	Raw                    []*float64
	DefaultAlpha           float64 `json:"default_alpha"`
	Fits                   []struct {
		Alpha float64
		Pred  []float64
	}
	CV []struct {
		Alpha     float64
		Test, Val []float64
	}
	ChosenAlpha float64 `json:"chosen_alpha"`
}

func loadCases(t *testing.T) []ridgeCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "ridge.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Cases []ridgeCase }
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Cases) == 0 {
		t.Fatal("no cases")
	}
	return doc.Cases
}

func (c ridgeCase) raw() metrics.Raw {
	z := metrics.Raw{N: c.N, M: c.M, R: c.R, Data: make([]float64, len(c.Raw))}
	for i, v := range c.Raw {
		z.Data[i] = math.NaN()
		if v != nil {
			z.Data[i] = *v
		}
	}
	return z
}

func near(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, scikit-learn %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		d := math.Abs(got[i]-want[i]) / (1 + math.Abs(want[i]))
		if !(d <= sklearnTol) {
			t.Errorf("%s[%d] = %.17g, scikit-learn %.17g", what, i, got[i], want[i])
		}
		worst = math.Max(worst, d)
	}
	t.Logf("%s: largest |Δ|/(1+|ref|) %.3g", what, worst)
}

// TestSklearn compares the default alpha, ridge fits in the kernel and primal forms, the 8-fold
// cross-validation and choose_alpha with scikit-learn's, committed in testdata/ridge.json.
func TestSklearn(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.Name, func(t *testing.T) {
			raw := c.raw()
			feats := make([]Features, c.Members)
			designs := make([]*Design, c.Members)
			for i := range feats {
				feats[i] = hashFeatures(i, c.M, c.P, c.Scale)
				d, err := NewDesign(feats[i])
				if err != nil {
					t.Fatal(err)
				}
				designs[i] = d
			}
			train, rest := span(0, c.T), span(c.T, c.M)
			a, err := DefaultAlpha(feats[0], train)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "default alpha", []float64{a}, []float64{c.DefaultAlpha})
			y := targets(raw.Means(), train)
			for _, fit := range c.Fits {
				alpha := fit.Alpha
				if alpha == Auto {
					alpha = a
				}
				f, err := designs[0].Fit(train, y, alpha)
				if err != nil {
					t.Fatal(err)
				}
				pred, err := f.Predict(rest)
				if err != nil {
					t.Fatal(err)
				}
				var flat []float64
				for _, row := range pred {
					flat = append(flat, row...)
				}
				near(t, fmt.Sprintf("predictions, alpha %v", fit.Alpha), flat, fit.Pred)
			}
			for _, cv := range c.CV {
				res, err := CrossValidate(c.Members, func(i int) (Features, error) { return feats[i], nil }, raw, cv.Alpha)
				if err != nil {
					t.Fatal(err)
				}
				near(t, fmt.Sprintf("CV test r2_ER, alpha %v", cv.Alpha), res.Test, cv.Test)
				near(t, fmt.Sprintf("CV validation r2_ER, alpha %v", cv.Alpha), res.Val, cv.Val)
			}
			chosen, err := ChooseAlpha(designs, raw, 1e-5, 1e5)
			if err != nil {
				t.Fatal(err)
			}
			if chosen != c.ChosenAlpha {
				t.Errorf("choose_alpha: %v, upstream's code with scikit-learn %v", chosen, c.ChosenAlpha)
			}
			// Designs holding further images after raw's choose the same alpha.
			longer := make([]*Design, len(feats))
			for i, f := range feats {
				g := Features{N: f.N + 5, P: f.P, X: append(slices.Clone(f.X), f.X[:5*f.P]...), Name: f.Name}
				for k := range g.X[f.N*f.P:] {
					g.X[f.N*f.P+k] *= 1.5
				}
				if longer[i], err = NewDesign(g); err != nil {
					t.Fatal(err)
				}
			}
			if got, err := ChooseAlpha(longer, raw, 1e-5, 1e5); err != nil || got != chosen {
				t.Errorf("choose_alpha with 5 more images in the designs: %v, %v; want %v", got, err, chosen)
			}
		})
	}
}

// TestReferenceScript regenerates testdata/ridge.json with scikit-learn and compares: another
// BLAS or CPU rounds the solves differently (most where alpha is 1e-5 and the kernel matrix
// nearly singular), so the tolerance is 1e-9, ten times below TestSklearn's.
func TestReferenceScript(t *testing.T) {
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_ridge.py"), []string{"numpy", "sklearn"},
		map[string]pyref.Tolerances{"ridge.json": {
			Default: pyref.Tol{Rel: 1e-9, Abs: 1e-9},
			Ignore:  []string{"numpy", "sklearn"},
		}}, *update)
}

// TestBadInput checks that unusable features, targets and settings are errors naming them.
func TestBadInput(t *testing.T) {
	good := hashFeatures(0, 20, 30, 1)
	for _, v := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		bad := hashFeatures(0, 20, 30, 1)
		bad.X[3*30+7] = v
		if _, err := NewDesign(bad); !errors.Is(err, ErrInput) || !contains(err, "image 3, feature 7") {
			t.Errorf("%v feature: %v", v, err)
		}
		if _, err := DefaultAlpha(bad, span(0, 10)); !errors.Is(err, ErrInput) {
			t.Errorf("%v feature, default alpha: %v", v, err)
		}
	}
	short := good
	short.X = short.X[:10]
	if _, err := NewDesign(short); !errors.Is(err, ErrInput) {
		t.Errorf("short features: %v", err)
	}
	d, err := NewDesign(good)
	if err != nil {
		t.Fatal(err)
	}
	y := [][]float64{make([]float64, 10)}
	for _, c := range []struct {
		name  string
		train []int
		y     [][]float64
		alpha float64
	}{
		{"negative alpha", span(0, 10), y, -2},
		{"NaN alpha", span(0, 10), y, math.NaN()},
		{"repeated image", append(span(0, 9), 3), y, 1},
		{"image out of range", append(span(0, 9), 20), y, 1},
		{"targets of another length", span(0, 9), y, 1},
		{"NaN target", span(0, 10), [][]float64{{math.NaN(), 0, 0, 0, 0, 0, 0, 0, 0, 0}}, 1},
		{"no neurons", span(0, 10), nil, 1},
	} {
		if _, err := d.Fit(c.train, c.y, c.alpha); !errors.Is(err, ErrInput) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := Folds(7); !errors.Is(err, ErrInput) {
		t.Errorf("7 images: %v", err)
	}
}

func contains(err error, s string) bool { return err != nil && strings.Contains(err.Error(), s) }

// TestGramKernel compares the Gram matrix of every kernel this machine runs (AVX-512, AVX2, Go)
// with a plain sum, on sizes around the block and chunk edges.
func TestGramKernel(t *testing.T) {
	for _, set := range kernelSets() {
		t.Run(set.name, func(t *testing.T) {
			defer set.use()()
			for _, c := range []struct{ n, ld int }{{4, 8}, {8, 16}, {12, 392}, {16, 2 * gramChunk}} {
				x := make([]float64, c.n*c.ld)
				for i := range x {
					x[i] = float64((i*7919)%1013)/100 - 5
				}
				g := gram(x, c.n, c.ld)
				for i := range c.n {
					for j := range c.n {
						want := 0.0
						for k := range c.ld {
							want += x[i*c.ld+k] * x[j*c.ld+k]
						}
						if d := math.Abs(g[i*c.n+j] - want); d > 1e-12*math.Max(1, math.Abs(want)) {
							t.Fatalf("n %d, ld %d: G[%d][%d] = %v, want %v", c.n, c.ld, i, j, g[i*c.n+j], want)
						}
					}
				}
			}
		})
	}
}

// Folds follows upstream's rule: tests and validations of q = ⌊M/8⌋ positions, disjoint within a
// fold, training on the rest of [0, 8q); every position below 8q is tested exactly once and every
// position from M−8q on validated exactly once.
func TestFolds(t *testing.T) {
	for _, m := range []int{8, 15, 44, 48, 53, 600, 1200} {
		folds, err := Folds(m)
		if err != nil {
			t.Fatal(err)
		}
		q := m / numFolds
		tested, validated := make([]int, m), make([]int, m)
		for f, fo := range folds {
			if len(fo.Test) != q || len(fo.Val) != q {
				t.Fatalf("M %d fold %d: %d test and %d validation positions, want %d", m, f, len(fo.Test), len(fo.Val), q)
			}
			in := map[int]bool{}
			for _, p := range fo.Test {
				tested[p]++
				in[p] = true
			}
			for _, p := range fo.Val {
				validated[p]++
				in[p] = true
			}
			for _, p := range fo.Train {
				if in[p] || p >= numFolds*q {
					t.Fatalf("M %d fold %d: training position %d is tested, validated or beyond 8q", m, f, p)
				}
			}
			if len(fo.Train) != numFolds*q-(len(in)-countAbove(in, numFolds*q)) {
				t.Fatalf("M %d fold %d: %d training positions", m, f, len(fo.Train))
			}
		}
		for p := range m {
			if want := b2i(p < numFolds*q); tested[p] != want {
				t.Errorf("M %d: position %d tested %d times, want %d", m, p, tested[p], want)
			}
			if want := b2i(p >= m-numFolds*q); validated[p] != want {
				t.Errorf("M %d: position %d validated %d times, want %d", m, p, validated[p], want)
			}
		}
	}
}

func countAbove(s map[int]bool, lo int) int {
	n := 0
	for p := range s {
		if p >= lo {
			n++
		}
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestDefaultAlphaWorkers: the default alpha is the same float64, bit for bit, whatever the
// number of workers that split the features, and equal to the plain two-pass formula.
func TestDefaultAlphaWorkers(t *testing.T) {
	const n, p = 37, 5000
	x := make([]float32, n*p)
	for k := range x {
		x[k] = float32(math.Sin(float64(k)*0.37) * (1 + float64(k%p)/1000))
	}
	f := Features{N: n, P: p, X: x, Name: "sine"}
	rows := []int{3, 0, 36, 17, 5, 9, 22, 30, 11}
	// The formula written out serially: 0.01·median_j(var_j·(t−1)²).
	tf := float64(len(rows))
	ss := make([]float64, p)
	for j := range p {
		mean := 0.0
		for _, r := range rows {
			mean += float64(x[r*p+j])
		}
		mean /= tf
		for _, r := range rows {
			d := float64(x[r*p+j]) - mean
			ss[j] += d * d
		}
		ss[j] = ss[j] / tf * (tf - 1) * (tf - 1)
	}
	want := 0.01 * metrics.Median(ss)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 3, 4} {
		runtime.GOMAXPROCS(procs)
		got, err := DefaultAlpha(f, rows)
		if err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(got) != math.Float64bits(want) {
			t.Errorf("GOMAXPROCS %d: default alpha %v, want %v", procs, got, want)
		}
	}
}
