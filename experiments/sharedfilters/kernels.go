package sharedfilters

import (
	"fmt"
	"math"
	"math/rand/v2"

	"compactv4/internal/gauss"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// kernelSize is the side of every convolution kernel of the compact-model trunk (reference/upstream.md §4.1).
const kernelSize = 5

// spatial is the number of spatial positions of a kernel.
const spatial = kernelSize * kernelSize

// errDegenerate reports a kernel that is constant (or zero), whose direction after removing its
// mean is undefined.
var errDegenerate = fmt.Errorf("kernel is constant after removing its mean: %w", metrics.ErrZeroVector)

// conv0Kernels returns the filters of a Conv2D kernel of shape (5,5,C,F) (Keras HWIO layout) as
// F vectors of 25·C values in HWC order (position-major, channel-minor), the order
// plots.Signed shows.
func conv0Kernels(t model.Tensor) ([][]float64, error) {
	if len(t.Shape) != 4 || t.Shape[0] != kernelSize || t.Shape[1] != kernelSize || t.Shape[2] < 1 || t.Shape[3] < 1 {
		return nil, fmt.Errorf("conv kernel shape %v, want (5,5,C,F)", t.Shape)
	}
	c, f := t.Shape[2], t.Shape[3]
	if len(t.Data) != spatial*c*f {
		return nil, fmt.Errorf("conv kernel of shape %v holds %d values", t.Shape, len(t.Data))
	}
	out := make([][]float64, f)
	for o := range out {
		v := make([]float64, spatial*c)
		for pc := range v {
			v[pc] = float64(t.Data[pc*f+o])
		}
		out[o] = v
	}
	return out, nil
}

// depthwiseKernels returns the per-channel kernels of a depthwise kernel of shape (5,5,C,1) as
// C vectors of 25 values (row-major 5×5).
func depthwiseKernels(t model.Tensor) ([][]float64, error) {
	if len(t.Shape) != 4 || t.Shape[0] != kernelSize || t.Shape[1] != kernelSize || t.Shape[2] < 1 || t.Shape[3] != 1 {
		return nil, fmt.Errorf("depthwise kernel shape %v, want (5,5,C,1)", t.Shape)
	}
	c := t.Shape[2]
	if len(t.Data) != spatial*c {
		return nil, fmt.Errorf("depthwise kernel of shape %v holds %d values", t.Shape, len(t.Data))
	}
	out := make([][]float64, c)
	for ch := range out {
		v := make([]float64, spatial)
		for p := range v {
			v[p] = float64(t.Data[p*c+ch])
		}
		out[ch] = v
	}
	return out, nil
}

// trunkKernels returns the kernels of layer l (0-4) of a compact or shared model: the layer-0
// Conv2D filters (75 values each), or the depthwise kernels of layer l's SeparableConv2D
// (25 values per input channel).
func trunkKernels(net *model.Network, l int) ([][]float64, error) {
	if l < 0 || l >= model.NumLayers {
		return nil, fmt.Errorf("layer %d is not a trunk layer", l)
	}
	name := fmt.Sprintf("layer%d_conv", l)
	ly := net.Layer(name)
	if ly == nil {
		return nil, fmt.Errorf("%s has no layer %s", net.Name, name)
	}
	if len(ly.Weights) == 0 {
		return nil, fmt.Errorf("%s: layer %s has no weights", net.Name, name)
	}
	if l == 0 {
		if ly.Class != model.Conv2D {
			return nil, fmt.Errorf("%s: %s is a %s, want Conv2D", net.Name, name, ly.Class)
		}
		return conv0Kernels(ly.Weights[0])
	}
	if ly.Class != model.SeparableConv2D {
		return nil, fmt.Errorf("%s: %s is a %s, want SeparableConv2D", net.Name, name, ly.Class)
	}
	return depthwiseKernels(ly.Weights[0])
}

// unitCentred returns v minus its mean, scaled to unit Euclidean norm: the kernel's shape,
// independent of its gain and of its offset (the absolute cosine similarity of two kernels after
// removing the mean of each is the absolute dot product of two such vectors).
func unitCentred(v []float64) ([]float64, error) {
	if len(v) == 0 {
		return nil, errDegenerate
	}
	var mean, scale float64
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("kernel holds %v", x)
		}
		mean += x
		scale = math.Max(scale, math.Abs(x))
	}
	mean /= float64(len(v))
	out := make([]float64, len(v))
	var ss float64
	for i, x := range v {
		out[i] = x - mean
		ss += out[i] * out[i]
	}
	norm := math.Sqrt(ss)
	// A kernel whose centred norm is at rounding level of its values has no direction.
	if scale == 0 || norm <= 1e-9*scale*math.Sqrt(float64(len(v))) {
		return nil, errDegenerate
	}
	for i := range out {
		out[i] /= norm
	}
	return out, nil
}

// glorotKernels draws n kernels of dim values uniformly in [−limit, limit), the initial values
// of a freshly initialised layer (the upstream compact models were initialised with Keras'
// GlorotUniform, config.json), from a seeded source.
func glorotKernels(src *rand.Rand, n, dim int, limit float64) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		v := make([]float64, dim)
		for j := range v {
			v[j] = (2*src.Float64() - 1) * limit
		}
		out[i] = v
	}
	return out
}

// shuffleSpatial returns a copy of kernel v (25·c values, HWC order) with its 25 spatial
// positions permuted at random; the c channel values of each position move together, so the
// kernel keeps its values and its colour composition but loses its spatial arrangement.
func shuffleSpatial(src *rand.Rand, v []float64, c int) ([]float64, error) {
	if c < 1 || len(v) != spatial*c {
		return nil, fmt.Errorf("shuffle: kernel of %d values with %d channels", len(v), c)
	}
	perm := src.Perm(spatial)
	out := make([]float64, len(v))
	for p, q := range perm {
		copy(out[p*c:(p+1)*c], v[q*c:(q+1)*c])
	}
	return out, nil
}

// smoothTaps are the weights of the upstream kernel smoothing (reference/upstream.md §8): scipy's Gaussian with
// sigma 0.5, truncate 4 (five taps).
var smoothTaps = func() []float64 {
	w, err := gauss.Kernel(nn.SmoothSigma, nn.SmoothTruncate)
	if err != nil {
		panic(err) // constant arguments
	}
	return w
}()

// smooth5x5 applies the upstream kernel smoothing (scipy.ndimage.gaussian_filter, sigma 0.5 on
// both spatial axes, mode 'reflect') to a 5×5 kernel in row-major order.
func smooth5x5(v []float64) ([]float64, error) {
	if len(v) != spatial {
		return nil, fmt.Errorf("smooth: %d values, want %d", len(v), spatial)
	}
	out := make([]float64, spatial)
	if err := gauss.FilterHW(out, v, kernelSize, kernelSize, 1, smoothTaps); err != nil {
		return nil, fmt.Errorf("smooth: %w", err)
	}
	return out, nil
}
