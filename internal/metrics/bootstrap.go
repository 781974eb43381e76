package metrics

import (
	"fmt"
	"math"
	"slices"
)

// Defaults of BootstrapMedianCI: the paper reports medians across neurons with bootstrapped 90 %
// confidence intervals (Extended Data Fig. 6); 10,000 resamples make the Monte Carlo error of the
// interval's ends small against its width.
const (
	DefaultCILevel    = 0.90
	DefaultBootstraps = 10000
)

// BootstrapMedianCI returns the median of x (numpy convention) and a percentile-bootstrap
// confidence interval [lo, hi] for it at confidence level (0 < level < 1; DefaultCILevel is
// 0.90), from nBoot ≥ 1 resamples (DefaultBootstraps is 10,000).
//
// Algorithm, deterministic for a seed: let s be x sorted ascending and src = NewSource(seed); for
// b = 0…nBoot−1, draw n = len(x) indices j_1…j_n uniformly from [0, n) with replacement
// (Lemire's method on src.Uint64, see the package comment) and take the median (numpy
// convention) of s[j_1…j_n]; then lo and hi are the (1−level)/2 and (1+level)/2 quantiles of the
// nBoot medians with numpy's default linear interpolation (np.percentile(medians, [5, 95]) for
// level 0.90; see Quantile). Indexing the sorted values makes the result independent of the
// order of x, and lets each resample's median be found from index counts in O(n), without a
// sort.
//
// Errors: x is empty or holds a NaN or ±Inf (drop them first, e.g. with DropNaN, and say so),
// level is not in (0, 1), or nBoot < 1.
func BootstrapMedianCI(x []float64, level float64, nBoot int, seed uint64) (median, lo, hi float64, err error) {
	nan := math.NaN()
	if len(x) == 0 {
		return nan, nan, nan, fmt.Errorf("bootstrap median CI: no values")
	}
	for i, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nan, nan, nan, fmt.Errorf("bootstrap median CI: x[%d] = %v: values must be finite", i, v)
		}
	}
	if !(level > 0 && level < 1) {
		return nan, nan, nan, fmt.Errorf("bootstrap median CI: level %v is not in (0, 1) (0.90 for a 90%% interval)", level)
	}
	if nBoot < 1 {
		return nan, nan, nan, fmt.Errorf("bootstrap median CI: %d resamples, need at least 1", nBoot)
	}
	src := NewSource(seed)
	n := len(x)
	xs := slices.Clone(x)
	slices.Sort(xs)
	meds := make([]float64, nBoot)
	cnt := make([]int, n)
	for b := range meds {
		clear(cnt)
		for range n {
			cnt[uintN(src, n)]++
		}
		meds[b] = countedMedian(xs, cnt)
	}
	slices.Sort(meds)
	return Median(x), sortedQuantile(meds, (1-level)/2), sortedQuantile(meds, (1+level)/2), nil
}

// countedMedian returns the median (numpy convention) of the multiset holding xs[j] cnt[j] times,
// where xs is sorted ascending and Σcnt = len(xs): the value at rank ⌊(n−1)/2⌋ for odd n, the
// mean of ranks n/2−1 and n/2 for even n.
func countedMedian(xs []float64, cnt []int) float64 {
	n := len(xs)
	lo, hi := (n-1)/2, n/2 // 0-based ranks of the middle value(s); equal for odd n
	a := math.NaN()
	seen := 0 // values of rank < seen have been passed
	for j, c := range cnt {
		if c == 0 {
			continue
		}
		if seen <= lo && lo < seen+c {
			a = xs[j]
		}
		if seen <= hi && hi < seen+c {
			if lo == hi {
				return a
			}
			return (a + xs[j]) / 2
		}
		seen += c
	}
	return math.NaN() // unreachable when Σcnt = n
}

// MedianCI is a median with its percentile-bootstrap confidence interval, over N values.
type MedianCI struct {
	N              int
	Median, Lo, Hi float64
}

// String formats the median and interval with three decimals: "0.636 [0.618, 0.693] (n = 33)".
func (m MedianCI) String() string {
	return fmt.Sprintf("%.3f [%.3f, %.3f] (n = %d)", m.Median, m.Lo, m.Hi, m.N)
}

// MedianWithCI is BootstrapMedianCI at DefaultCILevel with DefaultBootstraps resamples, as the
// suite reports every median: the same seed gives the same interval.
func MedianWithCI(x []float64, seed uint64) (MedianCI, error) {
	m, lo, hi, err := BootstrapMedianCI(x, DefaultCILevel, DefaultBootstraps, seed)
	if err != nil {
		return MedianCI{}, err
	}
	return MedianCI{N: len(x), Median: m, Lo: lo, Hi: hi}, nil
}
