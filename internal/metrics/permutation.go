package metrics

import (
	"fmt"
	"math"
	"slices"
)

// MedianPermutationTest is the one-sided permutation test of the difference of medians: does x
// have a larger median than y? The statistic is d = median(x) − median(y) (numpy's median). Each
// of perms permutations shuffles the pooled values x ∪ y (shuffle, with NewSource(seed)), gives
// the first len(x) to x and the rest to y, and recomputes d; p is (1 + the number of permuted d
// at least the observed one) / (1 + perms), the estimate that counts the observed labelling as
// one of the permutations, so that p is never 0. NaNs, ±Inf, an empty sample or perms < 1 are
// errors.
func MedianPermutationTest(x, y []float64, perms int, seed uint64) (d, p float64, err error) {
	if len(x) == 0 || len(y) == 0 {
		return 0, 0, fmt.Errorf("permutation test: empty sample (%d and %d values)", len(x), len(y))
	}
	if perms < 1 {
		return 0, 0, fmt.Errorf("permutation test: %d permutations", perms)
	}
	pool := make([]float64, 0, len(x)+len(y))
	pool = append(append(pool, x...), y...)
	for i, v := range pool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return 0, 0, fmt.Errorf("permutation test: value %d is %v", i, v)
		}
	}
	d = medianDiff(pool, len(x), nil)
	src := NewSource(seed)
	idx := make([]int, len(pool))
	for i := range idx {
		idx[i] = i
	}
	buf := make([]float64, len(pool))
	ge := 0
	for range perms {
		shuffle(src, idx)
		for i, k := range idx {
			buf[i] = pool[k]
		}
		if medianDiff(buf, len(x), buf) >= d {
			ge++
		}
	}
	return d, float64(1+ge) / float64(1+perms), nil
}

// medianDiff returns median(v[:k]) − median(v[k:]); with scratch equal to v it sorts v's two
// parts in place, else it sorts copies.
func medianDiff(v []float64, k int, scratch []float64) float64 {
	if scratch == nil {
		v = slices.Clone(v)
	}
	a, b := v[:k], v[k:]
	slices.Sort(a)
	slices.Sort(b)
	return sortedMedian(a) - sortedMedian(b)
}
