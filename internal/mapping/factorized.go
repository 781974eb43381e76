package mapping

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"

	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/nprand"
)

// FactorizedOptions are the hyper-parameters of the factorized ("two-stage") mapping
// (reference/upstream.md §7).
type FactorizedOptions struct {
	LambdaMix, LambdaSpatial float64 // Keras L2 factors of the mixing and spatial kernels
	Epochs                   int     // upstream "epochs" (num_epochs_total), each scored for early stopping
	KerasEpochs              int     // passes over the training images per upstream epoch (fit(epochs=10))
	LearningRate             float64 // Adam's
	ClipValue                float64 // Adam's element-wise gradient clipping
	Batch                    int
	SVDInit                  bool    // initialise the kernels from a ridge fit's rank-1 SVD
	AlphaRidge               float64 // that ridge fit's alpha
	BiasInit                 bool    // spatial bias = mean training target per neuron
	ZScore                   bool    // z-score the targets per neuron over the training images
	MedianScore              bool    // early stopping on the median (not mean) validation r²_ER
	Seed                     uint64  // initial weights and batch order
}

// Score is the early-stopping score of an epoch's validation r²_ER: their mean, or their median
// with MedianScore.
func (o FactorizedOptions) Score(r2 []float64) float64 {
	if o.MedianScore {
		return metrics.Median(r2)
	}
	return metrics.Mean(r2)
}

// ChooseEpoch is the early stopping's choice among epochs 0…epochs−1: each epoch's score is
// o.Score of the per-neuron values r2 gives for it, and the epoch of the highest score (the first
// of ties) is chosen. It returns every score, the chosen epoch and its per-neuron values.
func (o FactorizedOptions) ChooseEpoch(epochs int, r2 func(e int) ([]float64, error)) (scores []float64, best int, bestR2 []float64, err error) {
	best = -1
	for e := range epochs {
		v, err := r2(e)
		if err != nil {
			return nil, -1, nil, err
		}
		scores = append(scores, o.Score(v))
		if best < 0 || scores[e] > scores[best] {
			best, bestR2 = e, v
		}
	}
	return scores, best, bestR2, nil
}

// TaskDrivenDefaults are the defaults of upstream's factorized and task-driven mapping classes
// (class_linear_mapping_factorized_sgd, class_linear_mapping_taskdrivenmodels).
func TaskDrivenDefaults() FactorizedOptions {
	return FactorizedOptions{LambdaMix: 0.01, LambdaSpatial: 0.01, Epochs: 50, KerasEpochs: 10,
		LearningRate: 0.1, ClipValue: 0.5, Batch: 64, AlphaRidge: 1, BiasInit: true, Seed: cvSeed}
}

// EnsembleDefaults are the defaults of upstream's ensemble factorized mapping class
// (class_linear_mapping_ensemble_factorized_sgd), which chooses its epoch by the median
// validation r²_ER.
func EnsembleDefaults() FactorizedOptions {
	return FactorizedOptions{LambdaMix: 1e-4, LambdaSpatial: 0.01, Epochs: 100, KerasEpochs: 10,
		LearningRate: 1e-5, ClipValue: 0.5, Batch: 64, SVDInit: true, AlphaRidge: 60000,
		ZScore: true, MedianScore: true, Seed: cvSeed}
}

func (o FactorizedOptions) check() error {
	ok := o.LambdaMix >= 0 && o.LambdaSpatial >= 0 && o.Epochs >= 1 && o.KerasEpochs >= 1 &&
		o.LearningRate > 0 && o.ClipValue >= 0 && o.Batch >= 1 && o.AlphaRidge >= 0 &&
		!math.IsInf(o.LambdaMix+o.LambdaSpatial+o.LearningRate+o.ClipValue+o.AlphaRidge, 0)
	if !ok {
		return fmt.Errorf("factorized mapping options %+v: %w", o, ErrInput)
	}
	return nil
}

