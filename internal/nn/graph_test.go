package nn

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"compactv4/internal/model"
)

// graphBuilder appends layers to a test network; each method returns the new layer's name.
type graphBuilder struct{ n *model.Network }

func (b *graphBuilder) add(l model.Layer, inbound ...string) string {
	for _, in := range inbound {
		if in != "" {
			l.Inbound = append(l.Inbound, in)
		}
	}
	b.n.Layers = append(b.n.Layers, l)
	return l.Name
}

func (b *graphBuilder) conv(name string, class model.Class, filters, k, stride int, padding string, in string) string {
	return b.add(model.Layer{Name: name, Class: class, Filters: filters, Kernel: [2]int{k, k}, Strides: [2]int{stride, stride},
		Padding: padding, DepthMultiplier: 1, Activation: model.Linear, UseBias: true}, in)
}

func (b *graphBuilder) bn(name, in string) string {
	return b.add(model.Layer{Name: name, Class: model.BatchNormalization, Epsilon: 1.001e-5, Momentum: 0.99}, in)
}

func (b *graphBuilder) relu(name, in string) string {
	return b.add(model.Layer{Name: name, Class: model.Activation, Activation: model.ReLU}, in)
}

func (b *graphBuilder) pool(name string, k, stride int, padding string, in string) string {
	return b.add(model.Layer{Name: name, Class: model.MaxPooling2D, Kernel: [2]int{k, k}, Strides: [2]int{stride, stride}, Padding: padding}, in)
}

func (b *graphBuilder) pad(name string, p int, in string) string {
	return b.add(model.Layer{Name: name, Class: model.ZeroPadding2D, Pad: [4]int{p, p, p, p}}, in)
}

func (b *graphBuilder) sum(name string, in ...string) string {
	return b.add(model.Layer{Name: name, Class: model.Add}, in...)
}

// residualStem is a ResNet50 in miniature: the stem (7×7 stride-2 valid convolution after zero
// padding, max pool after zero padding), a block with a strided 1×1 projection shortcut and one
// with the identity shortcut.
func residualStem() *model.Network {
	b := &graphBuilder{&model.Network{Name: "residual_stem", Input: [3]int{21, 18, 3}}}
	x := b.add(model.Layer{Name: "input", Class: model.InputLayer})
	x = b.pad("conv1_pad", 3, x)
	x = b.conv("conv1_conv", model.Conv2D, 8, 7, 2, model.PaddingValid, x)
	x = b.relu("conv1_relu", b.bn("conv1_bn", x))
	x = b.pool("pool1_pool", 3, 2, model.PaddingValid, b.pad("pool1_pad", 1, x))
	block := func(name string, filters, stride int, project bool, x string) string {
		short := x
		if project {
			short = b.conv(name+"_0_conv", model.Conv2D, 4*filters, 1, stride, model.PaddingValid, x)
		}
		y := b.relu(name+"_1_relu", b.bn(name+"_1_bn", b.conv(name+"_1_conv", model.Conv2D, filters, 1, stride, model.PaddingValid, x)))
		y = b.relu(name+"_2_relu", b.bn(name+"_2_bn", b.conv(name+"_2_conv", model.Conv2D, filters, 3, 1, model.PaddingSame, y)))
		y = b.conv(name+"_3_conv", model.Conv2D, 4*filters, 1, 1, model.PaddingValid, y)
		if project {
			short = b.bn(name+"_0_bn", short)
		}
		y = b.bn(name+"_3_bn", y)
		return b.relu(name+"_out", b.sum(name+"_add", short, y))
	}
	x = block("block1", 3, 2, true, x)
	block("block2", 3, 1, false, x)
	return b.n
}

// memberLike is an ensemble member in miniature (reference/upstream.md §6): a 1×1 convolution, a
// stride-2 separable convolution, residual blocks of 3×3 separable convolutions whose additions
// follow a 1×1 convolution, and a 1×1 mixing stage with a 'valid' depthwise pool over the whole
// map.
func memberLike() *model.Network {
	b := &graphBuilder{&model.Network{Name: "member_like", Input: [3]int{10, 9, 6}}}
	x := b.relu("initial_act", b.bn("initial_bn", b.conv("initial_conv_layer", model.Conv2D, 8, 1, 1, model.PaddingSame, "")))
	x = b.conv("initial_sepconv_layer", model.SeparableConv2D, 8, 3, 2, model.PaddingSame, x)
	for k := 1; k <= 2; k++ {
		p := fmt.Sprintf("layer%d_", k)
		y := b.relu(p+"act1", b.bn(p+"bn1", b.conv(p+"conv1", model.SeparableConv2D, 5, 3, 1, model.PaddingSame, x)))
		y = b.relu(p+"act2", b.bn(p+"bn2", b.conv(p+"conv2", model.SeparableConv2D, 5, 3, 1, model.PaddingSame, y)))
		y = b.conv(p+"conv3", model.Conv2D, 8, 1, 1, model.PaddingSame, y)
		x = b.sum(p+"add", x, y)
	}
	x = b.conv("mixing_stage", model.Conv2D, 4, 1, 1, model.PaddingSame, x)
	x = b.conv("spatial_pool_stage", model.DepthwiseConv2D, 0, 5, 1, model.PaddingValid, x)
	b.add(model.Layer{Name: "output_responses", Class: model.Flatten}, x)
	return b.n
}

