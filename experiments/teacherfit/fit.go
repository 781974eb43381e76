package teacherfit

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/teacherrows"
	"compactv4/internal/v4data"
)

// teacherRow is one row of Fig. 1b computed here: a model's accuracy under a mapping and a
// protocol, over the neurons of the evaluated sessions (concatenated in session order).
type teacherRow struct {
	Model, Mapping, Protocol string
	eval.Scores
	Summary eval.Summary
}

// key names the row's values: teacher/<protocol>/<model> for ridge (and the compact models),
// teacher/<protocol>/<model>/factorized for the factorized mapping.
func (r *teacherRow) key() string {
	k := "teacher/" + r.Protocol + "/" + r.Model
	if r.Mapping == factorized {
		k += "/factorized"
	}
	return k
}

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
	er := allER(a, b)
	if er {
		v.Metric = "r2er"
	}
	var x, y []float64
	x, v.MedA = metricOf(a, er)
	y, v.MedB = metricOf(b, er)
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
	// IDs are the fitted sessions and Evals their evaluation halves' responses.
	IDs   []string
	Evals []*eval.Responses
	// Sessions are the sessions' ridge rows (empty without the ridge mapping); Factorized[i]
	// session IDs[i]'s factorized rows (nil without the factorized mapping).
	Sessions   []*teacherrows.SessionFit
	Factorized [][]*teacherrows.FactorizedRow
	// Rows: with ridge, under the halves protocol the ensemble, then each task-driven network,
	// then the same under script2's; with the factorized mapping, the same under the halves
	// protocol.
	Rows []*teacherRow
	// Compact is the published compact models on the evaluation halves (nil when their files
	// are missing); C3 compares them with the ensemble's first halves row (ridge when it ran).
	Compact *teacherRow
	C3      *versus
	// C4 compares, for each mapping and protocol of Rows, the ensemble with the best task-driven
	// network (the highest median of the comparison's metric); empty without one.
	C4 []*versus
}

// protocols are the protocols of the ridge rows, in recording order.
var protocols = []string{teacherrows.Halves, teacherrows.Script2}

// teacherSeed seeds the bootstrap of the teacher's rows: row i uses teacherSeed+i.
const teacherSeed = bootstrapSeed + 1000