// NewFactorized returns the factorized mapping for features of shape (h, w, c) and n neurons,
// as upstream's initialize_factorized_linear_mapping builds it: mixing_stage Conv2D 1×1 c→n with
// bias, BatchNormalization (Keras defaults), spatial_pool DepthwiseConv2D h×w 'valid' with bias,
// Flatten; weights as Keras initialises them (nn.InitKeras with seed).
func NewFactorized(h, w, c, n int, seed uint64) (*model.Network, error) {
	if h < 1 || w < 1 || c < 1 || n < 1 {
		return nil, fmt.Errorf("factorized mapping of (%d, %d, %d) features to %d neurons: %w", h, w, c, n, ErrInput)
	}
	net := &model.Network{Name: "factorized_mapping", Input: [3]int{h, w, c}, Layers: []model.Layer{
		{Name: "mixing_stage", Class: model.Conv2D, Filters: n, Kernel: [2]int{1, 1}, Strides: [2]int{1, 1},
			Padding: model.PaddingValid, Activation: model.Linear, UseBias: true,
			Weights: []model.Tensor{model.NewTensor(1, 1, c, n), model.NewTensor(n)}},
		{Name: "batch_normalization", Class: model.BatchNormalization, Epsilon: model.BNEpsilon, Momentum: model.BNMomentum,
			Weights: []model.Tensor{model.NewTensor(n), model.NewTensor(n), model.NewTensor(n), model.NewTensor(n)}},
		{Name: "spatial_pool", Class: model.DepthwiseConv2D, Kernel: [2]int{h, w}, Strides: [2]int{1, 1},
			Padding: model.PaddingValid, DepthMultiplier: 1, Activation: model.Linear, UseBias: true,
			Weights: []model.Tensor{model.NewTensor(h, w, n, 1), model.NewTensor(n)}},
		{Name: "flatten", Class: model.Flatten},
	}}
	if err := nn.InitKeras(net, seed); err != nil {
		return nil, fmt.Errorf("factorized mapping: %w", err)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("factorized mapping: %w", err)
	}
	return net, nil
}

// Coef returns the fit's coefficients coef[n][j] of neuron n and feature j (scikit-learn's
// coef_), given the features f the design was built from.
func (fit *Fit) Coef(f Features) ([][]float64, error) {
	d := fit.d
	if f.N != d.n || f.P != d.p {
		return nil, fmt.Errorf("features %s: coefficients need the design's %d×%d features, got %d×%d: %w", d.name, d.n, d.p, f.N, f.P, ErrInput)
	}
	coef := make([][]float64, len(fit.ybar))
	if fit.w != nil {
		for n := range coef {
			coef[n] = make([]float64, d.p)
			for j := range coef[n] {
				coef[n][j] = fit.w.At(j, n)
			}
		}
		return coef, nil
	}
	t := float64(len(fit.train))
	xbar := make([]float64, d.p)
	for _, a := range fit.train {
		for j, v := range f.X[a*d.p : a*d.p+d.p] {
			xbar[j] += float64(v)
		}
	}
	for j := range xbar {
		xbar[j] /= t
	}
	for n := range coef {
		coef[n] = make([]float64, d.p)
		for k, a := range fit.train {
			c := fit.dual.At(k, n)
			for j, v := range f.X[a*d.p : a*d.p+d.p] {
				coef[n][j] += (float64(v) - xbar[j]) * c
			}
		}
	}
	return coef, nil
}

// SVDInit sets net's mixing and spatial kernels as upstream's initialize_with_svd_Betas does:
// each neuron's ridge coefficients coef[n] (h·w·c, NHWC order) reshaped to (h·w, c), whose SVD
// U·S·Vᵀ gives the spatial kernel U[:,0]·√S₀ and the mixing weights V[:,0]·√S₀. Biases and
// batchnorm are left as they are.
func SVDInit(net *model.Network, coef [][]float64) error {
	h, w, c := net.Input[0], net.Input[1], net.Input[2]
	mix, pool := net.Layer("mixing_stage"), net.Layer("spatial_pool")
	if mix == nil || pool == nil {
		return fmt.Errorf("SVD initialisation: %s is not a factorized mapping: %w", net.Name, ErrInput)
	}
	nn := mix.Filters
	if len(coef) != nn {
		return fmt.Errorf("SVD initialisation: %d coefficient rows for %d neurons: %w", len(coef), nn, ErrInput)
	}
	for n, row := range coef {
		if len(row) != h*w*c {
			return fmt.Errorf("SVD initialisation: neuron %d has %d coefficients for %d features: %w", n, len(row), h*w*c, ErrInput)
		}
		var svd mat.SVD
		if !svd.Factorize(mat.NewDense(h*w, c, slices.Clone(row)), mat.SVDThin) {
			return fmt.Errorf("SVD initialisation: neuron %d: SVD did not converge: %w", n, ErrInput)
		}
		s := math.Sqrt(svd.Values(nil)[0])
		var u, v mat.Dense
		svd.UTo(&u)
		svd.VTo(&v)
		for p := range h * w {
			pool.Weights[0].Data[p*nn+n] = float32(u.At(p, 0) * s)
		}
		for k := range c {
			mix.Weights[0].Data[k*nn+n] = float32(v.At(k, 0) * s)
		}
	}
	return nil
}

