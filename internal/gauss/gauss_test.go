package gauss

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite the scipy references under testdata with their scripts (needs Python with numpy and scipy: /usr/bin/python3 or $V4PYTHON)")

// needPython returns the interpreter that runs the reference scripts and the numpy settings to
// run them under (the first writes the references), or skips the test when it lacks numpy and
// scipy (the committed references are then used as they are).
func needPython(t *testing.T) (string, []pyref.Dispatch) {
	t.Helper()
	py, err := pyref.Find("numpy", "scipy.ndimage")
	if err != nil {
		if *update {
			t.Fatalf("-update: %v", err)
		}
		t.Skip(err)
	}
	ds, err := pyref.Dispatches(py)
	if err != nil {
		t.Fatal(err)
	}
	return py, ds
}

// gaussianTol is how far gaussian.json may move when gen_gaussian.py runs on another CPU. numpy
// computes np.exp, and so scipy's kernel weights, with its own AVX-512 code where the CPU has it
// and with glibc's exp elsewhere; the weights then differ by one or two ulps (measured: at most
// 2 ulps, 3.2e-16 relative), and the filtered values by a few ulps of the magnitude of the
// inputs, |x| ≤ 103 here (measured: at most 2.8e-14 absolute, which is up to 1.4e-12 relative
// for outputs near zero, where the weighted sum cancels). The tolerances are some 30 times the
// measured differences and far below any real change: a change of 1e-6 relative in a weight, or
// in a filtered value larger than 1e-6, exceeds them. The inputs (numpy's seeded generator) and
// numpy's sums (its pairwise summation, the same code on every CPU) do not depend on the CPU: a
// few ulps. The Go code is still held to the committed file bit for bit (TestKernelScipy,
// TestNumpySum, TestFilterHWScipy); it was written with numpy's baseline code (glibc's exp).
var gaussianTol = pyref.Tolerances{
	Default: pyref.Tol{Rel: 4 * 0x1p-52},
	Keys: map[string]pyref.Tol{
		"weights": {Rel: 1e-14},
		"y":       {Abs: 1e-12},
	},
	Ignore: []string{"numpy", "scipy"}, // the versions: reported when they differ
}

// TestReferenceScripts checks that testdata/gaussian.json is what testdata/gen_gaussian.py
// writes with the installed numpy and scipy, within gaussianTol, both with numpy's baseline code
// and with the SIMD code it picks for this CPU (with -update, rewrites it from the baseline
// run), so that the reference cannot drift from its generator. TestFilter2DScipy does the same
// for gaussian_scipy.json.
func TestReferenceScripts(t *testing.T) {
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_gaussian.py"), []string{"numpy", "scipy.ndimage"},
		map[string]pyref.Tolerances{"gaussian.json": gaussianTol}, *update)
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type gaussianRef struct {
	Scipy string `json:"scipy"`
	Cases []struct {
		H, W, C         int
		Sigma, Truncate float64
		X, Y            []float64
	} `json:"cases"`
	Sums []struct {
		N      int
		Sum    float64
		MeanSq float64 `json:"mean_sq"`
	} `json:"sums"`
	Kernels []struct {
		Sigma, Truncate float64
		Weights         []float64
	} `json:"kernels"`
}

// TestKernelScipy: the weights are scipy's, bit for bit.
func TestKernelScipy(t *testing.T) {
	var ref gaussianRef
	readJSON(t, "gaussian.json", &ref)
	if len(ref.Kernels) == 0 {
		t.Fatal("no kernels in testdata/gaussian.json")
	}
	for _, k := range ref.Kernels {
		got, err := Kernel(k.Sigma, k.Truncate)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(k.Weights) {
			t.Fatalf("σ=%v truncate=%v: %d weights, scipy %d", k.Sigma, k.Truncate, len(got), len(k.Weights))
		}
		for i := range got {
			if got[i] != k.Weights[i] {
				t.Errorf("σ=%v truncate=%v: weight %d = %v, scipy %s %v", k.Sigma, k.Truncate, i, got[i], ref.Scipy, k.Weights[i])
			}
		}
	}
}

