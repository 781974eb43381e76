package nn

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math"
	"os"
	"os/exec"
	"testing"

	"compactv4/internal/model"
)

var update = flag.Bool("update", false, "regenerate goldens under testdata (needs /usr/bin/python3 with scipy)")

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

// runGaussScript runs the golden's generator, which needs /usr/bin/python3 with scipy.
func runGaussScript(t *testing.T) []byte {
	t.Helper()
	py := havePythonNumpy(t, "numpy, scipy.ndimage")
	out, err := exec.Command(py, "testdata/gaussian_scipy.py").Output()
	if err != nil {
		t.Fatalf("gaussian_scipy.py: %v", err)
	}
	return out
}

// GaussianFilter2D equals scipy.ndimage.gaussian_filter bit for bit on float32 arrays (the
// committed golden was written by testdata/gaussian_scipy.py; when scipy is installed the script
// is run again and must reproduce it).
func TestGaussianFilterScipy(t *testing.T) {
	if *update {
		if err := os.WriteFile(gaussGoldenPath, runGaussScript(t), 0o644); err != nil {
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
		if err := GaussianFilter2D(got, in, h, w, rest, c.Sigma, c.Truncate); err != nil {
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
		if err := GaussianFilter2D(in, in, h, w, rest, c.Sigma, c.Truncate); err != nil {
			t.Fatal(err)
		}
		assertSameBits(t, "in place", in, got)
	}
	t.Run("fresh scipy", func(t *testing.T) {
		if fresh := runGaussScript(t); !bytes.Equal(bytes.TrimSpace(fresh), bytes.TrimSpace(data)) {
			t.Errorf("%s is not what the installed scipy gives; rerun with -update", gaussGoldenPath)
		}
	})
}

func TestGaussianKernel1D(t *testing.T) {
	for _, tc := range []struct {
		sigma, truncate float64
		taps            int
	}{{0.5, 4, 5}, {1, 4, 9}, {2, 4, 17}, {0.1, 4, 1}, {1, 0, 1}} {
		k, err := GaussianKernel1D(tc.sigma, tc.truncate)
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
	k, _ := GaussianKernel1D(0.5, 4)
	z := 1 + 2*math.Exp(-2) + 2*math.Exp(-8)
	if math.Abs(k[2]-1/z) > 1e-16 || math.Abs(k[0]-math.Exp(-8)/z) > 1e-18 {
		t.Errorf("sigma 0.5 kernel %v", k)
	}
	for _, bad := range [][2]float64{{0, 4}, {-1, 4}, {math.NaN(), 4}, {1, -1}, {math.Inf(1), 4}, {1e300, 4}} {
		if _, err := GaussianKernel1D(bad[0], bad[1]); err == nil {
			t.Errorf("GaussianKernel1D(%v, %v) succeeded", bad[0], bad[1])
		}
	}
	if err := GaussianFilter2D(make([]float32, 6), make([]float32, 5), 2, 3, 1, 1, 4); err == nil {
		t.Error("GaussianFilter2D with short src succeeded")
	}
}

// SmoothWeights filters exactly the upstream weight indices: [6,13,20,27,34] of a compact model
// (Beta as (28,28,F4)) and [6,13,20,27,36] of a shared model; everything else is unchanged.
func TestSmoothWeightsIndices(t *testing.T) {
	compact, err := model.NewCompact([model.NumLayers]int{3, 4, 2, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := model.NewShared(2, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		net      *model.Network
		smoothed []int
		shapes   map[int][3]int // (h, w, rest) of each smoothed tensor
	}{
		{compact, []int{6, 13, 20, 27, 34}, map[int][3]int{6: {5, 5, 3}, 13: {5, 5, 4}, 20: {5, 5, 2}, 27: {5, 5, 3}, 34: {28, 28, 2}}},
		{shared, []int{6, 13, 20, 27, 36}, map[int][3]int{6: {5, 5, 2}, 13: {5, 5, 2}, 20: {5, 5, 2}, 27: {5, 5, 100}, 36: {28, 28, 3}}},
	} {
		randomize(t, tc.net, 5)
		before := tc.net.Clone().Weights()
		if err := SmoothWeights(tc.net); err != nil {
			t.Fatal(err)
		}
		after := tc.net.Weights()
		want := map[int]bool{}
		for _, i := range tc.smoothed {
			want[i] = true
		}
		for i := range after {
			if !want[i] {
				assertSameBits(t, tc.net.Name+" unsmoothed weight", after[i].Data, before[i].Data)
				continue
			}
			s := tc.shapes[i]
			ref := make([]float32, len(before[i].Data))
			if err := GaussianFilter2D(ref, before[i].Data, s[0], s[1], s[2], 0.5, 4); err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, tc.net.Name+" smoothed weight", after[i].Data, ref)
		}
	}
}
