package nn

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"compactv4/internal/model"
)

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}

// trainLoss64 is the MSE of ref64 in training mode.
func trainLoss64(r *ref64, x []float64, batch int, y []float64) float64 {
	p, err := r.forward(x, batch)
	if err != nil {
		panic(err)
	}
	out := p.acts[len(p.acts)-1]
	var l float64
	for i, o := range out {
		d := o - y[i]
		l += d * d
	}
	return l / float64(len(out))
}

// Every weight gradient of the training engine (batchnorm in training mode, MSE loss) agrees with
// central finite differences of the float64 loss: relative error below 1e-4 for the float32
// engine and below 1e-7 for the float64 reference, per weight tensor, on networks with every
// layer the suite trains and stride-2 borders; with the assembly and the pure-Go kernels.
//
// The relative error of a tensor is max|analytic − fd| over the tensor divided by the largest
// |fd| of the tensor. A convolution bias followed by batchnorm has a true gradient of exactly zero
// (batchnorm removes it), so its gradients are required to be that small instead: below 1e-6
// (float32) and 1e-10 (float64) of the network's largest gradient.
func TestTrainerGradientsFiniteDifferences(t *testing.T) {
	for i, tc := range gradNets() {
		t.Run(tc.name, func(t *testing.T) {
			mn := tc.net.Clone()
			randomize(t, mn, uint64(400+i))
			r, err := newRef64(mn, true)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 3
			rng := rand.New(rand.NewPCG(uint64(i), 6))
			nout := r.shapes[len(r.shapes)-1].Size()
			x32 := to32(gaussian64(rng, batch*r.shapes[0].Size(), 1))
			y32 := to32(gaussian64(rng, batch*nout, 1))
			x, y := to64(x32), to64(y32)
			dw64, err := r.mseWeightGrads(x, batch, y)
			if err != nil {
				t.Fatal(err)
			}
			// Finite differences of every trainable weight (not the moving statistics), once.
			f := func() float64 { return trainLoss64(r, x, batch, y) }
			fds := make([][]float64, len(r.w))
			var global float64
			for k := range r.w {
				if dw64[k] == nil {
					continue
				}
				fdCheckRaw(t, r.w[k], f, &fds[k])
				for _, v := range fds[k] {
					if !math.IsNaN(v) {
						global = math.Max(global, math.Abs(v))
					}
				}
			}
			zero := biasesBeforeBN(mn, r)
			check := func(t *testing.T, what string, k int, g func(j int) float64, tol float64, zeroTol float64) {
				var worst, scale float64
				for j, fd := range fds[k] {
					if math.IsNaN(fd) {
						continue
					}
					scale = math.Max(scale, math.Abs(fd))
					worst = math.Max(worst, math.Abs(g(j)-fd))
				}
				if zero[k] {
					t.Logf("%s (bias before batchnorm, true gradient 0): |fd| ≤ %.2g, |Δ| ≤ %.2g of the largest gradient", what, scale/global, worst/global)
					if !(scale < 1e-8*global && worst < zeroTol*global) {
						t.Errorf("%s: a bias before batchnorm has a gradient: fd %.3g, analytic %.3g of the largest", what, scale/global, worst/global)
					}
					return
				}
				t.Logf("%s: relative error %.2g", what, worst/scale)
				if !(worst < tol*scale) {
					t.Errorf("%s: relative error %.3g ≥ %g", what, worst/scale, tol)
				}
			}
			ws := mn.Weights()
			for k := range r.w {
				if dw64[k] != nil {
					check(t, fmt.Sprintf("float64 weight %d %v", k, ws[k].Shape), k, func(j int) float64 { return dw64[k][j] }, 1e-7, 1e-10)
				}
			}
			forEachKernel(t, func(t *testing.T) {
				tr, err := NewTrainer(mn, NewAdam(1e-3, 0))
				if err != nil {
					t.Fatal(err)
				}
				loss, err := tr.gradients(x32, y32, batch)
				if err != nil {
					t.Fatal(err)
				}
				if l64 := trainLoss64(r, x, batch, y); math.Abs(loss-l64) > 1e-5*l64 {
					t.Errorf("loss %v, float64 %v", loss, l64)
				}
				tws := tr.net.Weights()
				for _, pr := range tr.params {
					k := -1
					for j := range tws {
						if tws[j] == pr.t {
							k = j
						}
					}
					check(t, fmt.Sprintf("float32 weight %d %v", k, ws[k].Shape), k, func(j int) float64 { return float64(pr.grad[j]) }, 1e-4, 1e-6)
				}
			})
		})
	}
}

