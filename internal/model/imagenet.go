package model

import (
	"fmt"
)

// TeacherImageSize is the side of the images the ImageNet networks and the ensemble take: the
// 112×112 stimuli resized (reference/upstream.md §3.2).
const TeacherImageSize = 224

// The layers whose outputs the teacher fit reads (reference/upstream.md §3.2, §6).
const (
	ResNet50Output = "conv4_block4_out" // 14×14×1024
	VGG19Output    = "block4_pool"      // 14×14×512
)

// resnetBNEpsilon is keras.applications' batchnorm epsilon in ResNet50.
const resnetBNEpsilon = 1.001e-5

// resnetStages are keras.applications' ResNet50 stages: name, filters of the block's 1×1 and 3×3
// convolutions (the last 1×1 has four times as many), blocks, stride of the first block.
var resnetStages = []struct {
	name            string
	filters, blocks int
	stride          int
}{
	{"conv2", 64, 3, 1},
	{"conv3", 128, 4, 2},
	{"conv4", 256, 6, 2},
	{"conv5", 512, 3, 2},
}

// NewResNet50 returns keras.applications' ResNet50 (v1, include_top=False) as a graph, with its
// layer names, in Keras' layer order, up to and including the layer named upto, with zero weights
// (batchnorm gammas and moving variances one). The stem is ZeroPadding2D(3), a 7×7 stride-2
// 'valid' convolution, batchnorm and ReLU, ZeroPadding2D(1) and a 3×3 stride-2 max pool; each
// block is 1×1 → 3×3 ('same') → 1×1 convolutions with batchnorm (ε = 1.001e-5) and ReLU, the
// stride on the first 1×1 convolution of a stage's first block, whose shortcut is a strided 1×1
// convolution with batchnorm; the shortcut is added and followed by a ReLU (the block's "_out").
// Every convolution has a bias.
//
// narrow divides every channel count (1 for the real network; tests use narrowed networks with
// the same names). The input is 224×224×3 (Input may be changed; the weights do not depend on it).
func NewResNet50(upto string, narrow int) (*Network, error) {
	if narrow < 1 || 64%narrow != 0 {
		return nil, fmt.Errorf("resnet50: narrowing %d does not divide 64", narrow)
	}
	b := &builder{n: &Network{Name: "resnet50", Input: [3]int{TeacherImageSize, TeacherImageSize, 3}}, upto: upto}
	conv := func(name string, filters, k, stride int, padding string) Layer {
		return Layer{Name: name, Class: Conv2D, Filters: filters / narrow, Kernel: [2]int{k, k}, Strides: [2]int{stride, stride},
			Padding: padding, Activation: Linear, UseBias: true}
	}
	bn := func(name string) Layer {
		return Layer{Name: name, Class: BatchNormalization, Epsilon: resnetBNEpsilon, Momentum: BNMomentum}
	}
	relu := func(name string) Layer { return Layer{Name: name, Class: Activation, Activation: ReLU} }
	x := b.add(Layer{Name: "input_1", Class: InputLayer})
	x = b.add(Layer{Name: "conv1_pad", Class: ZeroPadding2D, Pad: [4]int{3, 3, 3, 3}}, x)
	x = b.add(conv("conv1_conv", 64, 7, 2, PaddingValid), x)
	x = b.add(bn("conv1_bn"), x)
	x = b.add(relu("conv1_relu"), x)
	x = b.add(Layer{Name: "pool1_pad", Class: ZeroPadding2D, Pad: [4]int{1, 1, 1, 1}}, x)
	x = b.add(Layer{Name: "pool1_pool", Class: MaxPooling2D, Kernel: [2]int{3, 3}, Strides: [2]int{2, 2}, Padding: PaddingValid}, x)
	for _, st := range resnetStages {
		for blk := 1; blk <= st.blocks; blk++ {
			p := fmt.Sprintf("%s_block%d_", st.name, blk)
			stride := 1
			if blk == 1 {
				stride = st.stride
			}
			// Keras lists a first block's layers in this order (model.layers, layer_names).
			y := b.add(conv(p+"1_conv", st.filters, 1, stride, PaddingValid), x)
			y = b.add(bn(p+"1_bn"), y)
			y = b.add(relu(p+"1_relu"), y)
			y = b.add(conv(p+"2_conv", st.filters, 3, 1, PaddingSame), y)
			y = b.add(bn(p+"2_bn"), y)
			y = b.add(relu(p+"2_relu"), y)
			short := x
			if blk == 1 {
				short = b.add(conv(p+"0_conv", 4*st.filters, 1, stride, PaddingValid), x)
			}
			y = b.add(conv(p+"3_conv", 4*st.filters, 1, 1, PaddingValid), y)
			if blk == 1 {
				short = b.add(bn(p+"0_bn"), short)
			}
			y = b.add(bn(p+"3_bn"), y)
			y = b.add(Layer{Name: p + "add", Class: Add}, short, y)
			x = b.add(relu(p+"out"), y)
		}
	}
	return b.finish()
}

