package compression

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/nn"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// SessionEval is the evaluation of one test session's compact models on its evaluation half.
type SessionEval struct {
	Session  v4data.TestSession
	Models   []int // indices of the session's models in the loaded list, in neuron order
	Lo, Hi   int   // evaluation images Lo…Hi−1 (spec §5.1)
	Pred     [][]float32
	Recorded [][]float64 // repeat-averaged responses to the evaluation images
	R, R2    []float64   // per neuron, against the repeat-averaged responses
	R2ER     []float64   // per neuron, noise-corrected; nil when the raw repeats are missing
}

// isMissing reports whether err says a data file is absent (as opposed to corrupt or unreadable).
func isMissing(err error) bool {
	var me *v4data.MissingError
	return errors.As(err, &me)
}

// evaluate predicts and scores every session of the profile that has its images; sessions
// without them, and scores without raw repeats, are recorded as not runnable.
func evaluate(ctx context.Context, env *harness.Env, res *harness.Result, models []Compact) ([]*SessionEval, error) {
	var out []*SessionEval
	for _, id := range Sessions(env.Profile) {
		ts, ok := v4data.LookupTestSession(id)
		if !ok {
			return nil, fmt.Errorf("unknown test session %s", id)
		}
		var idx []int
		for i, m := range models {
			if m.ID.Session == id {
				if m.ID.Neuron != len(idx) {
					return nil, fmt.Errorf("session %s: model for neuron %d where %d was expected", id, m.ID.Neuron, len(idx))
				}
				idx = append(idx, i)
			}
		}
		if len(idx) != ts.Neurons {
			return nil, fmt.Errorf("session %s: %d compact models, want %d", id, len(idx), ts.Neurons)
		}
		imgPath := v4data.ImagesPath(id)
		if _, err := env.Data.Path(imgPath); err != nil {
			if !isMissing(err) {
				return nil, err
			}
			res.NotRunnable = append(res.NotRunnable, env.MissingFile(imgPath,
				fmt.Sprintf("images of test session %s: its %d compact models cannot be evaluated", id, ts.Neurons)))
			env.Logf("session %s: not runnable, %s is missing", id, imgPath)
			continue
		}
		ev, err := evaluateSession(ctx, env, res, models, ts, idx)
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", id, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

func evaluateSession(ctx context.Context, env *harness.Env, res *harness.Result, models []Compact, ts v4data.TestSession, idx []int) (*SessionEval, error) {
	avg, err := v4data.LoadAveraged(env.Data, ts.ID)
	if err != nil {
		return nil, err
	}
	if avg.N != ts.Neurons || avg.M != ts.Images {
		return nil, fmt.Errorf("responses (%d,%d), want (%d,%d)", avg.N, avg.M, ts.Neurons, ts.Images)
	}
	ev := &SessionEval{Session: ts, Models: idx, Lo: ts.Half(), Hi: ts.Images}
	ev.Recorded = avg.Rows(ev.Lo, ev.Hi)

	paths := []string{v4data.ImagesPath(ts.ID)}
	for _, i := range idx {
		paths = append(paths, v4data.FormatKeras.CompactPath(models[i].ID))
	}
	inputs, err := env.Inputs(paths...)
	if err != nil {
		return nil, err
	}
	step := harness.Step{
		Name:   "compression/predict/" + ts.ID,
		Inputs: inputs,
		Params: map[string]any{"format": "keras", "lo": ev.Lo, "hi": ev.Hi},
	}
	m := ev.Hi - ev.Lo
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		im, err := v4data.LoadImages(env.Data, ts.ID, ts.Images)
		if err != nil {
			return nil, err
		}
		px := 3 * im.H * im.W
		eval := im.Pix[ev.Lo*px : ev.Hi*px]
		all := make([]float32, 0, len(idx)*m)
		for k, i := range idx {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			net, err := nn.Compile(models[i].Net)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", models[i].ID.Stem(), err)
			}
			p, err := net.Predict(eval, m)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", models[i].ID.Stem(), err)
			}
			all = append(all, p...)
			env.Logf("  predicted %s (%d/%d)", models[i].ID.Stem(), k+1, len(idx))
		}
		var buf bytes.Buffer
		if err := npy.WriteFloat32(&buf, []int{len(idx), m}, all); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		return nil, err
	}
	shape, flat, err := npy.ReadFloat32(bytes.NewReader(b))
	if err != nil || len(shape) != 2 || shape[0] != len(idx) || shape[1] != m {
		return nil, fmt.Errorf("cached predictions of %s: shape %v, %v", ts.ID, shape, err)
	}
	ev.Pred = make([][]float32, len(idx))
	pred64 := make([][]float64, len(idx))
	for n := range idx {
		ev.Pred[n] = flat[n*m : (n+1)*m]
		pred64[n] = make([]float64, m)
		for i, x := range ev.Pred[n] {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				return nil, fmt.Errorf("%s predicts %v for evaluation image %d", models[idx[n]].ID.Stem(), x, ev.Lo+i)
			}
			pred64[n][i] = float64(x)
		}
	}
	if ev.R, err = metrics.PearsonRows(pred64, ev.Recorded); err != nil {
		return nil, err
	}
	ev.R2 = make([]float64, len(ev.R))
	for i, r := range ev.R {
		ev.R2[i] = r * r
	}

	rawPath := v4data.RawPath(ts.ID)
	raw, err := v4data.LoadRaw(env.Data, ts.ID)
	switch {
	case isMissing(err):
		res.NotRunnable = append(res.NotRunnable, env.MissingFile(rawPath,
			fmt.Sprintf("raw repeats of test session %s: the noise-corrected R² (r²_ER) of its compact models is not computed; Pearson r and r² against the repeat-averaged responses are still computed", ts.ID)))
	case err != nil:
		return nil, err
	default:
		if raw.N != ts.Neurons || raw.M != ts.Images {
			return nil, fmt.Errorf("raw responses (%d,%d,%d), want (%d,%d,·)", raw.N, raw.M, raw.R, ts.Neurons, ts.Images)
		}
		half := raw.Images(ev.Lo, ev.Hi)
		ev.R2ER, err = metrics.R2ER(metrics.Raw{N: half.N, M: half.M, R: half.R, Data: half.Data}, pred64, metrics.R2EROptions{})
		if err != nil {
			return nil, err
		}
	}
	env.Logf("session %s: %d models scored on images %d-%d", ts.ID, len(idx), ev.Lo+1, ev.Hi)
	return ev, nil
}
