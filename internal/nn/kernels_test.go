package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"compactv4/internal/model"
)

// useKernels puts kernel set k in use and returns a function that restores the previous one.
func useKernels(k kernelSet) (restore func()) {
	old := kern
	kern = k
	return func() { kern = old }
}

// forEachKernel runs f as a subtest once per kernel set, with that set in use; sets that this CPU
// or build cannot run are skipped (and reported as skipped).
func forEachKernel(t *testing.T, f func(t *testing.T)) {
	for k := range kernelNames {
		ks := kernelSet(k)
		t.Run(ks.String(), func(t *testing.T) {
			if !ks.supported() {
				t.Skipf("this CPU or build cannot run the %s kernels", ks)
			}
			defer useKernels(ks)()
			f(t)
		})
	}
}

// eachKernel calls f once with each kernel set this CPU and build support in use; the fuzz
// targets, which cannot run subtests, check every set on every input with it.
func eachKernel(f func(k kernelSet)) {
	for _, k := range availableKernels() {
		func() {
			defer useKernels(k)()
			f(k)
		}()
	}
}

// kernelTol is the relative tolerance between the assembly kernels and the pure-Go ones, which
// round each multiply-add twice instead of once (package doc, Kernel sets): |asm − go| ≤
// kernelTol·(1 + |go|) on the unit-scale random data of these tests.
const kernelTol = 1e-5

// agreeAcrossKernels runs f once with each available kernel set in use (f must compute from
// fresh copies of its inputs) and checks that the AVX-512 and AVX2 sets give the same bits and
// that every assembly set is within tol·(1+|x|) of the pure-Go set.
func agreeAcrossKernels(t *testing.T, what string, tol float32, f func() []float32) {
	t.Helper()
	outs := map[kernelSet][]float32{}
	for _, k := range availableKernels() {
		restore := useKernels(k)
		outs[k] = f()
		restore()
	}
	ref := outs[kernelsGo]
	for k, got := range outs {
		if k == kernelsGo {
			continue
		}
		for i := range ref {
			d := abs32(got[i] - ref[i])
			if !(d <= tol*(1+abs32(ref[i]))) && !(got[i] != got[i] && ref[i] != ref[i]) {
				t.Fatalf("%s: %s value %d = %v, purego %v", what, k, i, got[i], ref[i])
			}
		}
	}
	if a, b := outs[kernelsAVX512], outs[kernelsAVX2]; a != nil && b != nil {
		assertSameBits(t, what+": avx512 vs avx2", a, b)
	}
}

func TestChooseKernels(t *testing.T) {
	best := availableKernels()[len(availableKernels())-1]
	for _, tc := range []struct {
		env  string
		want kernelSet
		ok   bool
	}{
		{"", best, true},
		{"  ", best, true},
		{"purego", kernelsGo, true},
		{"PureGo", kernelsGo, true},
		{"avx2", kernelsAVX2, haveAVX2},
		{"avx512", kernelsAVX512, haveAVX512},
		{"sse", 0, false},
		{"avx", 0, false},
	} {
		got, err := chooseKernels(tc.env)
		if (err == nil) != tc.ok {
			t.Errorf("chooseKernels(%q): error %v, want ok=%v", tc.env, err, tc.ok)
			continue
		}
		if err == nil && got != tc.want {
			t.Errorf("chooseKernels(%q) = %s, want %s", tc.env, got, tc.want)
		}
	}
	if !slices.Contains(availableKernels(), kernelsGo) {
		t.Error("the pure-Go kernels are not available")
	}
}

// The GEMM micro-kernel, on every stride pattern the drivers use and panel counts that exercise
// every tile width of the AVX-512 kernel (4, 3, 2, 1 panels and their combinations).
func TestGemmTileKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, p := range []struct{ rs, ks, nseg, seglen, segStride int }{
		{1, 6, 1, 1, 0}, {1, 6, 1, 75, 0}, {3, 1, 5, 15, 348}, {6, 1, 5, 30, 400}, {50, 1, 1, 48, 0}, {1, 6, 0, 5, 0}, {1, 6, 2, 0, 0},
	} {
		for _, flags := range []int{0, flagAcc, flagBias, flagReLU, flagAcc | flagBias | flagReLU} {
			n := 5*p.rs + max(p.nseg-1, 0)*p.segStride + max(p.seglen-1, 0)*p.ks + 1
			a := randSlice(rng, n)
			for _, np := range []int{1, 2, 3, 4, 5, 6, 7, 9} {
				b := randSlice(rng, max(p.nseg*p.seglen, 0)*nr*np)
				bias := randSlice(rng, nr*np)
				ldc := nr*np + 3
				c0 := randSlice(rng, 5*ldc+nr*np)
				agreeAcrossKernels(t, fmt.Sprintf("gemmTile %+v flags %d np %d", p, flags, np), kernelTol, func() []float32 {
					c := slices.Clone(c0)
					gemmTile(a, p.rs, p.ks, p.nseg, p.seglen, p.segStride, b, c, ldc, bias, flags, np)
					return c
				})
			}
		}
	}
}

