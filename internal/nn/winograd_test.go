package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"compactv4/internal/model"
	"compactv4/internal/pyref"
)

// winoNet is a 1×1 convolution of an h×w×8 input to cin channels, then one 3×3 stride-1
// convolution (with batchnorm) to cout channels, optionally a residual addition of a 1×1
// convolution of its input (computed first, so that the addition is fused into the 3×3
// convolution) and a ReLU: the arrangements of the ResNet50 trunk's 3×3 convolutions and of a
// residual one, with input channels 16·k floats apart whatever cin is.
func winoNet(h, w, cin, cout int, padding string, relu, res bool) *model.Network {
	b := &graphBuilder{&model.Network{Name: "wino", Input: [3]int{h, w, 8}}}
	in := b.relu("pre_relu", b.conv("pre", model.Conv2D, cin, 1, 1, model.PaddingValid, b.add(model.Layer{Name: "input", Class: model.InputLayer})))
	short := in
	if res {
		if padding == model.PaddingValid {
			short = b.pool("crop", 3, 1, model.PaddingValid, in)
		}
		short = b.conv("short", model.Conv2D, cout, 1, 1, model.PaddingValid, short)
	}
	x := b.bn("bn", b.conv("conv", model.Conv2D, cout, 3, 1, padding, in))
	if res {
		x = b.sum("add", short, x)
	}
	if relu {
		x = b.relu("relu", x)
	}
	return b.n
}

// The Winograd convolution agrees with the float64 evaluation to 1e-4 of the standard deviation
// of the output's values, as the direct one does, with every kernel set, on odd and even sizes
// from 1×1 to 7×7 and ResNet50's two smallest maps, 16 to 256 channels, with and without the
// fused ReLU and residual addition. Measured: Winograd at most 8e-6 of the standard deviation,
// direct at most 1.4e-5 (the log gives each case's).
func TestWinogradMatchesFloat64(t *testing.T) {
	cases := []struct {
		h, w, cin, cout int
		padding         string
		relu, res       bool
	}{
		{1, 1, 16, 16, model.PaddingSame, false, false},
		{2, 3, 16, 32, model.PaddingSame, true, false},
		{3, 3, 32, 16, model.PaddingValid, false, false},
		{4, 4, 48, 48, model.PaddingSame, true, true},
		{5, 6, 16, 40, model.PaddingSame, false, true},
		{6, 5, 64, 64, model.PaddingValid, true, true},
		{7, 7, 128, 128, model.PaddingSame, true, true},
		{7, 4, 256, 256, model.PaddingSame, true, false},
		{14, 14, 64, 64, model.PaddingSame, false, true},
		{28, 28, 16, 16, model.PaddingSame, true, true},
		{13, 11, 32, 24, model.PaddingSame, true, false},
		{9, 8, 24, 16, model.PaddingValid, true, true},
	}
	for i, tc := range cases {
		name := fmt.Sprintf("%dx%dx%d-%d_%s_relu%v_res%v", tc.h, tc.w, tc.cin, tc.cout, tc.padding, tc.relu, tc.res)
		t.Run(name, func(t *testing.T) {
			mn := winoNet(tc.h, tc.w, tc.cin, tc.cout, tc.padding, tc.relu, tc.res)
			randomize(t, mn, uint64(500+i))
			g, err := CompileGraph(mn)
			if err != nil {
				t.Fatal(err)
			}
			if winoNodes(g) != 1 {
				t.Fatalf("%d Winograd convolutions, want 1", winoNodes(g))
			}
			if nd := g.nodes[len(g.nodes)-1]; nd.wino == nil || nd.res != tc.res || nd.relu != tc.relu {
				t.Fatalf("last stage %v: Winograd %v, residual %v, ReLU %v", nd.names, nd.wino != nil, nd.res, nd.relu)
			}
			const batch = 6
			_, x := randomImages(uint64(600+i), batch, g.InputShape())
			want, _, err := ForwardFloat64(mn, x, batch, false)
			if err != nil {
				t.Fatal(err)
			}
			forEachKernel(t, func(t *testing.T) {
				for _, direct := range []bool{false, true} {
					g.direct = direct
					got := make([]float32, batch*g.Outputs())
					if err := g.Forward(x, batch, got); err != nil {
						t.Fatal(err)
					}
					what := "Winograd"
					if direct {
						what = "direct"
					}
					pyref.CompareSD(t, what, want, got, 1, 1, 1e-4)
				}
			})
		})
	}
}

