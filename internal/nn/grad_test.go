package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"compactv4/internal/model"
)

// gradNets are small networks with every layer the suite trains, on shapes that exercise the
// borders: odd sizes at stride 2 (TF's asymmetric padding), channel counts on both sides of the
// 16-channel blocks, a 'valid' spatial pool, rectangular kernels.
func gradNets() []struct {
	name string
	net  *model.Network
} {
	mk := func(name string, in [3]int, ls ...model.Layer) *model.Network {
		return &model.Network{Name: name, Input: in, Layers: ls}
	}
	dense := func(name string, units int) model.Layer {
		return model.Layer{Name: name, Class: model.Dense, Filters: units, Activation: model.Linear, UseBias: true}
	}
	flat := model.Layer{Name: "flat", Class: model.Flatten}
	pool := func(k int) model.Layer { return dwl("pool", k, 1, "valid") }
	rect := func(l model.Layer, kh, kw, sh, sw int) model.Layer {
		l.Kernel, l.Strides = [2]int{kh, kw}, [2]int{sh, sw}
		return l
	}
	nets := []struct {
		name string
		net  *model.Network
	}{
		{"compact-like odd", mk("c", [3]int{11, 9, 3},
			conv("l0", 4, 5, 1, "same"), bn("b0"), act("a0", "relu"),
			sep("l1", 5, 5, 2, "same"), bn("b1"), act("a1", "relu"),
			sep("l2", 3, 5, 2, "same"), bn("b2"), act("a2", "relu"),
			sep("l3", 4, 5, 1, "same"), bn("b3"), act("a3", "relu"),
			flat, dense("Beta", 1))},
		{"shared-like", mk("s", [3]int{10, 10, 3},
			conv("l0", 3, 5, 1, "same"), bn("b0"), act("a0", "relu"),
			sep("l1", 4, 5, 2, "same"), bn("b1"), act("a1", "relu"),
			sep("l2", 6, 5, 1, "same"), bn("b2"), act("a2", "relu"),
			conv("mix", 7, 1, 1, "same"), pool(5), flat)},
		{"shared-like linear", mk("sl", [3]int{10, 10, 3},
			conv("l0", 3, 5, 1, "same"), bn("b0"),
			sep("l1", 4, 5, 2, "same"), bn("b1"),
			conv("mix", 5, 1, 1, "same"), pool(5), flat)},
		// The factorized mapping of reference/upstream.md §7: 1×1 mixing, batchnorm, full-size
		// depthwise spatial pool.
		{"factorized mapping", mk("f", [3]int{5, 5, 6},
			conv("mix", 4, 1, 1, "same"), bn("bn"), pool(5), flat)},
		{"wide channels", mk("w", [3]int{8, 7, 3},
			conv("l0", 20, 5, 1, "same"), bn("b0"), act("a0", "relu"),
			sep("l1", 33, 5, 2, "same"), bn("b1"), act("a1", "relu"),
			flat, dense("out", 3))},
		{"depthwise s2 same", mk("d", [3]int{9, 8, 5},
			dwl("dw", 5, 2, "same"), bn("b0"), act("a0", "relu"),
			flat, dense("out", 2))},
		{"rect and valid", mk("r", [3]int{9, 10, 3},
			rect(conv("l0", 6, 3, 2, "valid"), 3, 5, 2, 1), act("a0", "relu"),
			rect(sep("l1", 4, 3, 1, "same"), 3, 2, 1, 2), act("a1", "relu"),
			flat, dense("out", 2))},
	}
	return nets
}

