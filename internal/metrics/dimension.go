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
