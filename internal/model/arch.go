package model

import (
	"fmt"
	"reflect"
)

// ImageSize is the side of the square RGB images the compact models take (reference/upstream.md §3.1).
const ImageSize = 112

// MeanPixel is the per-channel (R, G, B) mean subtracted from raw pixels before they enter a
// compact model ("mean pixels for 12 million image dataset", reference/upstream.md §3.1).
var MeanPixel = [3]float64{116.222, 109.270, 100.381}

// Keras defaults the published models were built with (config.json of every model).
const (
	BNEpsilon  = 1e-3
	BNMomentum = 0.99
)

// NumLayers is the number of convolutional layers of the compact-model trunk.
const NumLayers = 5

// TrunkStrides are the strides of layers 0-4 (reference/upstream.md §4.1).
var TrunkStrides = [NumLayers]int{1, 2, 2, 1, 1}

// NewCompact returns the single-neuron compact model of reference/upstream.md §4.1 with the given filter counts
// per layer and zero weights (batchnorm gammas and moving variances set to one, as Keras
// initialises them). Layer names are those of the published config.json files.
func NewCompact(filters [NumLayers]int) (*Network, error) {
	for i, f := range filters {
		if f < 1 {
			return nil, fmt.Errorf("compact model: layer %d has %d filters", i, f)
		}
	}
	n := &Network{Name: "compact_model", Input: [3]int{ImageSize, ImageSize, 3}}
	n.Layers = trunk(filters, true)
	n.Layers = append(n.Layers,
		Layer{Name: "embeddings", Class: Flatten},
		Layer{Name: "Beta", Class: Dense, Filters: 1, Activation: Linear, UseBias: true},
	)
	if err := n.initWeights(); err != nil {
		return nil, err
	}
	return n, nil
}

// SharedWidth is the number of filters of layers 3 and 4 of the shared compact model.
const SharedWidth = 100

// NewShared returns the shared compact model of reference/upstream.md §4.6: a trunk with k filters in layers 0-2
// and SharedWidth in layers 3-4, a 1×1 mixing stage to outputs channels and a 28×28 depthwise spatial
// pool, with zero weights. relu=false gives the linear variant (no activation layers), as in
// the linear_from_ensemble_model folder.
func NewShared(k, outputs int, relu bool) (*Network, error) {
	return NewSharedWidth(k, SharedWidth, outputs, relu)
}

// NewSharedWidth is NewShared with width filters in layers 3 and 4 instead of SharedWidth: the
// same architecture narrowed, for tests that train it.
func NewSharedWidth(k, width, outputs int, relu bool) (*Network, error) {
	if k < 1 || width < 1 || outputs < 1 {
		return nil, fmt.Errorf("shared compact model: k=%d width=%d outputs=%d", k, width, outputs)
	}
	n := &Network{Name: "shared_compact_model", Input: [3]int{ImageSize, ImageSize, 3}}
	n.Layers = trunk([NumLayers]int{k, k, k, width, width}, relu)
	n.Layers = append(n.Layers,
		Layer{Name: "mixing_stage", Class: Conv2D, Filters: outputs, Kernel: [2]int{1, 1}, Strides: [2]int{1, 1}, Padding: PaddingSame, Activation: Linear, UseBias: true},
		Layer{Name: "spatial_pool_stage", Class: DepthwiseConv2D, Kernel: [2]int{28, 28}, Strides: [2]int{1, 1}, Padding: PaddingValid, DepthMultiplier: 1, Activation: Linear, UseBias: true},
		Layer{Name: "output_responses", Class: Flatten},
	)
	if err := n.initWeights(); err != nil {
		return nil, err
	}
	return n, nil
}

func trunk(filters [NumLayers]int, relu bool) []Layer {
	var ls []Layer
	for i, f := range filters {
		conv := Layer{
			Name: fmt.Sprintf("layer%d_conv", i), Filters: f, Kernel: [2]int{5, 5},
			Strides: [2]int{TrunkStrides[i], TrunkStrides[i]}, Padding: PaddingSame,
			Activation: Linear, UseBias: true,
		}
		if i == 0 {
			conv.Class = Conv2D
		} else {
			conv.Class = SeparableConv2D
			conv.DepthMultiplier = 1
		}
		ls = append(ls, conv, Layer{
			Name: fmt.Sprintf("layer%d_bn", i), Class: BatchNormalization,
			Epsilon: BNEpsilon, Momentum: BNMomentum,
		})
		if relu {
			ls = append(ls, Layer{Name: fmt.Sprintf("layer%d_act", i), Class: Activation, Activation: ReLU})
		}
	}
	return ls
}

