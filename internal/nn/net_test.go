package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"compactv4/internal/model"
	"compactv4/internal/pyref"
)

// randomize fills every weight of n with seeded random values of realistic scale: He-scaled
// kernels, small biases, batchnorm γ ∈ [0.5,1.5), β and μ around 0, σ² ∈ [0.5,2).
func randomize(t testing.TB, n *model.Network, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	shapes, err := n.InputShapes()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		ws, err := l.WeightShapes(shapes[i])
		if err != nil {
			t.Fatal(err)
		}
		l.Weights = make([]model.Tensor, len(ws))
		for j, s := range ws {
			l.Weights[j] = model.NewTensor(s...)
			d := l.Weights[j].Data
			fanIn := 1
			if len(s) == 4 {
				fanIn = s[0] * s[1] * s[2]
				if j == 0 && (l.Class == model.SeparableConv2D || l.Class == model.DepthwiseConv2D) {
					fanIn = s[0] * s[1]
				}
			} else if len(s) == 2 {
				fanIn = s[0]
			}
			if l.Class == model.DepthwiseConv2D && j == 0 && s[0] >= 7 && smoothPool {
				smoothReadout(rng, d, s[0], s[1], s[2])
				continue
			}
			for k := range d {
				switch {
				case l.Class == model.BatchNormalization && j == 0:
					d[k] = float32(0.5 + rng.Float64())
				case l.Class == model.BatchNormalization && j == 3:
					d[k] = float32(0.5 + 1.5*rng.Float64())
				case l.Class == model.BatchNormalization:
					d[k] = float32(0.5 * rng.NormFloat64())
				case len(s) == 1: // biases
					d[k] = float32(0.1 * rng.NormFloat64())
				default:
					d[k] = float32(rng.NormFloat64() * math.Sqrt(2/float64(fanIn)))
				}
			}
		}
	}
}

// randomImages returns n seeded images of shape s: a few random gratings and blobs of random
// contrast plus pixel noise (so that, as with natural images, predictions vary from image to
// image far more than pure noise would make them), as uint8 and recentred (reference/upstream.md §3.1).
// smoothPool makes randomize give large depthwise kernels (the shared model's 28×28 spatial pool)
// the form trained readouts have: one smooth, localised bump per channel, of random sign, plus a
// little noise. I.i.d. Gaussian weights instead make the 784-term sums cancel ~100-fold, which
// no float32 evaluation survives at 1e-5 of the output's spread (TestSharedIIDPoolConditioning).
var smoothPool = true

func smoothReadout(rng *rand.Rand, d []float32, kh, kw, c int) {
	for ch := 0; ch < c; ch++ {
		cy, cx := rng.Float64()*float64(kh), rng.Float64()*float64(kw)
		sig := 2 + 4*rng.Float64()
		sign := 1.0
		if rng.IntN(2) == 0 {
			sign = -1
		}
		for y := 0; y < kh; y++ {
			for x := 0; x < kw; x++ {
				r2 := ((float64(y)-cy)*(float64(y)-cy) + (float64(x)-cx)*(float64(x)-cx)) / (2 * sig * sig)
				d[(y*kw+x)*c+ch] = float32((sign*math.Exp(-r2) + 0.02*rng.NormFloat64()) / (sig * sig))
			}
		}
	}
}

