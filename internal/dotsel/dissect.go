package dotsel

import (
	"fmt"
	"math"
)

// Necessity is how much of a response an ablation removes: Σ(intact − ablated) / Σ(intact − ref)
// over the stimuli, ref being the intact model's response to the blank background. 1 when the
// ablation takes the responses back to the blank's (the ablated filter is necessary), 0 when it
// leaves them unchanged (irrelevant); below 0 when the ablation raises them, above 1 when it
// takes them below the blank. NaN when the intact responses equal ref in sum.
func Necessity(intact, ablated []float64, ref float64) (float64, error) {
	if len(intact) == 0 || len(ablated) != len(intact) {
		return 0, fmt.Errorf("necessity: %d intact and %d ablated responses", len(intact), len(ablated))
	}
	num, den := 0.0, 0.0
	for i := range intact {
		num += intact[i] - ablated[i]
		den += intact[i] - ref
	}
	if den == 0 {
		return math.NaN(), nil
	}
	return num / den, nil
}

// Change is how much an ablation changes responses without a reference point (for natural
// images): the root mean square of intact − ablated divided by the standard deviation of the
// intact responses. 0 when nothing changes; NaN when the intact responses are constant.
func Change(intact, ablated []float64) (float64, error) {
	if len(intact) < 2 || len(ablated) != len(intact) {
		return 0, fmt.Errorf("change: %d intact and %d ablated responses", len(intact), len(ablated))
	}
	mean := 0.0
	for _, v := range intact {
		mean += v
	}
	mean /= float64(len(intact))
	ss, dd := 0.0, 0.0
	for i := range intact {
		ss += (intact[i] - mean) * (intact[i] - mean)
		dd += (intact[i] - ablated[i]) * (intact[i] - ablated[i])
	}
	if ss == 0 {
		return math.NaN(), nil
	}
	return math.Sqrt(dd / ss), nil
}

// Threshold is the necessity above which one filter is said to carry the dot response: its
// ablation removes at least half of it.
const Threshold = 0.5

// Consolidation is the test of the hypothesis that no single filter of the layer before the
// consolidation step carries a model's dot response while one filter of the consolidation step
// does, from the dot necessity of every filter of both layers.
type Consolidation struct {
	MaxBefore  float64 // largest necessity among the filters of the layer before
	ArgBefore  int     // its filter
	Carriers   int     // filters of the consolidation layer with necessity ≥ Threshold
	Carrier    int     // the one with the largest necessity
	MaxCarrier float64 // its necessity
	// Holds: MaxBefore < Threshold and exactly one carrier.
	Holds bool
}

// TestConsolidation applies the hypothesis to the necessities of the filters of the layer before
// the consolidation step (before) and of the consolidation step (consolidated).
func TestConsolidation(before, consolidated []float64) (Consolidation, error) {
	var c Consolidation
	if len(before) == 0 || len(consolidated) == 0 {
		return c, fmt.Errorf("consolidation test: %d and %d filters", len(before), len(consolidated))
	}
	c.ArgBefore, c.MaxBefore = argmax(before)
	c.Carrier, c.MaxCarrier = argmax(consolidated)
	for _, v := range consolidated {
		if v >= Threshold {
			c.Carriers++
		}
	}
	c.Holds = !(c.MaxBefore >= Threshold) && c.Carriers == 1 && !math.IsNaN(c.MaxBefore)
	return c, nil
}

// argmax returns the index and value of the largest element, NaN counting as the smallest
// (index 0 and NaN when all are NaN).
func argmax(x []float64) (int, float64) {
	best, v := 0, math.NaN()
	for i, y := range x {
		if !math.IsNaN(y) && (math.IsNaN(v) || y > v) {
			best, v = i, y
		}
	}
	return best, v
}
