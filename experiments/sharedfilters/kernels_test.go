package sharedfilters

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestConv0KernelsLayout(t *testing.T) {
	// Kernel (5,5,3,2) whose value encodes its index: HWIO element [i][j][c][o].
	k := model.NewTensor(5, 5, 3, 2)
	for i := 0; i < 5; i++ {
		for j := 0; j < 5; j++ {
			for c := 0; c < 3; c++ {
				for o := 0; o < 2; o++ {
					k.Data[((i*5+j)*3+c)*2+o] = float32(1000*o + 100*i + 10*j + c)
				}
			}
		}
	}
	vs, err := conv0Kernels(k)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 2 || len(vs[0]) != 75 {
		t.Fatalf("got %d kernels of %d values", len(vs), len(vs[0]))
	}
	// Filter 1, position (i=3, j=4), channel 2 is at (3*5+4)*3+2 in HWC order.
	if got, want := vs[1][(3*5+4)*3+2], 1000.0+300+40+2; got != want {
		t.Errorf("filter 1 [3][4][2] = %v, want %v", got, want)
	}
	if got := vs[0][0]; got != 0 {
		t.Errorf("filter 0 [0][0][0] = %v", got)
	}
	for _, bad := range []model.Tensor{model.NewTensor(3, 3, 3, 2), model.NewTensor(5, 5, 3), {Shape: []int{5, 5, 3, 2}, Data: make([]float32, 10)}} {
		if _, err := conv0Kernels(bad); err == nil {
			t.Errorf("shape %v, %d values: no error", bad.Shape, len(bad.Data))
		}
	}
}

func TestDepthwiseKernelsLayout(t *testing.T) {
	k := model.NewTensor(5, 5, 4, 1)
	for p := 0; p < 25; p++ {
		for c := 0; c < 4; c++ {
			k.Data[p*4+c] = float32(100*c + p)
		}
	}
	vs, err := depthwiseKernels(k)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 4 {
		t.Fatalf("%d kernels", len(vs))
	}
	for c, v := range vs {
		for p, x := range v {
			if x != float64(100*c+p) {
				t.Fatalf("channel %d position %d = %v", c, p, x)
			}
		}
	}
	if _, err := depthwiseKernels(model.NewTensor(5, 5, 4, 2)); err == nil {
		t.Error("depth multiplier 2 accepted")
	}
}

func TestTrunkKernels(t *testing.T) {
	net, err := model.NewCompact([model.NumLayers]int{6, 7, 3, 4, 3})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ n, dim int }{{6, 75}, {6, 25}, {7, 25}, {3, 25}, {4, 25}}
	for l, w := range want {
		ks, err := trunkKernels(net, l)
		if err != nil {
			t.Fatalf("layer %d: %v", l, err)
		}
		if len(ks) != w.n || len(ks[0]) != w.dim {
			t.Errorf("layer %d: %d kernels of %d values, want %d of %d", l, len(ks), len(ks[0]), w.n, w.dim)
		}
	}
	if _, err := trunkKernels(net, 5); err == nil {
		t.Error("layer 5 accepted")
	}
}