// evaluateTeacher computes the teacher's rows of the plan's mappings on every session whose
// evaluation half s scored (on all its images, or on its first `images` when images > 0): each
// session's units of work (sessionUnits) as cached steps, only those of the plan's shard when it
// has one (then nothing is assembled and the result is nil); then the rows pooled over sessions,
// the compact models' accuracy on the same neurons and images (the predictions cached by eval,
// shared with experiment compression), and the comparisons. It returns nil when no session has
// its images.
func evaluateTeacher(ctx context.Context, env *harness.Env, d *eval.Data, s *surrogates, nets *openedTeacher, images int, p plan) (*teacherEval, error) {
	te := &teacherEval{}
	pr := &progress{env: env, start: time.Now()}
	for k := range len(s.Sessions) * len(sessionUnits(p, nets)) {
		if p.Shard.Has(k) {
			pr.total++
		}
	}
	k := 0 // unit number in the plan
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
		if all, err = teacherrows.Slice(all, 0, n); err != nil {
			return nil, err
		}
		in := teacherrows.SessionInput{Session: ts.ID, Pix: pix, N: n, Size: model.ImageSize, Resp: all}
		env.Logf("teacher: session %s, %d images through the trunk, %d members and %d task-driven networks (mappings %v)", ts.ID, n, len(nets.Teacher.Members), len(nets.Task), p.Mappings)
		// The session computes the features its uncached units need once, for all of them.
		ss, err := teacherrows.NewSession(nets.Nets, in)
		if err != nil {
			return nil, err
		}
		var sf *teacherrows.SessionFit
		var fits []*teacherrows.FactorizedFit
		for _, u := range sessionUnits(p, nets) {
			k++
			if !p.Shard.Has(k - 1) {
				continue
			}
			t0 := pr.begin()
			if u.Ridge {
				if sf, err = fitCached(ctx, env, nets, ss, in, pr); err != nil {
					return nil, err
				}
			} else {
				ff, err := factorizedCached(ctx, env, nets, ss, in, u.Fz, p.Factorized, pr)
				if err != nil {
					return nil, err
				}
				fits = append(fits, ff)
			}
			pr.done(ts.ID, u, t0)
		}
		if !p.Shard.Whole() {
			continue
		}
		ev, err := teacherrows.Slice(all, n/2, n)
		if err != nil {
			return nil, err
		}
		te.IDs, te.Evals = append(te.IDs, ts.ID), append(te.Evals, ev)
		if sf != nil {
			te.Sessions = append(te.Sessions, sf)
		}
		if len(fits) > 0 {
			rows, err := assembleFactorized(ss, nets, fits, p.Factorized)
			if err != nil {
				return nil, err
			}
			te.Factorized = append(te.Factorized, rows)
		}
	}
	if len(te.IDs) == 0 {
		return nil, nil
	}
	groups := te.poolRows()
	for _, g := range groups {
		te.Rows = append(te.Rows, g...)
	}
	compact, err := scoreCompacts(ctx, env, d, te.Evals, te.IDs)
	if err != nil {
		return nil, err
	}
	if compact != nil {
		te.Compact = &teacherRow{Model: "compact", Mapping: "none", Protocol: teacherrows.Halves, Scores: *compact}
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
	if te.Compact != nil && len(te.Rows) > 0 {
		if te.C3, err = compareRows(te.Compact, te.Rows[0]); err != nil {
			return nil, err
		}
	}
	for _, rows := range groups {
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

// poolRows pools the sessions' rows over sessions, one group per mapping and protocol (ridge
// halves, ridge script2, factorized halves, those that ran), the ensemble first in each.
func (te *teacherEval) poolRows() [][]*teacherRow {
	var groups [][]*teacherRow
	if len(te.Sessions) > 0 {
		for _, proto := range protocols {
			var g []*teacherRow
			for mi, m := range te.Sessions[0].Models {
				var ss []eval.Scores
				for _, sf := range te.Sessions {
					if proto == teacherrows.Halves {
						ss = append(ss, sf.Models[mi].Halves)
					} else {
						ss = append(ss, sf.Models[mi].Script2)
					}
				}
				g = append(g, &teacherRow{Model: m.Model, Mapping: ridge, Protocol: proto, Scores: eval.Pool(ss)})
			}
			groups = append(groups, g)
		}
	}
	if len(te.Factorized) > 0 {
		var g []*teacherRow
		for mi, m := range te.Factorized[0] {
			var ss []eval.Scores
			for _, rows := range te.Factorized {
				ss = append(ss, rows[mi].Halves)
			}
			g = append(g, &teacherRow{Model: m.Model, Mapping: factorized, Protocol: teacherrows.Halves, Scores: eval.Pool(ss)})
		}
		groups = append(groups, g)
	}
	return groups
}

// fitCached is the session's ridge rows (ss.Ridge) as a cached step when nets is cached (keyed
// by the member files, the session's images and responses, the weight files' MD5s and the
// number of images); the result is stored without its evaluation responses, which are cut again
// from in. A computation sets pr.ran.
func fitCached(ctx context.Context, env *harness.Env, nets *openedTeacher, ss *teacherrows.Session, in teacherrows.SessionInput, pr *progress) (*teacherrows.SessionFit, error) {
	if !nets.cached() {
		pr.ran = true
		return ss.Ridge(ctx)
	}
	inputs, err := sessionInputs(env, in, nets.Members...)
	if err != nil {
		return nil, err
	}
	var tasks []string
	for _, t := range nets.Task {
		tasks = append(tasks, t.Name)
	}
	step := harness.Step{
		Name:   fmt.Sprintf("teacherrows/%s/%d", in.Session, in.N),
		Inputs: inputs,
		Params: map[string]any{"images": in.N, "weights_md5": nets.Weights, "task_driven": tasks, "networks": nets.Key},
		Code:   []string{"compactv4/internal/teacherrows"},
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pr.ran = true
		sf, err := ss.Ridge(ctx)
		if err != nil {
			return nil, err
		}
		return encodeFit(sf)
	})
	if err != nil {
		return nil, err
	}
	return decodeFit(b, in)
}

// encodeFit stores a session's fit for the cache, without its evaluation responses.
func encodeFit(sf *teacherrows.SessionFit) ([]byte, error) {
	stored := *sf
	stored.Eval = nil
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&stored); err != nil {
		return nil, fmt.Errorf("teacher rows of %s: %w", sf.Session, err)
	}
	return buf.Bytes(), nil
}

// decodeFit reads a fit that encodeFit stored, with its evaluation responses cut from in.
func decodeFit(b []byte, in teacherrows.SessionInput) (*teacherrows.SessionFit, error) {
	var sf teacherrows.SessionFit
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&sf); err != nil {
		return nil, fmt.Errorf("cached teacher rows of %s: %w", in.Session, err)
	}
	if sf.Session != in.Session {
		return nil, fmt.Errorf("cached teacher rows of %s hold session %s", in.Session, sf.Session)
	}
	var err error
	if sf.Eval, err = teacherrows.Slice(in.Resp, in.N/2, in.N); err != nil {
		return nil, err
	}
	return &sf, nil
}

// metricMedian is a row's median r²_ER where it has one, else its median r².
func metricMedian(r *teacherRow) float64 {
	if r.Summary.R2ER != nil {
		return r.Summary.R2ER.Median
	}
	return r.Summary.R2.Median
}

// scoreCompacts scores the published compact models of the fitted sessions ids on their
// evaluation halves evals (as experiment compression does, through eval's cached predictions);
// nil when a model file is missing (recorded as not runnable).
func scoreCompacts(ctx context.Context, env *harness.Env, d *eval.Data, evals []*eval.Responses, ids []string) (*eval.Scores, error) {
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
	for i, ev := range evals {
		ts, _ := v4data.LookupTestSession(ids[i])
		ms, err := eval.SessionModels(models, ts)
		if err != nil {
			return nil, err
		}
		pred, err := d.PredictEach(ctx, eval.Models(ms), ts.ID, ev.Lo, ev.Hi)
		if err != nil {
			return nil, err
		}
		sc, err := eval.Score32(ev, pred)
		if err != nil {
			return nil, err
		}
		ss = append(ss, sc)
	}
	p := eval.Pool(ss)
	return &p, nil
}
