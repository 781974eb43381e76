package areas

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/filtercurve"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

// v4Curve is the V4 point of the curve.
type v4Curve struct {
	// Metric is "r2er" when every evaluated session has raw repeats, else "r2".
	Metric   string
	Sessions []string
	// Curve is nil when no session's images or some model's file is missing.
	Curve *filtercurve.Curve
}

// metricLabel names a curve's metric for tables and figures.
func metricLabel(m string) string {
	if m == "r2er" {
		return "r²_ER"
	}
	return "r²"
}

// evaluateV4 scores every shared model of the plan on the evaluation halves of the plan's test
// sessions and summarises accuracy versus K against the FullK model. For a shard, it predicts
// with the shard's models only (eval's cached predictions) and computes no curve.
func evaluateV4(ctx context.Context, env *harness.Env, d *eval.Data, p plan) (*v4Curve, error) {
	sessions, err := d.EvalSessions(p.Sessions, func(ts v4data.TestSession) eval.Lost {
		return eval.Lost{
			Images: fmt.Sprintf("its %d neurons are left out of the V4 curve", ts.Neurons),
			Raw:    "r²_ER is not computed; the V4 curve uses r² against the repeat-averaged responses",
		}
	})
	if err != nil {
		return nil, err
	}
	out := &v4Curve{Metric: "r2er"}
	for _, ev := range sessions {
		out.Sessions = append(out.Sessions, ev.Session.ID)
		if ev.Resp.Raw == nil {
			out.Metric = "r2"
		}
	}
	if len(sessions) == 0 {
		return out, nil
	}
	ks := append(append([]int(nil), p.Ks...), p.FullK)
	acc := make([][]float64, len(ks))
	for i, k := range ks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if !p.Shard.Has(i) {
			continue
		}
		path := v4data.SharedPath(p.Teacher, k)
		if _, err := env.Data.Path(path); err != nil {
			if !eval.IsMissing(err) {
				return nil, err
			}
			d.NotRunnable(path, fmt.Sprintf("shared compact model %s K=%d: the V4 curve is not computed", p.Teacher, k))
			return out, nil
		}
		net, err := v4data.LoadShared(env.Data, p.Teacher, k)
		if err != nil {
			return nil, err
		}
		pred, err := d.PredictSharedRows(ctx, sessions, eval.NewShared(p.Teacher, k, net))
		if err != nil {
			return nil, fmt.Errorf("%s K=%d: %w", p.Teacher, k, err)
		}
		s, err := eval.ScoreSessions(sessions, pred)
		if err != nil {
			return nil, fmt.Errorf("%s K=%d: %w", p.Teacher, k, err)
		}
		acc[i] = s.R2
		if out.Metric == "r2er" {
			acc[i] = s.R2ER
		}
		env.Logf("V4 shared %s K=%d: median %s %.3f over %d neurons", p.Teacher, k, metricLabel(out.Metric), metrics.NaNMedian(acc[i]), len(acc[i]))
	}
	if !p.Shard.Whole() {
		return out, nil
	}
	last := len(ks) - 1
	if out.Curve, err = filtercurve.New(ks[:last], acc[:last], acc[last], bootstrapSeed); err != nil {
		return nil, err
	}
	return out, nil
}