// unfused has the layers in the arrangements CompileGraph cannot fuse: a ReLU output read twice,
// standalone batchnorm, an Add of non-convolutions with three inputs, a ReLU after pooling, 'same'
// max pooling with odd sizes, strided 'same' depthwise convolution, and a Dense readout.
func unfused() *model.Network {
	b := &graphBuilder{&model.Network{Name: "unfused", Input: [3]int{9, 7, 5}}}
	x := b.relu("act0", b.conv("conv0", model.Conv2D, 6, 3, 1, model.PaddingSame, ""))
	a := b.bn("bn_a", x)
	p := b.pool("pool_b", 3, 1, model.PaddingSame, x)
	d := b.conv("dw_c", model.DepthwiseConv2D, 0, 3, 1, model.PaddingSame, x)
	x = b.relu("act1", b.bn("bn1", b.sum("add", a, p, d)))
	x = b.relu("act2", b.pool("pool2", 2, 2, model.PaddingSame, x))
	x = b.conv("dw3", model.DepthwiseConv2D, 0, 3, 2, model.PaddingSame, x)
	x = b.add(model.Layer{Name: "flat", Class: model.Flatten}, x)
	b.add(model.Layer{Name: "dense", Class: model.Dense, Filters: 3, Activation: model.Linear, UseBias: true}, x)
	return b.n
}

// wideConvs has convolutions whose input channels are a multiple of 16, which CompileGraph
// evaluates in place from a zero-padded copy (no im2col): 'same' and 'valid', strides 1 and 2,
// odd sizes, and a residual addition fused into one of them.
func wideConvs() *model.Network {
	b := &graphBuilder{&model.Network{Name: "wide_convs", Input: [3]int{11, 9, 16}}}
	x := b.relu("act0", b.conv("conv0", model.Conv2D, 16, 3, 1, model.PaddingSame, ""))
	y := b.conv("conv1", model.Conv2D, 16, 3, 1, model.PaddingSame, x)
	x = b.relu("act1", b.sum("add1", x, y))
	x = b.conv("conv2", model.Conv2D, 32, 5, 2, model.PaddingSame, x)
	b.conv("conv3", model.Conv2D, 16, 3, 1, model.PaddingValid, x)
	return b.n
}

// allGraphNets are graphNets and the networks without a PyTorch reference.
func allGraphNets() []netCase {
	return append(graphNets(), netCase{"wide_convs", func() (*model.Network, error) { return wideConvs(), nil }, 5})
}

func graphNets() []netCase {
	return []netCase{
		{"residual_stem", func() (*model.Network, error) { return residualStem(), nil }, 5},
		{"member_like", func() (*model.Network, error) { return memberLike(), nil }, 6},
		{"unfused", func() (*model.Network, error) { return unfused(), nil }, 7},
	}
}

// CompileGraph agrees, with every kernel set, with the float64 evaluation to 1e-4 of the standard deviation of every
// output over the batch, and of every computed layer's values (measured: at most 7e-5 for an
// output of the residual stem that varies little over the batch, 1e-5 for any layer, a few
// 1e-6 typically).
func TestGraphMatchesFloat64(t *testing.T) {
	forEachKernel(t, testGraphMatchesFloat64)
}

func testGraphMatchesFloat64(t *testing.T) {
	for i, tc := range allGraphNets() {
		t.Run(tc.name, func(t *testing.T) {
			mn, _ := tc.build()
			randomize(t, mn, uint64(100+i))
			g, err := CompileGraph(mn)
			if err != nil {
				t.Fatal(err)
			}
			_, x := randomImages(uint64(200+i), tc.batch, g.InputShape())
			want, layers, err := ForwardFloat64(mn, x, tc.batch, true)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, tc.batch*g.Outputs())
			if err := g.Forward(x, tc.batch, got); err != nil {
				t.Fatal(err)
			}
			compareStd(t, "output", got, want, tc.batch, 1e-4)
			for j := range mn.Layers {
				name := mn.Layers[j].Name
				s, err := g.LayerShape(name)
				if err != nil {
					continue // fused into a stage
				}
				dst := make([]float32, tc.batch*s.Size())
				if err := g.Activations(x, tc.batch, []string{name}, [][]float32{dst}); err != nil {
					t.Fatal(err)
				}
				compareScaled(t, name, dst, layers[j], 1, 1, 1e-4)
			}
		})
	}
}

