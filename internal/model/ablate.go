package model

import (
	"fmt"
	"math"
)

// Ablate returns a copy of a network whose listed filters of trunk layer l (the output channels
// of "layer<l>_conv") are silenced: their batchnorm ("layer<l>_bn") γ and β are set to zero, so
// that in inference mode the batchnorm, and the ReLU after it, output exactly zero for them
// whatever the input, and every later layer sees zeros in their place. n is unchanged. Ablating
// no filter returns an exact copy.
func Ablate(n *Network, l int, filters ...int) (*Network, error) {
	return Clamp(n, l, filters, make([]float32, len(filters)))
}

// Clamp returns a copy of a network whose listed filters of trunk layer l output the constant
// values[i] for filters[i] at every position whatever the input: their batchnorm γ is set to zero
// and β to the value, which the ReLU after the batchnorm passes unchanged (a value must therefore
// be finite and at least zero). Clamp to zero is Ablate; clamping a filter to its mean output
// over some images is mean-ablation. n is unchanged.
func Clamp(n *Network, l int, filters []int, values []float32) (*Network, error) {
	conv, bn := fmt.Sprintf("layer%d_conv", l), fmt.Sprintf("layer%d_bn", l)
	cl, bl := n.Layer(conv), n.Layer(bn)
	if cl == nil || bl == nil || bl.Class != BatchNormalization || len(bl.Weights) != 4 {
		return nil, fmt.Errorf("ablate layer %d of network %q: it has no layers %q and %q (a compact trunk's convolution and batchnorm)", l, n.Name, conv, bn)
	}
	if len(values) != len(filters) {
		return nil, fmt.Errorf("ablate layer %d of network %q: %d values for %d filters", l, n.Name, len(values), len(filters))
	}
	out := n.Clone()
	b := out.Layer(bn)
	for i, f := range filters {
		if f < 0 || f >= cl.Filters || f >= len(b.Weights[0].Data) {
			return nil, fmt.Errorf("ablate layer %d of network %q: filter %d out of range [0, %d)", l, n.Name, f, cl.Filters)
		}
		if v := float64(values[i]); !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("ablate layer %d of network %q: filter %d clamped to %v, want a finite value ≥ 0 (the ReLU after the batchnorm)", l, n.Name, f, v)
		}
		b.Weights[0].Data[f] = 0         // γ
		b.Weights[1].Data[f] = values[i] // β
	}
	return out, nil
}
