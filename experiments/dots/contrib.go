package dots

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/synth"
)

// contributor is one of the consolidated filter's main inputs with its preferred stimulus: the
// image that maximises that input at the position where the filter takes it from (gradient
// ascent on the network truncated after the input's batchnorm, eval.Synthesize with the plan's
// synthesis parameters). The batchnorm's output is the activation before its ReLU: where the
// starting noise leaves the unit silent, the ReLU's zero gradient would stop the ascent at its
// first step.
type contributor struct {
	contribution
	Excitatory bool
	Synth      *synth.Synth
}

// mainContributors returns the split's k largest excitatory contributions (largest first) and
// its k largest inhibitory ones (most negative first).
func mainContributors(sp inputSplit, k int) []contributor {
	var out []contributor
	for _, c := range sp.Inputs { // sorted by Dot, the largest first
		if c.Dot <= 0 || len(out) == k {
			break
		}
		out = append(out, contributor{contribution: c, Excitatory: true})
	}
	for i, n := len(sp.Inputs)-1, 0; i >= 0 && n < k; i-- {
		c := sp.Inputs[i]
		if c.Dot >= 0 {
			break
		}
		out = append(out, contributor{contribution: c})
		n++
	}
	return out
}

// contributors synthesises the preferred stimulus of each main contributor of a split.
func contributors(ctx context.Context, env *harness.Env, s *screened, sp inputSplit, p plan) ([]contributor, error) {
	cs := mainContributors(sp, p.Contributors)
	layer := fmt.Sprintf("layer%d_bn", sp.Layer-1)
	tasks := make([]eval.SynthTask, len(cs))
	for i, c := range cs {
		u, err := model.Unit(s.M.Net, layer, c.TapY, c.TapX, c.Input)
		if err != nil {
			return nil, err
		}
		unit := fmt.Sprintf("%s_y%d_x%d_filter%d", layer, c.TapY, c.TapX, c.Input)
		name := s.M.ID.Stem() + "_" + unit
		m := &eval.Compact{Network: eval.NewNetwork(name, s.M.Files(), u), ID: s.M.ID, Index: s.M.Index, Filters: s.M.Filters}
		tasks[i] = eval.SynthTask{Experiment: "dots/" + unit, Model: m, Seed: synth.ModelSeed(synthSeed, s.M.ID.Stem()+"/"+unit), Params: map[string]any{"unit": unit}, Name: name}
	}
	ss, err := eval.SynthesizeAll(ctx, env, tasks, p.Synthesis)
	if err != nil {
		return nil, fmt.Errorf("preferred stimuli of the main contributors: %w", err)
	}
	for i := range cs {
		cs[i].Synth = ss[i]
	}
	return cs, nil
}