func TestUnitCentred(t *testing.T) {
	u, err := unitCentred([]float64{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	s := 1 / math.Sqrt2
	for i, w := range []float64{-s, 0, s} {
		if !near(u[i], w, 1e-15) {
			t.Errorf("u[%d] = %v, want %v", i, u[i], w)
		}
	}
	// Scale and offset do not matter.
	v, _ := unitCentred([]float64{-7 + 10, -7 + 20, -7 + 30})
	for i := range u {
		if !near(u[i], v[i], 1e-15) {
			t.Errorf("scaled/offset kernel differs at %d: %v vs %v", i, v[i], u[i])
		}
	}
	for _, bad := range [][]float64{{}, {0, 0, 0}, {5, 5, 5}} {
		if _, err := unitCentred(bad); !errors.Is(err, errDegenerate) {
			t.Errorf("%v: err %v, want errDegenerate", bad, err)
		}
	}
	if _, err := unitCentred([]float64{1, math.NaN()}); err == nil {
		t.Error("NaN accepted")
	}
}

func TestGlorotKernels(t *testing.T) {
	limit := 0.25
	a := glorotKernels(rand.New(metrics.NewSource(1)), 200, 75, limit)
	b := glorotKernels(rand.New(metrics.NewSource(1)), 200, 75, limit)
	var sum, ss float64
	n := 0
	for i := range a {
		if !slices.Equal(a[i], b[i]) {
			t.Fatal("same seed, different kernels")
		}
		for _, x := range a[i] {
			if x < -limit || x >= limit {
				t.Fatalf("value %v outside [−%v, %v)", x, limit, limit)
			}
			sum += x
			ss += x * x
			n++
		}
	}
	// Uniform on [−L, L): mean 0, variance L²/3; with 15,000 draws the sample moments are within
	// a few standard errors.
	mean, variance := sum/float64(n), ss/float64(n)
	if math.Abs(mean) > 4*limit/math.Sqrt(3*float64(n)) || math.Abs(variance-limit*limit/3) > 0.03*limit*limit {
		t.Errorf("mean %v, variance %v; want 0 and %v", mean, variance, limit*limit/3)
	}
}

func TestShuffleSpatial(t *testing.T) {
	v := make([]float64, 75)
	for p := 0; p < 25; p++ {
		for c := 0; c < 3; c++ {
			v[p*3+c] = float64(10*p + c)
		}
	}
	src := rand.New(metrics.NewSource(7))
	s, err := shuffleSpatial(src, v, 3)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[float64]bool{}
	moved := 0
	for p := 0; p < 25; p++ {
		base := s[p*3]
		// The channels of a position travel together.
		if s[p*3+1] != base+1 || s[p*3+2] != base+2 || math.Mod(base, 10) != 0 {
			t.Fatalf("position %d holds %v", p, s[p*3:p*3+3])
		}
		if seen[base] {
			t.Fatalf("position value %v twice", base)
		}
		seen[base] = true
		if base != float64(10*p) {
			moved++
		}
	}
	if moved < 20 {
		t.Errorf("only %d of 25 positions moved", moved)
	}
	if _, err := shuffleSpatial(src, v, 2); err == nil {
		t.Error("wrong channel count accepted")
	}
}

func TestSmoothMatchesScipy(t *testing.T) {
	// scipy.ndimage.gaussian_filter(np.arange(25.).reshape(5,5), 0.5, mode='reflect', truncate=4.0)
	want := []float64{
		0.6434542, 1.5364757, 2.53621184, 3.53594797, 4.42896947,
		5.10856169, 6.00158319, 7.00131933, 8.00105546, 8.89407696,
		10.10724237, 11.00026387, 12, 12.99973613, 13.89275763,
		15.10592304, 15.99894454, 16.99868067, 17.99841681, 18.89143831,
		19.57103053, 20.46405203, 21.46378816, 22.4635243, 23.3565458,
	}
	v := make([]float64, 25)
	for i := range v {
		v[i] = float64(i)
	}
	got, err := smooth5x5(v)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if !near(got[i], want[i], 1e-7) {
			t.Errorf("[%d] = %.9f, scipy %.9f", i, got[i], want[i])
		}
	}
	// A delta in the corner: scipy gives 0.797487396 there and 9.52984650e-02 beside it.
	d := make([]float64, 25)
	d[0] = 1
	got, _ = smooth5x5(d)
	if !near(got[0], 0.797487396, 1e-9) || !near(got[1], 0.0952984650, 1e-9) || got[3] != 0 {
		t.Errorf("corner delta smoothed to %v", got[:5])
	}
	if _, err := smooth5x5(make([]float64, 24)); err == nil {
		t.Error("24 values accepted")
	}
}
