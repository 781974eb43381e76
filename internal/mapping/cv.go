package mapping

import (
	"fmt"
	"math"

	"compactv4/internal/metrics"
	"compactv4/internal/nprand"
)

// numFolds is the number of cross-validation folds upstream uses.
const numFolds = 8

// cvSeed seeds numpy's global random state before the ensemble cross-validation permutes the
// images (np.random.seed(314159)).
const cvSeed = 314159

// Auto, as a ridge alpha, selects DefaultAlpha, computed for each fit's training images.
const Auto = -1.0

// droppedTail is how many trailing positions upstream leaves out of every cross-validated r²_ER
// ([:, :-4]).
const droppedTail = 4

// A Fold lists positions (not images) of one cross-validation fold.
type Fold struct {
	Train, Val, Test []int
}

// Folds returns upstream's folds over m positions (reference/upstream.md §7): q = ⌊m/8⌋; fold f
// tests [f·q, (f+1)·q), validates [m−(f+1)·q, m−f·q) and trains on the rest of [0, 8q).
func Folds(m int) ([]Fold, error) {
	q := m / numFolds
	if q < 1 || m <= droppedTail {
		return nil, fmt.Errorf("cross-validation over %d images: need at least %d: %w", m, max(numFolds, droppedTail+1), ErrInput)
	}
	folds := make([]Fold, numFolds)
	for f := range folds {
		fo := &folds[f]
		fo.Test = span(f*q, (f+1)*q)
		fo.Val = span(m-(f+1)*q, m-f*q)
		out := make(map[int]bool, 2*q)
		for _, p := range fo.Test {
			out[p] = true
		}
		for _, p := range fo.Val {
			out[p] = true
		}
		for p := range numFolds * q {
			if !out[p] {
				fo.Train = append(fo.Train, p)
			}
		}
	}
	return folds, nil
}

func span(lo, hi int) []int {
	s := make([]int, hi-lo)
	for i := range s {
		s[i] = lo + i
	}
	return s
}

// at maps positions to images through perm (nil: the identity).
func at(perm, pos []int) []int {
	if perm == nil {
		return pos
	}
	out := make([]int, len(pos))
	for i, p := range pos {
		out[i] = perm[p]
	}
	return out
}

// selectRaw returns raw's responses to images (image images[k] at position k).
func selectRaw(raw metrics.Raw, images []int) metrics.Raw {
	out := metrics.Raw{N: raw.N, M: len(images), R: raw.R, Data: make([]float64, 0, raw.N*len(images)*raw.R)}
	for n := range raw.N {
		for _, i := range images {
			out.Data = append(out.Data, raw.Data[(n*raw.M+i)*raw.R:(n*raw.M+i+1)*raw.R]...)
		}
	}
	return out
}

// targets returns means[n][images[k]] (the repeat-averaged training targets).
func targets(means [][]float64, images []int) [][]float64 {
	y := make([][]float64, len(means))
	for n, row := range means {
		y[n] = make([]float64, len(images))
		for k, i := range images {
			y[n][k] = row[i]
		}
	}
	return y
}

// CVResult is what a cross-validation returns: per neuron, the r²_ER of the assembled test
// predictions (the result) and of the validation predictions (which upstream prints), both over
// all positions but the last droppedTail.
type CVResult struct {
	Test, Val []float64
	// Alphas[f][i] is the alpha of member i in fold f (the default ones differ).
	Alphas [][]float64
}

