package model

import "fmt"

// Unit returns the network n truncated after its layer named layer, with one output: the
// activation of channel c at position (y, x) of that layer's output (a Flatten and a Dense layer
// with a one-hot weight and no bias follow it). Maximising its output by gradient ascent gives
// the preferred stimulus of that unit. n must be a chain; it is unchanged.
func Unit(n *Network, layer string, y, x, c int) (*Network, error) {
	if !n.IsChain() {
		return nil, fmt.Errorf("unit of network %q: not a chain", n.Name)
	}
	shapes, err := n.Shapes()
	if err != nil {
		return nil, fmt.Errorf("unit of network %q: %w", n.Name, err)
	}
	at := -1
	for i, l := range n.Layers {
		if l.Name == layer {
			at = i
		}
	}
	if at < 0 {
		return nil, fmt.Errorf("unit of network %q: no layer %q", n.Name, layer)
	}
	sh := shapes[at+1] // shapes[0] is the input
	if sh.Flat {
		return nil, fmt.Errorf("unit of network %q: layer %q has a flat output %v", n.Name, layer, sh)
	}
	if y < 0 || y >= sh.H || x < 0 || x >= sh.W || c < 0 || c >= sh.C {
		return nil, fmt.Errorf("unit of network %q: position (%d, %d), channel %d outside layer %q's output %v", n.Name, y, x, c, layer, sh)
	}
	out := &Network{Name: fmt.Sprintf("%s_%s_y%d_x%d_c%d", n.Name, layer, y, x, c), Input: n.Input}
	out.Layers = n.Clone().Layers[:at+1]
	w := NewTensor(sh.H*sh.W*sh.C, 1)
	w.Data[(y*sh.W+x)*sh.C+c] = 1
	out.Layers = append(out.Layers,
		Layer{Name: "unit_flatten", Class: Flatten},
		Layer{Name: "unit", Class: Dense, Filters: 1, Activation: Linear, Weights: []Tensor{w}},
	)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("unit of network %q: %w", n.Name, err)
	}
	return out, nil
}
