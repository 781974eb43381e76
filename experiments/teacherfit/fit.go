package teacherfit

import (
	"context"
	"errors"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
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

// The models of the teacher's rows.
const (
	modelEnsemble = "ensemble"
	modelResNet50 = "ResNet50"
)

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

// sessionFit is one session's scores of the teacher's rows.
type sessionFit struct {
	Session string
	// Alphas are the halves protocol's ridge alphas per member (all equal with choose_alpha),
	// chosen by Rule.
	Alphas []float64
	Rule   string
	// Halves is the ensemble's accuracy on the evaluation half; Eval those responses (for the
	// compact models' scores on the same neurons).
	Halves eval.Scores
	Eval   *eval.Responses
	// HalvesResNet50 is ResNet50's (conv4_block4_out, ridge) on the evaluation half, with
	// ResNet50Alpha chosen by the same Rule.
	HalvesResNet50 eval.Scores
	ResNet50Alpha  float64
	// Script2 and Script2ResNet50 are the ensemble's and ResNet50's accuracy on the last
	// script2Held images under script2's protocol.
	Script2, Script2ResNet50 eval.Scores
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

// fitSession computes the teacher's rows on one session: the trunk's features of all M images
// once, each member's embeddings and Design once (ensemblefit.Teacher.Designs); then
//
//   - halves: per member, ridge on the train half (alpha by choose_alpha on the train half's raw
//     repeats, images 0…M/2−1 unpermuted as the ensemble class does; without raw repeats, each
//     member's default alpha of its train-half embeddings), the members' predictions of the
//     evaluation half averaged and scored with eval.Score;
//   - script2: the same designs with alpha script2Alpha on images 0…M−101, predicting the last
//     100;
//   - ResNet50, script2's task-driven network, under both protocols: its flattened
//     conv4_block4_out features (the trunk's output) as one design, with the same ridge (alpha
//     by the same rule for the halves).
func fitSession(ctx context.Context, t *ensemblefit.Teacher, in sessionInput) (*sessionFit, error) {
	n, half := in.N, in.N/2
	if in.Resp == nil || in.Resp.Lo != 0 || in.Resp.Images() != n {
		return nil, fmt.Errorf("session %s: responses to all %d images are needed", in.Session, n)
	}
	if n <= script2Held || half < 8 {
		return nil, fmt.Errorf("session %s: %d images, too few to fit on the train half or hold out the last %d", in.Session, n, script2Held)
	}
	feats, err := t.TrunkFeatures(in.Pix, n, in.Size)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	train, evalRows := span(0, half), span(half, n)
	designs, defaults, err := t.Designs(feats, n, train)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sf := &sessionFit{Session: in.Session}
	if sf.Eval, err = slice(in.Resp, half, n); err != nil {
		return nil, err
	}
	trainResp, err := slice(in.Resp, 0, half)
	if err != nil {
		return nil, err
	}
	if trainResp.Raw != nil {
		a, err := mapping.ChooseAlpha(designs, *trainResp.Raw, alphaMin, alphaMax)
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", in.Session, err)
		}
		sf.Alphas, sf.Rule = repeat(a, len(designs)), ruleChooseAlpha
	} else {
		sf.Alphas, sf.Rule = defaults, ruleDefault
	}
	pred, err := mapping.EnsemblePredict(designs, train, targets(in.Resp, train), sf.Alphas, evalRows)
	if err != nil {
		return nil, fmt.Errorf("session %s, ensemble: %w", in.Session, err)
	}
	if sf.Halves, err = eval.Score(sf.Eval, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("ensemble: %w", err)
	}

	train2, test2 := span(0, n-script2Held), span(n-script2Held, n)
	held, err := slice(in.Resp, n-script2Held, n)
	if err != nil {
		return nil, err
	}
	y2 := targets(in.Resp, train2)
	if pred, err = mapping.EnsemblePredict(designs, train2, y2, repeat(script2Alpha, len(designs)), test2); err != nil {
		return nil, fmt.Errorf("session %s, ensemble (script2): %w", in.Session, err)
	}
	if sf.Script2, err = eval.Score(held, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("ensemble (script2): %w", err)
	}
	designs = nil
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	trunk, err := mapping.NewDesign(mapping.Features{N: n, P: t.Trunk.Outputs(), X: feats, Name: "ResNet50 conv4_block4_out"})
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	if trainResp.Raw != nil {
		if sf.ResNet50Alpha, err = mapping.ChooseAlpha([]*mapping.Design{trunk}, *trainResp.Raw, alphaMin, alphaMax); err != nil {
			return nil, fmt.Errorf("session %s, ResNet50: %w", in.Session, err)
		}
	} else if sf.ResNet50Alpha, err = mapping.DefaultAlpha(mapping.Features{N: n, P: t.Trunk.Outputs(), X: feats, Name: "ResNet50 conv4_block4_out"}, train); err != nil {
		return nil, fmt.Errorf("session %s: %w", in.Session, err)
	}
	if pred, err = mapping.EnsemblePredict([]*mapping.Design{trunk}, train, targets(in.Resp, train), []float64{sf.ResNet50Alpha}, evalRows); err != nil {
		return nil, fmt.Errorf("session %s, ResNet50: %w", in.Session, err)
	}
	if sf.HalvesResNet50, err = eval.Score(sf.Eval, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("ResNet50: %w", err)
	}
	if pred, err = mapping.EnsemblePredict([]*mapping.Design{trunk}, train2, y2, []float64{script2Alpha}, test2); err != nil {
		return nil, fmt.Errorf("session %s, ResNet50 (script2): %w", in.Session, err)
	}
	if sf.Script2ResNet50, err = eval.Score(held, pred, metrics.R2EROptions{}); err != nil {
		return nil, fmt.Errorf("ResNet50 (script2): %w", err)
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
	// Rows: the ensemble and ResNet50 under the halves protocol, then under script2's.
	Rows []*teacherRow
	// Compact is the published compact models on the evaluation halves (nil when their files
	// are missing); C3 compares them with the ensemble's halves row; C4 and C4Script2 compare
	// the ensemble with ResNet50 under each protocol.
	Compact           *teacherRow
	C3, C4, C4Script2 *versus
}

// teacherSeed seeds the bootstrap of the teacher's rows: row i uses teacherSeed+i.
const teacherSeed = bootstrapSeed + 1000

// evaluateTeacher computes the teacher's rows on every session whose evaluation half s scored
// (fitSession on all its images, or on its first `images` when images > 0), the compact models'
// accuracy on the same neurons and images (the predictions cached by eval, shared with
// experiment compression), and the comparisons. It returns nil when no session has its images.
func evaluateTeacher(ctx context.Context, env *harness.Env, d *eval.Data, s *surrogates, t *ensemblefit.Teacher, images int) (*teacherEval, error) {
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
		env.Logf("teacher: session %s, %d images through the trunk and %d members", ts.ID, n, len(t.Members))
		sf, err := fitSession(ctx, t, sessionInput{Session: ts.ID, Pix: pix, N: n, Size: model.ImageSize, Resp: all})
		if err != nil {
			return nil, err
		}
		te.Sessions = append(te.Sessions, sf)
		ids = append(ids, ts.ID)
	}
	if len(te.Sessions) == 0 {
		return nil, nil
	}
	pool := func(get func(*sessionFit) eval.Scores) eval.Scores {
		var ss []eval.Scores
		for _, sf := range te.Sessions {
			ss = append(ss, get(sf))
		}
		return eval.Pool(ss)
	}
	for _, r := range []struct {
		model, protocol string
		get             func(*sessionFit) eval.Scores
	}{
		{modelEnsemble, protocolHalves, func(sf *sessionFit) eval.Scores { return sf.Halves }},
		{modelResNet50, protocolHalves, func(sf *sessionFit) eval.Scores { return sf.HalvesResNet50 }},
		{modelEnsemble, protocolScript2, func(sf *sessionFit) eval.Scores { return sf.Script2 }},
		{modelResNet50, protocolScript2, func(sf *sessionFit) eval.Scores { return sf.Script2ResNet50 }},
	} {
		te.Rows = append(te.Rows, &teacherRow{Model: r.model, Protocol: r.protocol, Scores: pool(r.get)})
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
	if te.C4, err = compareRows(te.Rows[0], te.Rows[1]); err != nil {
		return nil, err
	}
	if te.C4Script2, err = compareRows(te.Rows[2], te.Rows[3]); err != nil {
		return nil, err
	}
	return te, nil
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
