package teacherrows

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/internal/ensemble"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/imagenet"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

// Early-stopping rules of the factorized rows: the epoch is chosen by the validation block's
// r²_ER (upstream's) where the session's raw repeats exist, else by its r² against the
// repeat-averaged responses.
const (
	RuleStopR2ER = "early_stopping_r2er"
	RuleStopR2   = "early_stopping_r2"
)

// FactorizedUnit is one factorized fit of a session, the unit of work that a run caches and
// shards: ensemble member Member of the teacher (Model Ensemble), or a task-driven network (Model
// its name, Member −1).
type FactorizedUnit struct {
	Model  string
	Member int
}

// String names the unit in logs and cache steps.
func (u FactorizedUnit) String() string {
	if u.Model == Ensemble {
		return fmt.Sprintf("%s/member%d", Ensemble, u.Member)
	}
	return u.Model
}

// FactorizedUnits are the factorized fits of one session of nets, in order: each ensemble
// member, then each task-driven network.
func FactorizedUnits(nets Nets) []FactorizedUnit {
	var out []FactorizedUnit
	for i := range nets.Teacher.Members {
		out = append(out, FactorizedUnit{Model: Ensemble, Member: i})
	}
	for _, t := range nets.Task {
		out = append(out, FactorizedUnit{Model: t.Name, Member: -1})
	}
	return out
}

// FactorizedSplit returns the images of the factorized mapping under the halves protocol for a
// session of n images: the train half 0…n/2−1 split into training images and a validation block
// of its last ⌊(n/2)/8⌋ images (the validation block of fold 0 of upstream's 8 folds, unshuffled,
// as perform_one_fold_with_early_stopping takes it), which chooses the epoch; the test images
// are the evaluation half n/2…n−1, which plays no part in the fit.
func FactorizedSplit(n int) (train, val, test []int) {
	half := n / 2
	q := half / 8
	return span(0, half-q), span(half-q, half), span(half, n)
}

// FactorizedFit is one unit's trained factorized mapping: its predictions of the validation
// block and the evaluation half after every epoch ([epoch][neuron][image], float32, in the units
// of its training targets: z-scored per neuron for the ensemble). A model's epoch is chosen on
// its units' averaged predictions (AssembleFactorized).
type FactorizedFit struct {
	Unit                FactorizedUnit
	EpochVal, EpochTest [][][]float32
}

// Session computes the rows of one session: its ridge rows (Ridge) and its factorized units
// (Fit, then AssembleFactorized). The features they need are computed on first use and kept for
// the others: the trunk's (for the members and ResNet50), and each other task-driven network's.
type Session struct {
	nets  Nets
	in    SessionInput
	sp    *sessionSplit
	trunk []float32
	val   *eval.Responses // the factorized mapping's validation block's responses
	task  map[string][]float32
}

// NewSession prepares the rows of the session in.
func NewSession(nets Nets, in SessionInput) (*Session, error) {
	sp, err := split(in)
	if err != nil {
		return nil, err
	}
	_, val, _ := FactorizedSplit(in.N)
	v, err := Slice(in.Resp, val[0], val[len(val)-1]+1)
	if err != nil {
		return nil, err
	}
	return &Session{nets: nets, in: in, sp: sp, val: v, task: map[string][]float32{}}, nil
}

// trunkFeatures returns the trunk's features of the session's images.
func (s *Session) trunkFeatures() ([]float32, error) {
	if s.trunk == nil {
		feats, err := s.nets.Teacher.TrunkFeatures(s.in.Pix, s.in.N, s.in.Size)
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", s.in.Session, err)
		}
		s.trunk = feats
	}
	return s.trunk, nil
}

// taskFeatures returns a task-driven network's flattened output for the session's images.
func (s *Session) taskFeatures(tn TaskNet) (mapping.Features, error) {
	x := s.task[tn.Name]
	if tn.Trunk {
		var err error
		if x, err = s.trunkFeatures(); err != nil {
			return mapping.Features{}, err
		}
	} else if x == nil {
		var err error
		if x, err = imagenet.Features(tn.Net, s.in.Pix, s.in.N, s.in.Size, ensemblefit.DefaultBatch); err != nil {
			return mapping.Features{}, fmt.Errorf("session %s, %s: %w", s.in.Session, tn.Name, err)
		}
		s.task[tn.Name] = x
	}
	return mapping.Features{N: s.in.N, P: tn.Net.Outputs(), X: x, Name: tn.Name + " output"}, nil
}

// features returns unit u's features of the session's images and their shape.
func (s *Session) features(u FactorizedUnit) (mapping.Features, model.Shape, error) {
	t := s.nets.Teacher
	if u.Model == Ensemble {
		if u.Member < 0 || u.Member >= len(t.Members) {
			return mapping.Features{}, model.Shape{}, fmt.Errorf("session %s: no ensemble member %d of %d", s.in.Session, u.Member, len(t.Members))
		}
		sh, err := t.Members[u.Member].LayerShape(ensemble.EmbeddingLayer)
		if err != nil {
			return mapping.Features{}, model.Shape{}, fmt.Errorf("session %s, member %d: %w", s.in.Session, u.Member, err)
		}
		feats, err := s.trunkFeatures()
		if err != nil {
			return mapping.Features{}, model.Shape{}, err
		}
		f, err := t.Embeddings(u.Member, feats, s.in.N)
		return f, sh, err
	}
	for _, tn := range s.nets.Task {
		if tn.Name == u.Model {
			f, err := s.taskFeatures(tn)
			return f, tn.Net.OutputShape(), err
		}
	}
	return mapping.Features{}, model.Shape{}, fmt.Errorf("session %s: no network %s", s.in.Session, u.Model)
}

