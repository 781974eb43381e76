package sharedfilters

import (
	"math/rand/v2"
	"slices"

	"compactv4/internal/metrics"
)

// sampleIndices returns up to n distinct indices of [0, total), sorted, drawn with a seeded
// source (all indices when total ≤ n).
func sampleIndices(total, n int, seed uint64) []int {
	if total <= n {
		out := make([]int, total)
		for i := range out {
			out[i] = i
		}
		return out
	}
	src := rand.New(metrics.NewSource(seed))
	perm := src.Perm(total)[:n]
	slices.Sort(perm)
	return perm
}
