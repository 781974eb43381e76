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
	Sessions []*eval.EvalSession
	Models   []*sharedModel // teacher by teacher, K ascending; only models whose file is present
	// CompactPred holds the single-neuron compact models' predictions [session][neuron][image],
	// and Compact their scores on the same neurons: the reference line.
	CompactPred [][][]float32
	Compact     eval.Scores
}

// lostWithout says what is not computed for a test session whose files are missing.
func lostWithout(ts v4data.TestSession) eval.Lost {
	return eval.Lost{
		Images: fmt.Sprintf("the shared models' outputs %d-%d (its %d neurons) and its compact models are not evaluated", ts.Offset, ts.Offset+ts.Neurons-1, ts.Neurons),
		Raw:    "the noise-corrected R² (r²_ER) of the shared and compact models is not computed for its neurons; Pearson r and r² against the repeat-averaged responses are still computed",
	}
}

// evaluateCompacts predicts the evaluation halves with the compact models of the evaluated
// sessions' neurons and scores them: the reference of Fig. 3d.
func evaluateCompacts(ctx context.Context, d *eval.Data, sh *sharedEval, models []*eval.Compact) error {
	for _, ev := range sh.Sessions {
		ms, err := eval.SessionModels(models, ev.Session)
		if err != nil {
			return err
		}
		p, err := d.PredictEach(ctx, eval.Models(ms), ev.Session.ID, ev.Resp.Lo, ev.Resp.Hi)
		if err != nil {
			return err
		}
		sh.CompactPred = append(sh.CompactPred, p)
	}
	var err error
	sh.Compact, err = eval.ScoreSessions(sh.Sessions, sh.CompactPred)
	return err
}

// evaluateShared predicts and scores every shared model of the plan on every session with
// images, after the compact models of the same neurons.
func evaluateShared(ctx context.Context, env *harness.Env, d *eval.Data, p plan, models []*eval.Compact) (*sharedEval, error) {
	sessions, err := d.EvalSessions(p.EvalSessions, lostWithout)
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
				if m.Pred, err = d.PredictSharedRows(ctx, sessions, eval.NewShared(teacher, k, net)); err != nil {
					return nil, fmt.Errorf("%s K=%d: %w", teacher, k, err)
				}
				if m.Scores, err = eval.ScoreSessions(sessions, m.Pred); err != nil {
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