func winoNodes(g *GraphNet) int {
	n := 0
	for _, nd := range g.nodes {
		if nd.wino != nil {
			n++
		}
	}
	return n
}

// The Winograd convolutions' bytes depend neither on the number of goroutines, nor on the batch
// an image is part of, nor on the number of tiles per block.
func TestWinogradDeterministic(t *testing.T) {
	forEachKernel(t, testWinogradDeterministic)
}

func testWinogradDeterministic(t *testing.T) {
	for i, mn := range []*model.Network{
		winoNet(17, 16, 16, 32, model.PaddingSame, true, true),
		winoNet(12, 13, 32, 16, model.PaddingValid, true, false),
		wideConvs(),
	} {
		t.Run(mn.Name+fmt.Sprint(i), func(t *testing.T) {
			randomize(t, mn, uint64(700+i))
			g, err := CompileGraph(mn)
			if err != nil {
				t.Fatal(err)
			}
			if winoNodes(g) == 0 {
				t.Fatal("no Winograd convolution")
			}
			const batch = 5
			_, x := randomImages(uint64(800+i), batch, g.InputShape())
			per, outs := g.InputShape().Size(), g.Outputs()
			var ref []float32
			for _, block := range []int{0, 6, 12} {
				if block > 0 {
					for _, nd := range g.nodes {
						if nd.wino != nil {
							nd.wino.block = block
						}
					}
				}
				for _, w := range []int{1, 2, 3} {
					g.SetWorkers(w)
					got := make([]float32, batch*outs)
					if err := g.Forward(x, batch, got); err != nil {
						t.Fatal(err)
					}
					if ref == nil {
						ref = got
					}
					assertSameBits(t, fmt.Sprintf("%d tiles per block, %d workers", block, w), ref, got)
					one := make([]float32, outs)
					if err := g.Forward(x[2*per:3*per], 1, one); err != nil {
						t.Fatal(err)
					}
					assertSameBits(t, fmt.Sprintf("%d tiles per block, %d workers, image 2 alone", block, w), ref[2*outs:3*outs], one)
				}
			}
		})
	}
}

