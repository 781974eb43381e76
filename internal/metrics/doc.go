// Package metrics holds the statistics with which the paper scores models against V4 responses:
// the noise-corrected R² "r²_ER" of Pospisil & Bair (2021), Pearson r and r², the split-half
// ("brain score") noise ceiling, the unbiased SNR of Pospisil (2021), percentile bootstrap
// confidence intervals of medians, and the one-sided permutation test of a difference of medians
// (Extended Data Fig. 7's test).
//
// Every function follows the upstream Python code of github.com/cowleygroup/V4_compact_models
// (commit f4552ad) as described in reference/upstream.md §5.2; each documents its formula, the
// upstream function it ports, and what it returns when data are missing (NaN conventions).
//
// # Data layout
//
// Raw responses are a [Raw]: an (N, M, R) array of spike counts, neurons × images × repeat slots,
// row-major exactly like the upstream responses_raw/*.npy files, with NaN in unused repeat slots.
// Predictions and repeat-averaged responses are [][]float64 indexed [neuron][image].
//
// # NaN conventions
//
// NaN in raw responses means "no repeat recorded in this slot" and is skipped wherever upstream
// uses numpy's nan-functions; where upstream uses plain numpy functions the NaN propagates, and
// the affected neuron's value is NaN, as upstream. ±Inf in raw responses and any non-finite
// prediction are errors. Degenerate inputs (a constant prediction or response vector, no
// repeats) give NaN for the neuron concerned, as numpy does, never a panic.
//
// # Randomness
//
// Random functions take an explicit [math/rand/v2.Source] and use only its Uint64 stream
// (bounded integers by Lemire's multiply-and-reject method, shuffles by Fisher–Yates), so that a
// seed gives the same numbers on every platform. [NewSource] is the suite's convention for a
// seeded source: rand.NewPCG(seed, 0). The streams are not numpy's, so split-half and bootstrap
// numbers match upstream in distribution, not digit for digit.
package metrics
