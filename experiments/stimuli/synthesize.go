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
	tasks := make([]eval.SynthTask, len(models))
	for i, m := range models {
		tasks[i] = eval.SynthTask{Experiment: "stimuli", Model: m, Seed: synth.ModelSeed(baseSeed, m.ID.Stem()), Params: map[string]any{"format": "keras"}}
	}
	ss, err := eval.SynthesizeAll(ctx, env, tasks, p)
	if err != nil {
		return nil, err
	}
	stims := make([]*stimulus, len(models))
	for i, m := range models {
		stims[i] = &stimulus{ID: m.ID, Seed: tasks[i].Seed, Synth: ss[i], Ratio: math.NaN()}
	}
	return stims, nil
}
