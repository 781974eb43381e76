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
	shapes, err := n.Shapes()
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
				fanIn, fanOut := kerasFans(s)
				lim := math.Sqrt(6 / float64(fanIn+fanOut))
				for k := range t.Data {
					t.Data[k] = float32((2*rng.Float64() - 1) * lim)
				}
			}
			l.Weights[j] = t
		}
	}
	return nil
}

// kerasFans is Keras' compute_fans for a shape of rank ≥ 2.
func kerasFans(s []int) (fanIn, fanOut int) {
	r := 1
	for _, d := range s[:len(s)-2] {
		r *= d
	}
	return s[len(s)-2] * r, s[len(s)-1] * r
}