func randomImages(seed uint64, n int, s model.Shape) ([]uint8, []float32) {
	rng := rand.New(rand.NewPCG(seed, 0x1a9e))
	pix := make([]uint8, n*s.Size())
	f := make([]float64, s.Size())
	for i := 0; i < n; i++ {
		clear(f)
		for g := 0; g < 4; g++ {
			fx, fy := rng.NormFloat64()*0.3, rng.NormFloat64()*0.3
			ph, amp := rng.Float64()*2*math.Pi, rng.Float64()*60
			cx, cy, r := rng.Float64()*float64(s.W), rng.Float64()*float64(s.H), 5+rng.Float64()*float64(s.W)/2
			col := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
			for y := 0; y < s.H; y++ {
				for x := 0; x < s.W; x++ {
					d2 := ((float64(x)-cx)*(float64(x)-cx) + (float64(y)-cy)*(float64(y)-cy)) / (r * r)
					v := amp * math.Cos(fx*float64(x)+fy*float64(y)+ph) * math.Exp(-d2)
					for c := 0; c < s.C; c++ {
						f[(y*s.W+x)*s.C+c] += v * (1 + 0.3*col[c%3])
					}
				}
			}
		}
		base := rng.Float64()*100 + 78
		for j, v := range f {
			p := base + v + 10*rng.NormFloat64()
			pix[i*s.Size()+j] = uint8(math.Max(0, math.Min(255, math.Round(p))))
		}
	}
	x := make([]float32, len(pix))
	if s.C == 3 {
		if err := Recenter(pix, x); err != nil {
			panic(err)
		}
	} else {
		for i, p := range pix {
			x[i] = float32(p)/64 - 2
		}
	}
	return pix, x
}

// compareStd checks |got−want| ≤ tol·std(want[:, o]) for every output column o over the batch.
func compareStd(t *testing.T, what string, got []float32, want []float64, batch int, tol float64) {
	t.Helper()
	compareScaled(t, what, got, want, batch, len(want)/max(batch, 1), tol)
}

// compareScaled is compareStd with the values grouped in columns of cols (pyref.CompareSD).
func compareScaled(t *testing.T, what string, got []float32, want []float64, batch, cols int, tol float64) {
	t.Helper()
	pyref.CompareSD(t, what, want, got, cols, 1, tol)
}

type netCase struct {
	name  string
	build func() (*model.Network, error)
	batch int
}

func paperNets() []netCase {
	compact := func(f ...int) func() (*model.Network, error) {
		return func() (*model.Network, error) { return model.NewCompact([model.NumLayers]int(f)) }
	}
	return []netCase{
		{"compact_48_60_3_3_3", compact(48, 60, 3, 3, 3), 5},
		{"compact_15_3_77_46_11", compact(15, 3, 77, 46, 11), 4},
		{"compact_1_1_1_1_1", compact(1, 1, 1, 1, 1), 6},
		{"shared_K5_relu", func() (*model.Network, error) { return model.NewShared(5, 219, true) }, 16},
		{"shared_K5_linear", func() (*model.Network, error) { return model.NewShared(5, 219, false) }, 16},
	}
}

// The compiled float32 network agrees with the unfolded float64 evaluation of reference/upstream.md §4.2 to 1e-5 of
// the prediction's standard deviation over the batch, with both the assembly and Go kernels.
func TestForwardMatchesFloat64(t *testing.T) {
	for i, tc := range paperNets() {
		mn, err := tc.build()
		if err != nil {
			t.Fatal(err)
		}
		randomize(t, mn, uint64(i+1))
		_, x := randomImages(uint64(100+i), tc.batch, model.Shape{H: 112, W: 112, C: 3})
		want, _, err := ForwardFloat64(mn, x, tc.batch, false)
		if err != nil {
			t.Fatal(err)
		}
		net, err := Compile(mn)
		if err != nil {
			t.Fatal(err)
		}
		forEachKernel(t, func(t *testing.T) {
			if kern == kernelsGo && tc.name == "compact_48_60_3_3_3" {
				t.Skip("the pure-Go kernels are checked on the smaller models (this one takes seconds)")
			}
			got := make([]float32, tc.batch*net.Outputs())
			if err := net.Forward(x, tc.batch, got); err != nil {
				t.Fatal(err)
			}
			compareStd(t, tc.name, got, want, tc.batch, 1e-5)
		})
	}
}

