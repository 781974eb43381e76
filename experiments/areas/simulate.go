package areas

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/areasim"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

// simRun is the simulation of one seed.
type simRun struct {
	Seed    uint64           `json:"seed"`
	Results []areasim.Result `json:"results"`
}

// fitCode are the packages that compute a student's cached fit.
var fitCode = []string{"compactv4/internal/areasim", "compactv4/internal/areadata", "compactv4/eval", "compactv4/internal/nn", "compactv4/internal/metrics", "compactv4/internal/model"}

// simulate runs the plan's simulated area for every seed: each population is drawn (areasim.Prepare)
// and each of its students is fitted as a cached step (fit); the students of the plan's shard
// only, when it has one. It returns nil when an image zip or the compact model is missing
// (recorded as not runnable), and for a shard.
func simulate(ctx context.Context, env *harness.Env, d *eval.Data, p plan) ([]simRun, error) {
	sp := p.Sim
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
	var todo []int // indices of the populations (seed by seed) with a student in the shard
	for i := range len(sp.Seeds) * len(sp.Kinds) {
		for k := range len(sp.Ks) + 1 {
			if p.Shard.Has(simUnit(p, i, k)) {
				todo = append(todo, i)
				break
			}
		}
	}
	if len(todo) == 0 {
		return nil, nil
	}
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
	for si, seed := range sp.Seeds {
		cfg := areasim.Config{
			Kinds: sp.Kinds, Units: sp.Units, Repeats: sp.Repeats, Rate: sp.Rate, Ks: sp.Ks, FullK: sp.FullK,
			Schedule: areasim.Schedule{Epochs: sp.Epochs, Batch: sp.Batch, LearningRate: sp.LearningRate},
			Seed:     seed,
		}
		run := simRun{Seed: seed}
		for pi := range sp.Kinds {
			pop := si*len(sp.Kinds) + pi
			if len(todo) == 0 || todo[0] != pop {
				continue
			}
			todo = todo[1:]
			a, err := areasim.Prepare(cfg, pi, pix, n, cf)
			if err != nil {
				return nil, err
			}
			ks := a.Ks()
			acc := make([][]float64, len(ks))
			for ki, k := range ks {
				if !p.Shard.Has(simUnit(p, pop, ki)) {
					continue
				}
				pred, err := fit(ctx, env, inputs, sp, seed, pi, k, a)
				if err != nil {
					return nil, err
				}
				if acc[ki], err = a.Score(pred); err != nil {
					return nil, err
				}
				env.Logf("%s, seed %d: K = %d fitted, median r²_ER %.3f", a.Name(), seed, k, metrics.NaNMedian(acc[ki]))
			}
			if !p.Shard.Whole() {
				continue
			}
			res := areasim.Result{Kind: a.Kind, Truth: a.Truth}
			if res.Curve, err = a.Curve(acc); err != nil {
				return nil, err
			}
			run.Results = append(run.Results, res)
		}
		runs = append(runs, run)
	}
	if !p.Shard.Whole() {
		return nil, nil
	}
	return runs, nil
}

// fit returns the outputs for the evaluation images of the student with k early filters of
// population pi of the seed's simulation (areasim.Area.Fit), as a cached step: one unit of work
// of a shard.
func fit(ctx context.Context, env *harness.Env, inputs []harness.Input, sp simPlan, seed uint64, pi, k int, a *areasim.Area) ([]float32, error) {
	step := harness.Step{
		Name:   fmt.Sprintf("areas/simulation/seed%d/%s/K%d", seed, key(a.Kind), k),
		Inputs: inputs,
		Params: map[string]any{
			"image_sessions": sp.Sessions, "downsample": areasim.Factor, "compact_model": sp.CompactModel,
			"population": pi, "kind": a.Kind, "units": sp.Units, "repeats": sp.Repeats, "rate": sp.Rate,
			"epochs": sp.Epochs, "batch": sp.Batch, "learning_rate": sp.LearningRate, "seed": seed, "k": k,
		},
		Code: fitCode,
	}
	shape := []int{a.EvalImages(), sp.Units}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pred, err := a.Fit(ctx, k)
		if err != nil {
			return nil, err
		}
		return eval.EncodeFloat32(shape, pred)
	})
	if err != nil {
		return nil, err
	}
	return eval.DecodeFloat32(fmt.Sprintf("outputs of the K = %d student of %s, seed %d", k, a.Name(), seed), b, shape...)
}