// fdCheckRaw fills fd with the central finite differences of f at every coordinate of v (NaN
// where the quotients at h and h/2 disagree: a ReLU kink within ±h); it fails the test when more
// than 1% of the coordinates are at kinks.
func fdCheckRaw(t *testing.T, v []float64, f func() float64, fd *[]float64) int {
	t.Helper()
	*fd = make([]float64, len(v))
	skipped := 0
	for i := range v {
		orig := v[i]
		quot := func(h float64) float64 {
			v[i] = orig + h
			fp := f()
			v[i] = orig - h
			fm := f()
			v[i] = orig
			return (fp - fm) / (2 * h)
		}
		h := 1e-5 * math.Max(1, math.Abs(orig))
		a, b := quot(h), quot(h/2)
		if math.Abs(a-b) > 1e-6*math.Max(1e-3, math.Abs(a)) {
			(*fd)[i] = math.NaN()
			skipped++
			continue
		}
		(*fd)[i] = a
	}
	if skipped > len(v)/100 {
		t.Errorf("%d of %d coordinates at ReLU kinks", skipped, len(v))
	}
	return skipped
}

// The float64 reference's input gradient in training mode (batchnorm with batch statistics)
// agrees with finite differences to 1e-7.
func TestRef64TrainInputGradient(t *testing.T) {
	for i, tc := range gradNets()[:2] {
		mn := tc.net.Clone()
		randomize(t, mn, uint64(500+i))
		r, err := newRef64(mn, true)
		if err != nil {
			t.Fatal(err)
		}
		const batch = 2
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		x := gaussian64(rng, batch*r.shapes[0].Size(), 1)
		p, err := r.forward(x, batch)
		if err != nil {
			t.Fatal(err)
		}
		dOut := gaussian64(rng, len(p.acts[len(p.acts)-1]), 1)
		dx, _ := r.backward(p, dOut)
		e := fdCheck(t, tc.name, x, func(j int) float64 { return dx[j] }, func() float64 { return r.objective64(x, batch, dOut) })
		t.Logf("%s: relative error %.2g", tc.name, e)
		if !(e < 1e-7) {
			t.Errorf("%s: training-mode input gradient relative error %.3g ≥ 1e-7", tc.name, e)
		}
	}
}

// A training step's results (loss, weights, moving statistics) are the same bytes whatever the
// number of workers.
func TestTrainerDeterministic(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		build := func() *model.Network {
			mn, err := model.NewCompact([model.NumLayers]int{5, 7, 3, 3, 2})
			if err != nil {
				t.Fatal(err)
			}
			if err := InitKeras(mn, 3); err != nil {
				t.Fatal(err)
			}
			return mn
		}
		const batch = 6
		_, x := randomImages(21, batch, model.Shape{H: 112, W: 112, C: 3})
		y := []float32{1, -1, 0.5, 2, 0, -0.3}
		var ref []model.Tensor
		var refLoss []float64
		for _, w := range []int{1, 2, 3} {
			tr, err := NewTrainer(build(), NewAdam(1e-3, 0.5))
			if err != nil {
				t.Fatal(err)
			}
			tr.SetWorkers(w)
			var losses []float64
			for range 3 {
				l, err := tr.Step(x, y, batch)
				if err != nil {
					t.Fatal(err)
				}
				losses = append(losses, l)
			}
			var got []model.Tensor
			for _, tn := range tr.Network().Weights() {
				got = append(got, *tn)
			}
			if ref == nil {
				ref, refLoss = got, losses
				continue
			}
			for k := range got {
				assertSameBits(t, fmt.Sprintf("workers=%d weight %d", w, k), got[k].Data, ref[k].Data)
			}
			for k := range losses {
				if losses[k] != refLoss[k] {
					t.Errorf("workers=%d: loss %d = %v, want %v", w, k, losses[k], refLoss[k])
				}
			}
		}
	})
}

