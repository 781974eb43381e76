package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// BrainScoreRuns is the number of random split-halves that upstream compute_brain_score
// averages.
const BrainScoreRuns = 50

// validSlots returns, per image, the repeat slots (ascending) that are non-NaN for every neuron.
// Upstream split_responses counts the non-NaN entries k of np.mean(Z, axis=0)[i] (a slot is
// kept only if no neuron is NaN there) and then indexes slots 0…k−1; with trailing NaN padding,
// as in the upstream files, these are the same slots.
func validSlots(raw Raw) [][]int {
	out := make([][]int, raw.M)
	for i := range out {
		for r := 0; r < raw.R; r++ {
			ok := true
			for n := 0; n < raw.N && ok; n++ {
				ok = !math.IsNaN(raw.At(n, i, r))
			}
			if ok {
				out[i] = append(out[i], r)
			}
		}
	}
	return out
}

// drawHalves shuffles a copy of slots into buf (reusing its storage) and returns the two halves:
// the first ⌊k/2⌋ and the next ⌊k/2⌋ slots of the permutation (an odd last one is dropped).
func drawHalves(src rand.Source, slots, buf []int) (a, b, newBuf []int) {
	buf = append(buf[:0], slots...)
	shuffle(src, buf)
	h := len(buf) / 2
	return buf[:h], buf[h : 2*h], buf
}

// SplitRepeats splits the repeats of every image at random into two halves, as one run of
// upstream split_responses does: for each image i (in order), the k_i slots valid for every
// neuron are permuted by a Fisher–Yates shuffle drawn from src (see the package comment), the
// first ⌊k_i/2⌋ slots of the permutation go to a and the next ⌊k_i/2⌋ to b, and an odd last
// slot is dropped. The same split is used for every neuron. Both halves have R′ = max_i ⌊k_i/2⌋
// slots (at least 1), NaN-padded at the end; an image with fewer than two valid repeats has
// none in either half. The means of the halves (Raw.Means) are the responses1/responses2 of
// upstream, and R2ER(b, a.Means(), …) scores one half's mean as a prediction of the other.
//
// Errors: raw fails Validate.
func SplitRepeats(raw Raw, src rand.Source) (a, b Raw, err error) {
	if err := raw.Validate(); err != nil {
		return Raw{}, Raw{}, fmt.Errorf("split repeats: %w", err)
	}
	slots := validSlots(raw)
	rh := 1
	for _, s := range slots {
		rh = max(rh, len(s)/2)
	}
	a = Raw{N: raw.N, M: raw.M, R: rh, Data: make([]float64, raw.N*raw.M*rh)}
	b = Raw{N: raw.N, M: raw.M, R: rh, Data: make([]float64, raw.N*raw.M*rh)}
	for k := range a.Data {
		a.Data[k], b.Data[k] = math.NaN(), math.NaN()
	}
	var buf, ha, hb []int
	for i, s := range slots {
		ha, hb, buf = drawHalves(src, s, buf)
		for n := 0; n < raw.N; n++ {
			za := a.Data[(n*raw.M+i)*rh:]
			zb := b.Data[(n*raw.M+i)*rh:]
			for j := range ha {
				za[j] = raw.At(n, i, ha[j])
				zb[j] = raw.At(n, i, hb[j])
			}
		}
	}
	return a, b, nil
}