// FactorizedResult is a trained factorized mapping with early stopping.
type FactorizedResult struct {
	// Scores[e] is the validation score (mean or median r²_ER) after upstream epoch e.
	Scores []float64
	// Best is the epoch with the highest score (the first of ties); Val and Test are its
	// predictions ([neuron][image], in the units of the targets), averaged over the members.
	Best      int
	Val, Test [][]float64
	// Network holds the weights after the last epoch of the last member, and EpochNetworks[e]
	// those after epoch e of the last member (for one member, the mapping of epoch e).
	Network       *model.Network
	EpochNetworks []*model.Network
	// EpochVal[e] and EpochTest[e] are the predictions after epoch e, averaged over the members.
	EpochVal, EpochTest [][][]float64
}

// TrainFactorized trains the factorized mapping on images train of f (shape h×w×c per image)
// to targets y[n][k] (image train[k]) as upstream's train_with_early_stopping does: it is
// TrainFactorizedEnsemble with one member.
func TrainFactorized(f Features, h, w, c int, train, val, test []int, y [][]float64, rawVal metrics.Raw, opts FactorizedOptions) (*FactorizedResult, error) {
	return TrainFactorizedEnsemble(1, func(int) (Features, error) { return f, nil }, h, w, c, train, val, test, y, rawVal, opts)
}

// TrainFactorizedEnsemble trains one factorized mapping carried across the members of an
// ensemble, as upstream's perform_cross_validation_with_early_stopping_for_ensemble does for one
// fold (reference/upstream.md §7). The mapping is built once (Keras initialisation from
// opts.Seed; spatial bias set to the mean target with opts.BiasInit); then for each member in
// turn: optional SVD initialisation of the two kernels from a ridge fit (alpha opts.AlphaRidge)
// on that member's features, biases, batchnorm and Adam's state carrying over from the previous
// member; opts.Epochs rounds of opts.KerasEpochs shuffled passes of Adam steps on batches of
// opts.Batch (MSE plus the L2 terms), each round's predictions for the val and test images
// (batchnorm in inference mode) added to that round's sums. The sums are divided by the number
// of members, each round's validation r²_ER against rawVal (responses to the val images) is
// scored by its mean or median over neurons, and the best round is returned. Targets are
// z-scored per neuron over the training images with opts.ZScore. member(i) returns member i's
// features of all images; members are requested one at a time. Keras' random numbers cannot be
// reproduced: the initial weights and batch orders come from opts.Seed.
func TrainFactorizedEnsemble(members int, member func(i int) (Features, error), h, w, c int, train, val, test []int, y [][]float64, rawVal metrics.Raw, opts FactorizedOptions) (*FactorizedResult, error) {
	if rawVal.M != len(val) || rawVal.N != len(y) {
		return nil, fmt.Errorf("factorized mapping: validation responses of %d neurons × %d images for %d neurons × %d images: %w", rawVal.N, rawVal.M, len(y), len(val), ErrInput)
	}
	res, err := TrainFactorizedEpochs(members, member, h, w, c, train, val, test, y, opts)
	if err != nil {
		return nil, err
	}
	res.Scores, res.Best, _, err = opts.ChooseEpoch(opts.Epochs, func(e int) ([]float64, error) {
		r2, err := metrics.R2ER(rawVal, res.EpochVal[e], metrics.R2EROptions{})
		if err != nil {
			return nil, fmt.Errorf("factorized mapping, epoch %d: %w", e, err)
		}
		return r2, nil
	})
	if err != nil {
		return nil, err
	}
	res.Val, res.Test = res.EpochVal[res.Best], res.EpochTest[res.Best]
	return res, nil
}

