package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"compactv4/internal/model"
)

// Adam and SGD follow the Keras 3 update formulas (written out again here in float64, from
// keras/src/optimizers/adam.py and sgd.py) to float32 rounding, over several steps, with and
// without clipvalue.
func TestOptimizersKerasFormulas(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	const n, steps = 50, 7
	grads := make([][]float32, steps)
	for s := range grads {
		grads[s] = make([]float32, n)
		for i := range grads[s] {
			grads[s][i] = float32(rng.NormFloat64() * math.Pow(10, float64(i%5-2)))
		}
	}
	w0 := make([]float32, n)
	for i := range w0 {
		w0[i] = float32(rng.NormFloat64())
	}
	for _, clip := range []float64{0, 0.5} {
		// Adam.
		opt := NewAdam(1e-3, clip)
		w, state := append([]float32(nil), w0...), make([]float32, opt.stateLen()*n)
		rw, m, v := to64(w0), make([]float64, n), make([]float64, n)
		for s := 0; s < steps; s++ {
			g := append([]float32(nil), grads[s]...)
			opt.update(w, g, state, int64(s+1), 1)
			t1 := float64(s + 1)
			alpha := 1e-3 * math.Sqrt(1-math.Pow(0.999, t1)) / (1 - math.Pow(0.9, t1))
			for i := range rw {
				gi := float64(grads[s][i])
				if clip > 0 {
					gi = math.Max(-clip, math.Min(clip, gi))
				}
				m[i] += (gi - m[i]) * (1 - 0.9)
				v[i] += (gi*gi - v[i]) * (1 - 0.999)
				rw[i] -= m[i] * alpha / (math.Sqrt(v[i]) + 1e-7)
			}
		}
		for i := range rw {
			if d := math.Abs(float64(w[i]) - rw[i]); d > 1e-6*(1+math.Abs(rw[i])) {
				t.Errorf("adam clip=%g: weight %d = %v, formula %v", clip, i, w[i], rw[i])
			}
		}
		// SGD with momentum 0.75 (upstream's ensemble training).
		sgd := &SGD{LearningRate: 0.1, Momentum: 0.75, ClipValue: clip}
		w, state = append([]float32(nil), w0...), make([]float32, sgd.stateLen()*n)
		rw, m = to64(w0), make([]float64, n)
		for s := 0; s < steps; s++ {
			g := append([]float32(nil), grads[s]...)
			sgd.update(w, g, state, int64(s+1), 1)
			for i := range rw {
				gi := float64(grads[s][i])
				if clip > 0 {
					gi = math.Max(-clip, math.Min(clip, gi))
				}
				m[i] = m[i]*0.75 - gi*0.1
				rw[i] += m[i]
			}
		}
		for i := range rw {
			if d := math.Abs(float64(w[i]) - rw[i]); d > 1e-5*(1+math.Abs(rw[i])) {
				t.Errorf("sgd clip=%g: weight %d = %v, formula %v", clip, i, w[i], rw[i])
			}
		}
	}
	// Plain SGD keeps no state.
	plain := &SGD{LearningRate: 0.5}
	w := []float32{1, 2}
	plain.update(w, []float32{1, -4}, nil, 1, 1)
	if w[0] != 0.5 || w[1] != 4 || plain.stateLen() != 0 {
		t.Errorf("plain SGD: %v", w)
	}
	// The first Adam step moves every weight by about lr·sign(g) (m̂/sqrt(v̂) = ±1).
	a := NewAdam(0.01, 0)
	w = []float32{0, 0}
	a.update(w, []float32{3, -1e-3}, make([]float32, 4), 1, 1)
	if math.Abs(float64(w[0])+0.01) > 1e-6 || math.Abs(float64(w[1])-0.01) > 1e-4 {
		t.Errorf("first Adam step: %v, want about [-0.01 0.01]", w)
	}
	for _, bad := range []Optimizer{&Adam{LearningRate: math.NaN(), Beta1: 0.9, Beta2: 0.999}, &Adam{LearningRate: 1, Beta1: 1, Beta2: 0.9},
		&SGD{LearningRate: 1, Momentum: 2}, &SGD{LearningRate: math.Inf(1)}, &SGD{LearningRate: 1, ClipValue: -1}} {
		if bad.check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

// InitKeras: GlorotUniform kernels within ±sqrt(6/(fan_in+fan_out)) with Keras' fans and the
// right spread, zero biases, batchnorm ones and zeros; the same seed gives the same bytes and
// another seed other values.
func TestInitKeras(t *testing.T) {
	n, err := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := InitKeras(n, 7); err != nil {
		t.Fatal(err)
	}
	fans := map[int][2]int{0: {75, 5 * 5 * 48}, 6: {25 * 48, 25}, 7: {48, 60}, 34: {784 * 3, 1}}
	ws := n.Weights()
	for idx, f := range fans {
		lim := math.Sqrt(6 / float64(f[0]+f[1]))
		var ss float64
		for _, v := range ws[idx].Data {
			if math.Abs(float64(v)) > lim {
				t.Fatalf("weight %d: %v outside ±%v", idx, v, lim)
			}
			ss += float64(v) * float64(v)
		}
		std := math.Sqrt(ss / float64(len(ws[idx].Data)))
		if want := lim / math.Sqrt(3); math.Abs(std-want) > 0.1*want {
			t.Errorf("weight %d: std %.4g, uniform ±%.4g has %.4g", idx, std, lim, want)
		}
	}
	for _, idx := range []int{1, 3, 4, 8, 35} { // conv bias, BN β, moving mean, pointwise bias, Beta bias
		for _, v := range ws[idx].Data {
			if v != 0 {
				t.Fatalf("weight %d: %v, want 0", idx, v)
			}
		}
	}
	for _, idx := range []int{2, 5, 9, 12} { // BN γ and moving variance
		for _, v := range ws[idx].Data {
			if v != 1 {
				t.Fatalf("weight %d: %v, want 1", idx, v)
			}
		}
	}
	again, _ := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	other, _ := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	if err := InitKeras(again, 7); err != nil {
		t.Fatal(err)
	}
	if err := InitKeras(other, 8); err != nil {
		t.Fatal(err)
	}
	for i, w := range again.Weights() {
		assertSameBits(t, "same seed", w.Data, ws[i].Data)
	}
	if other.Weights()[0].Data[0] == ws[0].Data[0] {
		t.Error("another seed gave the same first weight")
	}
	if InitKeras(nil, 1) == nil {
		t.Error("InitKeras(nil) succeeded")
	}
}

// WriteTo and Network carry the trained weights and the moving statistics; a loss that overflows
// is an error that leaves everything as it was.
func TestTrainerWriteBackAndOverflow(t *testing.T) {
	mn, err := model.NewCompact([model.NumLayers]int{2, 3, 2, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := InitKeras(mn, 2); err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(mn, NewAdam(1e-2, 0))
	if err != nil {
		t.Fatal(err)
	}
	const batch = 4
	_, x := randomImages(5, batch, tr.InputShape())
	y := []float32{1, 2, 3, 4}
	if _, err := tr.Step(x, y, batch); err != nil {
		t.Fatal(err)
	}
	if tr.Iterations() != 1 {
		t.Errorf("iterations %d", tr.Iterations())
	}
	dst, _ := model.NewCompact([model.NumLayers]int{2, 3, 2, 2, 1})
	if err := tr.WriteTo(dst); err != nil {
		t.Fatal(err)
	}
	got, src := dst.Weights(), tr.Network().Weights()
	changed := 0
	for i := range got {
		assertSameBits(t, "written weights", got[i].Data, src[i].Data)
		if math.Float32bits(got[i].Data[0]) != math.Float32bits(mn.Weights()[i].Data[0]) {
			changed++
		}
	}
	if changed < len(got)/2 {
		t.Errorf("only %d of %d tensors changed after a step", changed, len(got))
	}
	if mv := dst.Layer("layer0_bn").Weights[3].Data[0]; mv == 1 {
		t.Error("moving variance not updated")
	}
	wrong, _ := model.NewCompact([model.NumLayers]int{3, 3, 2, 2, 1})
	if tr.WriteTo(wrong) == nil || tr.WriteTo(nil) == nil {
		t.Error("WriteTo accepted a network of another shape")
	}
	// Overflow: a huge readout makes the output infinite.
	huge := tr.Network()
	for i := range huge.Layer("Beta").Weights[0].Data {
		huge.Layer("Beta").Weights[0].Data[i] = 3e38
	}
	tr2, err := NewTrainer(huge, NewAdam(1e-2, 0))
	if err != nil {
		t.Fatal(err)
	}
	before := tr2.Network().Weights()
	if _, err := tr2.Step(x, y, batch); err == nil {
		t.Fatal("a step with an infinite loss succeeded")
	}
	for i, w := range tr2.Network().Weights() {
		assertSameBits(t, "weights after an overflow", w.Data, before[i].Data)
	}
}