// fdCheck compares an analytic gradient with central finite differences of f in float64 at every
// coordinate of v: (f(v+h) − f(v−h))/2h, with h = 1e-5·max(1,|v|). A coordinate where the
// difference quotients at h and h/2 disagree sits at a ReLU kink within ±h and is skipped (at most
// 1% may be). It returns the relative error max|analytic − fd| / max|fd|.
func fdCheck(t *testing.T, what string, v []float64, analytic func(i int) float64, f func() float64) float64 {
	t.Helper()
	var worst, scale float64
	skipped := 0
	for i := range v {
		orig := v[i]
		h := 1e-5 * math.Max(1, math.Abs(orig))
		quot := func(h float64) float64 {
			v[i] = orig + h
			fp := f()
			v[i] = orig - h
			fm := f()
			v[i] = orig
			return (fp - fm) / (2 * h)
		}
		fd, fd2 := quot(h), quot(h/2)
		if math.Abs(fd-fd2) > 1e-6*math.Max(1, math.Abs(fd)) {
			skipped++
			continue
		}
		scale = math.Max(scale, math.Abs(fd))
		worst = math.Max(worst, math.Abs(analytic(i)-fd))
	}
	if skipped > len(v)/100 {
		t.Errorf("%s: %d of %d coordinates at ReLU kinks", what, skipped, len(v))
	}
	if scale == 0 {
		if worst != 0 {
			t.Errorf("%s: finite differences all zero, analytic gradient differs by %g", what, worst)
		}
		return 0
	}
	return worst / scale
}

func gaussian64(rng *rand.Rand, n int, s float64) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = s * rng.NormFloat64()
	}
	return out
}

func to32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func to64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// The float64 reference evaluates exactly as ForwardFloat64 does in inference mode.
func TestRef64MatchesForwardFloat64(t *testing.T) {
	for i, tc := range gradNets() {
		randomize(t, tc.net, uint64(100+i))
		r, err := newRef64(tc.net, false)
		if err != nil {
			t.Fatal(err)
		}
		rng := rand.New(rand.NewPCG(uint64(i), 3))
		const batch = 2
		x := to32(gaussian64(rng, batch*r.shapes[0].Size(), 1))
		want, _, err := ForwardFloat64(tc.net, x, batch, false)
		if err != nil {
			t.Fatal(err)
		}
		p, err := r.forward(to64(x), batch)
		if err != nil {
			t.Fatal(err)
		}
		got := p.acts[len(p.acts)-1]
		for j := range want {
			if math.Abs(got[j]-want[j]) > 1e-12*(1+math.Abs(want[j])) {
				t.Fatalf("%s: output %d = %v, ForwardFloat64 %v", tc.name, j, got[j], want[j])
			}
		}
	}
}

// GradNet's float32 input gradient (batchnorm in inference mode) agrees with central finite
// differences of the float64 forward pass to a relative error below 1e-4, and the float64
// reference gradient agrees with them below 1e-7; both kernels (assembly and pure Go).
func TestGradNetInputGradFiniteDifferences(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		for i, tc := range gradNets() {
			t.Run(tc.name, func(t *testing.T) {
				randomize(t, tc.net, uint64(200+i))
				g, err := NewGradNet(tc.net)
				if err != nil {
					t.Fatal(err)
				}
				r, err := newRef64(tc.net, false)
				if err != nil {
					t.Fatal(err)
				}
				rng := rand.New(rand.NewPCG(uint64(i), 4))
				const batch = 2
				x := gaussian64(rng, batch*r.shapes[0].Size(), 1)
				// The float32 engine sees float32 inputs; so does the reference.
				x32 := to32(x)
				x = to64(x32)
				dOut := gaussian64(rng, batch*g.Outputs(), 1)
				out := make([]float32, batch*g.Outputs())
				dx := make([]float32, len(x))
				if err := g.InputGrad(x32, batch, to32(dOut), out, dx); err != nil {
					t.Fatal(err)
				}
				dOut = to64(to32(dOut))
				p, err := r.forward(x, batch)
				if err != nil {
					t.Fatal(err)
				}
				ref, _ := r.backward(p, dOut)
				f := func() float64 { return r.objective64(x, batch, dOut) }
				e32 := fdCheck(t, "float32 dx", x, func(j int) float64 { return float64(dx[j]) }, f)
				e64 := fdCheck(t, "float64 dx", x, func(j int) float64 { return ref[j] }, f)
				t.Logf("relative error vs finite differences: float32 %.2g, float64 %.2g", e32, e64)
				if !(e32 < 1e-4) {
					t.Errorf("float32 input gradient: relative error %.3g ≥ 1e-4", e32)
				}
				if !(e64 < 1e-7) {
					t.Errorf("float64 input gradient: relative error %.3g ≥ 1e-7", e64)
				}
				// The outputs are those of the compiled network.
				net, _ := Compile(tc.net)
				fw := make([]float32, len(out))
				if err := net.Forward(x32, batch, fw); err != nil {
					t.Fatal(err)
				}
				assertSameBits(t, "out vs Net.Forward", out, fw)
			})
		}
	})
}