// The training and backward kernels: gemmSB with strided A and B, the depthwise forward and
// weight-gradient kernels, the batchnorm kernels and the exact element-wise ones, on block
// counts that exercise every tile width of the AVX-512 kernels.
func TestTrainKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	a, b := randSlice(rng, 4000), randSlice(rng, 9000)
	for _, np := range []int{1, 2, 3, 4, 5, 7, 8} {
		c0 := randSlice(rng, 5*130+nr*np)
		agreeAcrossKernels(t, fmt.Sprintf("gemmSB np %d", np), kernelTol, func() []float32 {
			c := slices.Clone(c0)
			gemmSB(a, 7, 9, 37, b, 21, 1000, c, 130, np)
			return c
		})
	}
	for _, nblk := range []int{1, 2, 3, 4, 5, 7} {
		pitch := nr * nblk
		src, dz := randSlice(rng, 60*40*pitch), randSlice(rng, 12*pitch)
		w, bias := randSlice(rng, 25*pitch), randSlice(rng, pitch)
		for _, stride := range []int{1, 2} {
			acc0 := randSlice(rng, 25*pitch)
			agreeAcrossKernels(t, fmt.Sprintf("dwWgrad nblk %d stride %d", nblk, stride), kernelTol, func() []float32 {
				acc := slices.Clone(acc0)
				dwWgrad(acc, src, stride*pitch, 40*pitch, pitch, dz, pitch, 11, 5, 5, nblk)
				return acc
			})
			for _, flags := range []int{0, flagBias, flagReLU, flagBias | flagReLU} {
				agreeAcrossKernels(t, fmt.Sprintf("dw4 nblk %d stride %d flags %d", nblk, stride, flags), kernelTol, func() []float32 {
					dst := make([]float32, 4*(pitch+5))
					dw4(dst, pitch+5, src, stride*pitch, w, bias, nblk, 5, 5, pitch, 40*pitch, flags)
					return dst
				})
				agreeAcrossKernels(t, fmt.Sprintf("dw1 nblk %d flags %d", nblk, flags), kernelTol, func() []float32 {
					dst := make([]float32, pitch)
					dw1(dst, src, w, bias, nblk, 5, 5, pitch, 40*pitch, flags)
					return dst
				})
			}
		}
		// The batchnorm kernels on 13 pixels.
		y, g := randSlice(rng, 13*pitch), randSlice(rng, 13*pitch)
		for i := range y {
			y[i] += 3
		}
		agreeAcrossKernels(t, fmt.Sprintf("colMoments nblk %d", nblk), kernelTol, func() []float32 {
			m, q := make([]float32, pitch), make([]float32, pitch)
			colMoments(y, 13, pitch, nblk, 1.0/13, m, q)
			return append(m, q...)
		})
		ca, cb, cc, mu := randSlice(rng, pitch), randSlice(rng, pitch), randSlice(rng, pitch), randSlice(rng, pitch)
		for _, relu := range []bool{false, true} {
			agreeAcrossKernels(t, fmt.Sprintf("bnApply nblk %d relu %v", nblk, relu), kernelTol, func() []float32 {
				d := make([]float32, len(y))
				bnApply(d, y, 13, pitch, nblk, ca, cb, relu)
				return d
			})
		}
		s10, s20 := randSlice(rng, pitch), randSlice(rng, pitch)
		agreeAcrossKernels(t, fmt.Sprintf("bnReduce nblk %d", nblk), kernelTol, func() []float32 {
			s1, s2 := slices.Clone(s10), slices.Clone(s20)
			bnReduce(g, y, 13, pitch, nblk, mu, s1, s2)
			return append(s1, s2...)
		})
		agreeAcrossKernels(t, fmt.Sprintf("bnBackward nblk %d", nblk), kernelTol, func() []float32 {
			d := make([]float32, len(y))
			bnBackward(d, g, y, 13, pitch, nblk, mu, ca, cb, cc)
			return d
		})
		agreeAcrossKernels(t, fmt.Sprintf("colSum nblk %d", nblk), kernelTol, func() []float32 {
			s := slices.Clone(s10)
			colSum(y, 13, pitch, nblk, s)
			return s
		})
		// reluMask and addRows16 have no multiply-add: every set gives the same bits.
		agreeAcrossKernels(t, "reluMask", 0, func() []float32 {
			r := make([]float32, 40)
			reluMask(r, g[:40], y[:40:40], 40)
			return r
		})
		ad0 := randSlice(rng, 200)
		agreeAcrossKernels(t, "addRows16", 0, func() []float32 {
			ad := slices.Clone(ad0)
			addRows16(ad, 9, y, 17, min(10, (len(y)-16)/17+1))
			return ad
		})
	}
}

func TestDotKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{0, 1, 7, 8, 9, 31, 32, 33, 40, 64, 100, 2352, 12544} {
		x, y := randSlice(rng, n), randSlice(rng, n)
		var want, mag float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
			mag += math.Abs(float64(x[i]) * float64(y[i]))
		}
		forEachKernel(t, func(t *testing.T) {
			if d := math.Abs(float64(dot(x, y, n)) - want); d > 1e-6*mag+1e-30 {
				t.Errorf("n=%d: dot %v, want %v", n, dot(x, y, n), want)
			}
		})
		agreeAcrossKernels(t, fmt.Sprintf("dot n=%d", n), float32(1e-6*mag), func() []float32 { return []float32{dot(x, y, n)} })
	}
}

func TestMaxKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	nan := float32(math.NaN())
	for _, n := range []int{0, 1, 7, 8, 9, 64, 100} {
		m0, x := randSlice(rng, n), randSlice(rng, n)
		if n > 2 {
			m0[1], x[2] = nan, nan // a NaN in m stays, one in x is skipped
		}
		want := slices.Clone(m0)
		for i := range want {
			if x[i] > want[i] {
				want[i] = x[i]
			}
		}
		forEachKernel(t, func(t *testing.T) {
			m := slices.Clone(m0)
			maxInto(m, x)
			assertSameBits(t, fmt.Sprintf("max n=%d", n), m, want)
		})
	}
}

// Whole networks give the same bits with the avx512 and avx2 sets: the paper's compact model's
// predictions, and the weights after two training steps of both compact architectures' layers
// (at a small width, on the paper's 112×112 geometry).
func TestKernelSetsSameNetworkBits(t *testing.T) {
	if !haveAVX512 {
		t.Skip("this CPU or build cannot run the avx512 kernels")
	}
	run := func(k kernelSet, f func() []float32) []float32 {
		defer useKernels(k)()
		return f()
	}
	mn, err := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	if err != nil {
		t.Fatal(err)
	}
	randomize(t, mn, 5)
	net, err := Compile(mn)
	if err != nil {
		t.Fatal(err)
	}
	const batch = 4
	_, x := randomImages(6, batch, net.InputShape())
	forward := func() []float32 {
		out := make([]float32, batch*net.Outputs())
		if err := net.Forward(x, batch, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	assertSameBits(t, "predictions", run(kernelsAVX512, forward), run(kernelsAVX2, forward))
	for _, f := range [][model.NumLayers]int{{20, 30, 3, 3, 3}, {40, 40, 40, 40, 40}} {
		train := func() []float32 {
			mn, err := model.NewCompact(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := InitKeras(mn, 7); err != nil {
				t.Fatal(err)
			}
			tr, err := NewTrainer(mn, NewAdam(1e-3, 0.5))
			if err != nil {
				t.Fatal(err)
			}
			y := []float32{1, -1, 0.5, 2}
			for range 2 {
				if _, err := tr.Step(x, y, batch); err != nil {
					t.Fatal(err)
				}
			}
			var w []float32
			for _, tn := range tr.Network().Weights() {
				w = append(w, tn.Data...)
			}
			return w
		}
		assertSameBits(t, fmt.Sprintf("weights after training %v", f), run(kernelsAVX512, train), run(kernelsAVX2, train))
	}
}
