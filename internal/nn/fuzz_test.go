package nn

import (
	"math"
	"testing"

	"compactv4/internal/model"
)

// fuzzNetwork decodes a small network from fuzz bytes: input h, w, c, then up to six layers of
// four bytes each (class, kernel and stride, padding and bias, filters). A last byte > 250 puts a
// NaN into the weights. Shape errors are left for Compile to find.
func fuzzNetwork(data []byte) *model.Network {
	at := func(i int) int {
		if i < len(data) {
			return int(data[i])
		}
		return 0
	}
	n := &model.Network{Name: "fuzz", Input: [3]int{1 + at(0)%14, 1 + at(1)%14, 1 + at(2)%6}}
	for l := 0; l < 6 && 3+4*l+3 < len(data); l++ {
		b := data[3+4*l : 3+4*l+4]
		k, s := 1+int(b[1])%5, 1+int(b[1])/5%3
		pad := model.PaddingSame
		if b[2]&1 != 0 {
			pad = model.PaddingValid
		}
		base := model.Layer{Name: "l", Kernel: [2]int{k, k}, Strides: [2]int{s, s}, Padding: pad,
			Activation: model.Linear, UseBias: b[2]&2 != 0, Filters: 1 + int(b[3])%20, DepthMultiplier: 1}
		switch b[0] % 7 {
		case 0:
			base.Class = model.Conv2D
		case 1:
			base.Class = model.SeparableConv2D
		case 2:
			base.Class = model.DepthwiseConv2D
			base.Filters = 0
		case 3:
			base = bn("b")
		case 4:
			base = act("a", model.ReLU)
		case 5:
			n.Layers = append(n.Layers, model.Layer{Name: "f", Class: model.Flatten})
			base.Class, base.Kernel, base.Strides, base.Padding = model.Dense, [2]int{}, [2]int{}, ""
		case 6:
			base = act("lin", model.Linear)
		}
		n.Layers = append(n.Layers, base)
	}
	return n
}

func fuzzSeed(h, w, c byte, layers ...[4]byte) []byte {
	b := []byte{h - 1, w - 1, c - 1}
	for _, l := range layers {
		b = append(b, l[:]...)
	}
	return b
}

// FuzzCompile compiles random chains of the supported layers on small inputs and checks the
// float32 network against the float64 reference with every kernel set: Compile and Forward must
// return errors, never panic, a compiled network must agree with ForwardFloat64, and the avx512
// and avx2 sets must give the same bits.
func FuzzCompile(f *testing.F) {
	// The compact trunk on a small image (conv 5×5, separable stride 2 and 1, BN, ReLU, dense).
	f.Add(fuzzSeed(12, 12, 3, [4]byte{0, 4, 2, 7}, [4]byte{3, 0, 0, 0}, [4]byte{4, 0, 0, 0}, [4]byte{1, 9, 2, 4}, [4]byte{3, 0, 0, 0}, [4]byte{5, 0, 2, 0}))
	// The shared model's tail: 1×1 mixing conv then a 'valid' depthwise pool over the whole image.
	f.Add(fuzzSeed(7, 7, 5, [4]byte{1, 4, 2, 9}, [4]byte{0, 0, 2, 18}, [4]byte{2, 1, 3, 0}))
	f.Add(fuzzSeed(1, 1, 1, [4]byte{2, 4, 0, 0}))
	f.Add(fuzzSeed(9, 4, 6, [4]byte{0, 12, 3, 19}, [4]byte{2, 7, 0, 0}, [4]byte{6, 0, 0, 0}))
	f.Add([]byte{})
	f.Add([]byte{13, 13, 5, 0, 4, 2, 7, 255})
	f.Fuzz(func(t *testing.T, data []byte) {
		mn := fuzzNetwork(data)
		if _, err := mn.Shapes(); err != nil {
			if _, err2 := Compile(mn); err2 == nil {
				t.Fatalf("Compile accepted a network whose shapes fail: %v", err)
			}
			return
		}
		randomize(t, mn, uint64(len(data)))
		if len(data) > 0 && data[len(data)-1] > 250 && len(mn.Layers) > 0 {
			for i := range mn.Layers {
				if len(mn.Layers[i].Weights) > 0 {
					mn.Layers[i].Weights[0].Data[0] = float32(math.NaN())
					break
				}
			}
		}
		net, err := Compile(mn)
		if err != nil {
			if mn.Validate() == nil && len(mn.Layers) > 0 && hasCompute(mn) {
				t.Fatalf("Compile rejected a valid network: %v", err)
			}
			return
		}
		const batch = 2
		_, x := randomImages(uint64(len(data)), batch, net.InputShape())
		want, _, err := ForwardFloat64(mn, x, batch, false)
		if err != nil {
			t.Fatal(err)
		}
		var scale float64
		for _, v := range want {
			scale = math.Max(scale, math.Abs(v))
		}
		outs := map[kernelSet][]float32{}
		eachKernel(func(k kernelSet) {
			for _, w := range []int{1, 3} {
				net.SetWorkers(w)
				got := make([]float32, batch*net.Outputs())
				if err := net.Forward(x, batch, got); err != nil {
					t.Fatal(err)
				}
				for i := range want {
					if d := math.Abs(float64(got[i]) - want[i]); !(d <= 1e-4*scale+1e-6) {
						t.Fatalf("%s workers=%d output %d = %v, want %v (max |want| %g)", k, w, i, got[i], want[i], scale)
					}
				}
				outs[k] = got
			}
		})
		if a, b := outs[kernelsAVX512], outs[kernelsAVX2]; a != nil && b != nil {
			assertSameBits(t, "outputs, avx512 vs avx2", a, b)
		}
	})
}

// hasCompute reports whether a network has a layer that Compile turns into a stage.
func hasCompute(n *model.Network) bool {
	for _, l := range n.Layers {
		if l.Class != model.InputLayer && !(l.Class == model.Activation && l.Activation == model.Linear) {
			return true
		}
	}
	return false
}

// FuzzSgemm checks Sgemm with every kernel set against the float64 product on small random
// shapes, transpositions, scalars and leading dimensions.
func FuzzSgemm(f *testing.F) {
	f.Add(uint8(6), uint8(16), uint8(75), uint8(0), uint8(0))
	f.Add(uint8(0), uint8(1), uint8(0), uint8(3), uint8(1))
	f.Add(uint8(13), uint8(33), uint8(20), uint8(2), uint8(2))
	f.Add(uint8(1), uint8(1), uint8(1), uint8(1), uint8(3))
	f.Fuzz(func(t *testing.T, m, n, k, flags, pad uint8) {
		tc := gemmCase{m: int(m % 40), n: int(n % 40), k: int(k % 70), transA: flags&1 != 0, transB: flags&2 != 0, alpha: 1, pad: int(pad % 4)}
		switch flags >> 2 % 4 {
		case 1:
			tc.beta = 1
		case 2:
			tc.alpha, tc.beta = -0.5, 0.25
		case 3:
			tc.alpha = 0
		}
		eachKernel(func(kernelSet) {
			runGemmCase(t, tc, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			})
		})
	})
}
