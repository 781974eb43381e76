package stimuli

import (
	"context"
	"fmt"
	"math"

	"compactv4/eval"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

// naturalResponses predicts, for every session of the stimuli, the responses of its models to
// all of the session's natural images (one cached step per model), and fills in each stimulus's
// natural-image statistics and response ratio. A session whose images are missing is recorded
// as not runnable (its stimuli keep Natural == nil). It also evaluates every model on its
// stimulus as saved in the PNG (Uint8Response).
func naturalResponses(ctx context.Context, d *eval.Data, stims []*stimulus, models []*eval.Compact) error {
	bySession := map[string][]int{}
	var order []string
	for i, s := range stims {
		if _, ok := bySession[s.ID.Session]; !ok {
			order = append(order, s.ID.Session)
		}
		bySession[s.ID.Session] = append(bySession[s.ID.Session], i)
	}
	for _, session := range order {
		idx := bySession[session]
		ts, ok := v4data.LookupTestSession(session)
		if !ok {
			return fmt.Errorf("unknown test session %s", session)
		}
		ok, err := d.HasImages(session, fmt.Sprintf("the natural-image responses of its %d synthesised models, and so their response ratios, are not computed (their preferred stimuli are)", len(idx)))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		ms := make([]eval.Model, len(idx))
		for k, i := range idx {
			ms[k] = models[i]
		}
		pred, err := d.PredictEach(ctx, ms, session, 0, ts.Images)
		if err != nil {
			return err
		}
		for k, i := range idx {
			if err := setNatural(stims[i], pred[k]); err != nil {
				return err
			}
		}
	}
	for i, s := range stims {
		out, err := models[i].Predict(s.Synth.Uint8(), 1)
		if err != nil {
			return fmt.Errorf("%s: response to its PNG stimulus: %w", s.ID.Stem(), err)
		}
		s.Uint8Response = float64(out[0])
	}
	return nil
}

// setNatural stores a model's natural-image responses and derives the statistics, ratio and
// comparison of the stimulus.
func setNatural(s *stimulus, resp []float32) error {
	if len(resp) == 0 {
		return fmt.Errorf("%s: no natural-image responses", s.ID.Stem())
	}
	s.Natural = resp
	s.NatMax, s.NatArgmax = math.Inf(-1), -1
	xs := make([]float64, len(resp))
	for j, v := range resp {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: response %v to natural image %d", s.ID.Stem(), v, j+1)
		}
		xs[j] = x
		if x > s.NatMax {
			s.NatMax, s.NatArgmax = x, j
		}
	}
	s.NatMedian = metrics.Median(xs)
	s.Exceeds = s.Synth.Response > s.NatMax
	s.Ratio = math.NaN()
	if s.NatMax > 0 {
		s.Ratio = s.Synth.Response / s.NatMax
	}
	return nil
}
