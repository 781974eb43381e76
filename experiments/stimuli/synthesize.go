package stimuli

import (
	"context"
	"math"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/synth"
)

// synthesizeAll synthesises every model's preferred stimulus (eval.SynthesizeAll), each a
// cached step.
func synthesizeAll(ctx context.Context, env *harness.Env, models []*eval.Compact, p synth.Params) ([]*stimulus, error) {
	ss, err := eval.SynthesizeAll(ctx, env, "stimuli", models, p, baseSeed, map[string]any{"format": "keras"})
	if err != nil {
		return nil, err
	}
	stims := make([]*stimulus, len(models))
	for i, m := range models {
		stims[i] = &stimulus{ID: m.ID, Seed: synth.ModelSeed(baseSeed, m.ID.Stem()), Synth: ss[i], Ratio: math.NaN()}
	}
	return stims, nil
}
