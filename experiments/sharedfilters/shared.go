package sharedfilters

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

// EvalSession is a test session whose evaluation half is scored.
type EvalSession struct {
	Session  v4data.TestSession
	Lo, Hi   int         // evaluation images Lo…Hi−1 (spec §5.1)
	Recorded [][]float64 // repeat-averaged responses [neuron][image]
	Raw      *metrics.Raw
}

// Scores are per-neuron accuracies of one model family on the evaluated sessions, neurons of
// the sessions concatenated in session order.
type Scores struct {
	R, R2 []float64
	R2ER  []float64 // nil unless every evaluated session has raw repeats
}

// SharedModel is one evaluated shared compact model.
type SharedModel struct {
	Teacher string
	K       int
	Params  model.Counts
	Pred    [][][]float32 // [session][neuron][image], the session's output rows
	Scores
	// MapAligned is the median over neurons of the correlation between output row Offset+n and
	// the prediction of neuron n's own compact model; MapShifted pairs row Offset+n with the
	// compact model of neuron n+1 (cyclically within the session): a check of the output-row
	// mapping of spec §4.6.
	MapAligned, MapShifted float64
}

// Shared is the evaluation of the shared compact models.
type Shared struct {
	Sessions []*EvalSession
	Models   []*SharedModel // teacher by teacher, K ascending; only models whose file is present
	// Compact holds the single-neuron compact models' predictions [session][neuron][image] and
	// scores on the same neurons: the reference line.
	CompactPred [][][]float32
	Compact     Scores
}

// prepareSessions loads the responses of the plan's test sessions whose images are present;
// missing images and raw repeats are recorded as not runnable.
func prepareSessions(env *harness.Env, res *harness.Result, plan Plan) ([]*EvalSession, error) {
	var out []*EvalSession
	for _, id := range plan.EvalSessions {
		ts, ok := v4data.LookupTestSession(id)
		if !ok {
			return nil, fmt.Errorf("unknown test session %s", id)
		}
		img := v4data.ImagesPath(id)
		if _, err := env.Data.Path(img); err != nil {
			if !isMissing(err) {
				return nil, err
			}
			res.NotRunnable = append(res.NotRunnable, env.MissingFile(img, fmt.Sprintf(
				"images of test session %s: the shared models' outputs %d-%d (its %d neurons) and its compact models are not evaluated",
				id, ts.Offset, ts.Offset+ts.Neurons-1, ts.Neurons)))
			env.Logf("session %s: not evaluated, %s is missing", id, img)
			continue
		}
		avg, err := v4data.LoadAveraged(env.Data, id)
		if err != nil {
			return nil, err
		}
		if avg.N != ts.Neurons || avg.M != ts.Images {
			return nil, fmt.Errorf("responses of %s: (%d,%d), want (%d,%d)", id, avg.N, avg.M, ts.Neurons, ts.Images)
		}
		ev := &EvalSession{Session: ts, Lo: ts.Half(), Hi: ts.Images}
		ev.Recorded = avg.Rows(ev.Lo, ev.Hi)
		raw, err := v4data.LoadRaw(env.Data, id)
		switch {
		case isMissing(err):
			res.NotRunnable = append(res.NotRunnable, env.MissingFile(v4data.RawPath(id), fmt.Sprintf(
				"raw repeats of test session %s: the noise-corrected R² (r²_ER) of the shared and compact models is not computed for its neurons; Pearson r and r² against the repeat-averaged responses are still computed", id)))
		case err != nil:
			return nil, err
		default:
			if raw.N != ts.Neurons || raw.M != ts.Images {
				return nil, fmt.Errorf("raw responses of %s: (%d,%d,%d), want (%d,%d,·)", id, raw.N, raw.M, raw.R, ts.Neurons, ts.Images)
			}
			h := raw.Images(ev.Lo, ev.Hi)
			ev.Raw = &metrics.Raw{N: h.N, M: h.M, R: h.R, Data: h.Data}
		}
		out = append(out, ev)
	}
	return out, nil
}

