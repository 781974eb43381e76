// Package model describes the networks of the paper as Keras describes them: layers in
// topological order, each with its configuration, its weights in Keras layout (channels last,
// kernels HWIO) and the layers it reads (by default the one before it, so that most networks are
// plain chains; ResNet50 and the ensemble members are graphs with residual additions). Every reader of a published model format (.keras, .weights.h5, pickled .npy, PyTorch .pt)
// produces a *Network, and internal/nn evaluates and trains one. The package holds no numerics
// beyond shape inference and parameter counting.
//
// The two architectures of the paper are built by NewCompact (the single-neuron compact model,
// reference/upstream.md §4.1) and NewShared (the shared compact model, reference/upstream.md §4.6).
package model

import (
	"errors"
	"fmt"
	"slices"
)

// Class is a Keras layer class name, as it appears in config.json.
type Class string

// The layer classes the paper's networks use.
const (
	InputLayer         Class = "InputLayer"
	Conv2D             Class = "Conv2D"
	SeparableConv2D    Class = "SeparableConv2D"
	DepthwiseConv2D    Class = "DepthwiseConv2D"
	BatchNormalization Class = "BatchNormalization"
	Activation         Class = "Activation"
	Flatten            Class = "Flatten"
	Dense              Class = "Dense"
	Add                Class = "Add"
	MaxPooling2D       Class = "MaxPooling2D"
	ZeroPadding2D      Class = "ZeroPadding2D"
)

// Padding modes of convolutions (TensorFlow semantics, reference/upstream.md §4.2).
const (
	PaddingSame  = "same"
	PaddingValid = "valid"
)

// Activation names.
const (
	Linear = "linear"
	ReLU   = "relu"
)

// Tensor is a dense float32 array in row-major (C) order.
type Tensor struct {
	Shape []int
	Data  []float32
}

// NewTensor returns a zero tensor of the given shape.
func NewTensor(shape ...int) Tensor {
	return Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, product(shape))}
}

// Size is the number of elements the shape describes.
func (t Tensor) Size() int { return product(t.Shape) }

