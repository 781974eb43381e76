package stimuli

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

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

// TestGaussianKernel: the weights are scipy's, bit for bit.
func TestGaussianKernel(t *testing.T) {
	var ref gaussianRef
	readJSON(t, "gaussian.json", &ref)
	if len(ref.Kernels) == 0 {
		t.Fatal("no kernels in testdata/gaussian.json")
	}
	for _, k := range ref.Kernels {
		got, err := GaussianKernel(k.Sigma, k.Truncate)
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
		if got := numpySum(x); got != c.Sum {
			t.Errorf("n=%d: sum %v, numpy %v", c.N, got, c.Sum)
		}
		if got := numpySum(sq) / float64(c.N); got != c.MeanSq {
			t.Errorf("n=%d: mean of squares %v, numpy %v", c.N, got, c.MeanSq)
		}
	}
}

// TestGaussianFilterHW: the filtered images are scipy's gaussian_filter(x, (0, σ, σ, 0),
// mode='reflect') bit for bit, including images smaller than the kernel (repeated reflection).
func TestGaussianFilterHW(t *testing.T) {
	var ref gaussianRef
	readJSON(t, "gaussian.json", &ref)
	if len(ref.Cases) == 0 {
		t.Fatal("no cases in testdata/gaussian.json")
	}
	for _, c := range ref.Cases {
		name := fmt.Sprintf("%dx%dx%d_sigma%v_trunc%v", c.H, c.W, c.C, c.Sigma, c.Truncate)
		t.Run(name, func(t *testing.T) {
			wts, err := GaussianKernel(c.Sigma, c.Truncate)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float64, len(c.X))
			if err := GaussianFilterHW(got, c.X, c.H, c.W, c.C, wts); err != nil {
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
			if err := GaussianFilterHW(in, in, c.H, c.W, c.C, wts); err != nil {
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

// TestGaussianFilterProperties checks what holds for any input: constants are kept (weights sum
// to one up to rounding) and the filter is linear.
func TestGaussianFilterProperties(t *testing.T) {
	wts, err := GaussianKernel(1, 4)
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
	if err := GaussianFilterHW(out, con, h, w, c, wts); err != nil {
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
		if err := GaussianFilterHW(p.dst, p.src, h, w, c, wts); err != nil {
			t.Fatal(err)
		}
	}
	for i := range fs {
		if math.Abs(fs[i]-(fa[i]+fb[i])) > 1e-12 {
			t.Fatalf("not linear at %d: %v vs %v", i, fs[i], fa[i]+fb[i])
		}
	}
}

func TestGaussianErrors(t *testing.T) {
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
		if _, err := GaussianKernel(c.sigma, c.truncate); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	wts, _ := GaussianKernel(1, 4)
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
		if err := GaussianFilterHW(c.dst, c.src, c.h, c.w, c.c, c.wts); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

func BenchmarkGaussianFilterHW(b *testing.B) {
	wts, _ := GaussianKernel(1, 4)
	x := make([]float64, 112*112*3)
	for i := range x {
		x[i] = float64(i % 17)
	}
	b.SetBytes(int64(8 * len(x)))
	for b.Loop() {
		if err := GaussianFilterHW(x, x, 112, 112, 3, wts); err != nil {
			b.Fatal(err)
		}
	}
}