// vgg19Blocks are keras.applications' VGG19 blocks: convolutions per block and their filters.
var vgg19Blocks = []struct{ convs, filters int }{{2, 64}, {2, 128}, {4, 256}, {4, 512}, {4, 512}}

// NewVGG19 returns keras.applications' VGG19 (include_top=False) up to and including the layer
// named upto, with zero weights: blocks of 3×3 'same' convolutions with bias and ReLU
// (blockB_convC), each block ending in a 2×2 stride-2 max pool (blockB_pool). Keras fuses the ReLU
// into each convolution; here it is a separate Activation layer named blockB_convC_relu (the
// model package describes activations as layers), so the weights and every named output are
// Keras'. narrow divides every channel count, as in NewResNet50.
func NewVGG19(upto string, narrow int) (*Network, error) {
	if narrow < 1 || 64%narrow != 0 {
		return nil, fmt.Errorf("vgg19: narrowing %d does not divide 64", narrow)
	}
	b := &builder{n: &Network{Name: "vgg19", Input: [3]int{TeacherImageSize, TeacherImageSize, 3}}, upto: upto}
	x := b.add(Layer{Name: "input_1", Class: InputLayer})
	for i, blk := range vgg19Blocks {
		for c := 1; c <= blk.convs; c++ {
			name := fmt.Sprintf("block%d_conv%d", i+1, c)
			x = b.add(Layer{Name: name, Class: Conv2D, Filters: blk.filters / narrow, Kernel: [2]int{3, 3}, Strides: [2]int{1, 1},
				Padding: PaddingSame, Activation: Linear, UseBias: true}, x)
			if b.done {
				break
			}
			x = b.add(Layer{Name: name + "_relu", Class: Activation, Activation: ReLU}, x)
		}
		x = b.add(Layer{Name: fmt.Sprintf("block%d_pool", i+1), Class: MaxPooling2D, Kernel: [2]int{2, 2}, Strides: [2]int{2, 2}, Padding: PaddingValid}, x)
	}
	return b.finish()
}

// builder appends layers until the one named upto.
type builder struct {
	n    *Network
	upto string
	done bool
}

// add appends l reading the named layers (none: the previous layer) unless the last layer wanted
// has been added, and returns l's name.
func (b *builder) add(l Layer, inbound ...string) string {
	if b.done {
		return l.Name
	}
	if len(inbound) > 0 && (len(inbound) > 1 || len(b.n.Layers) == 0 || inbound[0] != b.n.Layers[len(b.n.Layers)-1].Name) {
		l.Inbound = inbound
	}
	b.n.Layers = append(b.n.Layers, l)
	b.done = l.Name == b.upto
	return l.Name
}

func (b *builder) finish() (*Network, error) {
	if !b.done {
		return nil, fmt.Errorf("%s: no layer %q", b.n.Name, b.upto)
	}
	if err := b.n.initWeights(); err != nil {
		return nil, err
	}
	return b.n, nil
}