// Clone returns a deep copy.
func (t Tensor) Clone() Tensor {
	return Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

func product(shape []int) int {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return n
}

// Layer is one Keras layer: its configuration, the layers it reads and its weights in Keras
// get_weights() order.
//
// Inbound names the layers whose outputs are the layer's inputs, in order; they must come
// earlier in Network.Layers. Empty means the layer before it (the network's input for the first
// layer). Add sums two or more inputs of the same shape; every other class has one input.
// MaxPooling2D takes its pool size from Kernel, its strides from Strides and its padding from
// Padding; ZeroPadding2D adds Pad zeros (top, bottom, left, right).
//
// Weight order per class: Conv2D and Dense (kernel, bias); SeparableConv2D (depthwise kernel
// (kh,kw,Cin,1), pointwise kernel (1,1,Cin,Cout), bias (Cout)); DepthwiseConv2D (kernel
// (kh,kw,C,1), bias (C)); BatchNormalization (gamma, beta, moving mean, moving variance).
// A bias is present only when UseBias is set.
type Layer struct {
	Name            string
	Class           Class
	Filters         int    // output channels of Conv2D/SeparableConv2D; units of Dense
	Kernel          [2]int // kernel height, width
	Strides         [2]int
	Padding         string // PaddingSame or PaddingValid
	DepthMultiplier int    // SeparableConv2D, DepthwiseConv2D; 1 in every published model
	Activation      string // the layer's own activation (Linear or ReLU); for Activation layers, the function
	UseBias         bool
	Epsilon         float64 // BatchNormalization
	Momentum        float64 // BatchNormalization
	Pad             [4]int  // ZeroPadding2D: top, bottom, left, right
	Inbound         []string
	Weights         []Tensor
}

// Network is a directed acyclic graph of layers in topological order, with one input and one
// output (the last layer). Without Inbound names it is a chain, each layer's output the next
// layer's input: the published compact and shared compact models are Keras functional models of
// exactly this form.
type Network struct {
	Name   string
	Input  [3]int // height, width, channels of one input image
	Layers []Layer
}

// Shape is the shape of one example's activation: height, width, channels, or a flat vector when
// Flat is set (then C holds its length).
type Shape struct {
	H, W, C int
	Flat    bool
}

func (s Shape) String() string {
	if s.Flat {
		return fmt.Sprintf("(%d)", s.C)
	}
	return fmt.Sprintf("(%d,%d,%d)", s.H, s.W, s.C)
}

// Size is the number of values of one example.
func (s Shape) Size() int {
	if s.Flat {
		return s.C
	}
	return s.H * s.W * s.C
}

// SamePadding returns TensorFlow's "same" padding for one spatial axis: the output size and the
// zeros added before and after (reference/upstream.md §4.2).
func SamePadding(n, k, stride int) (out, before, after int) {
	out = (n + stride - 1) / stride
	total := (out-1)*stride + k - n
	if total < 0 {
		total = 0
	}
	before = total / 2
	return out, before, total - before
}

// convOut is the output size along one axis for the given padding mode.
func convOut(n, k, stride int, padding string) (int, error) {
	if stride < 1 || k < 1 {
		return 0, fmt.Errorf("kernel %d and stride %d must be positive", k, stride)
	}
	switch padding {
	case PaddingSame:
		out, _, _ := SamePadding(n, k, stride)
		return out, nil
	case PaddingValid:
		if n < k {
			return 0, fmt.Errorf("valid convolution of size %d with kernel %d", n, k)
		}
		return (n-k)/stride + 1, nil
	}
	return 0, fmt.Errorf("unknown padding %q", padding)
}

// WeightShapes returns the shapes the layer's weights must have for an input of shape in.
func (l *Layer) WeightShapes(in Shape) ([][]int, error) {
	spatial := func() error {
		if in.Flat {
			return fmt.Errorf("%s %q needs an image-shaped input, got %v", l.Class, l.Name, in)
		}
		return nil
	}
	var shapes [][]int
	switch l.Class {
	case InputLayer, Activation, Flatten, Add, MaxPooling2D, ZeroPadding2D:
		return nil, nil
	case Conv2D:
		if err := spatial(); err != nil {
			return nil, err
		}
		shapes = [][]int{{l.Kernel[0], l.Kernel[1], in.C, l.Filters}}
		if l.UseBias {
			shapes = append(shapes, []int{l.Filters})
		}
	case SeparableConv2D:
		if err := spatial(); err != nil {
			return nil, err
		}
		m := l.depthMultiplier()
		shapes = [][]int{{l.Kernel[0], l.Kernel[1], in.C, m}, {1, 1, in.C * m, l.Filters}}
		if l.UseBias {
			shapes = append(shapes, []int{l.Filters})
		}
	case DepthwiseConv2D:
		if err := spatial(); err != nil {
			return nil, err
		}
		m := l.depthMultiplier()
		shapes = [][]int{{l.Kernel[0], l.Kernel[1], in.C, m}}
		if l.UseBias {
			shapes = append(shapes, []int{in.C * m})
		}
	case BatchNormalization:
		c := in.C
		shapes = [][]int{{c}, {c}, {c}, {c}}
	case Dense:
		if !in.Flat {
			return nil, fmt.Errorf("Dense %q needs a flat input, got %v", l.Name, in)
		}
		shapes = [][]int{{in.C, l.Filters}}
		if l.UseBias {
			shapes = append(shapes, []int{l.Filters})
		}
	default:
		return nil, fmt.Errorf("layer %q: unsupported class %q", l.Name, l.Class)
	}
	return shapes, nil
}

func (l *Layer) depthMultiplier() int {
	if l.DepthMultiplier == 0 {
		return 1
	}
	return l.DepthMultiplier
}

// OutShape returns the layer's output shape for an input of shape in (for Add, the shape of each
// of its inputs).
func (l *Layer) OutShape(in Shape) (Shape, error) {
	switch l.Class {
	case InputLayer, Activation, BatchNormalization, Add:
		return in, nil
	case ZeroPadding2D:
		if in.Flat {
			return Shape{}, fmt.Errorf("ZeroPadding2D %q needs an image-shaped input, got %v", l.Name, in)
		}
		for _, p := range l.Pad {
			if p < 0 {
				return Shape{}, fmt.Errorf("ZeroPadding2D %q: negative padding %v", l.Name, l.Pad)
			}
		}
		return Shape{H: in.H + l.Pad[0] + l.Pad[1], W: in.W + l.Pad[2] + l.Pad[3], C: in.C}, nil
	case Flatten:
		return Shape{C: in.Size(), Flat: true}, nil
	case Dense:
		if !in.Flat {
			return Shape{}, fmt.Errorf("Dense %q needs a flat input, got %v", l.Name, in)
		}
		return Shape{C: l.Filters, Flat: true}, nil
	case Conv2D, SeparableConv2D, DepthwiseConv2D, MaxPooling2D:
		if in.Flat {
			return Shape{}, fmt.Errorf("%s %q needs an image-shaped input, got %v", l.Class, l.Name, in)
		}
		h, err := convOut(in.H, l.Kernel[0], l.Strides[0], l.Padding)
		if err != nil {
			return Shape{}, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		w, err := convOut(in.W, l.Kernel[1], l.Strides[1], l.Padding)
		if err != nil {
			return Shape{}, fmt.Errorf("layer %q: %w", l.Name, err)
		}
		c := l.Filters
		switch l.Class {
		case DepthwiseConv2D:
			c = in.C * l.depthMultiplier()
		case MaxPooling2D:
			c = in.C
		}
		return Shape{H: h, W: w, C: c}, nil
	}
	return Shape{}, fmt.Errorf("layer %q: unsupported class %q", l.Name, l.Class)
}

// Sources returns, for every layer, the indices of its inputs in the list Shapes returns: 0 for
// the network's input, j+1 for the output of layer j. It checks that every inbound name is an
// earlier layer and that each layer has as many inputs as its class takes.
func (n *Network) Sources() ([][]int, error) {
	index := make(map[string]int, len(n.Layers))
	src := make([][]int, len(n.Layers))
	for i := range n.Layers {
		l := &n.Layers[i]
		if len(l.Inbound) == 0 {
			src[i] = []int{i}
		} else {
			for _, name := range l.Inbound {
				j, ok := index[name]
				if !ok {
					return nil, fmt.Errorf("network %q: layer %q reads %q, which is not an earlier layer", n.Name, l.Name, name)
				}
				src[i] = append(src[i], j+1)
			}
		}
		if l.Class == Add && len(src[i]) < 2 {
			return nil, fmt.Errorf("network %q: Add layer %q has %d inputs, needs at least 2", n.Name, l.Name, len(src[i]))
		}
		if l.Class != Add && len(src[i]) != 1 {
			return nil, fmt.Errorf("network %q: %s layer %q has %d inputs, takes 1", n.Name, l.Class, l.Name, len(src[i]))
		}
		if _, dup := index[l.Name]; dup {
			return nil, fmt.Errorf("network %q: two layers named %q", n.Name, l.Name)
		}
		index[l.Name] = i
	}
	return src, nil
}

// IsChain reports whether every layer reads just the layer before it (the network's input for
// the first), as in the compact and shared compact models.
func (n *Network) IsChain() bool {
	for i := range n.Layers {
		l := &n.Layers[i]
		switch {
		case l.Class == Add:
			return false
		case len(l.Inbound) == 0:
		case len(l.Inbound) == 1 && i > 0 && l.Inbound[0] == n.Layers[i-1].Name:
		default:
			return false
		}
	}
	return true
}

// Shapes returns the input shape followed by every layer's output shape.
func (n *Network) Shapes() ([]Shape, error) {
	s := Shape{H: n.Input[0], W: n.Input[1], C: n.Input[2]}
	if s.H <= 0 || s.W <= 0 || s.C <= 0 {
		return nil, fmt.Errorf("network %q: input shape %v is not positive", n.Name, n.Input)
	}
	src, err := n.Sources()
	if err != nil {
		return nil, err
	}
	shapes := []Shape{s}
	for i := range n.Layers {
		l := &n.Layers[i]
		in := shapes[src[i][0]]
		for _, j := range src[i][1:] {
			if shapes[j] != in {
				return nil, fmt.Errorf("network %q: layer %q adds inputs of shapes %v and %v", n.Name, l.Name, in, shapes[j])
			}
		}
		s, err := l.OutShape(in)
		if err != nil {
			return nil, fmt.Errorf("network %q: %w", n.Name, err)
		}
		shapes = append(shapes, s)
	}
	return shapes, nil
}

// InputShapes returns the shape of every layer's (first) input.
func (n *Network) InputShapes() ([]Shape, error) {
	shapes, err := n.Shapes()
	if err != nil {
		return nil, err
	}
	src, err := n.Sources()
	if err != nil {
		return nil, err
	}
	in := make([]Shape, len(n.Layers))
	for i := range in {
		in[i] = shapes[src[i][0]]
	}
	return in, nil
}

// Validate checks that every layer's configuration is consistent with its input and that its
// weights have exactly the shapes the configuration implies, and that no weight is NaN or infinite.
func (n *Network) Validate() error {
	shapes, err := n.InputShapes()
	if err != nil {
		return err
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		want, err := l.WeightShapes(shapes[i])
		if err != nil {
			return fmt.Errorf("network %q: %w", n.Name, err)
		}
		if len(l.Weights) != len(want) {
			return fmt.Errorf("network %q: layer %q (%s) has %d weight arrays, want %d", n.Name, l.Name, l.Class, len(l.Weights), len(want))
		}
		for j, w := range l.Weights {
			if !slices.Equal(w.Shape, want[j]) {
				return fmt.Errorf("network %q: layer %q weight %d has shape %v, want %v", n.Name, l.Name, j, w.Shape, want[j])
			}
			if len(w.Data) != product(w.Shape) {
				return fmt.Errorf("network %q: layer %q weight %d holds %d values for shape %v", n.Name, l.Name, j, len(w.Data), w.Shape)
			}
			for k, v := range w.Data {
				if v != v || v > maxFloat32 || v < -maxFloat32 {
					return fmt.Errorf("network %q: layer %q weight %d value %d is %v", n.Name, l.Name, j, k, v)
				}
			}
		}
		if l.Class == BatchNormalization && !(l.Epsilon > 0) {
			return fmt.Errorf("network %q: layer %q has batchnorm epsilon %v", n.Name, l.Name, l.Epsilon)
		}
		if l.Class == Activation && l.Activation != ReLU && l.Activation != Linear {
			return fmt.Errorf("network %q: layer %q has unsupported activation %q", n.Name, l.Name, l.Activation)
		}
		if l.Class == MaxPooling2D && (l.Kernel[0] < 1 || l.Kernel[1] < 1) {
			return fmt.Errorf("network %q: layer %q has pool size %v", n.Name, l.Name, l.Kernel)
		}
		if l.Activation != "" && l.Activation != Linear && l.Class != Activation {
			return fmt.Errorf("network %q: layer %q has a fused activation %q; only linear is supported", n.Name, l.Name, l.Activation)
		}
	}
	return nil
}

const maxFloat32 = 3.4028234663852886e38

// Counts are parameter counts as Keras' model.summary() prints them.
type Counts struct {
	Total        int // every weight, including batchnorm moving statistics ("Total params")
	Trainable    int
	NonTrainable int // batchnorm moving mean and variance
}

// Params counts the network's parameters from its weights (reference/upstream.md §4.4).
func (n *Network) Params() Counts {
	var c Counts
	for i := range n.Layers {
		l := &n.Layers[i]
		for j, w := range l.Weights {
			size := product(w.Shape)
			c.Total += size
			if l.Class == BatchNormalization && j >= 2 {
				c.NonTrainable += size
			} else {
				c.Trainable += size
			}
		}
	}
	return c
}

// Weights returns pointers to every weight tensor in Keras get_weights() order.
func (n *Network) Weights() []*Tensor {
	var ws []*Tensor
	for i := range n.Layers {
		for j := range n.Layers[i].Weights {
			ws = append(ws, &n.Layers[i].Weights[j])
		}
	}
	return ws
}

// SetWeights replaces the weights, in Keras get_weights() order, after checking every shape.
// On error the network is unchanged.
func (n *Network) SetWeights(ws []Tensor) error {
	cur := n.Weights()
	if len(ws) != len(cur) {
		return fmt.Errorf("network %q has %d weight arrays, got %d", n.Name, len(cur), len(ws))
	}
	for i := range ws {
		if !slices.Equal(ws[i].Shape, cur[i].Shape) || len(ws[i].Data) != product(ws[i].Shape) {
			return fmt.Errorf("network %q: weight %d has shape %v (%d values), want %v", n.Name, i, ws[i].Shape, len(ws[i].Data), cur[i].Shape)
		}
	}
	for i := range ws {
		*cur[i] = ws[i].Clone()
	}
	return nil
}

// Clone returns a deep copy of the network.
func (n *Network) Clone() *Network {
	c := &Network{Name: n.Name, Input: n.Input, Layers: make([]Layer, len(n.Layers))}
	for i, l := range n.Layers {
		c.Layers[i] = l
		c.Layers[i].Inbound = slices.Clone(l.Inbound)
		c.Layers[i].Weights = make([]Tensor, len(l.Weights))
		for j, w := range l.Weights {
			c.Layers[i].Weights[j] = w.Clone()
		}
	}
	return c
}

// Layer returns the layer with the given name, or nil.
func (n *Network) Layer(name string) *Layer {
	for i := range n.Layers {
		if n.Layers[i].Name == name {
			return &n.Layers[i]
		}
	}
	return nil
}

// ErrNotCompact reports a network that is not a single-neuron compact model.
var ErrNotCompact = errors.New("not a compact model")
