// Package teacherrows computes the rows of the paper's Fig. 1b on one test session: the
// ensemble teacher (internal/ensemblefit: the ResNet50 trunk, each member's embeddings, one ridge
// regression per member, predictions averaged) and task-driven networks (their flattened output,
// one ridge regression), each under two protocols, scored per neuron with eval
// (reference/upstream.md §5.3, §6, §7); and their factorized rows (FactorizedSession), one
// factorized mapping per member and per task-driven network, each fitted as its own unit of work
// (so that a caller can cache and shard them) and assembled per model afterwards.
//
// A unit's fit keeps its predictions after every epoch (float32: epochs × neurons × the
// validation block and evaluation half), tens of MB per member and session with the ensemble's
// 100 epochs, so that the members' predictions are averaged per epoch before the epoch is chosen.
package teacherrows

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/nn"
)

// The protocols of the teacher's rows.
const (
	// Halves fits each mapping on the train half of a test session (images 0…M/2−1) and
	// scores it on the evaluation half (M/2…M−1), the split of every other accuracy of the
	// suite (reference/upstream.md §5.1).
	Halves = "halves"
	// Script2 is upstream script2's own: ridge with alpha Script2Alpha fitted on images
	// 0…M−Script2Held−1 and scored on the last Script2Held images (reference/upstream.md §5.3).
	Script2 = "script2"
)

// Script2Alpha and Script2Held are script2's ridge penalty and number of held-out last images.
const (
	Script2Alpha = 100.0
	Script2Held  = 100
)

// alphaMin and alphaMax bracket choose_alpha's search (its defaults, reference/upstream.md §7).
const alphaMin, alphaMax = 1e-5, 1e5

// Ensemble names the ensemble teacher's rows.
const Ensemble = "ensemble"

// Alpha rules of the halves protocol.
const (
	RuleChooseAlpha = "choose_alpha"    // choose_alpha on the train half's raw repeats
	RuleDefault     = "default_formula" // without raw repeats: each member's default alpha
)

// SessionInput is what the teacher's rows need of one test session: its M images (uint8 RGB,
// size×size, NHWC) and the responses to all of them (Lo 0, Hi M; raw repeats when present).
type SessionInput struct {
	Session string
	Pix     []uint8
	N, Size int
	Resp    *eval.Responses
}

// TaskNet is a task-driven network whose flattened output a ridge regression maps to neurons.
type TaskNet struct {
	Name string // "ResNet50", "VGG19"
	Net  *nn.GraphNet
	// Trunk says that Net is the teacher's trunk, whose features are computed once for both.
	Trunk bool
}

// Nets are the networks of the teacher's rows: the teacher, and the task-driven networks
// whose weight files are present (ResNet50 is the teacher's trunk).
type Nets struct {
	Teacher *ensemblefit.Teacher
	Task    []TaskNet
}

// RowFit is one model's scores on one session under both protocols.
type RowFit struct {
	Model string
	// Alphas are the halves protocol's ridge alphas (one per ensemble member, all equal with
	// choose_alpha; one for a task-driven network), chosen by Rule.
	Alphas []float64
	Rule   string
	// Halves is the accuracy on the evaluation half, Script2 on the last Script2Held images
	// under script2's protocol.
	Halves, Script2 eval.Scores
}

// SessionFit is one session's scores of the teacher's rows: the ensemble first, then each
// task-driven network.
type SessionFit struct {
	Session string
	Models  []*RowFit
	// Eval are the evaluation half's responses (for the compact models' scores on the same
	// neurons).
	Eval *eval.Responses
}

// span returns lo, lo+1, …, hi−1.
func span(lo, hi int) []int {
	s := make([]int, hi-lo)
	for i := range s {
		s[i] = lo + i
	}
	return s
}

// Slice returns the responses to images lo…hi−1 of r (indices relative to r.Lo).
func Slice(r *eval.Responses, lo, hi int) (*eval.Responses, error) {
	if lo < 0 || hi > r.Images() || lo >= hi {
		return nil, fmt.Errorf("session %s: images %d-%d of %d", r.Session, lo, hi, r.Images())
	}
	out := &eval.Responses{Session: r.Session, Lo: r.Lo + lo, Hi: r.Lo + hi, RawMissing: r.RawMissing}
	for _, row := range r.Averaged {
		out.Averaged = append(out.Averaged, row[lo:hi])
	}
	if r.Raw != nil {
		raw, err := r.Raw.Images(lo, hi)
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", r.Session, err)
		}
		out.Raw = &raw
	}
	return out, nil
}

// targets returns the repeat-averaged responses to images, [neuron][k] for images[k].
func targets(r *eval.Responses, images []int) [][]float64 {
	y := make([][]float64, r.Neurons())
	for n, row := range r.Averaged {
		y[n] = make([]float64, len(images))
		for k, i := range images {
			y[n][k] = row[i]
		}
	}
	return y
}

func repeat(x float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = x
	}
	return out
}

