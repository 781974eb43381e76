package metrics

import (
	"errors"
	"fmt"
	"math"
)

// Raw holds raw responses Z[n][i][r]: N neurons × M images × R repeat slots, row-major
// (element [n][i][r] is Data[(n*M+i)*R+r]), the layout of the upstream (N, M, R) float64 .npy
// files. NaN marks a repeat slot without a recorded response. Upstream files pad only trailing
// slots, but no function here relies on that except where documented.
type Raw struct {
	N, M, R int
	Data    []float64
}

// ErrShape reports inputs whose dimensions do not fit together.
var ErrShape = errors.New("shape mismatch")

// Validate checks that the dimensions are positive, that len(Data) = N·M·R, and that no
// element is ±Inf (NaN is allowed: it marks an empty repeat slot).
func (z Raw) Validate() error {
	if z.N <= 0 || z.M <= 0 || z.R <= 0 {
		return fmt.Errorf("raw responses of shape (%d, %d, %d): every dimension must be positive: %w", z.N, z.M, z.R, ErrShape)
	}
	if z.N > math.MaxInt/z.M || z.N*z.M > math.MaxInt/z.R {
		return fmt.Errorf("raw responses of shape (%d, %d, %d): too many elements: %w", z.N, z.M, z.R, ErrShape)
	}
	if len(z.Data) != z.N*z.M*z.R {
		return fmt.Errorf("raw responses of shape (%d, %d, %d) need %d values, have %d: %w", z.N, z.M, z.R, z.N*z.M*z.R, len(z.Data), ErrShape)
	}
	for k, v := range z.Data {
		if math.IsInf(v, 0) {
			r := k % z.R
			i := (k / z.R) % z.M
			n := k / (z.R * z.M)
			return fmt.Errorf("raw responses [%d, %d, %d] = %v: responses must be finite or NaN (empty slot)", n, i, r, v)
		}
	}
	return nil
}

// At returns Z[n][i][r]. It panics, like a slice index, when an index is out of range.
func (z Raw) At(n, i, r int) float64 {
	return z.Data[(n*z.M+i)*z.R+r]
}

// repeats returns the R slots of neuron n and image i.
func (z Raw) repeats(n, i int) []float64 {
	k := (n*z.M + i) * z.R
	return z.Data[k : k+z.R : k+z.R]
}

// Counts returns, for neuron n, the number of non-NaN repeats of every image.
func (z Raw) Counts(n int) []int {
	c := make([]int, z.M)
	for i := range c {
		for _, v := range z.repeats(n, i) {
			if !math.IsNaN(v) {
				c[i]++
			}
		}
	}
	return c
}

// Means returns the repeat-averaged responses ȳ[n][i] = nanmean_r Z[n][i][r] (upstream
// np.nanmean(responses, axis=2), which is how responses_repeat_averaged/*.npy were made); an
// image without any repeat gives NaN.
func (z Raw) Means() [][]float64 {
	out := make([][]float64, z.N)
	for n := range out {
		out[n] = make([]float64, z.M)
		for i := range out[n] {
			out[n][i] = NaNMean(z.repeats(n, i))
		}
	}
	return out
}

// Neurons returns a copy of neurons lo…hi−1.
func (z Raw) Neurons(lo, hi int) (Raw, error) {
	if lo < 0 || hi > z.N || lo >= hi {
		return Raw{}, fmt.Errorf("neurons [%d, %d) of %d: %w", lo, hi, z.N, ErrShape)
	}
	d := make([]float64, (hi-lo)*z.M*z.R)
	copy(d, z.Data[lo*z.M*z.R:hi*z.M*z.R])
	return Raw{N: hi - lo, M: z.M, R: z.R, Data: d}, nil
}

// Images returns a copy of images lo…hi−1 of every neuron (for instance the evaluation half
// M/2…M−1 of a test session, reference/upstream.md §5.1).
func (z Raw) Images(lo, hi int) (Raw, error) {
	if lo < 0 || hi > z.M || lo >= hi {
		return Raw{}, fmt.Errorf("images [%d, %d) of %d: %w", lo, hi, z.M, ErrShape)
	}
	out := Raw{N: z.N, M: hi - lo, R: z.R, Data: make([]float64, 0, z.N*(hi-lo)*z.R)}
	for n := 0; n < z.N; n++ {
		out.Data = append(out.Data, z.Data[(n*z.M+lo)*z.R:(n*z.M+hi)*z.R]...)
	}
	return out, nil
}

// checkPred checks that pred is an N×M matrix of finite values.
func checkPred(pred [][]float64, n, m int) error {
	if len(pred) != n {
		return fmt.Errorf("predictions for %d neurons, raw responses have %d: %w", len(pred), n, ErrShape)
	}
	for k, row := range pred {
		if len(row) != m {
			return fmt.Errorf("predictions of neuron %d have %d images, raw responses have %d: %w", k, len(row), m, ErrShape)
		}
		for i, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("prediction [%d, %d] = %v: predictions must be finite", k, i, v)
			}
		}
	}
	return nil
}

// medianCount is the median (numpy convention) of the repeat counts of neuron n.
func medianCount(z Raw, n int) float64 {
	c := z.Counts(n)
	f := make([]float64, len(c))
	for i, v := range c {
		f[i] = float64(v)
	}
	return Median(f)
}

// Select returns a copy of the given images of every neuron, in the order given (an image may
// appear more than once).
func (z Raw) Select(images []int) (Raw, error) {
	if len(images) == 0 {
		return Raw{}, fmt.Errorf("no image selected: %w", ErrShape)
	}
	out := Raw{N: z.N, M: len(images), R: z.R, Data: make([]float64, 0, z.N*len(images)*z.R)}
	for n := 0; n < z.N; n++ {
		for _, i := range images {
			if i < 0 || i >= z.M {
				return Raw{}, fmt.Errorf("image %d of %d: %w", i, z.M, ErrShape)
			}
			out.Data = append(out.Data, z.Data[(n*z.M+i)*z.R:(n*z.M+i+1)*z.R]...)
		}
	}
	return out, nil
}
