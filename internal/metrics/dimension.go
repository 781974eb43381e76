package metrics

import (
	"fmt"
	"math"
)

// ParticipationRatio returns (Σλ)² / Σλ² of the eigenvalues λ of a symmetric covariance matrix
// (f×f, row-major), computed without an eigendecomposition as tr(C)² / ‖C‖²_F: the effective
// number of dimensions the variance spreads over (1 for one direction, f for isotropic
// variance). A zero matrix (every channel constant) gives 0.
func ParticipationRatio(c []float64, f int) (float64, error) {
	if f < 1 || len(c) != f*f {
		return 0, fmt.Errorf("participation ratio: %d values for a %d×%d matrix", len(c), f, f)
	}
	var tr, fro float64
	for i := 0; i < f; i++ {
		tr += c[i*f+i]
		for j := 0; j < f; j++ {
			x := c[i*f+j]
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return 0, fmt.Errorf("participation ratio: matrix holds %v", x)
			}
			if math.Abs(x-c[j*f+i]) > 1e-9*(math.Abs(x)+math.Abs(c[j*f+i])) {
				return 0, fmt.Errorf("participation ratio: matrix is not symmetric at (%d,%d)", i, j)
			}
			fro += x * x
		}
	}
	if fro == 0 {
		return 0, nil
	}
	return tr * tr / fro, nil
}

// SharpestNarrowing returns the step l (1…len(x)−1, from layer l−1 to layer l) with the smallest
// ratio x[l] / x[l−1] — where a per-layer width (filters, or effective dimensionality) shrinks
// most — and that ratio. Ties go to the earlier step. Widths must be positive and finite, and
// there must be at least two.
func SharpestNarrowing(x []float64) (int, float64, error) {
	if len(x) < 2 {
		return 0, 0, fmt.Errorf("narrowing: %d layers, want at least 2", len(x))
	}
	for l, v := range x {
		if !(v > 0) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("narrowing: width %v of layer %d", v, l)
		}
	}
	best, ratio := 0, math.Inf(1)
	for l := 1; l < len(x); l++ {
		if r := x[l] / x[l-1]; r < ratio {
			best, ratio = l, r
		}
	}
	return best, ratio, nil
}
