package teacherfit

import (
	"context"
	"errors"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/imagenet"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

// The protocols of the teacher's rows.
const (
	// protocolHalves fits each mapping on the train half of a test session (images 0…M/2−1) and
	// scores it on the evaluation half (M/2…M−1), the split of every other accuracy of the
	// suite (reference/upstream.md §5.1).
	protocolHalves = "halves"
	// protocolScript2 is upstream script2's own: ridge with alpha script2Alpha fitted on images
	// 0…M−script2Held−1 and scored on the last script2Held images (reference/upstream.md §5.3).
	protocolScript2 = "script2"
)

// script2Alpha and script2Held are script2's ridge penalty and number of held-out last images.
const (
	script2Alpha = 100.0
	script2Held  = 100
)

// alphaMin and alphaMax bracket choose_alpha's search (its defaults, reference/upstream.md §7).
const alphaMin, alphaMax = 1e-5, 1e5

// modelEnsemble names the ensemble teacher's rows.
const modelEnsemble = "ensemble"

// Alpha rules of the halves protocol.
const (
	ruleChooseAlpha = "choose_alpha"    // choose_alpha on the train half's raw repeats
	ruleDefault     = "default_formula" // without raw repeats: each member's default alpha
)

// sessionInput is what the teacher's rows need of one test session: its M images (uint8 RGB,
// size×size, NHWC) and the responses to all of them (Lo 0, Hi M; raw repeats when present).
type sessionInput struct {
	Session string
	Pix     []uint8
	N, Size int
	Resp    *eval.Responses
}

// taskNet is a task-driven network whose flattened output a ridge regression maps to neurons.
type taskNet struct {
	Name string // "ResNet50", "VGG19"
	Net  *nn.GraphNet
	// Trunk says that Net is the teacher's trunk, whose features are computed once for both.
	Trunk bool
}

// teacherNets are the networks of the teacher's rows: the teacher, and the task-driven networks
// whose weight files are present (ResNet50 is the teacher's trunk).
type teacherNets struct {
	Teacher *ensemblefit.Teacher
	Task    []taskNet
}

// rowFit is one model's scores on one session under both protocols.
type rowFit struct {
	Model string
	// Alphas are the halves protocol's ridge alphas (one per ensemble member, all equal with
	// choose_alpha; one for a task-driven network), chosen by Rule.
	Alphas []float64
	Rule   string
	// Halves is the accuracy on the evaluation half, Script2 on the last script2Held images
	// under script2's protocol.
	Halves, Script2 eval.Scores
}

// sessionFit is one session's scores of the teacher's rows: the ensemble first, then each
// task-driven network.
type sessionFit struct {
	Session string
	Models  []*rowFit
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

// slice returns the responses to images lo…hi−1 of r (indices relative to r.Lo).
func slice(r *eval.Responses, lo, hi int) (*eval.Responses, error) {
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
	in                    sessionInput
	train, evalRows       []int // halves: images 0…M/2−1, M/2…M−1
	train2, test2         []int // script2: images 0…M−101, M−100…M−1
	trainResp, eval, held *eval.Responses
	yTrain, yTrain2       [][]float64
}

func split(in sessionInput) (*sessionSplit, error) {
	n, half := in.N, in.N/2
	if in.Resp == nil || in.Resp.Lo != 0 || in.Resp.Images() != n {
		return nil, fmt.Errorf("session %s: responses to all %d images are needed", in.Session, n)
	}
	if n <= script2Held || half < 8 {
		return nil, fmt.Errorf("session %s: %d images, too few to fit on the train half or hold out the last %d", in.Session, n, script2Held)
	}
	sp := &sessionSplit{in: in, train: span(0, half), evalRows: span(half, n), train2: span(0, n-script2Held), test2: span(n-script2Held, n)}
	var err error
	if sp.trainResp, err = slice(in.Resp, 0, half); err != nil {
		return nil, err
	}
	if sp.eval, err = slice(in.Resp, half, n); err != nil {
		return nil, err
	}
	if sp.held, err = slice(in.Resp, n-script2Held, n); err != nil {
		return nil, err
	}
	sp.yTrain, sp.yTrain2 = targets(in.Resp, sp.train), targets(in.Resp, sp.train2)
	return sp, nil
}

// fit scores one model whose features are the designs (one per ensemble member, or one) under
// both protocols: halves with alpha by choose_alpha on the train half's raw repeats (images
// 0…M/2−1 unpermuted, as the ensemble class does), or the defaults (each design's default alpha
// for the train half) without raw repeats; script2 with alpha script2Alpha. The designs'
// predictions are averaged (mapping.EnsemblePredict).
func (sp *sessionSplit) fit(name string, designs []*mapping.Design, defaults []float64) (*rowFit, error) {
	rf := &rowFit{Model: name}
	if sp.trainResp.Raw != nil {
		a, err := mapping.ChooseAlpha(designs, *sp.trainResp.Raw, alphaMin, alphaMax)
		if err != nil {
			return nil, fmt.Errorf("session %s, %s: %w", sp.in.Session, name, err)
		}
		rf.Alphas, rf.Rule = repeat(a, len(designs)), ruleChooseAlpha
	} else {
		rf.Alphas, rf.Rule = defaults, ruleDefault
	}
	pred, err := mapping.EnsemblePredict(designs, sp.train, sp.yTrain, rf.Alphas, sp.evalRows)
	if err != nil {
		return nil, fmt.Errorf("session %s, %s: %w", sp.in.Session, name, err)
	}
	if rf.Halves, err = eval.Score(sp.eval, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if pred, err = mapping.EnsemblePredict(designs, sp.train2, sp.yTrain2, repeat(script2Alpha, len(designs)), sp.test2); err != nil {
		return nil, fmt.Errorf("session %s, %s (script2): %w", sp.in.Session, name, err)
	}
	if rf.Script2, err = eval.Score(sp.held, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("%s (script2): %w", name, err)
	}
	return rf, nil
}

// fitTask scores a task-driven network's flattened features f (one design).
func (sp *sessionSplit) fitTask(name string, f mapping.Features) (*rowFit, error) {
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

// fitSession computes the teacher's rows on one session, each under both protocols (fit): the
// trunk's features of the M images once; the ensemble from each member's embeddings and Design
// (ensemblefit.Teacher.Designs, one ridge per member, predictions averaged); then each
// task-driven network from its flattened output (ResNet50's conv4_block4_out is the trunk's
// output), one design at a time.
func fitSession(ctx context.Context, nets teacherNets, in sessionInput) (*sessionFit, error) {
	sp, err := split(in)
	if err != nil {
		return nil, err
	}
	t := nets.Teacher
	n := in.N
	feats, err := t.TrunkFeatures(in.Pix, n, in.Size)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	designs, defaults, err := t.Designs(feats, n, sp.train)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	sf := &sessionFit{Session: in.Session, Eval: sp.eval}
	rf, err := sp.fit(modelEnsemble, designs, defaults)
	if err != nil {
		return nil, err
	}
	sf.Models = append(sf.Models, rf)
	designs = nil
	for _, tn := range nets.Task {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		x := feats
		if !tn.Trunk {
			if x, err = imagenet.Features(tn.Net, in.Pix, n, in.Size, ensemblefit.DefaultBatch); err != nil {
				return nil, fmt.Errorf("session %s, %s: %w", in.Session, tn.Name, err)
			}
		}
		rf, err := sp.fitTask(tn.Name, mapping.Features{N: n, P: tn.Net.Outputs(), X: x, Name: tn.Name + " output"})
		if err != nil {
			return nil, err
		}
		sf.Models = append(sf.Models, rf)
	}
	return sf, nil
}

// teacherRow is one row of Fig. 1b computed here: a model's accuracy under a protocol, over the
// neurons of the evaluated sessions (concatenated in session order).
type teacherRow struct {
	Model, Protocol string
	eval.Scores
	Summary eval.Summary
}

func (r *teacherRow) key() string { return "teacher/" + r.Protocol + "/" + r.Model }

// versus compares two rows neuron by neuron on the same neurons: the metric is r²_ER where both
// have it, else r² against the repeat-averaged responses.
type versus struct {
	A, B   *teacherRow
	Metric string // "r2er" or "r2"
	// MedA and MedB are the rows' medians of Metric with their intervals; Percent is
	// 100·(MedA/MedB − 1).
	MedA, MedB metrics.MedianCI
	Percent    float64
	// Wins and Losses count the neurons where A's metric is higher (lower); P is the sign test's
	// two-sided p-value.
	Wins, Losses int
	P            float64
}

func compareRows(a, b *teacherRow) (*versus, error) {
	v := &versus{A: a, B: b, Metric: "r2"}
	x, y := a.R2, b.R2
	v.MedA, v.MedB = a.Summary.R2, b.Summary.R2
	if a.R2ER != nil && b.R2ER != nil {
		v.Metric, x, y = "r2er", a.R2ER, b.R2ER
		v.MedA, v.MedB = *a.Summary.R2ER, *b.Summary.R2ER
	}
	if len(x) != len(y) {
		return nil, fmt.Errorf("%s (%d neurons) vs %s (%d): not the same neurons", a.key(), len(x), b.key(), len(y))
	}
	v.Percent = 100 * (v.MedA.Median/v.MedB.Median - 1)
	var err error
	if v.Wins, v.Losses, v.P, err = metrics.SignTest(x, y); err != nil {
		return nil, fmt.Errorf("sign test %s vs %s: %w", a.key(), b.key(), err)
	}
	return v, nil
}

// String is the comparison in words and numbers.
func (v *versus) String() string {
	name := map[string]string{"r2er": "noise-corrected R² (r²_ER)", "r2": "r² against the repeat-averaged responses"}[v.Metric]
	return fmt.Sprintf("median %s %s vs %s on the same %d neurons (%+.1f %%); higher for %d and lower for %d neurons (sign test p = %.2g)",
		name, ci(v.MedA), ci(v.MedB), v.MedA.N, v.Percent, v.Wins, v.Losses, v.P)
}

// teacherEval is the teacher's part of the run: per session fits, the rows pooled over
// sessions, and the comparisons of claims C3 and C4.
type teacherEval struct {
	Sessions []*sessionFit
	// Rows: under the halves protocol the ensemble, then each task-driven network; then the same
	// under script2's.
	Rows []*teacherRow
	// Compact is the published compact models on the evaluation halves (nil when their files
	// are missing); C3 compares them with the ensemble's halves row.
	Compact *teacherRow
	C3      *versus
	// C4 compares, under each protocol (halves, then script2), the ensemble with the best
	// task-driven network (the highest median of the comparison's metric); empty without one.
	C4 []*versus
}

// protocols are the protocols of the teacher's rows, in recording order.
var protocols = []string{protocolHalves, protocolScript2}

// teacherSeed seeds the bootstrap of the teacher's rows: row i uses teacherSeed+i.
const teacherSeed = bootstrapSeed + 1000

// evaluateTeacher computes the teacher's rows on every session whose evaluation half s scored
// (fitSession on all its images, or on its first `images` when images > 0), the compact models'
// accuracy on the same neurons and images (the predictions cached by eval, shared with
// experiment compression), and the comparisons. It returns nil when no session has its images.
func evaluateTeacher(ctx context.Context, env *harness.Env, d *eval.Data, s *surrogates, nets teacherNets, images int) (*teacherEval, error) {
	te := &teacherEval{}
	var ids []string
	for _, es := range s.Sessions {
		ts := es.session
		n := ts.Images
		if images > 0 && images < n {
			n = images
		}
		pix, err := d.Pixels(ts.ID, 0, n)
		if err != nil {
			return nil, err
		}
		all, err := eval.LoadResponses(env.Data, ts.ID, eval.AllImages)
		if err != nil {
			return nil, err
		}
		if all, err = slice(all, 0, n); err != nil {
			return nil, err
		}
		env.Logf("teacher: session %s, %d images through the trunk, %d members and %d task-driven networks", ts.ID, n, len(nets.Teacher.Members), len(nets.Task))
		sf, err := fitSession(ctx, nets, sessionInput{Session: ts.ID, Pix: pix, N: n, Size: model.ImageSize, Resp: all})
		if err != nil {
			return nil, err
		}
		te.Sessions = append(te.Sessions, sf)
		ids = append(ids, ts.ID)
	}
	if len(te.Sessions) == 0 {
		return nil, nil
	}
	for _, proto := range protocols {
		for mi, m := range te.Sessions[0].Models {
			var ss []eval.Scores
			for _, sf := range te.Sessions {
				if proto == protocolHalves {
					ss = append(ss, sf.Models[mi].Halves)
				} else {
					ss = append(ss, sf.Models[mi].Script2)
				}
			}
			te.Rows = append(te.Rows, &teacherRow{Model: m.Model, Protocol: proto, Scores: eval.Pool(ss)})
		}
	}
	compact, err := scoreCompacts(ctx, env, d, te.Sessions, ids)
	if err != nil {
		return nil, err
	}
	if compact != nil {
		te.Compact = &teacherRow{Model: "compact", Protocol: protocolHalves, Scores: *compact}
	}
	for i, r := range append(te.Rows, te.Compact) {
		if r == nil {
			continue
		}
		if r.Summary, err = eval.Summarize(r.Scores, eval.SameSeed(teacherSeed+uint64(i))); err != nil {
			return nil, fmt.Errorf("%s: %w", r.key(), err)
		}
		env.Logf("%s: median r %.3f, r² %.3f over %d neurons", r.key(), r.Summary.R.Median, r.Summary.R2.Median, len(r.R))
	}
	if te.Compact != nil {
		if te.C3, err = compareRows(te.Compact, te.Rows[0]); err != nil {
			return nil, err
		}
	}
	per := len(te.Sessions[0].Models)
	for pi := range protocols {
		rows := te.Rows[pi*per : (pi+1)*per]
		if len(rows) < 2 {
			continue
		}
		best := rows[1]
		for _, r := range rows[2:] {
			if metricMedian(r) > metricMedian(best) {
				best = r
			}
		}
		c, err := compareRows(rows[0], best)
		if err != nil {
			return nil, err
		}
		te.C4 = append(te.C4, c)
	}
	return te, nil
}

// metricMedian is a row's median r²_ER where it has one, else its median r².
func metricMedian(r *teacherRow) float64 {
	if r.Summary.R2ER != nil {
		return r.Summary.R2ER.Median
	}
	return r.Summary.R2.Median
}

// scoreCompacts scores the published compact models of the fitted sessions on their evaluation
// halves (as experiment compression does, through eval's cached predictions); nil when a model
// file is missing (recorded as not runnable).
func scoreCompacts(ctx context.Context, env *harness.Env, d *eval.Data, fits []*sessionFit, ids []string) (*eval.Scores, error) {
	models, err := eval.LoadCompacts(ctx, env.Data, eval.InSessions(ids...))
	if err != nil {
		var me *v4data.MissingError
		if errors.As(err, &me) {
			d.NotRunnable(me.Path, "C3's compact-versus-teacher comparison is not computed")
			return nil, nil
		}
		return nil, err
	}
	var ss []eval.Scores
	for _, sf := range fits {
		ts, _ := v4data.LookupTestSession(sf.Session)
		ms, err := eval.SessionModels(models, ts)
		if err != nil {
			return nil, err
		}
		pred, err := d.PredictEach(ctx, eval.Models(ms), ts.ID, sf.Eval.Lo, sf.Eval.Hi)
		if err != nil {
			return nil, err
		}
		sc, err := eval.Score32(sf.Eval, pred)
		if err != nil {
			return nil, err
		}
		ss = append(ss, sc)
	}
	p := eval.Pool(ss)
	return &p, nil
}
