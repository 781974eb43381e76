package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"compactv4/internal/model"
)

// InitKeras sets every weight of n as Keras initialises a freshly built layer, with random numbers
// from a PCG generator seeded by seed (Keras' own generator cannot be reproduced; the
// distributions are Keras'):
//
//   - kernels (Conv2D, the depthwise and pointwise kernels of SeparableConv2D, DepthwiseConv2D,
//     Dense): GlorotUniform, U(−l, l) with l = sqrt(6/(fan_in + fan_out)) and Keras' fans
//     (keras/src/initializers/random_initializers.py compute_fans): for a kernel of shape
//     (…, in, out), receptive field r = the product of the leading dimensions, fan_in = in·r,
//     fan_out = out·r; a depthwise kernel (kh, kw, C, 1) therefore has fan_in = kh·kw·C and
//     fan_out = kh·kw;
//   - biases: zeros;
//   - batchnorm: γ ones, β zeros, moving mean zeros, moving variance ones.
//
// Tensors are filled in model.Network.Weights() order, each element in row-major order.
func InitKeras(n *model.Network, seed uint64) error {
	if n == nil {
		return fmt.Errorf("init: nil network")
	}
	shapes, err := n.InputShapes()
	if err != nil {
		return fmt.Errorf("init %s: %w", n.Name, err)
	}
	rng := rand.New(rand.NewPCG(seed, 0x6b657261735f696e)) // "keras_in"
	for i := range n.Layers {
		l := &n.Layers[i]
		ws, err := l.WeightShapes(shapes[i])
		if err != nil {
			return fmt.Errorf("init %s: %w", n.Name, err)
		}
		l.Weights = make([]model.Tensor, len(ws))
		for j, s := range ws {
			t := model.NewTensor(s...)
			switch {
			case l.Class == model.BatchNormalization:
				if j == 0 || j == 3 {
					for k := range t.Data {
						t.Data[k] = 1
					}
				}
			case len(s) >= 2: // a kernel
				lim, err := GlorotLimit(s)
				if err != nil {
					return fmt.Errorf("init %s: %w", n.Name, err)
				}
				for k := range t.Data {
					t.Data[k] = float32((2*rng.Float64() - 1) * lim)
				}
			}
			l.Weights[j] = t
		}
	}
	return nil
}

// GlorotLimit is the half-width l = sqrt(6/(fan_in + fan_out)) of Keras' GlorotUniform
// initialiser for a tensor of the given shape, with Keras' fans (compute_fans): shape () has fans
// 1 and 1, shape (n) n and n, shape (in, out) in and out, and a kernel (…, in, out) in·r and
// out·r with r the product of its leading, receptive-field dimensions.
func GlorotLimit(shape []int) (float64, error) {
	for _, d := range shape {
		if d < 1 {
			return 0, fmt.Errorf("glorot: shape %v has a dimension < 1", shape)
		}
	}
	var fanIn, fanOut int
	switch len(shape) {
	case 0:
		fanIn, fanOut = 1, 1
	case 1:
		fanIn, fanOut = shape[0], shape[0]
	default:
		r := 1
		for _, d := range shape[:len(shape)-2] {
			r *= d
		}
		fanIn, fanOut = shape[len(shape)-2]*r, shape[len(shape)-1]*r
	}
	return math.Sqrt(6 / float64(fanIn+fanOut)), nil
}
