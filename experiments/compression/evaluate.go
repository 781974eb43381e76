package compression

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/internal/v4data"
)

// sessionEval is the evaluation of one test session's compact models on its evaluation half.
type sessionEval struct {
	session v4data.TestSession
	models  []*eval.Compact // the session's models, in neuron order
	resp    *eval.Responses
	pred    [][]float32 // [neuron][image]
	eval.Scores
}

// evaluate predicts and scores every session of the plan that has its images; sessions without
// them, and r²_ER without raw repeats, are recorded as not runnable.
func evaluate(ctx context.Context, d *eval.Data, p plan, models []*eval.Compact) ([]*sessionEval, error) {
	var out []*sessionEval
	for _, id := range p.Sessions {
		ts, ok := v4data.LookupTestSession(id)
		if !ok {
			return nil, fmt.Errorf("unknown test session %s", id)
		}
		ms, err := eval.SessionModels(models, ts)
		if err != nil {
			return nil, err
		}
		resp, err := d.EvalHalf(id, eval.Lost{
			Images: fmt.Sprintf("its %d compact models cannot be evaluated", ts.Neurons),
			Raw:    "the noise-corrected R² (r²_ER) of its compact models is not computed; Pearson r and r² against the repeat-averaged responses are still computed",
		})
		if err != nil {
			return nil, err
		}
		if resp == nil {
			continue
		}
		ev := &sessionEval{session: ts, models: ms, resp: resp}
		if ev.pred, err = d.PredictEach(ctx, eval.Models(ms), id, resp.Lo, resp.Hi); err != nil {
			return nil, err
		}
		if ev.Scores, err = eval.Score32(resp, ev.pred); err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}
