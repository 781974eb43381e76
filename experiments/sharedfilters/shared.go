package sharedfilters

import (
	"context"
	"fmt"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// evalSession is a test session whose evaluation half is scored.
type evalSession struct {
	session v4data.TestSession
	resp    *eval.Responses
}

// sharedModel is one evaluated shared compact model.
type sharedModel struct {
	Teacher string
	K       int
	Params  model.Counts
	Pred    [][][]float32 // [session][neuron][image], the session's output rows
	eval.Scores
	// MapAligned is the median over neurons of the correlation between output row Offset+n and
	// the prediction of neuron n's own compact model; MapShifted pairs row Offset+n with the
	// compact model of neuron n+1 (cyclically within the session): a check of the output-row
	// mapping of reference/upstream.md §4.6.
	MapAligned, MapShifted float64
}

// sharedEval is the evaluation of the shared compact models.
type sharedEval struct {
	Sessions []*evalSession
	Models   []*sharedModel // teacher by teacher, K ascending; only models whose file is present
	// CompactPred holds the single-neuron compact models' predictions [session][neuron][image],
	// and Compact their scores on the same neurons: the reference line.
	CompactPred [][][]float32
	Compact     eval.Scores
}

// prepareSessions loads the evaluation halves of the plan's test sessions whose images are
// present; missing images and raw repeats are recorded as not runnable.
func prepareSessions(d *eval.Data, p plan) ([]*evalSession, error) {
	var out []*evalSession
	for _, id := range p.EvalSessions {
		ts, ok := v4data.LookupTestSession(id)
		if !ok {
			return nil, fmt.Errorf("unknown test session %s", id)
		}
		resp, err := d.EvalHalf(id, eval.Lost{
			Images: fmt.Sprintf("the shared models' outputs %d-%d (its %d neurons) and its compact models are not evaluated", ts.Offset, ts.Offset+ts.Neurons-1, ts.Neurons),
			Raw:    "the noise-corrected R² (r²_ER) of the shared and compact models is not computed for its neurons; Pearson r and r² against the repeat-averaged responses are still computed",
		})
		if err != nil {
			return nil, err
		}
		if resp != nil {
			out = append(out, &evalSession{session: ts, resp: resp})
		}
	}
	return out, nil
}

// score computes the per-neuron accuracies of predictions [session][neuron][image], neurons of
// the sessions concatenated in session order.
func score(sessions []*evalSession, pred [][][]float32) (eval.Scores, error) {
	ss := make([]eval.Scores, len(sessions))
	for i, ev := range sessions {
		var err error
		if ss[i], err = eval.Score32(ev.resp, pred[i]); err != nil {
			return eval.Scores{}, err
		}
	}
	return eval.Pool(ss), nil
}

// evaluateCompacts predicts the evaluation halves with the compact models of the evaluated
// sessions' neurons and scores them: the reference of Fig. 3d.
func evaluateCompacts(ctx context.Context, d *eval.Data, sh *sharedEval, models []*eval.Compact) error {
	for _, ev := range sh.Sessions {
		ms, err := eval.SessionModels(models, ev.session)
		if err != nil {
			return err
		}
		p, err := d.PredictEach(ctx, eval.Models(ms), ev.session.ID, ev.resp.Lo, ev.resp.Hi)
		if err != nil {
			return err
		}
		sh.CompactPred = append(sh.CompactPred, p)
	}
	var err error
	sh.Compact, err = score(sh.Sessions, sh.CompactPred)
	return err
}

// evaluateShared predicts and scores every shared model of the plan on every session with
// images, after the compact models of the same neurons.
func evaluateShared(ctx context.Context, env *harness.Env, d *eval.Data, p plan, models []*eval.Compact) (*sharedEval, error) {
	sessions, err := prepareSessions(d, p)
	if err != nil {
		return nil, err
	}
	sh := &sharedEval{Sessions: sessions}
	// Timings go to the log only (the record must be the same bytes on every run); with cached
	// predictions they measure the cache.
	start := time.Now()
	if err := evaluateCompacts(ctx, d, sh, models); err != nil {
		return nil, err
	}
	env.Logf("compact models of %d session(s) predicted and scored in %s", len(sessions), time.Since(start).Round(time.Second))
	start = time.Now()
	for _, teacher := range p.Teachers {
		for _, k := range p.Ks {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			path := v4data.SharedPath(teacher, k)
			if _, err := env.Data.Path(path); err != nil {
				if !eval.IsMissing(err) {
					return nil, err
				}
				d.NotRunnable(path, fmt.Sprintf("shared compact model %s K=%d is not evaluated", teacher, k))
				continue
			}
			net, err := v4data.LoadShared(env.Data, teacher, k)
			if err != nil {
				return nil, err
			}
			m := &sharedModel{Teacher: teacher, K: k, Params: net.Params()}
			if len(sessions) > 0 {
				if err := predictShared(ctx, d, sh, m, eval.NewShared(teacher, k, net)); err != nil {
					return nil, fmt.Errorf("%s K=%d: %w", teacher, k, err)
				}
				if m.Scores, err = score(sessions, m.Pred); err != nil {
					return nil, fmt.Errorf("%s K=%d: %w", teacher, k, err)
				}
				if m.MapAligned, m.MapShifted, err = mappingCheck(m.Pred, sh.CompactPred); err != nil {
					return nil, fmt.Errorf("%s K=%d: %w", teacher, k, err)
				}
			}
			sh.Models = append(sh.Models, m)
			env.Logf("shared %s K=%d: %d parameters, median r %.3f", teacher, k, m.Params.Total, metrics.Median(m.R))
		}
	}
	env.Logf("%d shared models evaluated on %d session(s) in %s", len(sh.Models), len(sessions), time.Since(start).Round(time.Second))
	return sh, nil
}

// predictShared predicts every evaluated session's evaluation half with one shared model and
// keeps the session's output rows.
func predictShared(ctx context.Context, d *eval.Data, sh *sharedEval, m *sharedModel, net eval.Model) error {
	if net.Outputs() != v4data.SharedOutputs {
		return fmt.Errorf("%d outputs, want %d", net.Outputs(), v4data.SharedOutputs)
	}
	for _, ev := range sh.Sessions {
		p, err := d.Predict(ctx, net, ev.session.ID, ev.resp.Lo, ev.resp.Hi)
		if err != nil {
			return err
		}
		rows, err := eval.SessionRows(p, ev.resp.Images(), v4data.SharedOutputs, ev.session)
		if err != nil {
			return err
		}
		m.Pred = append(m.Pred, rows)
	}
	return nil
}

// mappingCheck correlates each session's output rows of a shared model with the predictions of
// the compact models of the same neurons (aligned) and of the next neuron (shifted by one,
// cyclically within the session), and returns the two medians over all neurons.
func mappingCheck(shared, compact [][][]float32) (aligned, shifted float64, err error) {
	if len(shared) != len(compact) {
		return 0, 0, fmt.Errorf("mapping check: %d and %d sessions", len(shared), len(compact))
	}
	var al, sh []float64
	for s := range shared {
		n := len(shared[s])
		if len(compact[s]) != n {
			return 0, 0, fmt.Errorf("mapping check: session %d has %d shared rows and %d compact models", s, n, len(compact[s]))
		}
		x, y := eval.Float64s(shared[s]), eval.Float64s(compact[s])
		for i := 0; i < n; i++ {
			a, err := metrics.Pearson(x[i], y[i])
			if err != nil {
				return 0, 0, err
			}
			b, err := metrics.Pearson(x[i], y[(i+1)%n])
			if err != nil {
				return 0, 0, err
			}
			al, sh = append(al, a), append(sh, b)
		}
	}
	return metrics.Median(al), metrics.Median(sh), nil
}
