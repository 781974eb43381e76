package nn

import (
	"math"
	"math/rand/v2"
	"testing"
)

// gradFuzzSeeds are the FuzzCompile seeds' shapes: the compact trunk on a small image, the shared
// model's tail (1×1 mixing and a 'valid' pool over the whole map), stride-2 layers, odd sizes.
func gradFuzzSeeds(f *testing.F) {
	f.Add(fuzzSeed(12, 12, 3, [4]byte{0, 4, 2, 7}, [4]byte{3, 0, 0, 0}, [4]byte{4, 0, 0, 0}, [4]byte{1, 9, 2, 4}, [4]byte{3, 0, 0, 0}, [4]byte{5, 0, 2, 0}))
	f.Add(fuzzSeed(7, 7, 5, [4]byte{1, 4, 2, 9}, [4]byte{0, 0, 2, 18}, [4]byte{2, 1, 3, 0}, [4]byte{5, 0, 2, 0}))
	f.Add(fuzzSeed(11, 9, 3, [4]byte{0, 4, 2, 4}, [4]byte{3, 0, 0, 0}, [4]byte{4, 0, 0, 0}, [4]byte{1, 9, 2, 5}, [4]byte{3, 0, 0, 0}, [4]byte{5, 0, 2, 2}))
	f.Add(fuzzSeed(9, 8, 5, [4]byte{2, 9, 2, 0}, [4]byte{3, 0, 0, 0}, [4]byte{4, 0, 0, 0}, [4]byte{5, 0, 2, 2}))
	f.Add(fuzzSeed(1, 1, 1, [4]byte{2, 4, 0, 0}, [4]byte{5, 0, 0, 0}))
	f.Add([]byte{})
	f.Add([]byte{13, 13, 5, 0, 4, 2, 7, 255})
}

// FuzzGradNet builds random chains of layers: NewGradNet and InputGrad must return errors, never
// panic, a gradient network's input gradient must agree with the float64 reference's with every
// kernel set, and the avx512 and avx2 sets must give the same bits.
func FuzzGradNet(f *testing.F) {
	gradFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mn := fuzzNetwork(data)
		if _, err := mn.Shapes(); err != nil {
			return
		}
		randomize(t, mn, uint64(len(data)))
		g, err := NewGradNet(mn)
		if err != nil {
			return
		}
		r, err := newRef64(mn, false)
		if err != nil {
			t.Fatalf("NewGradNet accepted what the reference rejects: %v", err)
		}
		const batch = 2
		rng := rand.New(rand.NewPCG(uint64(len(data)), 1))
		x := to32(gaussian64(rng, batch*g.InputShape().Size(), 1))
		dOut := to32(gaussian64(rng, batch*g.Outputs(), 1))
		p, err := r.forward(to64(x), batch)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := r.backward(p, to64(dOut))
		var scale float64
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		dxs := map[kernelSet][]float32{}
		eachKernel(func(k kernelSet) {
			out, dx := make([]float32, batch*g.Outputs()), make([]float32, len(x))
			if err := g.InputGrad(x, batch, dOut, out, dx); err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if d := math.Abs(float64(dx[i]) - want[i]); !(d <= 1e-4*scale+1e-6) {
					t.Fatalf("%s: dx[%d] = %v, float64 %v (max %g)", k, i, dx[i], want[i], scale)
				}
			}
			dxs[k] = dx
		})
		if a, b := dxs[kernelsAVX512], dxs[kernelsAVX2]; a != nil && b != nil {
			assertSameBits(t, "dx, avx512 vs avx2", a, b)
		}
	})
}

// FuzzTrainer builds random chains of layers: NewTrainer and Step must return errors, never
// panic, a trainer's weight gradients (batchnorm in training mode) must agree with the float64
// reference's with every kernel set, and the avx512 and avx2 sets must give the same weights
// after a step.
func FuzzTrainer(f *testing.F) {
	gradFuzzSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		mn := fuzzNetwork(data)
		if _, err := mn.Shapes(); err != nil {
			return
		}
		randomize(t, mn, uint64(len(data)))
		tr, err := NewTrainer(mn, NewAdam(1e-3, 0.5))
		if err != nil {
			return
		}
		r, err := newRef64(mn, true)
		if err != nil {
			t.Fatalf("NewTrainer accepted what the reference rejects: %v", err)
		}
		const batch = 3
		rng := rand.New(rand.NewPCG(uint64(len(data)), 2))
		x := to32(gaussian64(rng, batch*tr.InputShape().Size(), 1))
		y := to32(gaussian64(rng, batch*tr.Outputs(), 1))
		dw, err := r.mseWeightGrads(to64(x), batch, to64(y))
		if err != nil {
			t.Fatal(err)
		}
		var global float64
		for _, g := range dw {
			for _, v := range g {
				global = math.Max(global, math.Abs(v))
			}
		}
		weights := map[kernelSet][]float32{}
		eachKernel(func(k kernelSet) {
			tr, err := NewTrainer(mn, NewAdam(1e-3, 0.5))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tr.gradients(x, y, batch); err != nil {
				t.Fatal(err)
			}
			ws := tr.net.Weights()
			for _, pr := range tr.params {
				wi := -1
				for j := range ws {
					if ws[j] == pr.t {
						wi = j
					}
				}
				var scale float64
				for _, v := range dw[wi] {
					scale = math.Max(scale, math.Abs(v))
				}
				tol := 1e-3*math.Max(scale, 1e-2*global) + 1e-6
				for j, v := range dw[wi] {
					if d := math.Abs(float64(pr.grad[j]) - v); !(d <= tol) {
						t.Fatalf("%s: weight %d %v element %d: gradient %v, float64 %v (tensor max %g, network max %g)", k, wi, ws[wi].Shape, j, pr.grad[j], v, scale, global)
					}
				}
			}
			if _, err := tr.Step(x, y, batch); err != nil {
				t.Fatal(err)
			}
			var all []float32
			for _, w := range tr.net.Weights() {
				all = append(all, w.Data...)
			}
			weights[k] = all
		})
		if a, b := weights[kernelsAVX512], weights[kernelsAVX2]; a != nil && b != nil {
			assertSameBits(t, "weights after a step, avx512 vs avx2", a, b)
		}
	})
}
