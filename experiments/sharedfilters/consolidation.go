package sharedfilters

import (
	"fmt"
	"math"

	"compactv4/internal/nn"
)

// covAccum accumulates the channel covariance of activations given as rows of F channels (NHWC
// activations: every image and position is a row).
type covAccum struct {
	F   int
	N   int       // rows seen
	Sum []float64 // per channel
	SXX []float64 // F×F, Σ x xᵀ
	tmp []float32
}

func newCovAccum(f int) *covAccum {
	return &covAccum{F: f, Sum: make([]float64, f), SXX: make([]float64, f*f), tmp: make([]float32, f*f)}
}

// add accumulates rows of x (len(x) must be a multiple of F). Σ x xᵀ of the rows is computed by
// nn.Sgemm in float32 and added in float64, so a long stream of batches does not lose
// precision beyond that of one batch.
func (c *covAccum) add(x []float32) error {
	if c.F < 1 || len(x)%c.F != 0 {
		return fmt.Errorf("covariance: %d values are not rows of %d channels", len(x), c.F)
	}
	rows := len(x) / c.F
	if rows == 0 {
		return nil
	}
	for r := 0; r < rows; r++ {
		for j, v := range x[r*c.F : (r+1)*c.F] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("covariance: activation %v", v)
			}
			c.Sum[j] += float64(v)
		}
	}
	nn.Sgemm(true, false, c.F, c.F, rows, 1, x, c.F, x, c.F, 0, c.tmp, c.F)
	for i, v := range c.tmp {
		c.SXX[i] += float64(v)
	}
	c.N += rows
	return nil
}

// cov returns the (population) covariance matrix, F×F row-major.
func (c *covAccum) cov() ([]float64, error) {
	if c.N < 2 {
		return nil, fmt.Errorf("covariance of %d rows", c.N)
	}
	n := float64(c.N)
	out := make([]float64, c.F*c.F)
	for i := 0; i < c.F; i++ {
		for j := 0; j < c.F; j++ {
			out[i*c.F+j] = c.SXX[i*c.F+j]/n - (c.Sum[i]/n)*(c.Sum[j]/n)
		}
	}
	return out, nil
}

// Transitions are the layer-to-layer steps of the trunk, 0→1 … 3→4, by their upper layer.
const Transitions = 4

// SharpestNarrowing returns the transition l (1-4, from layer l−1 to layer l) with the smallest
// ratio x[l] / x[l−1] — where a per-layer width (filters, or effective dimensionality) shrinks
// most — and that ratio. Ties go to the earlier transition. Widths must be positive.
func SharpestNarrowing(x []float64) (int, float64, error) {
	if len(x) != Transitions+1 {
		return 0, 0, fmt.Errorf("narrowing: %d layers, want %d", len(x), Transitions+1)
	}
	for l, v := range x {
		if !(v > 0) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("narrowing: width %v of layer %d", v, l)
		}
	}
	best, ratio := 0, math.Inf(1)
	for l := 1; l <= Transitions; l++ {
		if r := x[l] / x[l-1]; r < ratio {
			best, ratio = l, r
		}
	}
	return best, ratio, nil
}