// SplitHalfCorrelation returns, per neuron, the split-half correlation of upstream
// compute_brain_score: for each of runs random splits (drawn as in SplitRepeats, runs after
// runs, images in order), ρ_run = Pearson(mean of half 1, mean of half 2) over images;
// rho = the mean of ρ_run over the runs; rhoSB = 2·rho/(1+rho), the Spearman–Brown correction to
// the full number of repeats (the noise ceiling of the brain score).
//
// NaN conventions (upstream's, which uses plain np.mean and np.corrcoef): an image with fewer
// than two repeats valid for all neurons has an empty half whose mean is NaN, which makes every
// neuron's ρ_run NaN; a neuron whose half means are constant has ρ_run = NaN; one NaN run makes
// the mean NaN.
//
// Errors: raw fails Validate, or runs < 1.
func SplitHalfCorrelation(raw Raw, runs int, src rand.Source) (rho, rhoSB []float64, err error) {
	if err := raw.Validate(); err != nil {
		return nil, nil, fmt.Errorf("split-half correlation: %w", err)
	}
	if runs < 1 {
		return nil, nil, fmt.Errorf("split-half correlation: %d runs, need at least 1", runs)
	}
	slots := validSlots(raw)
	m1, m2 := make([][]float64, raw.N), make([][]float64, raw.N)
	for n := range m1 {
		m1[n], m2[n] = make([]float64, raw.M), make([]float64, raw.M)
	}
	rho = make([]float64, raw.N)
	perms := make([][]int, raw.M)
	ha, hb := make([][]int, raw.M), make([][]int, raw.M)
	for range runs {
		// Draw every image's split first (images in order), then average neuron by neuron, which
		// reads the (N, M, R) array sequentially.
		for i, s := range slots {
			ha[i], hb[i], perms[i] = drawHalves(src, s, perms[i])
		}
		for n := range rho {
			for i := range slots {
				m1[n][i] = meanAt(raw, n, i, ha[i])
				m2[n][i] = meanAt(raw, n, i, hb[i])
			}
			rho[n] += pearson(m1[n], m2[n])
		}
	}
	rhoSB = make([]float64, raw.N)
	for n := range rho {
		rho[n] /= float64(runs)
		rhoSB[n] = 2 * rho[n] / (1 + rho[n])
	}
	return rho, rhoSB, nil
}

// meanAt is the plain mean of Z[n][i][r] over the slots r in idx; NaN when idx is empty.
func meanAt(raw Raw, n, i int, idx []int) float64 {
	if len(idx) == 0 {
		return math.NaN()
	}
	z := raw.repeats(n, i)
	s := 0.0
	for _, r := range idx {
		s += z[r]
	}
	return s / float64(len(idx))
}

// BrainScore returns, per neuron, the split-half-normalised score of upstream
// LinearMappingClass.compute_brain_score (after r2_SB_normed of Pospisil's er_est; reference/upstream.md §5.2):
//
//	score = ρ_model² / ρ_SB,   ρ_model = Pearson(ȳ, ŷ),  ȳ_i = nanmean_r Z[n][i][r],
//
// where ρ_SB is the Spearman–Brown-corrected split-half correlation of SplitHalfCorrelation over
// BrainScoreRuns (50) runs drawn from src (for instance NewSource(seed)); the same source state
// gives the same numbers. Note that the denominator is ρ_SB, not ρ_SB² (upstream's choice).
//
// NaN conventions: NaN when the prediction is constant, when some image has no repeat for the
// neuron (ȳ_i NaN), or when ρ_SB is NaN (see SplitHalfCorrelation); when ρ_SB ≤ 0 the score is
// negative or infinite, as upstream.
//
// Errors: raw fails Validate, or pred is not an N×M matrix of finite values.
func BrainScore(raw Raw, pred [][]float64, src rand.Source) ([]float64, error) {
	if err := raw.Validate(); err != nil {
		return nil, fmt.Errorf("brain score: %w", err)
	}
	if err := checkPred(pred, raw.N, raw.M); err != nil {
		return nil, fmt.Errorf("brain score: %w", err)
	}
	ybar := raw.Means()
	_, sb, err := SplitHalfCorrelation(raw, BrainScoreRuns, src)
	if err != nil {
		return nil, fmt.Errorf("brain score: %w", err)
	}
	out := make([]float64, raw.N)
	for n := range out {
		r := pearson(ybar[n], pred[n])
		out[n] = r * r / sb[n]
	}
	return out, nil
}