// At the paper's geometry (112×112, strides 1,2,2,1,1, 28×28 readout) the input gradient agrees
// with the float64 reference everywhere and with finite differences at sampled pixels.
func TestGradNetPaperGeometry(t *testing.T) {
	for i, build := range []func() (*model.Network, error){
		func() (*model.Network, error) { return model.NewCompact([model.NumLayers]int{3, 17, 2, 3, 2}) },
		func() (*model.Network, error) { return model.NewShared(2, 5, true) },
	} {
		mn, err := build()
		if err != nil {
			t.Fatal(err)
		}
		randomize(t, mn, uint64(300+i))
		g, err := NewGradNet(mn)
		if err != nil {
			t.Fatal(err)
		}
		r, err := newRef64(mn, false)
		if err != nil {
			t.Fatal(err)
		}
		_, x32 := randomImages(uint64(7+i), 1, g.InputShape())
		x := to64(x32)
		rng := rand.New(rand.NewPCG(uint64(i), 5))
		dOut32 := to32(gaussian64(rng, g.Outputs(), 1))
		dOut := to64(dOut32)
		out := make([]float32, g.Outputs())
		dx := make([]float32, len(x32))
		if err := g.InputGrad(x32, 1, dOut32, out, dx); err != nil {
			t.Fatal(err)
		}
		p, err := r.forward(x, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := r.backward(p, dOut)
		var worst, scale float64
		for j := range ref {
			worst = math.Max(worst, math.Abs(float64(dx[j])-ref[j]))
			scale = math.Max(scale, math.Abs(ref[j]))
		}
		t.Logf("%s: max |dx − float64| / max |dx| = %.2g", mn.Name, worst/scale)
		if !(worst < 1e-4*scale) {
			t.Errorf("%s: input gradient differs from float64 by %.3g of its largest value", mn.Name, worst/scale)
		}
		// Finite differences at 20 pixels, including the four corners.
		idx := []int{0, 3*111 + 2, 3 * 111 * 112, len(x) - 1}
		for len(idx) < 20 {
			idx = append(idx, rng.IntN(len(x)))
		}
		sub := make([]float64, len(idx))
		for k, j := range idx {
			sub[k] = x[j]
		}
		f := func() float64 {
			for k, j := range idx {
				x[j] = sub[k]
			}
			return r.objective64(x, 1, dOut)
		}
		e := fdCheck(t, mn.Name, sub, func(k int) float64 { return float64(dx[idx[k]]) }, f)
		t.Logf("%s: relative error vs finite differences at %d pixels: %.2g", mn.Name, len(idx), e)
		if !(e < 1e-4) {
			t.Errorf("%s: relative error %.3g ≥ 1e-4", mn.Name, e)
		}
	}
}

// The bytes of out and dx depend neither on the number of workers nor on the batch.
func TestGradNetDeterministic(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		mn, err := model.NewCompact([model.NumLayers]int{5, 7, 3, 3, 2})
		if err != nil {
			t.Fatal(err)
		}
		randomize(t, mn, 11)
		g, err := NewGradNet(mn)
		if err != nil {
			t.Fatal(err)
		}
		const batch = 3
		_, x := randomImages(12, batch, g.InputShape())
		dOut := []float32{1, -0.5, 2}
		run := func(w int, x, dOut []float32, n int) ([]float32, []float32) {
			g.SetWorkers(w)
			out, dx := make([]float32, n), make([]float32, len(x))
			if err := g.InputGrad(x, n, dOut, out, dx); err != nil {
				t.Fatal(err)
			}
			return out, dx
		}
		out1, dx1 := run(1, x, dOut, batch)
		for _, w := range []int{2, 3, 5} {
			out, dx := run(w, x, dOut, batch)
			assertSameBits(t, fmt.Sprintf("out, %d workers", w), out, out1)
			assertSameBits(t, fmt.Sprintf("dx, %d workers", w), dx, dx1)
		}
		per := g.InputShape().Size()
		for i := 0; i < batch; i++ {
			out, dx := run(2, x[i*per:(i+1)*per], dOut[i:i+1], 1)
			assertSameBits(t, fmt.Sprintf("out of image %d alone", i), out, out1[i:i+1])
			assertSameBits(t, fmt.Sprintf("dx of image %d alone", i), dx, dx1[i*per:(i+1)*per])
		}
	})
}