// BenchmarkWinograd times one image of each 3×3 convolution shape of the ResNet50 trunk (with
// its fused ReLU) on one thread: the direct convolution, the Winograd one, and the Winograd
// one's three parts (input transform, GEMMs, output transform). Besides the wall time it reports
// the thread's CPU time when the run took 50 ms of it or more (the wall time of a shared machine
// mostly measures the others), and cpu-GFLOP/s counts the direct convolution's 2·H·W·Cin·Cout·9
// operations, so that the two are comparable.
//
// Measured 2026-12-03 13:33 UTC on the idle 2-core AVX-512 machine (-benchtime 50x, wall µs per
// image): conv2_x direct 2303, Winograd 1294 (input transform 173, GEMMs 1012, output 91);
// conv3_x 2660 and 1354 (82, 901, 33); conv4_x 2898 and 1563 (48, 1405, 17). The transforms take
// 20 %, 8 % and 4 % of the Winograd convolution.
func BenchmarkWinograd(b *testing.B) {
	for _, s := range []struct {
		name  string
		hw, c int
	}{{"conv2_x_56x56x64", 56, 64}, {"conv3_x_28x28x128", 28, 128}, {"conv4_x_14x14x256", 14, 256}} {
		mn := winoNet(s.hw, s.hw, s.c, s.c, model.PaddingSame, true, false)
		randomize(b, mn, 1)
		g, err := CompileGraph(mn)
		if err != nil {
			b.Fatal(err)
		}
		nd := g.nodes[len(g.nodes)-1]
		in, out := g.vals[nd.in[0]].geom(), g.vals[nd.out].geom()
		_, x := randomImages(2, 1, model.Shape{H: s.hw, W: s.hw, C: s.c})
		y := make([]float32, g.vals[nd.out].size())
		sc := g.scratch.New()
		w := nd.wino
		size, nb := w.blocks(1)
		parts := func(input, multiply, output bool) func() {
			return func() {
				for k := 0; k < nb; k++ {
					t0, t1 := k*size, min((k+1)*size, w.th*w.tw)
					if input {
						w.input(x, in, t0, t1, sc.ws[0])
					}
					if multiply {
						w.multiply(t1-t0, sc.sc[:1], sc.ws[0])
					}
					if output {
						w.output(y, out, t0, t1, sc.ws[0])
					}
				}
			}
		}
		parts(true, true, true)() // size the workspaces
		for _, m := range []struct {
			name string
			f    func()
		}{
			{"direct", func() { nd.run(in, out, [][]float32{x}, y, sc, 1) }},
			{"winograd", func() { w.run(x, in, out, y, sc.sc[:1], sc.ws[:1]) }},
			{"winograd_input", parts(true, false, false)},
			{"winograd_gemm", parts(false, true, false)},
			{"winograd_output", parts(false, false, true)},
		} {
			b.Run(s.name+"/"+m.name, func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				t0 := threadCPU()
				for b.Loop() {
					m.f()
				}
				// getrusage counts in scheduler ticks: a shorter total is not reported.
				if d := (threadCPU() - t0).Seconds(); d >= 0.05 {
					b.ReportMetric(d*1e6/float64(b.N), "cpu-µs/op")
					b.ReportMetric(2*float64(s.hw*s.hw*s.c*s.c*9)*float64(b.N)/d/1e9, "cpu-GFLOP/s")
				}
			})
		}
	}
}

// The transform kernels give the same bits with every kernel set (they only add and subtract, in
// one order), on tiles read in place and through strides, every flag combination, and 1 to 5
// blocks of 16 channels.
func TestWinogradKernelsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	for _, nblk := range []int{1, 2, 5} {
		cp := nblk * nr
		for _, ntiles := range []int{1, 3} {
			// Input: an image row of 2·ntiles+2 pixels, 4 rows, pitch cp+16.
			px := cp + nr
			row := (2*ntiles+2)*px + 7
			src := randSlice(rng, 4*row)
			vt := cp + 3
			vs := ntiles*vt + 5
			agreeAcrossKernels(t, fmt.Sprintf("winoIn nblk %d ntiles %d", nblk, ntiles), 0, func() []float32 {
				v := make([]float32, 16*vs)
				winoIn(v, vs, vt, src, row, px, nblk, ntiles)
				return v
			})
			mt := cp + 1
			ms := ntiles*mt + 9
			m := randSlice(rng, 16*ms)
			bias := randSlice(rng, cp)
			y0 := randSlice(rng, 2*row)
			for _, flags := range []int{0, flagAcc, flagBias, flagReLU, flagAcc | flagBias | flagReLU} {
				agreeAcrossKernels(t, fmt.Sprintf("winoOut nblk %d ntiles %d flags %d", nblk, ntiles, flags), 0, func() []float32 {
					y := slices.Clone(y0)
					winoOut(y, row, px, m, ms, mt, bias, nblk, ntiles, flags)
					return y
				})
			}
		}
	}
}

// The ResNet50 trunk evaluates exactly its eleven 3×3 stride-1 convolutions by Winograd.
func TestWinogradTrunkLayers(t *testing.T) {
	mn, err := model.NewResNet50(model.ResNet50Output, 1)
	if err != nil {
		t.Fatal(err)
	}
	randomize(t, mn, 1)
	g, err := CompileGraph(mn)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, nd := range g.nodes {
		if nd.wino != nil {
			got = append(got, nd.names[0])
		}
	}
	var want []string
	for _, b := range []struct {
		stage string
		n     int
	}{{"conv2", 3}, {"conv3", 4}, {"conv4", 4}} {
		for k := 1; k <= b.n; k++ {
			want = append(want, fmt.Sprintf("%s_block%d_2_conv", b.stage, k))
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("Winograd convolutions %v, want %v", got, want)
	}
}
