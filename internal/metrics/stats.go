package metrics

import (
	"fmt"
	"math"
	"slices"
)

// Median returns the median of x with numpy's convention (np.median): the middle value of the
// sorted data for an odd count, the mean of the two middle values for an even count. Like numpy
// it returns NaN when x is empty or holds a NaN. x is not modified.
func Median(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return sortedMedian(s)
}

// sortedMedian is Median of sorted, NaN-free, non-empty s.
func sortedMedian(s []float64) float64 {
	h := len(s) / 2
	if len(s)%2 == 1 {
		return s[h]
	}
	return (s[h-1] + s[h]) / 2
}

// NaNMedian returns the median of the non-NaN values of x (np.nanmedian), or NaN if there are
// none.
func NaNMedian(x []float64) float64 {
	return Median(DropNaN(x))
}

// DropNaN returns a new slice with the non-NaN values of x, in order.
func DropNaN(x []float64) []float64 {
	out := make([]float64, 0, len(x))
	for _, v := range x {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// Mean returns Σx/len(x); NaN when x is empty or holds a NaN (np.mean).
func Mean(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, v := range x {
		s += v
	}
	return s / float64(len(x))
}

// NaNMean returns the mean of the non-NaN values of x (np.nanmean), or NaN if there are none.
func NaNMean(x []float64) float64 {
	s, k := 0.0, 0
	for _, v := range x {
		if !math.IsNaN(v) {
			s += v
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return s / float64(k)
}

// NaNVar returns the variance of the non-NaN values of x with ddof delta degrees of freedom,
// Σ(x−x̄)²/(k−ddof) over the k non-NaN values (np.nanvar(x, ddof=ddof)); NaN when k ≤ ddof.
func NaNVar(x []float64, ddof int) float64 {
	mu := NaNMean(x)
	if math.IsNaN(mu) {
		return math.NaN()
	}
	s, k := 0.0, 0
	for _, v := range x {
		if !math.IsNaN(v) {
			d := v - mu
			s += d * d
			k++
		}
	}
	if k-ddof <= 0 {
		return math.NaN()
	}
	return s / float64(k-ddof)
}

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of x with numpy's default "linear" method
// (np.quantile / np.percentile): with x sorted ascending and h = (len(x)−1)·q, it interpolates
// linearly between x[⌊h⌋] and x[⌊h⌋+1], computing a+(b−a)·t for t < 0.5 and b−(b−a)·(1−t)
// otherwise, as numpy's _lerp does. It returns NaN when x is empty, holds a NaN, or q is
// outside [0, 1]. x is not modified.
func Quantile(x []float64, q float64) float64 {
	if len(x) == 0 || !(q >= 0 && q <= 1) {
		return math.NaN()
	}
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
	}
	s := slices.Clone(x)
	slices.Sort(s)
	return sortedQuantile(s, q)
}

// sortedQuantile is Quantile of sorted, NaN-free, non-empty s and q in [0, 1].
func sortedQuantile(s []float64, q float64) float64 {
	h := float64(len(s)-1) * q
	lo := math.Floor(h)
	i := int(lo)
	if i >= len(s)-1 {
		return s[len(s)-1]
	}
	t := h - lo
	a, b := s[i], s[i+1]
	d := b - a
	if t >= 0.5 {
		return b - d*(1-t)
	}
	return a + d*t
}

// Pearson returns Pearson's correlation coefficient of x and y,
//
//	r = Σ(x−x̄)(y−ȳ) / (√Σ(x−x̄)² · √Σ(y−ȳ)²),
//
// clipped to [−1, 1] as np.corrcoef does (upstream compute_brain_score and compute_raw_r2 use
// np.corrcoef). It returns NaN when either vector is constant (zero variance, where r is
// undefined; numpy returns NaN with a warning), when there are fewer than two values, or when a
// value is NaN. Vectors of different lengths are an error.
func Pearson(x, y []float64) (float64, error) {
	if len(x) != len(y) {
		return math.NaN(), fmt.Errorf("pearson of vectors of lengths %d and %d: %w", len(x), len(y), ErrShape)
	}
	return pearson(x, y), nil
}

// pearson is Pearson for vectors of equal length.
func pearson(x, y []float64) float64 {
	if len(x) < 2 {
		return math.NaN()
	}
	mx, my := Mean(x), Mean(y)
	var sxx, syy, sxy float64
	for i := range x {
		dx, dy := x[i]-mx, y[i]-my
		sxx += dx * dx
		syy += dy * dy
		sxy += dx * dy
	}
	if sxx == 0 || syy == 0 || math.IsNaN(sxy) {
		return math.NaN()
	}
	r := sxy / (math.Sqrt(sxx) * math.Sqrt(syy))
	return max(-1, min(1, r))
}

// R2 returns the squared Pearson correlation r² of x and y (upstream compute_raw_r2, the
// "fraction of variance explained" used for student-versus-teacher fits); NaN exactly when
// Pearson is NaN.
func R2(x, y []float64) (float64, error) {
	r, err := Pearson(x, y)
	return r * r, err
}

// PearsonRows returns Pearson(a[n], b[n]) for every row n of two N×M matrices (the diagonal of
// upstream np.corrcoef(a, b)[:N, N:]).
func PearsonRows(a, b [][]float64) ([]float64, error) {
	if len(a) != len(b) {
		return nil, fmt.Errorf("pearson of %d rows against %d rows: %w", len(a), len(b), ErrShape)
	}
	out := make([]float64, len(a))
	for n := range a {
		r, err := Pearson(a[n], b[n])
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", n, err)
		}
		out[n] = r
	}
	return out, nil
}

// R2Rows returns R2(a[n], b[n]) for every row n of two N×M matrices (upstream compute_raw_r2).
func R2Rows(a, b [][]float64) ([]float64, error) {
	out, err := PearsonRows(a, b)
	for n, r := range out {
		out[n] = r * r
	}
	return out, err
}