// CrossValidate is upstream's perform_cross_validation_for_ensemble (reference/upstream.md §7)
// for r²_ER: the images are permuted by np.random.seed(cvSeed); np.random.permutation(M); for
// each fold each member gets its own ridge regression (alpha, or with Auto the default of its
// features and the fold's training images) on the repeat-averaged responses; the members'
// predictions are averaged and written into full-length validation and test arrays (zeros where
// no fold wrote); r²_ER compares them with the permuted raw responses on all positions but the
// last droppedTail. A single feature set is an ensemble of one (upstream's
// perform_cross_validation draws its permutation without a seed; this one uses cvSeed).
//
// member(i) returns member i's features of the M images (in the order of raw); members are
// requested one at a time, so only one member's features need be in memory.
func CrossValidate(members int, member func(i int) (Features, error), raw metrics.Raw, alpha float64) (CVResult, error) {
	var res CVResult
	if err := raw.Validate(); err != nil {
		return res, fmt.Errorf("cross-validation: %w", err)
	}
	if members < 1 {
		return res, fmt.Errorf("cross-validation with %d members: %w", members, ErrInput)
	}
	if math.IsNaN(alpha) || math.IsInf(alpha, 0) || (alpha < 0 && alpha != Auto) {
		return res, fmt.Errorf("cross-validation: ridge alpha %v: %w", alpha, ErrInput)
	}
	m := raw.M
	folds, err := Folds(m)
	if err != nil {
		return res, err
	}
	perm := nprand.New(cvSeed).Permutation(m)
	means := raw.Means()
	valHat, testHat := zeros(raw.N, m), zeros(raw.N, m)
	res.Alphas = make([][]float64, numFolds)
	for i := range members {
		f, err := member(i)
		if err != nil {
			return res, fmt.Errorf("cross-validation, member %d: %w", i, err)
		}
		if f.N != m {
			return res, fmt.Errorf("cross-validation, member %d: features %s of %d images for responses to %d: %w", i, f.Name, f.N, m, ErrInput)
		}
		d, err := NewDesign(f)
		if err != nil {
			return res, fmt.Errorf("cross-validation, member %d: %w", i, err)
		}
		for fi, fo := range folds {
			train := at(perm, fo.Train)
			a := alpha
			if a == Auto {
				a = defaultAlpha(f, train) // f checked by NewDesign, train a fold of its images
			}
			res.Alphas[fi] = append(res.Alphas[fi], a)
			fit, err := d.Fit(train, targets(means, train), a)
			if err != nil {
				return res, fmt.Errorf("cross-validation, member %d, fold %d: %w", i, fi, err)
			}
			if err := addPredictions(fit, perm, fo.Val, valHat); err != nil {
				return res, err
			}
			if err := addPredictions(fit, perm, fo.Test, testHat); err != nil {
				return res, err
			}
		}
	}
	for _, hat := range [][][]float64{valHat, testHat} {
		for _, row := range hat {
			for k := range row {
				row[k] /= float64(members)
			}
		}
	}
	praw := selectRaw(raw, perm[:m-droppedTail])
	if res.Val, err = metrics.R2ER(praw, cut(valHat, m-droppedTail), metrics.R2EROptions{}); err != nil {
		return res, fmt.Errorf("cross-validation: %w", err)
	}
	if res.Test, err = metrics.R2ER(praw, cut(testHat, m-droppedTail), metrics.R2EROptions{}); err != nil {
		return res, fmt.Errorf("cross-validation: %w", err)
	}
	return res, nil
}

// addPredictions adds fit's predictions for the images at positions pos to hat[n][pos].
func addPredictions(fit *Fit, perm, pos []int, hat [][]float64) error {
	pred, err := fit.Predict(at(perm, pos))
	if err != nil {
		return err
	}
	for n, row := range pred {
		for k, v := range row {
			hat[n][pos[k]] += v
		}
	}
	return nil
}

func zeros(n, m int) [][]float64 {
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, m)
	}
	return out
}

func cut(x [][]float64, m int) [][]float64 {
	out := make([][]float64, len(x))
	for i, row := range x {
		out[i] = row[:m]
	}
	return out
}

// EnsemblePredict fits one ridge regression per member design on the images train (targets
// y[n][k] for image train[k], alphas[i] for member i) and returns the members' average
// prediction for the images rows, as upstream's get_ensemble_predictions.
func EnsemblePredict(members []*Design, train []int, y [][]float64, alphas []float64, rows []int) ([][]float64, error) {
	if len(members) == 0 || len(alphas) != len(members) {
		return nil, fmt.Errorf("ensemble prediction with %d members and %d alphas: %w", len(members), len(alphas), ErrInput)
	}
	var sum [][]float64
	for i, d := range members {
		fit, err := d.Fit(train, y, alphas[i])
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		pred, err := fit.Predict(rows)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		if sum == nil {
			sum = zeros(len(pred), len(rows))
		}
		for n, row := range pred {
			for k, v := range row {
				sum[n][k] += v
			}
		}
	}
	for _, row := range sum {
		for k := range row {
			row[k] /= float64(len(members))
		}
	}
	return sum, nil
}

