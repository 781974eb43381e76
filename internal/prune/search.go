package prune

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Tested is one count of removed filters whose fraction of variance the rule computed.
type Tested struct {
	Removed int     `json:"removed"` // filters left out: the Removed lowest-scored
	FV      float64 `json:"fv"`      // the fraction of variance without them
}

// ascending returns the filter indices sorted by score, ascending; equal scores keep index order
// (upstream's np.argsort leaves the order of ties to numpy's sort).
func ascending(scores []float64) []int {
	order := make([]int, len(scores))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[a], scores[b]) })
	return order
}

// walkLast is prune_last_layer's rule (reference/upstream.md §8): for j = 0, 1, …, n−1 it
// computes fv(j), the fraction of variance with the j lowest-scored filters left out, and counts
// filter j as removable while fv(j) > threshold·fvFull; it stops at the first j that fails. The
// count is the number of filters upstream lists for removal: j* when fv(j*) is the first to fail,
// which is one more than the largest count whose removal was checked (B9). With exact, the count
// is the largest checked one, j* − 1 (n − 1 when no j fails: removing all n is never tested).
func walkLast(n int, threshold, fvFull float64, exact bool, fv func(j int) (float64, error)) (count int, tested []Tested, err error) {
	for j := range n {
		f, err := fv(j)
		if err != nil {
			return 0, tested, err
		}
		tested = append(tested, Tested{Removed: j, FV: f})
		if !(f > threshold*fvFull) {
			break
		}
		count = j + 1
	}
	if exact && count > 0 {
		count--
	}
	return count, tested, nil
}

// Why the binary search stopped.
const (
	stopNoneRemovable = "fv(0) below threshold"
	stopAllButOne     = "fv(C-1) at or above threshold"
	stopCrossing      = "fv(K-1) at or above threshold, fv(K) below"
)

// searchCount is prune_layer's binary search for the number K of lowest-scored filters to remove
// out of c, ported statement by statement (reference/upstream.md §8):
//
//	K = ⌊c/2⌋; lo = 0; hi = c
//	loop:
//	    if K == 0 and fv(0) < t: stop
//	    if K == c−1 and fv(c−1) ≥ t: stop
//	    if fv(K−1) ≥ t and fv(K) < t: stop
//	    if fv(K) < t: hi = K−1; K = lo + ⌊(K−lo)/2⌋
//	    else:         lo = K+1; K = K + ⌈(hi−K)/2⌉
//
// fv(−1), reached only when K = 0 and fv(0) ≥ t, is numpy's fvs[−1], i.e. fv(c−1). Each count is
// computed once. At the crossing upstream removes K filters, one more than the largest count that
// keeps the threshold (B9); with exact it removes K−1. A NaN fraction of variance, a count
// outside [0, c) or a search that does not end (both impossible when every fv is a number) is an
// error, where upstream would loop, fail on an index or compare NaNs.
func searchCount(c int, threshold float64, exact bool, fv func(k int) (float64, error)) (count int, stop string, tested []Tested, err error) {
	if c < 1 {
		return 0, "", nil, fmt.Errorf("binary search over %d filters", c)
	}
	cache := map[int]float64{}
	at := func(k int) (float64, error) {
		if k < 0 {
			k += c // numpy's negative index
		}
		if k < 0 || k >= c {
			return 0, fmt.Errorf("binary search reached count %d of %d filters", k, c)
		}
		if v, ok := cache[k]; ok {
			return v, nil
		}
		v, err := fv(k)
		if err != nil {
			return 0, err
		}
		if math.IsNaN(v) {
			return 0, fmt.Errorf("fraction of variance with %d filters removed is NaN", k)
		}
		cache[k] = v
		tested = append(tested, Tested{Removed: k, FV: v})
		return v, nil
	}
	k, lo, hi := c/2, 0, c
	for range 4*c + 8 {
		fk, err := at(k)
		if err != nil {
			return 0, "", tested, err
		}
		if k == 0 && fk < threshold {
			return 0, stopNoneRemovable, tested, nil
		}
		if k == c-1 && fk >= threshold {
			return k, stopAllButOne, tested, nil
		}
		fprev, err := at(k - 1)
		if err != nil {
			return 0, "", tested, err
		}
		if fprev >= threshold && fk < threshold {
			if exact {
				return k - 1, stopCrossing, tested, nil
			}
			return k, stopCrossing, tested, nil
		}
		if fk < threshold {
			hi = k - 1
			k = lo + floorHalf(k-lo)
		} else {
			lo = k + 1
			k += -floorHalf(k - hi) // ⌈(hi−k)/2⌉
		}
	}
	return 0, "", tested, fmt.Errorf("binary search over %d filters did not end", c)
}

// floorHalf is ⌊x/2⌋ for any sign of x.
func floorHalf(x int) int {
	if x < 0 {
		return -((-x + 1) / 2)
	}
	return x / 2
}
