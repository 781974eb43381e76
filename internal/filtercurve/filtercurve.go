// Package filtercurve is the analysis of Extended Data Fig. 6 for any visual area: the accuracy of
// shared compact models with K early filters, as the median over the area's neurons with its
// bootstrapped 90 % confidence interval for each K, against the accuracy of the full model, and
// the smallest K that performs no worse than the full model.
//
// "No worse" is read as: the median at K is at or above the lower end of the full model's
// interval (inside the interval, or above it). The full model is whatever the caller scores as
// the reference: a task-driven teacher when one exists, otherwise the least compressed model of
// the family.
package filtercurve

import (
	"fmt"
	"slices"

	"compactv4/internal/metrics"
)

// Point is the accuracy of the model with K early filters.
type Point struct {
	K   int
	Acc metrics.MedianCI
}

// Curve is accuracy versus K against the full model.
type Curve struct {
	Points []Point // K ascending
	Full   metrics.MedianCI
	// Smallest is the smallest K that performs no worse than the full model, 0 when none does.
	Smallest int
}

// New summarises per-neuron accuracies: acc[i][n] of the model with ks[i] filters and full[n]
// of the full model, over the neurons whose value is a number (NaN dropped). The interval of
// point i is drawn with seed+i, the full model's with seed+len(ks). ks must be distinct and
// positive; they are sorted.
func New(ks []int, acc [][]float64, full []float64, seed uint64) (*Curve, error) {
	if len(ks) == 0 || len(ks) != len(acc) {
		return nil, fmt.Errorf("filter curve: %d values of K for %d accuracy lists", len(ks), len(acc))
	}
	c := &Curve{}
	for i, k := range ks {
		if k < 1 {
			return nil, fmt.Errorf("filter curve: K = %d", k)
		}
		m, err := metrics.MedianWithCI(metrics.DropNaN(acc[i]), seed+uint64(i))
		if err != nil {
			return nil, fmt.Errorf("filter curve: K = %d: %w", k, err)
		}
		c.Points = append(c.Points, Point{K: k, Acc: m})
	}
	slices.SortStableFunc(c.Points, func(a, b Point) int { return a.K - b.K })
	for i := 1; i < len(c.Points); i++ {
		if c.Points[i].K == c.Points[i-1].K {
			return nil, fmt.Errorf("filter curve: K = %d appears twice", c.Points[i].K)
		}
	}
	var err error
	if c.Full, err = metrics.MedianWithCI(metrics.DropNaN(full), seed+uint64(len(ks))); err != nil {
		return nil, fmt.Errorf("filter curve: full model: %w", err)
	}
	c.Smallest = SmallestK(c.Points, c.Full)
	return c, nil
}

// SmallestK returns the smallest K among points whose median is at or above full.Lo, or 0 when
// none is.
func SmallestK(points []Point, full metrics.MedianCI) int {
	best := 0
	for _, p := range points {
		if p.Acc.Median >= full.Lo && (best == 0 || p.K < best) {
			best = p.K
		}
	}
	return best
}
