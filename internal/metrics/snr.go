package metrics

import (
	"fmt"
	"math"
)

// SNROptions selects between upstream's SNR and a NaN-aware variant.
type SNROptions struct {
	// NaNAware makes every neuron use only its own recorded images: images with no repeat are
	// left out of d² and of m, images with fewer than two repeats are left out of σ² (nanmean),
	// and n is the median repeat count of that neuron over its recorded images. This is not
	// upstream's computation; it is meant for data sets where neurons miss whole images (as the
	// V1 set of Cadena et al. 2019). On data where every image of every neuron has at least two
	// repeats and all neurons share repeat counts (both raw V4 sessions of the public data) it
	// gives the same numbers as the default.
	NaNAware bool
}

// SNR returns, per neuron, the unbiased signal-to-noise ratio of Pospisil (2021) as upstream
// NeuralDataClass.compute_SNRs (classes/class_neural_data.py; reference/upstream.md §5.2) computes it:
//
//	n   = median_i #{r : Z[0][i][r] not NaN}           (numpy median, neuron 0 for all neurons)
//	m   = M
//	σ²  = mean_i nanvar_r(Z[n][i][r], ddof=1)           (plain mean, not nanmean)
//	d²  = var_i(ȳ_i) (ddof 0) − (m−1)/m · σ²/n,  ȳ_i = nanmean_r Z[n][i][r]
//	SNR = d²/σ²
//
// Upstream's comment: a threshold of 0.15 is "pretty good".
//
// NaN conventions (upstream's): because σ² is a plain mean, a neuron's SNR is NaN as soon as
// one image has fewer than two repeats (its ddof-1 variance is NaN); it is also NaN when an
// image has no repeat (ȳ_i is NaN), and NaN or ±Inf when σ² = 0 (noiseless repeats). Use
// SNROptions.NaNAware for data with missing images.
//
// Errors: raw fails Validate.
func SNR(raw Raw, opts SNROptions) ([]float64, error) {
	if err := raw.Validate(); err != nil {
		return nil, fmt.Errorf("snr: %w", err)
	}
	out := make([]float64, raw.N)
	if opts.NaNAware {
		for n := range out {
			out[n] = snrNaNAware(raw, n)
		}
		return out, nil
	}
	nrep := medianCount(raw, 0)
	m := float64(raw.M)
	ybar := make([]float64, raw.M)
	for n := range out {
		vs := 0.0
		for i := range ybar {
			mu, v, _ := meanVar(raw.repeats(n, i))
			ybar[i] = mu
			vs += v // a NaN variance propagates, as np.mean does
		}
		sigma2 := vs / m
		d2 := popVar(ybar) - (m-1)/m*sigma2/nrep
		out[n] = d2 / sigma2
	}
	return out, nil
}

// snrNaNAware is the SNR of neuron n over its recorded images (SNROptions.NaNAware).
func snrNaNAware(raw Raw, n int) float64 {
	var ybar, counts []float64
	vs, kv := 0.0, 0
	for i := 0; i < raw.M; i++ {
		mu, v, c := meanVar(raw.repeats(n, i))
		if c == 0 {
			continue
		}
		ybar = append(ybar, mu)
		counts = append(counts, float64(c))
		if c >= 2 {
			vs += v
			kv++
		}
	}
	if len(ybar) == 0 || kv == 0 {
		return math.NaN()
	}
	sigma2 := vs / float64(kv)
	m := float64(len(ybar))
	d2 := popVar(ybar) - (m-1)/m*sigma2/Median(counts)
	return d2 / sigma2
}

// popVar is the population variance (ddof 0) Σ(x−x̄)²/len(x); NaN if x holds a NaN or is empty.
func popVar(x []float64) float64 {
	mu := Mean(x)
	s := 0.0
	for _, v := range x {
		d := v - mu
		s += d * d
	}
	return s / float64(len(x))
}