// sessionSplit is a session's responses cut for both protocols.
type sessionSplit struct {
	in                    SessionInput
	train, evalRows       []int // halves: images 0…M/2−1, M/2…M−1
	train2, test2         []int // script2: images 0…M−101, M−100…M−1
	trainResp, eval, held *eval.Responses
	yTrain, yTrain2       [][]float64
}

func split(in SessionInput) (*sessionSplit, error) {
	n, half := in.N, in.N/2
	if in.Resp == nil || in.Resp.Lo != 0 || in.Resp.Images() != n {
		return nil, fmt.Errorf("session %s: responses to all %d images are needed", in.Session, n)
	}
	if n <= Script2Held || half < 8 {
		return nil, fmt.Errorf("session %s: %d images, too few to fit on the train half or hold out the last %d", in.Session, n, Script2Held)
	}
	sp := &sessionSplit{in: in, train: span(0, half), evalRows: span(half, n), train2: span(0, n-Script2Held), test2: span(n-Script2Held, n)}
	var err error
	if sp.trainResp, err = Slice(in.Resp, 0, half); err != nil {
		return nil, err
	}
	if sp.eval, err = Slice(in.Resp, half, n); err != nil {
		return nil, err
	}
	if sp.held, err = Slice(in.Resp, n-Script2Held, n); err != nil {
		return nil, err
	}
	sp.yTrain, sp.yTrain2 = targets(in.Resp, sp.train), targets(in.Resp, sp.train2)
	return sp, nil
}

// fit scores one model whose features are the designs (one per ensemble member, or one) under
// both protocols: halves with alpha by choose_alpha on the train half's raw repeats (images
// 0…M/2−1 unpermuted, as the ensemble class does), or the defaults (each design's default alpha
// for the train half) without raw repeats; script2 with alpha Script2Alpha. The designs'
// predictions are averaged (mapping.EnsemblePredict).
func (sp *sessionSplit) fit(name string, designs []*mapping.Design, defaults []float64) (*RowFit, error) {
	rf := &RowFit{Model: name}
	if sp.trainResp.Raw != nil {
		a, err := mapping.ChooseAlpha(designs, *sp.trainResp.Raw, alphaMin, alphaMax)
		if err != nil {
			return nil, fmt.Errorf("session %s, %s: %w", sp.in.Session, name, err)
		}
		rf.Alphas, rf.Rule = repeat(a, len(designs)), RuleChooseAlpha
	} else {
		rf.Alphas, rf.Rule = defaults, RuleDefault
	}
	pred, err := mapping.EnsemblePredict(designs, sp.train, sp.yTrain, rf.Alphas, sp.evalRows)
	if err != nil {
		return nil, fmt.Errorf("session %s, %s: %w", sp.in.Session, name, err)
	}
	if rf.Halves, err = eval.Score(sp.eval, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if pred, err = mapping.EnsemblePredict(designs, sp.train2, sp.yTrain2, repeat(Script2Alpha, len(designs)), sp.test2); err != nil {
		return nil, fmt.Errorf("session %s, %s (script2): %w", sp.in.Session, name, err)
	}
	if rf.Script2, err = eval.Score(sp.held, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("%s (script2): %w", name, err)
	}
	return rf, nil
}

// fitTask scores a task-driven network's flattened features f (one design).
func (sp *sessionSplit) fitTask(name string, f mapping.Features) (*RowFit, error) {
	d, err := mapping.NewDesign(f)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", sp.in.Session, err)
	}
	a, err := mapping.DefaultAlpha(f, sp.train)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", sp.in.Session, err)
	}
	return sp.fit(name, []*mapping.Design{d}, []float64{a})
}

// FitSession computes the teacher's rows on one session, each under both protocols: NewSession,
// then Session.Ridge.
func FitSession(ctx context.Context, nets Nets, in SessionInput) (*SessionFit, error) {
	s, err := NewSession(nets, in)
	if err != nil {
		return nil, err
	}
	return s.Ridge(ctx)
}

// Ridge computes the session's ridge rows, each under both protocols (fit): the ensemble from
// each member's embeddings of the trunk's features and Design (ensemblefit.Teacher.Designs, one
// ridge per member, predictions averaged); then each task-driven network from its flattened
// output (ResNet50's conv4_block4_out is the trunk's output), one design at a time.
func (s *Session) Ridge(ctx context.Context) (*SessionFit, error) {
	in, sp, t := s.in, s.sp, s.nets.Teacher
	feats, err := s.trunkFeatures()
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	designs, defaults, err := t.Designs(feats, in.N, sp.train)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	sf := &SessionFit{Session: in.Session, Eval: sp.eval}
	rf, err := sp.fit(Ensemble, designs, defaults)
	if err != nil {
		return nil, err
	}
	sf.Models = append(sf.Models, rf)
	for _, tn := range s.nets.Task {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f, err := s.taskFeatures(tn)
		if err != nil {
			return nil, err
		}
		rf, err := sp.fitTask(tn.Name, f)
		if err != nil {
			return nil, err
		}
		sf.Models = append(sf.Models, rf)
	}
	return sf, nil
}