// Every stage's activations match the reference layer output they stand for.
func TestActivationsMatchFloat64(t *testing.T) {
	mn, err := model.NewCompact([model.NumLayers]int{15, 3, 77, 46, 11})
	if err != nil {
		t.Fatal(err)
	}
	randomize(t, mn, 7)
	const batch = 3
	_, x := randomImages(8, batch, model.Shape{H: 112, W: 112, C: 3})
	_, layers, err := ForwardFloat64(mn, x, batch, true)
	if err != nil {
		t.Fatal(err)
	}
	net, err := Compile(mn)
	if err != nil {
		t.Fatal(err)
	}
	stages := net.Stages()
	if len(stages) != 7 {
		t.Fatalf("%d stages, want 7 (5 trunk layers, flatten, readout): %+v", len(stages), stages)
	}
	idx := make([]int, len(stages))
	dst := make([][]float32, len(stages))
	for s := range stages {
		idx[s] = s
		dst[s] = make([]float32, batch*stages[s].Size())
	}
	if err := net.Activations(x, batch, idx, dst); err != nil {
		t.Fatal(err)
	}
	for s, st := range stages {
		li := -1
		for i := range mn.Layers {
			if mn.Layers[i].Name == st.Name {
				li = i
			}
		}
		compareScaled(t, "stage "+st.Name, dst[s], layers[li], 1, 1, 1e-5)
	}
	if s, err := net.StageOf("layer4_act"); err != nil || s != 4 {
		t.Errorf(`StageOf("layer4_act") = %d, %v; want 4`, s, err)
	}
	if _, err := net.StageOf("layer4_conv"); err == nil {
		t.Error(`StageOf("layer4_conv") accepted a layer fused into a stage`)
	}
	if _, err := net.StageOf("nope"); err == nil {
		t.Error("StageOf accepted an unknown layer")
	}
	// Asking for layer 4 alone gives the same bytes as asking for all stages.
	one := make([]float32, batch*stages[4].Size())
	if err := net.Activations(x, batch, []int{4}, [][]float32{one}); err != nil {
		t.Fatal(err)
	}
	assertSameBits(t, "layer-4 activations", one, dst[4])
}

func assertSameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: lengths %d and %d", what, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: value %d differs: %v vs %v", what, i, a[i], b[i])
		}
	}
}

// The bytes of the output depend neither on the number of goroutines nor on the batch an image
// is part of (row splitting for small batches, image splitting for large ones).
func TestForwardDeterministic(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		mn, err := model.NewCompact([model.NumLayers]int{15, 3, 77, 46, 11})
		if err != nil {
			t.Fatal(err)
		}
		randomize(t, mn, 9)
		const batch = 5
		pix, x := randomImages(10, batch, model.Shape{H: 112, W: 112, C: 3})
		net, err := Compile(mn)
		if err != nil {
			t.Fatal(err)
		}
		net.SetWorkers(1)
		ref := make([]float32, batch*net.Outputs())
		if err := net.Forward(x, batch, ref); err != nil {
			t.Fatal(err)
		}
		for _, w := range []int{2, 3, 4, 8} {
			net.SetWorkers(w)
			got := make([]float32, batch*net.Outputs())
			if err := net.Forward(x, batch, got); err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, fmt.Sprintf("workers=%d", w), got, ref)
			for i := 0; i < batch; i++ { // one image at a time: rows split over the workers
				one := make([]float32, net.Outputs())
				per := net.InputShape().Size()
				if err := net.Forward(x[i*per:(i+1)*per], 1, one); err != nil {
					t.Fatal(err)
				}
				assertSameBits(t, fmt.Sprintf("workers=%d image %d alone", w, i), one, ref[i:i+1])
			}
		}
		net.SetWorkers(1) // whole images per worker, where the row pipelining applies
		pipeline = false  // stage by stage instead of row bands
		stagewise := make([]float32, batch*net.Outputs())
		err = net.Forward(x, batch, stagewise)
		pipeline = true
		if err != nil {
			t.Fatal(err)
		}
		assertSameBits(t, "stage-by-stage evaluation", stagewise, ref)
		net.SetWorkers(0)
		got, err := net.Predict(pix, batch)
		if err != nil {
			t.Fatal(err)
		}
		assertSameBits(t, "Predict vs Forward(Recenter)", got, ref)
	})
}