func TestGradNetRejectsBadInput(t *testing.T) {
	mn, err := model.NewCompact([model.NumLayers]int{2, 2, 2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	randomize(t, mn, 1)
	g, err := NewGradNet(mn)
	if err != nil {
		t.Fatal(err)
	}
	per := g.InputShape().Size()
	ok := func() ([]float32, []float32, []float32, []float32) {
		return make([]float32, per), []float32{1}, make([]float32, 1), make([]float32, per)
	}
	nan := float32(math.NaN())
	tests := []struct {
		name string
		mod  func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32)
	}{
		{"short x", func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32) {
			return x[1:], dOut, out, dx
		}},
		{"NaN x", func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32) {
			x[5] = nan
			return x, dOut, out, dx
		}},
		{"Inf dOut", func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32) {
			dOut[0] = float32(math.Inf(1))
			return x, dOut, out, dx
		}},
		{"long dOut", func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32) {
			return x, append(dOut, 1), out, dx
		}},
		{"short out", func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32) {
			return x, dOut, out[:0], dx
		}},
		{"short dx", func(x, dOut, out, dx []float32) ([]float32, []float32, []float32, []float32) {
			return x, dOut, out, dx[2:]
		}},
	}
	for _, tc := range tests {
		x, dOut, out, dx := tc.mod(ok())
		err := g.InputGrad(x, 1, dOut, out, dx)
		if !errors.Is(err, ErrInput) {
			t.Errorf("%s: error %v, want ErrInput", tc.name, err)
		}
	}
	if _, err := NewGradNet(nil); err == nil {
		t.Error("NewGradNet(nil) succeeded")
	}
}

// BenchmarkInputGrad is one image's forward and input gradient on one goroutine, as the
// preferred-stimulus synthesis calls it (compact model 48,60,3,3,3).
func BenchmarkInputGrad(b *testing.B) {
	mn, err := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	if err != nil {
		b.Fatal(err)
	}
	randomize(b, mn, 1)
	g, err := NewGradNet(mn)
	if err != nil {
		b.Fatal(err)
	}
	g.SetWorkers(1)
	_, x := randomImages(2, 1, g.InputShape())
	out, dx, dOut := make([]float32, 1), make([]float32, len(x)), []float32{1}
	t0 := processCPU()
	for b.Loop() {
		if err := g.InputGrad(x, 1, dOut, out, dx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "images/s")
	b.ReportMetric(float64((processCPU()-t0).Microseconds())/1e3/float64(b.N), "cpu-ms/image")
}
