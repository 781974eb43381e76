package metrics

import (
	"fmt"
	"math"
)

// R2EROptions selects how R2ER estimates the number of repeats.
type R2EROptions struct {
	// PerNeuronRepeats uses each neuron's own median repeat count as n_rep. The default (false)
	// reproduces upstream quirk B2: the median repeat count of the first neuron passed in is
	// used for every neuron. The two agree when all neurons have the same repeats per image, as
	// in every upstream session.
	PerNeuronRepeats bool
}

// R2ER returns, per neuron, the noise-corrected R² "r²_ER" of Pospisil & Bair (2021) between
// predictions pred[n][i] and raw responses Z[n][i][r], computed exactly as upstream
// LinearMappingClass.compute_r2_ER (classes/class_linear_mapping_ridgereg.py and its copies;
// reference/upstream.md §5.2):
//
//	n_rep = median_i #{r : Z[0][i][r] not NaN}        (numpy median; neuron 0 for all, quirk B2)
//	ȳ_i   = nanmean_r Z[n][i][r]
//	σ²    = nanmean_i nanvar_r(Z[n][i][r], ddof=1)     (images with < 2 repeats skipped)
//	x_i   = ŷ_i − mean(ŷ),  y_i = ȳ_i − mean(ȳ),  S_xx = Σx², S_yy = Σy², S_xy = Σxy
//	r²_ER = (S_xy² − σ²/n_rep·S_xx) / (S_xx·S_yy − σ²/n_rep·(m−1)·S_xx)
//
// with m = M, the number of images. Equivalently r²_ER = (r²·S_yy − σ²/n_rep)/(S_yy −
// (m−1)σ²/n_rep) with r = Pearson(ŷ, ȳ), so it is invariant to affine rescaling a·ŷ+b (a ≠ 0) of
// the prediction, equals r² when the repeats are noiseless (σ² = 0), and estimates without bias
// (to first order) the r² between the prediction and the expected response when every image has
// n_rep repeats. It is not clipped: it can be < 0 or > 1. When repeat counts vary across images
// the noise of ȳ_i averages σ²·mean_i(1/n_i), which exceeds σ²/median(n_i) when the harmonic mean
// of the counts is below their median, and r²_ER is then biased low (upstream's convention, kept
// here; see TestR2ERUnequalRepeatsBias).
//
// NaN conventions (those of the numpy code): a neuron's value is NaN when its prediction is
// constant (S_xx = 0, so 0/0), when some image has no repeat at all for that neuron (ȳ_i is
// NaN and np.mean propagates it), or when no image has two repeats (σ² is NaN). If n_rep = 0
// (neuron 0, or the neuron itself with PerNeuronRepeats, has no repeats for most images) the
// correction is infinite and the value NaN or ±Inf.
//
// Errors: raw fails Validate, or pred is not an N×M matrix of finite values.
func R2ER(raw Raw, pred [][]float64, opts R2EROptions) ([]float64, error) {
	if err := raw.Validate(); err != nil {
		return nil, fmt.Errorf("r2_ER: %w", err)
	}
	if err := checkPred(pred, raw.N, raw.M); err != nil {
		return nil, fmt.Errorf("r2_ER: %w", err)
	}
	nrep0 := medianCount(raw, 0)
	m := float64(raw.M)
	out := make([]float64, raw.N)
	ybar := make([]float64, raw.M)
	for n := range out {
		nrep := nrep0
		if opts.PerNeuronRepeats {
			nrep = medianCount(raw, n)
		}
		sigma2 := neuronMeansAndNoise(raw, n, ybar)
		mx, my := Mean(pred[n]), Mean(ybar)
		var sxx, syy, sxy float64
		for i, p := range pred[n] {
			x, y := p-mx, ybar[i]-my
			sxx += x * x
			syy += y * y
			sxy += x * y
		}
		c := sigma2 / nrep
		out[n] = (sxy*sxy - c*sxx) / (sxx*syy - c*(m-1)*sxx)
	}
	return out, nil
}

// neuronMeansAndNoise writes ȳ_i = nanmean_r Z[n][i][r] into ybar and returns
// σ² = nanmean_i nanvar_r(Z[n][i][r], ddof=1), NaN when no image has two repeats.
func neuronMeansAndNoise(raw Raw, n int, ybar []float64) float64 {
	vs, k := 0.0, 0
	for i := range ybar {
		mu, v, _ := meanVar(raw.repeats(n, i))
		ybar[i] = mu
		if !math.IsNaN(v) {
			vs += v
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return vs / float64(k)
}

// meanVar returns, over the c non-NaN values of z, their mean (NaN if c = 0) and their ddof-1
// variance (NaN if c < 2): NaNMean(z) and NaNVar(z, 1) in one call.
func meanVar(z []float64) (mean, var1 float64, c int) {
	s := 0.0
	for _, v := range z {
		if v == v { // not NaN
			s += v
			c++
		}
	}
	if c == 0 {
		return math.NaN(), math.NaN(), 0
	}
	mean = s / float64(c)
	if c < 2 {
		return mean, math.NaN(), c
	}
	ss := 0.0
	for _, v := range z {
		if v == v {
			d := v - mean
			ss += d * d
		}
	}
	return mean, ss / float64(c-1), c
}
