package nn

import (
	"fmt"
	"math"

	"compactv4/internal/model"
)

// Weight smoothing of the upstream training loop (spec §8): after each pass over an image zip,
// smooth_weights replaces the spatial kernels of layers 1-4 and the spatial readout with
// scipy.ndimage.gaussian_filter(w, sigma=[0.5, 0.5, 0, ...]) (mode 'reflect', truncate 4).

// Upstream smooth_weights parameters.
const (
	SmoothSigma    = 0.5
	SmoothTruncate = 4.0
)

// GaussianKernel1D returns the weights of scipy.ndimage's 1-D Gaussian filter
// (_gaussian_kernel1d, order 0) for standard deviation sigma and truncate: radius
// r = int(truncate·σ + 0.5) and w[k] = φ(k−r)/Σφ with φ(x) = exp(−0.5/σ²·x²), the sum taken as
// numpy's pairwise sum takes it, so that the weights are scipy's bit for bit. σ = 0.5 gives 5
// taps, σ = 1 gives 9.
func GaussianKernel1D(sigma, truncate float64) ([]float64, error) {
	if !(sigma > 0) || !(truncate >= 0) || math.IsInf(sigma, 0) || math.IsInf(truncate, 0) {
		return nil, fmt.Errorf("gaussian kernel: sigma %v, truncate %v (want sigma > 0, truncate ≥ 0, finite)", sigma, truncate)
	}
	rf := truncate*sigma + 0.5
	if rf > 1<<20 {
		return nil, fmt.Errorf("gaussian kernel: radius %v too large", rf)
	}
	r := int(rf)
	s2 := sigma * sigma
	phi := make([]float64, 2*r+1)
	for i := range phi {
		x := float64(i - r)
		phi[i] = math.Exp(-0.5 / s2 * (x * x))
	}
	sum := pairwiseSum(phi)
	for i := range phi {
		phi[i] /= sum
	}
	return phi, nil
}

// pairwiseSum is numpy's pairwise summation of float64 (umath loops_utils pairwise_sum, block
// 128, eight accumulators).
func pairwiseSum(a []float64) float64 {
	n := len(a)
	switch {
	case n < 8:
		s := 0.0
		for _, v := range a {
			s += v
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], a[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for k := range r {
				r[k] += a[i+k]
			}
		}
		s := ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += a[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(a[:n2]) + pairwiseSum(a[n2:])
	}
}

// reflectIndex maps i into [0, n) by scipy's 'reflect' extension (d c b a | a b c d | d c b a).
func reflectIndex(i, n int) int {
	m := i % (2 * n)
	if m < 0 {
		m += 2 * n
	}
	if m >= n {
		m = 2*n - 1 - m
	}
	return m
}

// GaussianFilter2D filters src, a float32 array of shape (h, w, rest) in row-major order, along
// its first two axes into dst (which may be src) as scipy.ndimage.gaussian_filter(a,
// sigma=[σ, σ, 0, …], mode='reflect', truncate=truncate) filters a float32 array: axis 0 then
// axis 1, each pass correlate1d in float64 with scipy's symmetric-kernel summation order
// (w₀·x₀ + Σ_{k=r..1} w_k·(x₋ₖ + xₖ)) and rounded to float32 in between. The results equal
// scipy's bit for bit (TestGaussianFilterScipy).
func GaussianFilter2D(dst, src []float32, h, w, rest int, sigma, truncate float64) error {
	if h < 1 || w < 1 || rest < 1 || len(src) != h*w*rest || len(dst) != len(src) {
		return fmt.Errorf("gaussian filter: shape (%d,%d,%d) for %d values into %d", h, w, rest, len(src), len(dst))
	}
	k, err := GaussianKernel1D(sigma, truncate)
	if err != nil {
		return fmt.Errorf("gaussian filter: %w", err)
	}
	tmp := make([]float32, len(src))
	filterAxis(tmp, src, h, w*rest, k) // axis 0: lines of h values, w·rest apart
	for y := 0; y < h; y++ {           // axis 1: per row, lines of w values, rest apart
		row := y * w * rest
		filterAxis(dst[row:row+w*rest], tmp[row:row+w*rest], w, rest, k)
	}
	return nil
}

// filterAxis correlates every line (n values, stride apart; stride lines) of src with the
// symmetric kernel k, reflect boundary, into dst.
func filterAxis(dst, src []float32, n, stride int, k []float64) {
	r := len(k) / 2
	line := make([]float64, n+2*r)
	for l := 0; l < stride; l++ {
		for i := range line {
			line[i] = float64(src[reflectIndex(i-r, n)*stride+l])
		}
		for i := 0; i < n; i++ {
			c := i + r
			v := line[c] * k[r]
			for j := -r; j < 0; j++ {
				v += (line[c+j] + line[c-j]) * k[r+j]
			}
			dst[i*stride+l] = float32(v)
		}
	}
}

// SmoothWeights applies upstream smooth_weights (spec §8) to n in place: a Gaussian filter with
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
		if err := GaussianFilter2D(t.Data, t.Data, h, w, rest, SmoothSigma, SmoothTruncate); err != nil {
			return fmt.Errorf("smooth weights: layer %q: %w", l.Name, err)
		}
	}
	return nil
}