// chooseAlphaSteps is the number of refinement steps of choose_alpha.
const chooseAlphaSteps = 10

// ChooseAlpha is upstream's choose_alpha of the ensemble ridge class (reference/upstream.md §7):
// on fold 1 of the unpermuted images, it scores an alpha by the mean over neurons of the
// validation r²_ER of the members' averaged ridge predictions, and narrows [lo, hi] by
// chooseAlphaSteps steps of linear bisection, returning the best of the last bracket (its
// middle on ties). Images 0…M−1 of every member's design are the M images of raw; a design may
// hold more images after them (a fit on some images of a design depends only on those images,
// so the others are ignored).
func ChooseAlpha(members []*Design, raw metrics.Raw, lo, hi float64) (float64, error) {
	if err := raw.Validate(); err != nil {
		return 0, fmt.Errorf("choose alpha: %w", err)
	}
	if !(lo >= 0 && hi >= lo) || math.IsInf(hi, 0) {
		return 0, fmt.Errorf("choose alpha in [%v, %v]: %w", lo, hi, ErrInput)
	}
	for i, d := range members {
		if d.n < raw.M {
			return 0, fmt.Errorf("choose alpha: member %d has %d images, the responses %d: %w", i, d.n, raw.M, ErrInput)
		}
	}
	folds, err := Folds(raw.M)
	if err != nil {
		return 0, err
	}
	fo := folds[1]
	y := targets(raw.Means(), fo.Train)
	valRaw := selectRaw(raw, fo.Val)
	alphas := make([]float64, len(members))
	score := func(alpha float64) (float64, error) {
		for i := range alphas {
			alphas[i] = alpha
		}
		pred, err := EnsemblePredict(members, fo.Train, y, alphas, fo.Val)
		if err != nil {
			return 0, fmt.Errorf("choose alpha %v: %w", alpha, err)
		}
		r2, err := metrics.R2ER(valRaw, pred, metrics.R2EROptions{})
		if err != nil {
			return 0, fmt.Errorf("choose alpha %v: %w", alpha, err)
		}
		return metrics.Mean(r2), nil
	}
	sMin, err := score(lo)
	if err != nil {
		return 0, err
	}
	sMax, err := score(hi)
	if err != nil {
		return 0, err
	}
	mid := lo + (hi-lo)/2
	sMid, err := score(mid)
	if err != nil {
		return 0, err
	}
	for range chooseAlphaSteps {
		switch {
		case sMin > sMid:
			hi, sMax = mid, sMid
			mid = lo + (hi-lo)/2
			if sMid, err = score(mid); err != nil {
				return 0, err
			}
		case sMax > sMid:
			lo, sMin = mid, sMid
			mid = lo + (hi-lo)/2
			if sMid, err = score(mid); err != nil {
				return 0, err
			}
		default:
			left := lo + (mid-lo)/2
			sLeft, err := score(left)
			if err != nil {
				return 0, err
			}
			right := mid + (hi-mid)/2
			sRight, err := score(right)
			if err != nil {
				return 0, err
			}
			switch {
			case sLeft > sMid && sLeft > sRight:
				hi, sMax = mid, sMid
				mid, sMid = left, sLeft
			case sRight > sMid && sRight > sLeft:
				lo, sMin = mid, sMid
				mid, sMid = right, sRight
			default:
				lo, sMin = left, sLeft
				hi, sMax = right, sRight
			}
		}
	}
	switch {
	case sMin > sMid && sMin > sMax:
		return lo, nil
	case sMax > sMid && sMax > sMin:
		return hi, nil
	}
	return mid, nil
}