func TestTrainerRejects(t *testing.T) {
	mn, _ := model.NewCompact([model.NumLayers]int{2, 2, 2, 2, 2})
	if err := InitKeras(mn, 1); err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(mn, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	per := tr.InputShape().Size()
	x, y := make([]float32, 2*per), []float32{1, 2}
	before := tr.Network().Weights()
	x[7] = float32(math.NaN())
	for _, tc := range []struct {
		name string
		x, y []float32
		n    int
	}{
		{"NaN input", x, y, 2},
		{"short input", x[1:], y, 2},
		{"short targets", make([]float32, 2*per), y[:1], 2},
		{"Inf target", make([]float32, 2*per), []float32{1, float32(math.Inf(-1))}, 2},
		{"zero batch", nil, nil, 0},
	} {
		if _, err := tr.Step(tc.x, tc.y, tc.n); !errors.Is(err, ErrTrain) {
			t.Errorf("%s: error %v, want ErrTrain", tc.name, err)
		}
	}
	after := tr.Network().Weights()
	for k := range before {
		assertSameBits(t, "weights after rejected steps", after[k].Data, before[k].Data)
	}
	bad := []struct {
		name string
		net  *model.Network
	}{
		{"dense in the middle", &model.Network{Name: "d", Input: [3]int{4, 4, 3}, Layers: []model.Layer{
			{Name: "f", Class: model.Flatten}, {Name: "d", Class: model.Dense, Filters: 2, Activation: model.Linear, UseBias: true},
			{Name: "d2", Class: model.Dense, Filters: 2, Activation: model.Linear, UseBias: true}}}},
		{"5x5 conv after the first layer", &model.Network{Name: "c", Input: [3]int{6, 6, 3}, Layers: []model.Layer{
			conv("c0", 4, 5, 1, "same"), conv("c1", 4, 5, 1, "same"), {Name: "f", Class: model.Flatten}}}},
		{"no flatten", &model.Network{Name: "n", Input: [3]int{6, 6, 3}, Layers: []model.Layer{conv("c0", 4, 5, 1, "same")}}},
	}
	for _, tc := range bad {
		randomize(t, tc.net, 1)
		if _, err := NewTrainer(tc.net, NewAdam(1e-3, 0)); err == nil {
			t.Errorf("%s: NewTrainer succeeded", tc.name)
		}
	}
	if _, err := NewTrainer(mn, &Adam{LearningRate: -1}); err == nil {
		t.Error("negative learning rate accepted")
	}
	if _, err := NewTrainer(nil, NewAdam(1e-3, 0)); err == nil {
		t.Error("nil network accepted")
	}
}

// At the paper's geometry (112×112, strides 1,2,2,1,1, the 28×28 readout; compact and shared
// models) and with more images than accumulation units, the engine's gradients agree with the
// float64 reference's (itself checked against finite differences above).
func TestTrainerPaperGeometry(t *testing.T) {
	for i, build := range []func() (*model.Network, error){
		func() (*model.Network, error) { return model.NewCompact([model.NumLayers]int{3, 17, 2, 3, 2}) },
		func() (*model.Network, error) { return model.NewShared(2, 3, true) },
	} {
		mn, err := build()
		if err != nil {
			t.Fatal(err)
		}
		randomize(t, mn, uint64(600+i))
		tr, err := NewTrainer(mn, NewAdam(1e-3, 0))
		if err != nil {
			t.Fatal(err)
		}
		r, err := newRef64(mn, true)
		if err != nil {
			t.Fatal(err)
		}
		batch := 18 - 14*i // 18 images in 16 units; 4 for the (slower) shared model
		_, x32 := randomImages(uint64(30+i), batch, tr.InputShape())
		rng := rand.New(rand.NewPCG(uint64(i), 8))
		y32 := to32(gaussian64(rng, batch*tr.Outputs(), 1))
		if _, err := tr.gradients(x32, y32, batch); err != nil {
			t.Fatal(err)
		}
		x, y := to64(x32), to64(y32)
		dw, err := r.mseWeightGrads(x, batch, y)
		if err != nil {
			t.Fatal(err)
		}
		ws := tr.net.Weights()
		zero := biasesBeforeBN(mn, r)
		for _, pr := range tr.params {
			k := -1
			for j := range ws {
				if ws[j] == pr.t {
					k = j
				}
			}
			var worst, scale float64
			for j, g := range dw[k] {
				worst = math.Max(worst, math.Abs(float64(pr.grad[j])-g))
				scale = math.Max(scale, math.Abs(g))
			}
			if zero[k] { // a bias before batchnorm: the true gradient is 0
				t.Logf("%s weight %d %v (bias before batchnorm): max |g| %.2g, float64 %.2g", mn.Name, k, ws[k].Shape, maxAbs32(pr.grad), scale)
				if !(maxAbs32(pr.grad) < 1e-5) {
					t.Errorf("%s weight %d: bias before batchnorm has gradient %.3g", mn.Name, k, maxAbs32(pr.grad))
				}
				continue
			}
			t.Logf("%s weight %d %v: max |Δ| / max |g| = %.2g (max |g| %.3g)", mn.Name, k, ws[k].Shape, worst/scale, scale)
			if !(worst <= 1e-4*scale) {
				t.Errorf("%s weight %d %v: gradient differs from float64 by %.3g of its largest value", mn.Name, k, ws[k].Shape, worst/scale)
			}
		}
	}
}

// biasesBeforeBN lists (by Weights() index) the biases of convolutions followed by batchnorm,
// whose true gradient in training mode is exactly zero.
func biasesBeforeBN(mn *model.Network, r *ref64) map[int]bool {
	zero := map[int]bool{}
	for li := range mn.Layers {
		l := &mn.Layers[li]
		if l.UseBias && li+1 < len(mn.Layers) && mn.Layers[li+1].Class == model.BatchNormalization {
			zero[r.first[li]+len(l.Weights)-1] = true
		}
	}
	return zero
}

func maxAbs32(x []float32) float64 {
	var m float64
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// A trainer rebuilt from a checkpoint (Network and OptimizerState) continues with the same bits
// as the trainer it was taken from.
func TestTrainerResume(t *testing.T) {
	mn, err := model.NewCompact([model.NumLayers]int{5, 7, 3, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := InitKeras(mn, 4); err != nil {
		t.Fatal(err)
	}
	const batch = 4
	_, x := randomImages(22, batch, model.Shape{H: 112, W: 112, C: 3})
	y := []float32{1, -1, 0.5, 2}
	step := func(tr *Trainer, n int) {
		for range n {
			if _, err := tr.Step(x, y, batch); err != nil {
				t.Fatal(err)
			}
		}
	}
	whole, err := NewTrainer(mn, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	first, err := NewTrainer(mn, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	step(whole, 4)
	step(first, 2)
	iter, state := first.OptimizerState()
	resumed, err := NewTrainer(first.Network(), NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := resumed.SetOptimizerState(iter, state[:1]); err == nil {
		t.Error("a state of one tensor was accepted")
	}
	if err := resumed.SetOptimizerState(iter, state); err != nil {
		t.Fatal(err)
	}
	step(resumed, 2)
	if resumed.Iterations() != 4 {
		t.Errorf("%d iterations after resuming, want 4", resumed.Iterations())
	}
	a, b := whole.Network().Weights(), resumed.Network().Weights()
	for k := range a {
		assertSameBits(t, fmt.Sprintf("weight %d", k), b[k].Data, a[k].Data)
	}
	if l := resumed.NonFinite(); l != "" {
		t.Errorf("non-finite weights in %s", l)
	}
}

// SetL2 adds λ·(2w) to a kernel's gradient and λ·Σw² to the loss, and the sum agrees with
// central finite differences of the float64 loss plus λ·Σw² (relative error below 1e-4), on the
// factorized mapping's geometry with different factors on its two kernels.
func TestTrainerL2(t *testing.T) {
	mn := &model.Network{Name: "f", Input: [3]int{5, 5, 6}, Layers: []model.Layer{
		conv("mix", 4, 1, 1, "same"), bn("bn"), dwl("pool", 5, 1, "valid"), {Name: "flat", Class: model.Flatten}}}
	randomize(t, mn, 77)
	lambdas := map[string]float64{"mix": 0.3, "pool": 0.05}
	const batch = 4
	rng := rand.New(rand.NewPCG(7, 7))
	x32 := to32(gaussian64(rng, batch*5*5*6, 1))
	y32 := to32(gaussian64(rng, batch*4, 1))
	plain, err := NewTrainer(mn, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	reg, err := NewTrainer(mn, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	for l, lam := range lambdas {
		if err := reg.SetL2(l, lam); err != nil {
			t.Fatal(err)
		}
	}
	if err := reg.SetL2("bn", 1); !errors.Is(err, ErrTrain) {
		t.Errorf("L2 on a batchnorm: %v", err)
	}
	if err := reg.SetL2("mix", -1); !errors.Is(err, ErrTrain) {
		t.Errorf("negative L2: %v", err)
	}
	loss0, err := plain.gradients(x32, y32, batch)
	if err != nil {
		t.Fatal(err)
	}
	loss1, err := reg.gradients(x32, y32, batch)
	if err != nil {
		t.Fatal(err)
	}
	loss1 += reg.addRegularizers()
	r, err := newRef64(mn, true)
	if err != nil {
		t.Fatal(err)
	}
	x, y := to64(x32), to64(y32)
	// index of each regularised kernel among mn.Weights() (the order of r.w)
	index := map[string]int{}
	for k, tw := range mn.Weights() {
		for l := range lambdas {
			if tw == &mn.Layer(l).Weights[0] {
				index[l] = k
			}
		}
	}
	penalty := func() float64 {
		s := 0.0
		for l, lam := range lambdas {
			for _, w := range r.w[index[l]] {
				s += lam * w * w
			}
		}
		return s
	}
	if d := loss1 - loss0 - penalty(); math.Abs(d) > 1e-12*penalty() {
		t.Errorf("loss with L2 %v, without %v: penalty %v, want %v", loss1, loss0, loss1-loss0, penalty())
	}
	for i, p := range reg.params {
		for j, w := range p.t.Data {
			if want := plain.params[i].grad[j] + float32(p.l2)*(2*w); p.grad[j] != want {
				t.Fatalf("param %d[%d]: gradient %v, want MSE's %v + λ·2w = %v", i, j, p.grad[j], plain.params[i].grad[j], want)
			}
		}
	}
	f := func() float64 { return trainLoss64(r, x, batch, y) + penalty() }
	for l, lam := range lambdas {
		var p *param
		for _, q := range reg.params {
			if q.t == &reg.net.Layer(l).Weights[0] {
				p = q
			}
		}
		if p == nil || p.l2 != lam {
			t.Fatalf("%s: no parameter with λ %v", l, lam)
		}
		var fd []float64
		fdCheckRaw(t, r.w[index[l]], f, &fd)
		var worst, scale float64
		for j, v := range fd {
			scale = math.Max(scale, math.Abs(v))
			worst = math.Max(worst, math.Abs(float64(p.grad[j])-v))
		}
		t.Logf("%s kernel (λ %v): relative error %.2g against finite differences", l, lam, worst/scale)
		if !(worst < 1e-4*scale) {
			t.Errorf("%s kernel: relative error %.3g against finite differences", l, worst/scale)
		}
	}
}

// SetGammaL1 adds λ·sign(γ) to a batchnorm's scale gradient (nothing where γ is 0) and λ·Σ|γ| to
// the loss, and touches no other gradient; it refuses other layers and a negative λ.
func TestTrainerGammaL1(t *testing.T) {
	mn := &model.Network{Name: "g", Input: [3]int{4, 4, 2}, Layers: []model.Layer{
		conv("c", 3, 3, 1, "same"), bn("bn"), act("relu", model.ReLU), {Name: "flat", Class: model.Flatten},
		{Name: "d", Class: model.Dense, Filters: 1, Activation: model.Linear, UseBias: true}}}
	randomize(t, mn, 5)
	gamma := mn.Layer("bn").Weights[0].Data
	gamma[0], gamma[1] = -0.5, 0 // a negative scale and one exactly at 0
	const lam = 0.125
	plain, reg, loss0, loss1 := penalised(t, mn, 1, func(reg *Trainer) error {
		for _, tc := range []struct {
			layer string
			lam   float64
		}{{"c", lam}, {"d", lam}, {"nothing", lam}, {"bn", -1}, {"bn", math.Inf(1)}} {
			if err := reg.SetGammaL1(tc.layer, tc.lam); !errors.Is(err, ErrTrain) {
				t.Errorf("SetGammaL1(%q, %v): %v, want ErrTrain", tc.layer, tc.lam, err)
			}
		}
		return reg.SetGammaL1("bn", lam)
	})
	var sa float64
	for _, g := range gamma {
		sa += math.Abs(float64(g))
	}
	if d := loss1 - loss0 - lam*sa; math.Abs(d) > 1e-12 {
		t.Errorf("loss with L1 %v, without %v: penalty %v, want %v", loss1, loss0, loss1-loss0, lam*sa)
	}
	g := &reg.net.Layer("bn").Weights[0]
	for i, p := range reg.params {
		for j, w := range p.t.Data {
			want := plain.params[i].grad[j]
			if p.t == g {
				switch {
				case w > 0:
					want += lam
				case w < 0:
					want -= lam
				}
			}
			if p.grad[j] != want {
				t.Errorf("param %d[%d] (γ: %v): gradient %v, want %v", i, j, p.t == g, p.grad[j], want)
			}
		}
	}
}

// SetReadoutGroupL1 adds λ·Σ_c ‖K_c‖ to the loss and λ·w/‖K_c‖ to the Dense kernel's gradient,
// grouping the weights by the channel of the flattened map they read (also with two units), leaves
// a group of zeros and every other gradient alone, and refuses a network without a Dense readout.
func TestTrainerReadoutGroupL1(t *testing.T) {
	for _, units := range []int{1, 2} {
		mn := &model.Network{Name: "gl", Input: [3]int{4, 4, 2}, Layers: []model.Layer{
			conv("c", 3, 3, 1, "same"), bn("bn"), act("relu", model.ReLU), {Name: "flat", Class: model.Flatten},
			{Name: "d", Class: model.Dense, Filters: units, Activation: model.Linear, UseBias: true}}}
		randomize(t, mn, 6)
		k := mn.Layer("d").Weights[0].Data
		const h, w, ch, lam = 4, 4, 3, 0.25
		for i := range k {
			if (i/units)%ch == 1 {
				k[i] = 0 // channel 1's group is all zeros
			}
		}
		plain, reg, loss0, loss1 := penalised(t, mn, units, func(reg *Trainer) error {
			for _, bad := range []float64{-1, math.NaN()} {
				if err := reg.SetReadoutGroupL1(bad); !errors.Is(err, ErrTrain) {
					t.Errorf("SetReadoutGroupL1(%v): %v, want ErrTrain", bad, err)
				}
			}
			return reg.SetReadoutGroupL1(lam)
		})
		var norm [ch]float64
		for yy := 0; yy < h; yy++ {
			for xx := 0; xx < w; xx++ {
				for c := 0; c < ch; c++ {
					for j := 0; j < units; j++ {
						v := float64(k[((yy*w+xx)*ch+c)*units+j])
						norm[c] += v * v
					}
				}
			}
		}
		var sum float64
		for c := range norm {
			norm[c] = math.Sqrt(norm[c])
			sum += norm[c]
		}
		if d := loss1 - loss0 - lam*sum; math.Abs(d) > 1e-12 {
			t.Errorf("units %d: loss with the group lasso %v, without %v: penalty %v, want %v", units, loss1, loss0, loss1-loss0, lam*sum)
		}
		kt := &reg.net.Layer("d").Weights[0]
		for i, p := range reg.params {
			for j, v := range p.t.Data {
				want := plain.params[i].grad[j]
				if p.t == kt {
					if c := (j / units) % ch; norm[c] > 0 {
						want += float32(lam/norm[c]) * v
					}
				}
				if p.grad[j] != want {
					t.Errorf("units %d: param %d[%d] (readout: %v): gradient %v, want %v", units, i, j, p.t == kt, p.grad[j], want)
				}
			}
		}
	}
	nod := &model.Network{Name: "nod", Input: [3]int{4, 4, 2}, Layers: []model.Layer{conv("c", 3, 3, 1, "same"), {Name: "flat", Class: model.Flatten}}}
	randomize(t, nod, 1)
	tr, err := NewTrainer(nod, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.SetReadoutGroupL1(0.1); !errors.Is(err, ErrTrain) {
		t.Errorf("a network without a Dense readout: %v", err)
	}
}

// penalised computes one batch's loss and gradients on two trainers of mn (input 4×4×2, units
// outputs), the second after set has given it a penalty: the MSE's alone and with the penalty,
// from the same weights and batch.
func penalised(t *testing.T, mn *model.Network, units int, set func(*Trainer) error) (plain, reg *Trainer, loss0, loss1 float64) {
	t.Helper()
	const batch = 3
	rng := rand.New(rand.NewPCG(9, 9))
	x := to32(gaussian64(rng, batch*4*4*2, 1))
	y := to32(gaussian64(rng, batch*units, 1))
	var err error
	if plain, err = NewTrainer(mn, NewAdam(1e-3, 0)); err != nil {
		t.Fatal(err)
	}
	if reg, err = NewTrainer(mn, NewAdam(1e-3, 0)); err != nil {
		t.Fatal(err)
	}
	if err := set(reg); err != nil {
		t.Fatal(err)
	}
	if loss0, err = plain.gradients(x, y, batch); err != nil {
		t.Fatal(err)
	}
	if loss1, err = reg.gradients(x, y, batch); err != nil {
		t.Fatal(err)
	}
	return plain, reg, loss0, loss1 + reg.addRegularizers()
}

// SetRateScale multiplies one kernel's learning rate and no other weight's: after one step from
// the same weights and batch, SGD moves the scaled kernel by exactly lr·scale·g and Adam's
// first step (±lr for every weight) by lr·scale, to float32's rounding of the weights; every
// other weight is bit for bit as without it, and a scale of 1 changes nothing.
func TestTrainerRateScale(t *testing.T) {
	mn := &model.Network{Name: "r", Input: [3]int{4, 4, 2}, Layers: []model.Layer{
		conv("c", 3, 3, 1, "same"), bn("bn"), {Name: "flat", Class: model.Flatten},
		{Name: "d", Class: model.Dense, Filters: 1, Activation: model.Linear, UseBias: true}}}
	randomize(t, mn, 5)
	const batch = 3
	rng := rand.New(rand.NewPCG(9, 9))
	x := to32(gaussian64(rng, batch*4*4*2, 1))
	y := to32(gaussian64(rng, batch, 1))
	kernel := &mn.Layer("d").Weights[0]
	for _, tc := range []struct {
		name  string
		opt   func() Optimizer
		scale float64
		moved func(before, grad float32, lr float64) float32 // the scaled kernel's weight after the step
	}{
		{"sgd", func() Optimizer { return &SGD{LearningRate: 0.1} }, 0.25,
			func(w, g float32, lr float64) float32 { return w - g*float32(lr) }},
		{"adam", func() Optimizer { return NewAdam(1e-3, 0) }, 0.25, nil},
		{"adam scale 1", func() Optimizer { return NewAdam(1e-3, 0) }, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plain, err := NewTrainer(mn, tc.opt())
			if err != nil {
				t.Fatal(err)
			}
			scaled, err := NewTrainer(mn, tc.opt())
			if err != nil {
				t.Fatal(err)
			}
			if err := scaled.SetRateScale("d", tc.scale); err != nil {
				t.Fatal(err)
			}
			for _, tr := range []*Trainer{plain, scaled} {
				if _, err := tr.Step(x, y, batch); err != nil {
					t.Fatal(err)
				}
			}
			p, err := scaled.kernel("d")
			if err != nil {
				t.Fatal(err)
			}
			grad := p.grad
			a, b := plain.Network().Weights(), scaled.Network().Weights()
			for k, w := range mn.Weights() {
				if w != kernel || tc.scale == 1 {
					assertSameBits(t, fmt.Sprintf("weight %d", k), b[k].Data, a[k].Data)
					continue
				}
				for i, w0 := range w.Data {
					got := b[k].Data[i]
					if tc.moved != nil {
						if want := tc.moved(w0, grad[i], 0.1*tc.scale); got != want {
							t.Errorf("kernel[%d]: %v after the step, want %v", i, got, want)
						}
						continue
					}
					step, full := float64(w0-got), float64(w0-a[k].Data[i])
					// both steps are differences of float32 weights: a few ulps of w
					if math.Abs(step-tc.scale*full) > 4e-7*math.Abs(float64(w0)) {
						t.Errorf("kernel[%d]: step %v, want %v × the unscaled %v", i, step, tc.scale, full)
					}
				}
			}
		})
	}
	tr, err := NewTrainer(mn, NewAdam(1e-3, 0))
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		layer string
		scale float64
	}{{"d", 0}, {"d", -1}, {"d", math.NaN()}, {"d", math.Inf(1)}, {"bn", 1}, {"nope", 1}} {
		if err := tr.SetRateScale(bad.layer, bad.scale); !errors.Is(err, ErrTrain) {
			t.Errorf("SetRateScale(%q, %v): %v, want ErrTrain", bad.layer, bad.scale, err)
		}
	}
}
