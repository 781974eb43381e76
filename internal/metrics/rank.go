package metrics

import (
	"fmt"
	"math"
	"sort"
)

// AUC returns the probability that a value drawn from x exceeds one drawn from y, counting ties
// as one half: the Mann-Whitney U statistic divided by len(x)·len(y). 0.5 means the two
// samples are indistinguishable by rank, 1 that every x exceeds every y. NaNs are an error.
func AUC(x, y []float64) (float64, error) {
	if len(x) == 0 || len(y) == 0 {
		return 0, fmt.Errorf("auc: empty sample (%d and %d values)", len(x), len(y))
	}
	xs := append([]float64(nil), x...)
	ys := append([]float64(nil), y...)
	for _, s := range [][]float64{xs, ys} {
		for _, v := range s {
			if math.IsNaN(v) {
				return 0, fmt.Errorf("auc: NaN in sample")
			}
		}
		sort.Float64s(s)
	}
	// For each x, count the ys below it and equal to it, walking both sorted samples.
	var u float64
	lo, hi := 0, 0 // ys[:lo] < v, ys[:hi] <= v
	for _, v := range xs {
		for lo < len(ys) && ys[lo] < v {
			lo++
		}
		if hi < lo {
			hi = lo
		}
		for hi < len(ys) && ys[hi] <= v {
			hi++
		}
		u += float64(lo) + 0.5*float64(hi-lo)
	}
	return u / (float64(len(xs)) * float64(len(ys))), nil
}

// SignTest compares paired values: wins counts pairs with x > y, losses pairs with x < y (ties
// are dropped), and p is the two-sided exact binomial p-value of the wins under p = 1/2.
func SignTest(x, y []float64) (wins, losses int, p float64, err error) {
	if len(x) != len(y) {
		return 0, 0, 0, fmt.Errorf("sign test: %d and %d values", len(x), len(y))
	}
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(y[i]) {
			return 0, 0, 0, fmt.Errorf("sign test: NaN in pair %d", i)
		}
		switch {
		case x[i] > y[i]:
			wins++
		case x[i] < y[i]:
			losses++
		}
	}
	return wins, losses, binomTwoSided(wins, wins+losses), nil
}

// binomTwoSided is the two-sided p-value of k successes in n fair trials: twice the smaller
// tail probability, at most 1.
func binomTwoSided(k, n int) float64 {
	if n == 0 {
		return 1
	}
	lo := min(k, n-k)
	// P(X ≤ lo) by summing the pmf in log space.
	var tail float64
	lgN, _ := math.Lgamma(float64(n + 1))
	for i := 0; i <= lo; i++ {
		a, _ := math.Lgamma(float64(i + 1))
		b, _ := math.Lgamma(float64(n - i + 1))
		tail += math.Exp(lgN - a - b - float64(n)*math.Ln2)
	}
	return math.Min(1, 2*tail)
}