// TrainFactorizedEpochs is TrainFactorizedEnsemble without the early stopping: it returns the
// predictions after every epoch, averaged over the members (EpochVal, EpochTest) and the
// network, with no Scores, Best -1 and no Val or Test, for a caller that chooses the epoch
// itself.
func TrainFactorizedEpochs(members int, member func(i int) (Features, error), h, w, c int, train, val, test []int, y [][]float64, opts FactorizedOptions) (*FactorizedResult, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if members < 1 {
		return nil, fmt.Errorf("factorized mapping of %d members: %w", members, ErrInput)
	}
	nn0 := len(y)
	if nn0 == 0 {
		return nil, fmt.Errorf("factorized mapping without neurons: %w", ErrInput)
	}
	targetsY := make([][]float64, nn0)
	for n, row := range y {
		if len(row) != len(train) {
			return nil, fmt.Errorf("factorized mapping: neuron %d has %d targets for %d training images: %w", n, len(row), len(train), ErrInput)
		}
		targetsY[n] = slices.Clone(row)
		if opts.ZScore {
			mu, sd := metrics.Mean(row), 0.0
			for _, v := range row {
				sd += (v - mu) * (v - mu)
			}
			sd = math.Sqrt(sd / float64(len(row)))
			if !(sd > 0) {
				return nil, fmt.Errorf("factorized mapping: neuron %d has constant training targets, which cannot be z-scored: %w", n, ErrInput)
			}
			for k, v := range row {
				targetsY[n][k] = (v - mu) / sd
			}
		}
	}
	net, err := NewFactorized(h, w, c, nn0, opts.Seed)
	if err != nil {
		return nil, err
	}
	if opts.BiasInit {
		b := net.Layer("spatial_pool").Weights[1].Data
		for n, row := range targetsY {
			b[n] = float32(metrics.Mean(row))
		}
	}
	valSum := make([][][]float64, opts.Epochs)
	testSum := make([][][]float64, opts.Epochs)
	rng := rand.New(rand.NewPCG(opts.Seed, 0x6d617070))
	var iter int64
	var state [][]float32
	var epochNets []*model.Network
	for i := range members {
		f, err := member(i)
		if err != nil {
			return nil, fmt.Errorf("factorized mapping, member %d: %w", i, err)
		}
		if err := f.check(); err != nil {
			return nil, err
		}
		if h*w*c != f.P {
			return nil, fmt.Errorf("features %s: %d features are not (%d, %d, %d): %w", f.Name, f.P, h, w, c, ErrInput)
		}
		d, err := NewDesign(f)
		if err != nil {
			return nil, err
		}
		for _, rows := range [][]int{train, val, test} {
			if err := d.checkRows("factorized mapping", rows, 0); err != nil {
				return nil, err
			}
		}
		if opts.SVDInit {
			fit, err := d.Fit(train, targetsY, opts.AlphaRidge)
			if err != nil {
				return nil, fmt.Errorf("factorized mapping, member %d, SVD initialisation: %w", i, err)
			}
			coef, err := fit.Coef(f)
			if err != nil {
				return nil, err
			}
			if err := SVDInit(net, coef); err != nil {
				return nil, err
			}
		}
		tr, err := nn.NewTrainer(net, nn.NewAdam(opts.LearningRate, opts.ClipValue))
		if err != nil {
			return nil, fmt.Errorf("factorized mapping: %w", err)
		}
		if state != nil {
			if err := tr.SetOptimizerState(iter, state); err != nil {
				return nil, err
			}
		}
		if err := tr.SetL2("mixing_stage", opts.LambdaMix); err != nil {
			return nil, err
		}
		if err := tr.SetL2("spatial_pool", opts.LambdaSpatial); err != nil {
			return nil, err
		}
		for e := range opts.Epochs {
			if err := trainRound(tr, f, train, targetsY, opts, rng); err != nil {
				return nil, fmt.Errorf("factorized mapping, member %d, epoch %d: %w", i, e, err)
			}
			trained := tr.Network()
			pv, err := PredictFactorized(trained, f, val)
			if err != nil {
				return nil, err
			}
			pt, err := PredictFactorized(trained, f, test)
			if err != nil {
				return nil, err
			}
			valSum[e], testSum[e] = addInto(valSum[e], pv), addInto(testSum[e], pt)
			if i == members-1 {
				epochNets = append(epochNets, trained)
			}
		}
		net = tr.Network()
		iter, state = tr.OptimizerState()
	}
	for e := range opts.Epochs {
		for _, hat := range [][][]float64{valSum[e], testSum[e]} {
			for _, row := range hat {
				for k := range row {
					row[k] /= float64(members)
				}
			}
		}
	}
	return &FactorizedResult{Best: -1, Network: net, EpochNetworks: epochNets, EpochVal: valSum, EpochTest: testSum}, nil
}

// trainRound runs opts.KerasEpochs passes over the training images in shuffled batches.
func trainRound(tr *nn.Trainer, f Features, train []int, y [][]float64, opts FactorizedOptions, rng *rand.Rand) error {
	nn0 := len(y)
	xb := make([]float32, 0, opts.Batch*f.P)
	yb := make([]float32, 0, opts.Batch*nn0)
	for range opts.KerasEpochs {
		order := rng.Perm(len(train))
		for s := 0; s < len(order); s += opts.Batch {
			xb, yb = xb[:0], yb[:0]
			for _, k := range order[s:min(s+opts.Batch, len(order))] {
				xb = append(xb, f.X[train[k]*f.P:(train[k]+1)*f.P]...)
				for n := range nn0 {
					yb = append(yb, float32(y[n][k]))
				}
			}
			if _, err := tr.Step(xb, yb, len(yb)/nn0); err != nil {
				return err
			}
		}
	}
	return nil
}

