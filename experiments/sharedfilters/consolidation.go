package sharedfilters

import (
	"fmt"
	"math"
)

// Transitions are the layer-to-layer steps of the trunk, 0→1 … 3→4, by their upper layer.
const transitions = 4

// sharpestNarrowing returns the transition l (1-4, from layer l−1 to layer l) with the smallest
// ratio x[l] / x[l−1] — where a per-layer width (filters, or effective dimensionality) shrinks
// most — and that ratio. Ties go to the earlier transition. Widths must be positive.
func sharpestNarrowing(x []float64) (int, float64, error) {
	if len(x) != transitions+1 {
		return 0, 0, fmt.Errorf("narrowing: %d layers, want %d", len(x), transitions+1)
	}
	for l, v := range x {
		if !(v > 0) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("narrowing: width %v of layer %d", v, l)
		}
	}
	best, ratio := 0, math.Inf(1)
	for l := 1; l <= transitions; l++ {
		if r := x[l] / x[l-1]; r < ratio {
			best, ratio = l, r
		}
	}
	return best, ratio, nil
}
