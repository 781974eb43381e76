package areas

import (
	"context"
	"encoding/json"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/areasim"
	"compactv4/internal/v4data"
)

// simRun is the simulation of one seed.
type simRun struct {
	Seed    uint64           `json:"seed"`
	Results []areasim.Result `json:"results"`
}

// simulate runs the plan's simulated area for every seed, through the cache (one step for all
// seeds). It returns nil when an image zip or the compact model is missing (recorded as not
// runnable).
func simulate(ctx context.Context, env *harness.Env, d *eval.Data, sp simPlan) ([]simRun, error) {
	paths := []string{v4data.FormatKeras.CompactPath(compactSource)}
	for _, s := range sp.Sessions {
		paths = append(paths, v4data.ImagesPath(s))
	}
	for _, p := range paths {
		if _, err := env.Data.Path(p); err != nil {
			if !eval.IsMissing(err) {
				return nil, err
			}
			d.NotRunnable(p, "the simulated area is not run")
			return nil, nil
		}
	}
	inputs, err := env.Inputs(paths...)
	if err != nil {
		return nil, err
	}
	step := harness.Step{
		Name:   "areas/simulation",
		Inputs: inputs,
		Params: map[string]any{"plan": sp, "downsample": areasim.Factor},
		Code:   []string{"compactv4/internal/areasim", "compactv4/internal/filtercurve", "compactv4/internal/areadata", "compactv4/eval", "compactv4/internal/nn", "compactv4/internal/metrics", "compactv4/internal/model"},
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		var pix []uint8
		for _, s := range sp.Sessions {
			im, err := d.Images(s)
			if err != nil {
				return nil, err
			}
			small, err := areasim.Downsample(im.Pix, im.N)
			if err != nil {
				return nil, err
			}
			pix = append(pix, small...)
		}
		n := len(pix) / (areasim.Side * areasim.Side * 3)
		cm, err := v4data.LoadCompact(env.Data, compactSource, v4data.FormatKeras)
		if err != nil {
			return nil, err
		}
		cf, err := areasim.FiltersOf(cm)
		if err != nil {
			return nil, err
		}
		var runs []simRun
		for _, seed := range sp.Seeds {
			cfg := areasim.Config{
				Kinds: sp.Kinds, Units: sp.Units, Repeats: sp.Repeats, Rate: sp.Rate, Ks: sp.Ks, FullK: sp.FullK,
				Schedule: areasim.Schedule{Epochs: sp.Epochs, Batch: sp.Batch, LearningRate: sp.LearningRate},
				Seed:     seed,
			}
			res, err := areasim.Run(ctx, cfg, pix, n, cf, env.Logf)
			if err != nil {
				return nil, err
			}
			runs = append(runs, simRun{Seed: seed, Results: res})
		}
		return json.Marshal(runs)
	})
	if err != nil {
		return nil, err
	}
	var runs []simRun
	if err := json.Unmarshal(b, &runs); err != nil {
		return nil, fmt.Errorf("cached simulation: %w", err)
	}
	return runs, nil
}