// addInto adds b to a (allocated like b when nil) and returns a.
func addInto(a, b [][]float64) [][]float64 {
	if a == nil {
		a = make([][]float64, len(b))
		for n := range a {
			a[n] = make([]float64, len(b[n]))
		}
	}
	for n, row := range b {
		for k, v := range row {
			a[n][k] += v
		}
	}
	return a
}

// predictNet returns net's outputs for images rows of f, [neuron][image].
func PredictFactorized(net *model.Network, f Features, rows []int) ([][]float64, error) {
	cn, err := nn.Compile(net)
	if err != nil {
		return nil, fmt.Errorf("factorized mapping: %w", err)
	}
	nout := cn.Outputs()
	out := make([][]float64, nout)
	for n := range out {
		out[n] = make([]float64, len(rows))
	}
	if len(rows) == 0 {
		return out, nil
	}
	x := make([]float32, 0, len(rows)*f.P)
	for _, r := range rows {
		x = append(x, f.X[r*f.P:(r+1)*f.P]...)
	}
	o := make([]float32, len(rows)*nout)
	if err := cn.Forward(x, len(rows), o); err != nil {
		return nil, fmt.Errorf("factorized mapping: %w", err)
	}
	for k := range rows {
		for n := range nout {
			out[n][k] = float64(o[k*nout+n])
		}
	}
	return out, nil
}

// FactorizedCVResult is a cross-validated factorized mapping.
type FactorizedCVResult struct {
	CVResult
	// Scores[e] is the validation score of epoch e over the assembled folds; Best the chosen
	// epoch, whose r²_ER Test and Val hold.
	Scores []float64
	Best   int
}

// CrossValidateFactorized is upstream's perform_cross_validation_with_early_stopping (one member,
// mean score) and its _for_ensemble variant (several members, opts.MedianScore) for r²_ER: the
// images are permuted (np.random.seed(cvSeed); upstream draws the permutation from numpy's
// global state without a seed of its own); for each of the 8 folds (Folds) a fresh mapping is
// trained by TrainFactorizedEnsemble on the fold's training images and its predictions after
// every epoch are written into full-length validation and test arrays; the epoch with the best
// validation score over all positions but the last droppedTail (one epoch for all folds) is
// chosen, and the per-neuron r²_ER of its test (and validation) predictions returned.
func CrossValidateFactorized(members int, member func(i int) (Features, error), h, w, c int, raw metrics.Raw, opts FactorizedOptions) (*FactorizedCVResult, error) {
	if err := raw.Validate(); err != nil {
		return nil, fmt.Errorf("factorized cross-validation: %w", err)
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	m := raw.M
	folds, err := Folds(m)
	if err != nil {
		return nil, err
	}
	perm := nprand.New(cvSeed).Permutation(m)
	means := raw.Means()
	valHat, testHat := make([][][]float64, opts.Epochs), make([][][]float64, opts.Epochs)
	for e := range valHat {
		valHat[e], testHat[e] = zeros(raw.N, m), zeros(raw.N, m)
	}
	for fi, fo := range folds {
		train, val, test := at(perm, fo.Train), at(perm, fo.Val), at(perm, fo.Test)
		fr, err := TrainFactorizedEnsemble(members, member, h, w, c, train, val, test, targets(means, train), selectRaw(raw, val), opts)
		if err != nil {
			return nil, fmt.Errorf("factorized cross-validation, fold %d: %w", fi, err)
		}
		for e := range opts.Epochs {
			for n := range raw.N {
				for k, p := range fo.Val {
					valHat[e][n][p] = fr.EpochVal[e][n][k]
				}
				for k, p := range fo.Test {
					testHat[e][n][p] = fr.EpochTest[e][n][k]
				}
			}
		}
	}
	praw := selectRaw(raw, perm[:m-droppedTail])
	res := &FactorizedCVResult{}
	res.Scores, res.Best, res.Val, err = opts.ChooseEpoch(opts.Epochs, func(e int) ([]float64, error) {
		r2, err := metrics.R2ER(praw, cut(valHat[e], m-droppedTail), metrics.R2EROptions{})
		if err != nil {
			return nil, fmt.Errorf("factorized cross-validation, epoch %d: %w", e, err)
		}
		return r2, nil
	})
	if err != nil {
		return nil, err
	}
	if res.Test, err = metrics.R2ER(praw, cut(testHat[res.Best], m-droppedTail), metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("factorized cross-validation: %w", err)
	}
	return res, nil
}