// Fit trains unit u's factorized mapping (mapping.TrainFactorizedEpochs with opts, one member)
// on the training images of FactorizedSplit to the repeat-averaged responses, and returns its
// predictions of the validation block and the evaluation half after every epoch.
func (s *Session) Fit(ctx context.Context, u FactorizedUnit, opts mapping.FactorizedOptions) (*FactorizedFit, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, sh, err := s.features(u)
	if err != nil {
		return nil, err
	}
	train, val, test := FactorizedSplit(s.in.N)
	one := func(int) (mapping.Features, error) { return f, nil }
	fr, err := mapping.TrainFactorizedEpochs(1, one, sh.H, sh.W, sh.C, train, val, test, targets(s.in.Resp, train), opts)
	if err != nil {
		return nil, fmt.Errorf("session %s, %s: %w", s.in.Session, u, err)
	}
	ff := &FactorizedFit{Unit: u}
	for e := range fr.EpochVal {
		ff.EpochVal = append(ff.EpochVal, float32s(fr.EpochVal[e]))
		ff.EpochTest = append(ff.EpochTest, float32s(fr.EpochTest[e]))
	}
	return ff, nil
}

func float32s(x [][]float64) [][]float32 {
	out := make([][]float32, len(x))
	for i, row := range x {
		out[i] = make([]float32, len(row))
		for j, v := range row {
			out[i][j] = float32(v)
		}
	}
	return out
}

// FactorizedRow is one model's factorized row on one session, under the halves protocol.
type FactorizedRow struct {
	Model string
	// Best is the chosen epoch, by Rule; Scores[e] the validation score after epoch e.
	Best   int
	Rule   string
	Scores []float64
	Halves eval.Scores
}

// AssembleFactorized makes one model's row from its units' fits (one per ensemble member, or
// one): the predictions of each epoch are averaged over the units (upstream's per-epoch sums
// divided by the members), the epoch with the highest validation score is chosen (the first of
// ties; the score is opts.Score of the validation block's per-neuron r²_ER where the raw repeats
// exist, else of its r² against the repeat-averaged responses), and its predictions of the
// evaluation half are scored with eval (r and r² against the repeat-averaged responses and
// r²_ER, all unchanged by the z-scoring of the ensemble's targets, an affine map per neuron).
func (s *Session) AssembleFactorized(model string, fits []*FactorizedFit, opts mapping.FactorizedOptions) (*FactorizedRow, error) {
	if len(fits) == 0 {
		return nil, fmt.Errorf("session %s, %s: no factorized fits", s.in.Session, model)
	}
	epochs := len(fits[0].EpochVal)
	for _, f := range fits {
		if len(f.EpochVal) != epochs || len(f.EpochTest) != epochs || f.Unit.Model != model {
			return nil, fmt.Errorf("session %s, %s: fit of %s with %d epochs among fits of %d", s.in.Session, model, f.Unit, len(f.EpochVal), epochs)
		}
	}
	avg := func(e int, test bool) [][]float64 {
		var out [][]float64
		for _, f := range fits {
			p := f.EpochVal[e]
			if test {
				p = f.EpochTest[e]
			}
			out = addInto(out, p)
		}
		for _, row := range out {
			for k := range row {
				row[k] /= float64(len(fits))
			}
		}
		return out
	}
	row := &FactorizedRow{Model: model, Rule: RuleStopR2}
	if s.val.Raw != nil {
		row.Rule = RuleStopR2ER
	}
	var err error
	row.Scores, row.Best, _, err = opts.ChooseEpoch(epochs, func(e int) ([]float64, error) {
		var r2 []float64
		var err error
		if s.val.Raw != nil {
			r2, err = metrics.R2ER(*s.val.Raw, avg(e, false), metrics.R2EROptions{})
		} else {
			r2, err = metrics.R2Rows(avg(e, false), s.val.Averaged)
		}
		if err != nil {
			return nil, fmt.Errorf("session %s, %s, epoch %d: %w", s.in.Session, model, e, err)
		}
		return r2, nil
	})
	if err != nil {
		return nil, err
	}
	if row.Halves, err = eval.Score(s.sp.eval, avg(row.Best, true), metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("%s (factorized): %w", model, err)
	}
	return row, nil
}

// addInto adds b (converted to float64) to a, allocated like b when nil, and returns a.
func addInto(a [][]float64, b [][]float32) [][]float64 {
	if a == nil {
		a = make([][]float64, len(b))
		for n := range a {
			a[n] = make([]float64, len(b[n]))
		}
	}
	for n, row := range b {
		for k, v := range row {
			a[n][k] += float64(v)
		}
	}
	return a
}
