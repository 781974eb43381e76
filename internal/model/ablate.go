package model

import "fmt"

// Ablate returns a copy of a network whose listed filters of trunk layer l (the output channels
// of "layer<l>_conv") are silenced: their batchnorm ("layer<l>_bn") γ and β are set to zero, so
// that in inference mode the batchnorm, and the ReLU after it, output exactly zero for them
// whatever the input, and every later layer sees zeros in their place. n is unchanged. Ablating
// no filter returns an exact copy.
func Ablate(n *Network, l int, filters ...int) (*Network, error) {
	conv, bn := fmt.Sprintf("layer%d_conv", l), fmt.Sprintf("layer%d_bn", l)
	cl, bl := n.Layer(conv), n.Layer(bn)
	if cl == nil || bl == nil || bl.Class != BatchNormalization || len(bl.Weights) != 4 {
		return nil, fmt.Errorf("ablate layer %d of network %q: it has no layers %q and %q (a compact trunk's convolution and batchnorm)", l, n.Name, conv, bn)
	}
	out := n.Clone()
	b := out.Layer(bn)
	for _, f := range filters {
		if f < 0 || f >= cl.Filters || f >= len(b.Weights[0].Data) {
			return nil, fmt.Errorf("ablate layer %d of network %q: filter %d out of range [0, %d)", l, n.Name, f, cl.Filters)
		}
		b.Weights[0].Data[f] = 0 // γ
		b.Weights[1].Data[f] = 0 // β
	}
	return out, nil
}