// SessionRows returns the output rows of one session from a shared model's predictions
// (images × outputs, image-major, as nn.Net.Predict returns them): row Offset+n is neuron n of
// the session (spec §4.6). The result is [neuron][image].
func SessionRows(pred []float32, images, outputs int, ts v4data.TestSession) ([][]float32, error) {
	if images < 1 || outputs < 1 || len(pred) != images*outputs {
		return nil, fmt.Errorf("predictions: %d values for %d images × %d outputs", len(pred), images, outputs)
	}
	if ts.Offset < 0 || ts.Neurons < 1 || ts.Offset+ts.Neurons > outputs {
		return nil, fmt.Errorf("session %s: outputs %d-%d of %d", ts.ID, ts.Offset, ts.Offset+ts.Neurons-1, outputs)
	}
	out := make([][]float32, ts.Neurons)
	for n := range out {
		row := make([]float32, images)
		for i := range row {
			row[i] = pred[i*outputs+ts.Offset+n]
		}
		out[n] = row
	}
	return out, nil
}

// score computes the per-neuron accuracies of predictions [session][neuron][image].
func score(sessions []*EvalSession, pred [][][]float32) (Scores, error) {
	var s Scores
	withRaw := true
	for _, ev := range sessions {
		if ev.Raw == nil {
			withRaw = false
		}
	}
	for i, ev := range sessions {
		p64 := make([][]float64, len(pred[i]))
		for n, row := range pred[i] {
			p64[n] = make([]float64, len(row))
			for j, x := range row {
				if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
					return s, fmt.Errorf("session %s neuron %d: prediction %v for image %d", ev.Session.ID, n, x, ev.Lo+j)
				}
				p64[n][j] = float64(x)
			}
		}
		r, err := metrics.PearsonRows(p64, ev.Recorded)
		if err != nil {
			return s, fmt.Errorf("session %s: %w", ev.Session.ID, err)
		}
		for _, x := range r {
			s.R = append(s.R, x)
			s.R2 = append(s.R2, x*x)
		}
		if withRaw {
			r2er, err := metrics.R2ER(*ev.Raw, p64, metrics.R2EROptions{})
			if err != nil {
				return s, fmt.Errorf("session %s: %w", ev.Session.ID, err)
			}
			s.R2ER = append(s.R2ER, r2er...)
		}
	}
	return s, nil
}

// evaluateCompacts predicts the evaluation halves with the compact models of the evaluated
// sessions' neurons and scores them: the reference of Fig. 3d.
func evaluateCompacts(ctx context.Context, env *harness.Env, imgs *imageCache, sh *Shared, models []Compact) error {
	for _, ev := range sh.Sessions {
		var ms []Compact
		for _, m := range models {
			if m.ID.Session == ev.Session.ID {
				if m.ID.Neuron != len(ms) {
					return fmt.Errorf("session %s: compact model of neuron %d where %d was expected", ev.Session.ID, m.ID.Neuron, len(ms))
				}
				ms = append(ms, m)
			}
		}
		if len(ms) != ev.Session.Neurons {
			return fmt.Errorf("session %s: %d compact models loaded, want %d", ev.Session.ID, len(ms), ev.Session.Neurons)
		}
		p, err := predictCompacts(ctx, env, imgs, ev.Session.ID, ms, ev.Lo, ev.Hi)
		if err != nil {
			return fmt.Errorf("session %s: %w", ev.Session.ID, err)
		}
		sh.CompactPred = append(sh.CompactPred, p)
	}
	var err error
	sh.Compact, err = score(sh.Sessions, sh.CompactPred)
	return err
}