func TestRecenter(t *testing.T) {
	pix := []uint8{0, 0, 0, 255, 255, 255, 116, 109, 100}
	got := make([]float32, len(pix))
	if err := Recenter(pix, got); err != nil {
		t.Fatal(err)
	}
	want := []float32{-116.222, -109.270, -100.381, 138.778, 145.730, 154.619, float32(116 - 116.222), float32(109 - 109.270), float32(100 - 100.381)}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("value %d = %v, want %v", i, got[i], want[i])
		}
	}
	if err := Recenter(pix[:4], got[:4]); !errors.Is(err, ErrInput) {
		t.Errorf("length 4: err = %v, want ErrInput", err)
	}
}

func TestForwardRejectsBadInput(t *testing.T) {
	mn, _ := model.NewCompact([model.NumLayers]int{2, 2, 2, 2, 2})
	randomize(t, mn, 11)
	net, err := Compile(mn)
	if err != nil {
		t.Fatal(err)
	}
	per := net.InputShape().Size()
	good := make([]float32, 2*per)
	nan := make([]float32, 2*per)
	nan[per+17] = float32(math.NaN())
	inf := make([]float32, 2*per)
	inf[5] = float32(math.Inf(-1))
	for _, tc := range []struct {
		name  string
		x     []float32
		batch int
		out   int
	}{
		{"short input", good[:per+3], 1, 1},
		{"batch mismatch", good, 3, 3},
		{"negative batch", nil, -1, 0},
		{"short output", good, 2, 1},
		{"NaN", nan, 2, 2},
		{"Inf", inf, 2, 2},
		{"NaN single image", nan[per:], 1, 1},
	} {
		err := net.Forward(tc.x, tc.batch, make([]float32, max(tc.out, 0)))
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: err = %v, want ErrInput", tc.name, err)
		}
	}
	if _, err := net.Predict(make([]uint8, per-1), 1); !errors.Is(err, ErrInput) {
		t.Errorf("Predict short: err = %v", err)
	}
	if err := net.Activations(good, 2, []int{9}, [][]float32{nil}); err == nil {
		t.Error("Activations accepted stage 9")
	}
	if err := net.Activations(good, 2, []int{0}, [][]float32{make([]float32, 3)}); err == nil {
		t.Error("Activations accepted a short destination")
	}
	if err := net.Forward(nil, 0, nil); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestCompileRejects(t *testing.T) {
	base, _ := model.NewCompact([model.NumLayers]int{2, 2, 2, 2, 2})
	tests := []struct {
		name   string
		mutate func(n *model.Network)
	}{
		{"wrong kernel shape", func(n *model.Network) { n.Layers[0].Weights[0] = model.NewTensor(5, 5, 3, 3) }},
		{"NaN weight", func(n *model.Network) { n.Layers[3].Weights[1].Data[0] = float32(math.NaN()) }},
		{"unknown class", func(n *model.Network) { n.Layers[2].Class = "Dropout" }},
		{"unknown activation", func(n *model.Network) { n.Layers[2].Activation = "tanh" }},
		{"depth multiplier", func(n *model.Network) { n.Layers[3].DepthMultiplier = 2 }},
		{"no layers", func(n *model.Network) { n.Layers = nil }},
		{"zero epsilon", func(n *model.Network) { n.Layers[1].Epsilon = 0 }},
	}
	for _, tt := range tests {
		n := base.Clone()
		tt.mutate(n)
		if _, err := Compile(n); err == nil {
			t.Errorf("%s: compiled", tt.name)
		}
	}
	if _, err := Compile(nil); err == nil {
		t.Error("nil network compiled")
	}
}