// The bytes depend neither on the number of goroutines nor on the batch an image is part of.
func TestGraphDeterministic(t *testing.T) {
	forEachKernel(t, testGraphDeterministic)
}

func testGraphDeterministic(t *testing.T) {
	for i, tc := range allGraphNets() {
		t.Run(tc.name, func(t *testing.T) {
			mn, _ := tc.build()
			randomize(t, mn, uint64(300+i))
			g, err := CompileGraph(mn)
			if err != nil {
				t.Fatal(err)
			}
			const batch = 6
			_, x := randomImages(uint64(400+i), batch, g.InputShape())
			per := g.InputShape().Size()
			var ref []float32
			for _, w := range []int{1, 2, 3, 8} {
				g.SetWorkers(w)
				got := make([]float32, batch*g.Outputs())
				if err := g.Forward(x, batch, got); err != nil {
					t.Fatal(err)
				}
				if ref == nil {
					ref = got
					continue
				}
				assertSameBits(t, fmt.Sprintf("%d workers", w), ref, got)
			}
			g.SetWorkers(0)
			one := make([]float32, g.Outputs())
			if err := g.Forward(x[3*per:4*per], 1, one); err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, "image 3 alone", ref[3*g.Outputs():4*g.Outputs()], one)
		})
	}
}

// The fusions happen where they should: convolution + batchnorm + ReLU, and the residual
// addition (with its ReLU) into the last convolution of a block.
func TestGraphFusion(t *testing.T) {
	mn := residualStem()
	randomize(t, mn, 1)
	g, err := CompileGraph(mn)
	if err != nil {
		t.Fatal(err)
	}
	var stages [][]string
	for _, nd := range g.nodes {
		stages = append(stages, nd.names)
	}
	want := fmt.Sprint([][]string{
		{"conv1_pad"}, {"conv1_conv", "conv1_bn", "conv1_relu"}, {"pool1_pad"}, {"pool1_pool"},
		{"block1_0_conv", "block1_0_bn"}, {"block1_1_conv", "block1_1_bn", "block1_1_relu"},
		{"block1_2_conv", "block1_2_bn", "block1_2_relu"}, {"block1_3_conv", "block1_3_bn", "block1_add", "block1_out"},
		{"block2_1_conv", "block2_1_bn", "block2_1_relu"}, {"block2_2_conv", "block2_2_bn", "block2_2_relu"},
		{"block2_3_conv", "block2_3_bn", "block2_add", "block2_out"},
	})
	if got := fmt.Sprint(stages); got != want {
		t.Errorf("stages\n%s\nwant\n%s", got, want)
	}
	if _, err := g.LayerShape("block1_3_bn"); err == nil {
		t.Error("the output of a fused batchnorm is reported as computed")
	}
	if s, err := g.LayerShape("block1_out"); err != nil || s != (model.Shape{H: 3, W: 3, C: 12}) {
		t.Errorf("block1_out: %v, %v", s, err)
	}
	if g.nslots >= len(g.vals) {
		t.Errorf("%d buffers for %d values: no reuse", g.nslots, len(g.vals))
	}
	mn = wideConvs()
	randomize(t, mn, 1)
	if g, err = CompileGraph(mn); err != nil {
		t.Fatal(err)
	}
	for _, nd := range g.nodes {
		if !nd.implicit {
			t.Errorf("%v: not evaluated in place", nd.names)
		}
		if nd.names[0] == "conv1" && (!nd.res || nd.names[len(nd.names)-1] != "act1") {
			t.Errorf("conv1 fused %v", nd.names)
		}
	}
}

func TestGraphRejects(t *testing.T) {
	mn := residualStem()
	randomize(t, mn, 1)
	g, err := CompileGraph(mn)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, g.InputShape().Size())
	x[7] = float32(math.NaN())
	if err := g.Forward(x, 1, make([]float32, g.Outputs())); !errors.Is(err, ErrInput) {
		t.Errorf("NaN input: %v", err)
	}
	if err := g.Forward(x[1:], 1, make([]float32, g.Outputs())); !errors.Is(err, ErrInput) {
		t.Errorf("short input: %v", err)
	}
	if _, err := Compile(mn); err == nil {
		t.Error("the chain engine compiled a graph")
	}
	bad := mn.Clone()
	bad.Layers[len(bad.Layers)-2].Inbound = []string{"block2_3_bn", "nowhere"}
	if _, err := CompileGraph(bad); err == nil {
		t.Error("an Add reading a missing layer compiled")
	}
	bad = mn.Clone()
	bad.Layers[len(bad.Layers)-2].Inbound = []string{"block1_1_relu", "block2_3_bn"}
	if _, err := CompileGraph(bad); err == nil {
		t.Error("an Add of different shapes compiled")
	}
}