// evaluateShared predicts and scores every shared model of the plan on every session with
// images, after the compact models of the same neurons.
func evaluateShared(ctx context.Context, env *harness.Env, res *harness.Result, imgs *imageCache, plan Plan, models []Compact) (*Shared, error) {
	sessions, err := prepareSessions(env, res, plan)
	if err != nil {
		return nil, err
	}
	sh := &Shared{Sessions: sessions}
	// Timings go to the log only (the record must be the same bytes on every run); with cached
	// predictions they measure the cache.
	start := time.Now()
	if err := evaluateCompacts(ctx, env, imgs, sh, models); err != nil {
		return nil, err
	}
	env.Logf("compact models of %d session(s) predicted and scored in %s", len(sessions), time.Since(start).Round(time.Second))
	start = time.Now()
	for _, teacher := range plan.Teachers {
		for _, k := range plan.Ks {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			path := v4data.SharedPath(teacher, k)
			if _, err := env.Data.Path(path); err != nil {
				if !isMissing(err) {
					return nil, err
				}
				res.NotRunnable = append(res.NotRunnable, env.MissingFile(path,
					fmt.Sprintf("shared compact model %s K=%d is not evaluated", teacher, k)))
				continue
			}
			net, err := v4data.LoadShared(env.Data, teacher, k)
			if err != nil {
				return nil, err
			}
			m := &SharedModel{Teacher: teacher, K: k, Params: net.Params()}
			if len(sessions) > 0 {
				if err := predictShared(ctx, env, imgs, sh, m, net); err != nil {
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
// keeps the session's output rows, through the cache (one step per session).
func predictShared(ctx context.Context, env *harness.Env, imgs *imageCache, sh *Shared, m *SharedModel, net *model.Network) error {
	var compiled *nn.Net
	for _, ev := range sh.Sessions {
		ts := ev.Session
		inputs, err := env.Inputs(v4data.SharedPath(m.Teacher, m.K), v4data.ImagesPath(ts.ID))
		if err != nil {
			return err
		}
		n := ev.Hi - ev.Lo
		step := harness.Step{
			Name:   "sharedfilters/shared-predict/" + m.Teacher + "/K" + strconv.Itoa(m.K) + "/" + ts.ID,
			Inputs: inputs,
			Params: map[string]any{"lo": ev.Lo, "hi": ev.Hi, "rows": []int{ts.Offset, ts.Offset + ts.Neurons}},
		}
		b, err := env.Cache.Do(step, func() ([]byte, error) {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			if compiled == nil {
				c, err := nn.Compile(net)
				if err != nil {
					return nil, err
				}
				compiled = c
			}
			if compiled.Outputs() != v4data.SharedOutputs {
				return nil, fmt.Errorf("%d outputs, want %d", compiled.Outputs(), v4data.SharedOutputs)
			}
			pix, err := imgs.pixels(ts.ID, ev.Lo, ev.Hi)
			if err != nil {
				return nil, err
			}
			p, err := compiled.Predict(pix, n)
			if err != nil {
				return nil, err
			}
			rows, err := SessionRows(p, n, v4data.SharedOutputs, ts)
			if err != nil {
				return nil, err
			}
			flat := make([]float32, 0, ts.Neurons*n)
			for _, r := range rows {
				flat = append(flat, r...)
			}
			env.Logf("  shared %s K=%d predicted session %s", m.Teacher, m.K, ts.ID)
			return encodeFloat32([]int{ts.Neurons, n}, flat)
		})
		if err != nil {
			return fmt.Errorf("session %s: %w", ts.ID, err)
		}
		flat, err := decodeCached("shared predictions", b, ts.Neurons, n)
		if err != nil {
			return err
		}
		rows := make([][]float32, ts.Neurons)
		for i := range rows {
			rows[i] = flat[i*n : (i+1)*n]
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
		for i := 0; i < n; i++ {
			a, err := pearson32(shared[s][i], compact[s][i])
			if err != nil {
				return 0, 0, err
			}
			b, err := pearson32(shared[s][i], compact[s][(i+1)%n])
			if err != nil {
				return 0, 0, err
			}
			al, sh = append(al, a), append(sh, b)
		}
	}
	return metrics.Median(al), metrics.Median(sh), nil
}

func pearson32(a, b []float32) (float64, error) {
	x := make([]float64, len(a))
	y := make([]float64, len(b))
	for i, v := range a {
		x[i] = float64(v)
	}
	for i, v := range b {
		y[i] = float64(v)
	}
	return metrics.Pearson(x, y)
}
