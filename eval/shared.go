package eval

import (
	"context"
	"fmt"

	"compactv4/internal/v4data"
)

// EvalSession is a test session whose evaluation half is scored: the session and its responses.
type EvalSession struct {
	Session v4data.TestSession
	Resp    *Responses
}

// EvalSessions loads the evaluation halves of the given test sessions whose images are present
// (EvalHalf); lost says, per session, what is not computed without its files.
func (d *Data) EvalSessions(ids []string, lost func(v4data.TestSession) Lost) ([]*EvalSession, error) {
	var out []*EvalSession
	for _, id := range ids {
		ts, ok := v4data.LookupTestSession(id)
		if !ok {
			return nil, fmt.Errorf("unknown test session %s", id)
		}
		resp, err := d.EvalHalf(id, lost(ts))
		if err != nil {
			return nil, err
		}
		if resp != nil {
			out = append(out, &EvalSession{Session: ts, Resp: resp})
		}
	}
	return out, nil
}

// ScoreSessions computes the per-neuron accuracies of predictions [session][neuron][image],
// neurons of the sessions concatenated in session order (Score32 per session, then Pool).
func ScoreSessions(sessions []*EvalSession, pred [][][]float32) (Scores, error) {
	if len(pred) != len(sessions) {
		return Scores{}, fmt.Errorf("predictions for %d sessions, %d sessions", len(pred), len(sessions))
	}
	ss := make([]Scores, len(sessions))
	for i, ev := range sessions {
		var err error
		if ss[i], err = Score32(ev.Resp, pred[i]); err != nil {
			return Scores{}, err
		}
	}
	return Pool(ss), nil
}

// PredictSharedRows predicts every session's evaluation half with a shared compact model
// (v4data.SharedOutputs outputs) and keeps each session's output rows (SessionRows):
// [session][neuron][image].
func (d *Data) PredictSharedRows(ctx context.Context, sessions []*EvalSession, net Model) ([][][]float32, error) {
	if net.Outputs() != v4data.SharedOutputs {
		return nil, fmt.Errorf("%d outputs, want %d", net.Outputs(), v4data.SharedOutputs)
	}
	var out [][][]float32
	for _, ev := range sessions {
		p, err := d.Predict(ctx, net, ev.Session.ID, ev.Resp.Lo, ev.Resp.Hi)
		if err != nil {
			return nil, err
		}
		rows, err := SessionRows(p, ev.Resp.Images(), v4data.SharedOutputs, ev.Session)
		if err != nil {
			return nil, err
		}
		out = append(out, rows)
	}
	return out, nil
}