// initWeights allocates every weight with the shape its configuration implies: zeros, except
// batchnorm gamma and moving variance, which are ones.
func (n *Network) initWeights() error {
	shapes, err := n.InputShapes()
	if err != nil {
		return err
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		ws, err := l.WeightShapes(shapes[i])
		if err != nil {
			return err
		}
		l.Weights = make([]Tensor, len(ws))
		for j, s := range ws {
			l.Weights[j] = NewTensor(s...)
			if l.Class == BatchNormalization && (j == 0 || j == 3) {
				for k := range l.Weights[j].Data {
					l.Weights[j].Data[k] = 1
				}
			}
		}
	}
	return nil
}

// CompactFilters returns the filter counts of layers 0-4 when n has the architecture of a
// single-neuron compact model (reference/upstream.md §4.1), and an error wrapping ErrNotCompact otherwise.
func CompactFilters(n *Network) ([NumLayers]int, error) {
	var f [NumLayers]int
	want, err := NewCompact([NumLayers]int{1, 1, 1, 1, 1})
	if err != nil {
		return f, err
	}
	if len(n.Layers) != len(want.Layers) || n.Input != want.Input || !n.IsChain() {
		return f, fmt.Errorf("network %q has %d layers and input %v: %w", n.Name, len(n.Layers), n.Input, ErrNotCompact)
	}
	conv := 0
	for i := range n.Layers {
		got, ref := &n.Layers[i], &want.Layers[i]
		if got.Class != ref.Class || got.Kernel != ref.Kernel || got.Strides != ref.Strides ||
			got.Padding != ref.Padding || got.UseBias != ref.UseBias ||
			(got.Class == Activation && got.Activation != ref.Activation) {
			return f, fmt.Errorf("network %q layer %d (%s %q) differs from the compact architecture: %w", n.Name, i, got.Class, got.Name, ErrNotCompact)
		}
		if got.Class == Conv2D || got.Class == SeparableConv2D {
			f[conv] = got.Filters
			conv++
		}
	}
	if n.Layers[len(n.Layers)-1].Filters != 1 {
		return f, fmt.Errorf("network %q has %d outputs: %w", n.Name, n.Layers[len(n.Layers)-1].Filters, ErrNotCompact)
	}
	return f, nil
}

// CompactParams is the closed-form "Total params" of a compact model with the given filter
// counts (reference/upstream.md §4.4), including batchnorm moving statistics.
func CompactParams(f [NumLayers]int) int {
	total := 75*f[0] + f[0] + 4*f[0]
	for l := 1; l < NumLayers; l++ {
		total += 25*f[l-1] + f[l-1]*f[l] + f[l] + 4*f[l]
	}
	return total + 784*f[4] + 1
}

// SharedFilters returns the filter counts of layers 0-4 when net has the configuration of
// NewShared (either variant).
func SharedFilters(net *Network) ([NumLayers]int, bool) {
	var f [NumLayers]int
	first, mix := net.Layer("layer0_conv"), net.Layer("mixing_stage")
	if first == nil || mix == nil {
		return f, false
	}
	relu := net.Layer("layer0_act") != nil
	ref, err := NewShared(first.Filters, mix.Filters, relu)
	if err != nil || len(ref.Layers) != len(net.Layers) || ref.Input != net.Input {
		return f, false
	}
	conv := 0
	for i := range ref.Layers {
		a, b := ref.Layers[i], net.Layers[i]
		a.Weights, b.Weights = nil, nil
		if !reflect.DeepEqual(a, b) {
			return f, false
		}
		if (a.Class == Conv2D || a.Class == SeparableConv2D) && conv < NumLayers {
			f[conv] = a.Filters
			conv++
		}
	}
	return f, true
}
