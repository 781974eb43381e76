package nn

import (
	"fmt"

	"compactv4/internal/gauss"
	"compactv4/internal/model"
)

// Weight smoothing of the upstream training loop (reference/upstream.md §8): after each pass over an image zip,
// smooth_weights replaces the spatial kernels of layers 1-4 and the spatial readout with
// scipy.ndimage.gaussian_filter(w, sigma=[0.5, 0.5, 0, ...]) (mode 'reflect', truncate 4).

// Upstream smooth_weights parameters.
const (
	SmoothSigma    = 0.5
	SmoothTruncate = 4.0
)

// SmoothWeights applies upstream smooth_weights (reference/upstream.md §8) to n in place: a Gaussian filter with
// σ = 0.5, mode 'reflect', truncate 4 over the two spatial axes of
//
//   - the depthwise kernel of every SeparableConv2D (layers 1-4; layer 0, a Conv2D, is not
//     smoothed),
//   - the kernel of every DepthwiseConv2D (the shared model's 28×28 spatial pool, weight index 36),
//   - the kernel of a Dense layer that reads a flattened map of H×W > 1 pixels, viewed as
//     (H, W, C·units) (the compact model's Beta readout reshaped to (28,28,F4), index 34).
//
// For the compact model this is the upstream index list [6,13,20,27,34]; for the shared model
// [6,13,20,27,36].
func SmoothWeights(n *model.Network) error {
	if n == nil {
		return fmt.Errorf("smooth weights: nil network")
	}
	if !n.IsChain() {
		return fmt.Errorf("smooth weights %s: only chains of layers are smoothed", n.Name)
	}
	shapes, err := n.Shapes()
	if err != nil {
		return fmt.Errorf("smooth weights: %w", err)
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		var t *model.Tensor
		var h, w int
		switch l.Class {
		case model.SeparableConv2D, model.DepthwiseConv2D:
			if len(l.Weights) == 0 {
				return fmt.Errorf("smooth weights: layer %q has no weights", l.Name)
			}
			t, h, w = &l.Weights[0], l.Kernel[0], l.Kernel[1]
		case model.Dense:
			if i == 0 || n.Layers[i-1].Class != model.Flatten {
				continue
			}
			src := shapes[i-1] // the input of the Flatten
			if src.Flat || src.H*src.W <= 1 || len(l.Weights) == 0 {
				continue
			}
			t, h, w = &l.Weights[0], src.H, src.W
		default:
			continue
		}
		rest := len(t.Data) / max(h*w, 1)
		if h*w*rest != len(t.Data) {
			return fmt.Errorf("smooth weights: layer %q kernel has %d values, not a multiple of %d×%d", l.Name, len(t.Data), h, w)
		}
		if err := gauss.Filter2D(t.Data, t.Data, h, w, rest, SmoothSigma, SmoothTruncate); err != nil {
			return fmt.Errorf("smooth weights: layer %q: %w", l.Name, err)
		}
	}
	return nil
}