// TestNumpySum: sums (and means of squares, as the gradient normalisation takes them) are
// numpy's, bit for bit, for lengths on both sides of numpy's unrolling and splitting thresholds.
func TestNumpySum(t *testing.T) {
	var ref gaussianRef
	readJSON(t, "gaussian.json", &ref)
	if len(ref.Sums) == 0 {
		t.Fatal("no sums in testdata/gaussian.json")
	}
	for _, c := range ref.Sums {
		x := make([]float64, c.N)
		sq := make([]float64, c.N)
		for i := range x {
			x[i] = float64((i*7919)%10007) / 97.0
			sq[i] = x[i] * x[i]
		}
		if got := NumpySum(x); got != c.Sum {
			t.Errorf("n=%d: sum %v, numpy %v", c.N, got, c.Sum)
		}
		if got := NumpySum(sq) / float64(c.N); got != c.MeanSq {
			t.Errorf("n=%d: mean of squares %v, numpy %v", c.N, got, c.MeanSq)
		}
	}
}

// TestFilterHWScipy: the filtered images are scipy's gaussian_filter(x, (0, σ, σ, 0),
// mode='reflect') bit for bit, including images smaller than the kernel (repeated reflection).
func TestFilterHWScipy(t *testing.T) {
	var ref gaussianRef
	readJSON(t, "gaussian.json", &ref)
	if len(ref.Cases) == 0 {
		t.Fatal("no cases in testdata/gaussian.json")
	}
	for _, c := range ref.Cases {
		name := fmt.Sprintf("%dx%dx%d_sigma%v_trunc%v", c.H, c.W, c.C, c.Sigma, c.Truncate)
		t.Run(name, func(t *testing.T) {
			wts, err := Kernel(c.Sigma, c.Truncate)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(c.X))
			if err := FilterHW(got, c.X, c.H, c.W, c.C, wts); err != nil {
				t.Fatal(err)
			}
			bad := 0
			for i := range got {
				if got[i] != c.Y[i] {
					if bad < 5 {
						t.Errorf("value %d = %v, scipy %v", i, got[i], c.Y[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d values differ", bad, len(got))
			}
			// In place gives the same bytes.
			in := append([]float64(nil), c.X...)
			if err := FilterHW(in, in, c.H, c.W, c.C, wts); err != nil {
				t.Fatal(err)
			}
			for i := range in {
				if in[i] != got[i] {
					t.Fatalf("in place: value %d = %v, out of place %v", i, in[i], got[i])
				}
			}
		})
	}
}

// TestFilterHWProperties checks what holds for any input: constants are kept (weights sum
// to one up to rounding) and the filter is linear.
func TestFilterHWProperties(t *testing.T) {
	wts, err := Kernel(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	h, w, c := 9, 6, 3
	n := h * w * c
	con := make([]float64, n)
	for i := range con {
		con[i] = 42
	}
	out := make([]float64, n)
	if err := FilterHW(out, con, h, w, c, wts); err != nil {
		t.Fatal(err)
	}
	for i, v := range out {
		if math.Abs(v-42) > 1e-12 {
			t.Fatalf("constant image: value %d = %v", i, v)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := make([]float64, n), make([]float64, n)
	for i := range a {
		a[i], b[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	sum := make([]float64, n)
	for i := range sum {
		sum[i] = a[i] + b[i]
	}
	fa, fb, fs := make([]float64, n), make([]float64, n), make([]float64, n)
	for _, p := range []struct{ dst, src []float64 }{{fa, a}, {fb, b}, {fs, sum}} {
		if err := FilterHW(p.dst, p.src, h, w, c, wts); err != nil {
			t.Fatal(err)
		}
	}
	for i := range fs {
		if math.Abs(fs[i]-(fa[i]+fb[i])) > 1e-12 {
			t.Fatalf("not linear at %d: %v vs %v", i, fs[i], fa[i]+fb[i])
		}
	}
}

func TestErrors(t *testing.T) {
	for _, c := range []struct {
		name            string
		sigma, truncate float64
		want            string
	}{
		{"zero sigma", 0, 4, "sigma"},
		{"negative sigma", -1, 4, "sigma"},
		{"NaN sigma", math.NaN(), 4, "sigma"},
		{"Inf sigma", math.Inf(1), 4, "sigma"},
		{"negative truncate", 1, -1, "truncate"},
		{"huge radius", 1e6, 4, "radius"},
	} {
		if _, err := Kernel(c.sigma, c.truncate); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	wts, _ := Kernel(1, 4)
	for _, c := range []struct {
		name    string
		dst     []float64
		src     []float64
		h, w, c int
		wts     []float64
	}{
		{"zero height", make([]float64, 0), make([]float64, 0), 0, 3, 3, wts},
		{"short src", make([]float64, 27), make([]float64, 26), 3, 3, 3, wts},
		{"short dst", make([]float64, 26), make([]float64, 27), 3, 3, 3, wts},
		{"even weights", make([]float64, 27), make([]float64, 27), 3, 3, 3, []float64{0.5, 0.5}},
		{"asymmetric", make([]float64, 27), make([]float64, 27), 3, 3, 3, []float64{0.2, 0.5, 0.3}},
	} {
		if err := FilterHW(c.dst, c.src, c.h, c.w, c.c, c.wts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func BenchmarkFilterHW(b *testing.B) {
	wts, _ := Kernel(1, 4)
	x := make([]float64, 112*112*3)
	for i := range x {
		x[i] = float64(i % 17)
	}
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		if err := FilterHW(x, x, 112, 112, 3, wts); err != nil {
			b.Fatal(err)
		}
	}
}

type gaussGolden struct {
	Scipy string `json:"scipy"`
	Cases []struct {
		Shape    []int   `json:"shape"`
		Sigma    float64 `json:"sigma"`
		Truncate float64 `json:"truncate"`
		In       string  `json:"in"`
		Out      string  `json:"out"`
	} `json:"cases"`
}

func hexF32(t *testing.T, s string) []float32 {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil || len(b)%4 != 0 {
		t.Fatalf("bad hex float32 data (%d chars): %v", len(s), err)
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out
}

const gaussGoldenPath = "testdata/gaussian_scipy.json"

// runGaussScript runs the golden's generator, which needs Python with numpy and scipy, under the
// numpy setting d.
func runGaussScript(t *testing.T, py string, d pyref.Dispatch) []byte {
	t.Helper()
	out, err := pyref.Command(py, d, "testdata/gaussian_scipy.py").Output()
	if err != nil {
		t.Fatalf("gaussian_scipy.py: %v", err)
	}
	return out
}

// gaussScipyTol is how far a value of gaussian_scipy.json may move when gaussian_scipy.py runs
// on another CPU. scipy filters float32 arrays in float64 and rounds the result to float32. The
// kernel's last bits depend on the CPU (see gaussianTol), which moves the float64 sum by a few
// ulps of the inputs' magnitude (|x| < 11: below 1e-14) and so can round a float32 output the
// other way: one float32 ulp, or 1e-12 absolute for outputs near zero. (No value differs between
// numpy's baseline and AVX-512 code.) A change of 1e-6 relative is 8 float32 ulps or more. The
// Go code is still held to the committed bits exactly (below).
var gaussScipyTol = pyref.Tol{Rel: pyref.Float32ULP, Abs: 1e-12}

// compareGaussGolden compares a regenerated gaussian_scipy.json with the committed one: the same
// cases, and the float32 inputs and outputs within gaussScipyTol.
func compareGaussGolden(t *testing.T, committed, regenerated []byte) {
	t.Helper()
	// The cases' shapes and parameters, exactly; the hex data below.
	sum, err := pyref.CompareJSON(committed, regenerated, pyref.Tolerances{Ignore: []string{"in", "out", "numpy", "scipy"}})
	if err != nil {
		t.Fatalf("%s: %v", gaussGoldenPath, err)
	}
	t.Log(sum)
	var want, got gaussGolden
	if err := json.Unmarshal(committed, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(regenerated, &got); err != nil {
		t.Fatal(err)
	}
	for i, w := range want.Cases {
		g := got.Cases[i]
		for _, a := range []struct{ name, want, got string }{{"in", w.In, g.In}, {"out", w.Out, g.Out}} {
			name := fmt.Sprintf("case %d (shape %v sigma %g) %s", i, w.Shape, w.Sigma, a.name)
			sum, err := pyref.CompareFloats(name, f32to64(hexF32(t, a.want)), f32to64(hexF32(t, a.got)), gaussScipyTol)
			if err != nil {
				t.Errorf("%s is not what the installed scipy gives within the tolerance; review and rerun with -update: %v", gaussGoldenPath, err)
				continue
			}
			t.Log(sum)
		}
	}
}

func f32to64(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}

// Filter2D equals scipy.ndimage.gaussian_filter bit for bit on float32 arrays (the
// committed golden was written by testdata/gaussian_scipy.py; when scipy is installed the script
// is run again and must reproduce it).
func TestFilter2DScipy(t *testing.T) {
	if *update {
		py, ds := needPython(t)
		if err := os.WriteFile(gaussGoldenPath, runGaussScript(t, py, ds[0]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(gaussGoldenPath)
	if err != nil {
		t.Fatal(err)
	}
	var g gaussGolden
	if err := json.Unmarshal(data, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Cases) == 0 {
		t.Fatal("golden has no cases")
	}
	for _, c := range g.Cases {
		in, want := hexF32(t, c.In), hexF32(t, c.Out)
		h, w, rest := c.Shape[0], c.Shape[1], 1
		for _, d := range c.Shape[2:] {
			rest *= d
		}
		got := make([]float32, len(in))
		if err := Filter2D(got, in, h, w, rest, c.Sigma, c.Truncate); err != nil {
			t.Fatal(err)
		}
		diff := 0
		for i := range want {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				if diff == 0 {
					t.Errorf("shape %v sigma %g: value %d = %v, scipy %v", c.Shape, c.Sigma, i, got[i], want[i])
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("shape %v sigma %g: %d of %d values differ from scipy %s", c.Shape, c.Sigma, diff, len(want), g.Scipy)
		}
		// In place gives the same bytes.
		if err := Filter2D(in, in, h, w, rest, c.Sigma, c.Truncate); err != nil {
			t.Fatal(err)
		}
		for i := range in {
			if math.Float32bits(in[i]) != math.Float32bits(got[i]) {
				t.Fatalf("in place: value %d = %v, out of place %v", i, in[i], got[i])
			}
		}
	}
	t.Run("fresh scipy", func(t *testing.T) {
		py, ds := needPython(t)
		for _, d := range ds {
			t.Run(d.Name, func(t *testing.T) {
				compareGaussGolden(t, data, runGaussScript(t, py, d))
			})
		}
	})
}

func TestKernelShape(t *testing.T) {
	for _, tc := range []struct {
		sigma, truncate float64
		taps            int
	}{{0.5, 4, 5}, {1, 4, 9}, {2, 4, 17}, {0.1, 4, 1}, {1, 0, 1}} {
		k, err := Kernel(tc.sigma, tc.truncate)
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != tc.taps {
			t.Errorf("sigma %g truncate %g: %d taps, want %d", tc.sigma, tc.truncate, len(k), tc.taps)
		}
		var s float64
		for i, v := range k {
			s += v
			if v != k[len(k)-1-i] {
				t.Errorf("sigma %g: kernel not symmetric", tc.sigma)
			}
		}
		if math.Abs(s-1) > 1e-15 {
			t.Errorf("sigma %g: weights sum to %v", tc.sigma, s)
		}
	}
	// σ = 0.5: exp(−2k²) normalised.
	k, _ := Kernel(0.5, 4)
	z := 1 + 2*math.Exp(-2) + 2*math.Exp(-8)
	if math.Abs(k[2]-1/z) > 1e-16 || math.Abs(k[0]-math.Exp(-8)/z) > 1e-18 {
		t.Errorf("sigma 0.5 kernel %v", k)
	}
	for _, bad := range [][2]float64{{0, 4}, {-1, 4}, {math.NaN(), 4}, {1, -1}, {math.Inf(1), 4}, {1e300, 4}} {
		if _, err := Kernel(bad[0], bad[1]); err == nil {
			t.Errorf("Kernel(%v, %v) succeeded", bad[0], bad[1])
		}
	}
	if err := Filter2D(make([]float32, 6), make([]float32, 5), 2, 3, 1, 1, 4); err == nil {
		t.Error("Filter2D with short src succeeded")
	}
}

func TestReflectIndex(t *testing.T) {
	for _, c := range []struct{ i, n, want int }{
		{-1, 5, 0}, {-2, 5, 1}, {0, 5, 0}, {4, 5, 4}, {5, 5, 4}, {6, 5, 3},
		{-6, 5, 4}, {10, 5, 0}, {-11, 5, 0}, {3, 1, 0}, {-3, 1, 0}, // reflections of reflections
	} {
		if got := ReflectIndex(c.i, c.n); got != c.want {
			t.Errorf("ReflectIndex(%d, %d) = %d, want %d", c.i, c.n, got, c.want)
		}
	}
}
