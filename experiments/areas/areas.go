// Package areas is experiment E6 of the paper (Extended Data Fig. 6, claim C9): how much a
// visual area's models can be compressed, read as the accuracy of shared compact models with K
// early filters against the full model's, and the smallest K that performs no worse
// (internal/filtercurve), for V1, V4 and IT.
//
// What runs here:
//
//   - V4, from the published shared compact models of
//     data_shared_compact_models/from_ensemble_model (the authors' models, distilled by them from
//     their ensemble teacher; nothing is trained here): each K of the plan predicts the evaluation
//     half of the plan's test sessions (reference/upstream.md §4.6, §5.1) and is scored per neuron;
//     the K = 200 model stands for the full model, whose own teacher is not in the data. The
//     accuracy is r²_ER when every evaluated session has its raw repeats, else r² against the
//     repeat-averaged responses (the data copy has no raw repeats of the test sessions), and the
//     table says which.
//   - A simulated area with known ground truth (internal/areasim): populations of graded
//     complexity respond to the session images (downsampled to 16×16), Poisson repeats are drawn,
//     small shared students with K early filters are fitted to the expected responses, and each is
//     scored with r²_ER on Brain-Score-sized evaluation images; the least compressed student stands
//     for the full model. The planted ordering (V1-like simplest) is what the analysis must find.
//   - V1 (Cadena et al. 2019) and IT (Brain-Score's MajajHong2015): not runnable here. Their files
//     (internal/areadata, fetched by `replicate data areas -fetch`) and the task-driven teachers
//     fitted to their neurons are not on this machine; each file is listed with its hash.
//
// Profiles: quick scores the quick test session with K = 5, 10, 25, 50 against K = 200 and
// simulates the V1-like and wide populations on that session's images with K = 2 and 4 and one
// seed; full
// scores all four test sessions with every published K and simulates all three populations on
// two sessions' images with three seeds.
//
// Sharding: the unit of work is one cached step, in this order: each V4 shared model of the plan
// (its predictions of every evaluation half, eval's cached step per session; K by K, then the
// full model), then each simulated student (its fit and its outputs on the evaluation images,
// step areas/simulation/seed<s>/<population>/K<k>; seed by seed, population by population, K by
// K, then the FullK student). The quick profile has 5 + 6 units, the full one 8 + 36.
// `-shard i/n` computes every n-th unit from the i-th into the cache and writes no curve, table
// or figure (C9 is reported as not run, with a note naming the shard); a run without -shard
// assembles the result from the cache, computing whatever is missing. areas.slurm runs one Slurm
// array task per shard.
package areas

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/areadata"
	"compactv4/internal/areasim"
	"compactv4/internal/v4data"
)

func init() {
	harness.Register(harness.Definition[plan]{
		Name:   "areas",
		Title:  "Compression beyond V4: accuracy versus the number of early filters K (V4 from the published shared models, a simulated area; V1 and IT need their data)",
		Paper:  "ED Fig. 6",
		Claims: []string{"C9"},
		Plan:   planFor,
		Run:    run,
		Options: []harness.Option{harness.ShardOption,
			{Name: "areadata", Usage: "directory of the V1 and IT data files, as `replicate data areas -fetch` fills it (default $" + areadata.EnvVar + ")"},
			{Name: "weights", Usage: "directory of the Keras ImageNet weight files, as `replicate data fetch -weights DIR` fills it (default $KERAS_HOME/models, then ~/.keras/models)"},
		},
		Configure: configure,
	})
}

// plan is what a profile runs.
type plan struct {
	// Sessions are the test sessions whose evaluation halves score the V4 shared models.
	Sessions []string `json:"eval_sessions"`
	// Teacher is the folder of data_shared_compact_models; Ks the compressed models and FullK
	// the model that stands for the full one.
	Teacher string  `json:"teacher"`
	Ks      []int   `json:"ks"`
	FullK   int     `json:"full_k"`
	Sim     simPlan `json:"simulation"`
	// Real is the real areas, V1 and IT.
	Real realPlan `json:"real_areas"`
	// Shard selects the units of work the run computes (see the package doc); a shard run
	// computes no result.
	Shard harness.Shard `json:"shard,omitzero"`
}

// simPlan is the simulated area of a profile.
type simPlan struct {
	Sessions     []string       `json:"image_sessions"` // sessions whose images the populations see
	Kinds        []areasim.Kind `json:"populations"`
	Units        int            `json:"units"`
	Repeats      int            `json:"repeats"`
	Rate         float64        `json:"rate"`
	Ks           []int          `json:"ks"`
	FullK        int            `json:"full_k"`
	Epochs       int            `json:"epochs"`
	Batch        int            `json:"batch"`
	LearningRate float64        `json:"learning_rate"`
	Seeds        []uint64       `json:"seeds"`
	// CompactModel is the published compact model whose layer-0 kernels the V4 population uses.
	CompactModel string `json:"compact_model"`
}

// compactSource is the compact model of the V4 population.
var compactSource = v4data.CompactID{Session: "190923", Neuron: 0}

// planFor: see the package doc. The simulation's noise, schedule and K values are those of
// internal/areasim's TestOrdering (0.5 spikes per presentation, 6 repeats, K = 4 against 16, 10
// epochs of Adam at 5e-3 in batches of 16), with K = 2 added; full adds K = 8, the V4
// population and two more seeds, on two sessions' images.
func planFor(p harness.Profile) (plan, error) {
	sim := simPlan{
		Units: 32, Repeats: 6, Rate: 0.5, FullK: 16, Epochs: 10, Batch: 16, LearningRate: 5e-3,
		CompactModel: compactSource.Stem(),
	}
	if p == harness.Quick {
		sim.Sessions = []string{v4data.QuickSession.ID}
		sim.Kinds = []areasim.Kind{areasim.V1, areasim.Wide}
		sim.Ks = []int{2, 4}
		sim.Seeds = []uint64{1}
		return plan{Sessions: []string{v4data.QuickSession.ID}, Teacher: teacherFolder, Ks: []int{5, 10, 25, 50}, FullK: 200, Sim: sim, Real: realPlanFor(p)}, nil
	}
	sim.Sessions = []string{"190923", "201025"}
	sim.Kinds = areasim.Kinds
	sim.Ks = []int{2, 4, 8}
	sim.Seeds = []uint64{1, 2, 3}
	return plan{Sessions: v4data.TestSessionIDs(), Teacher: teacherFolder, Ks: []int{5, 10, 25, 35, 50, 75, 100}, FullK: 200, Sim: sim, Real: realPlanFor(p)}, nil
}

// teacherFolder is the folder of the shared models whose teacher is the ensemble.
const teacherFolder = "from_ensemble_model"

// bootstrapSeed seeds the V4 curve's intervals (filtercurve.New: K index i uses
// bootstrapSeed+i, the full model bootstrapSeed+len(Ks)).
const bootstrapSeed = 20261202

// configure applies the -shard, -areadata and -weights options.
func configure(p *plan, values map[string]string) error {
	if v, ok := values["shard"]; ok {
		sh, err := harness.ParseShard(v)
		if err != nil {
			return err
		}
		p.Shard = sh
	}
	for name, dst := range map[string]*string{"areadata": &p.Real.Dir, "weights": &p.Real.Weights} {
		if v, ok := values[name]; ok {
			if v == "" {
				return fmt.Errorf("-%s: want a directory", name)
			}
			*dst = v
		}
	}
	return nil
}

// simUnit is the number of student k (an index of simPlan.Ks, len(simPlan.Ks) for FullK) of
// population pop (seed index × populations + population index) among the plan's units of work,
// numbered in this order: the V4 shared models (plan.Ks, then FullK, units 0 to len(plan.Ks)),
// then the simulated students seed by seed (simPlan.Seeds), population by population
// (simPlan.Kinds), K by K (simPlan.Ks, then FullK).
func simUnit(p plan, pop, k int) int {
	return len(p.Ks) + 1 + pop*(len(p.Sim.Ks)+1) + k
}

// units is the number of units of work of a plan.
func units(p plan) int { return realUnit(p, len(p.Real.Areas), 0) }

func run(ctx context.Context, env *harness.Env, p plan) (*harness.Result, error) {
	res := &harness.Result{}
	d := eval.New(env, res)
	v4, err := evaluateV4(ctx, env, d, p)
	if err != nil {
		return nil, fmt.Errorf("V4 shared models: %w", err)
	}
	sim, err := simulate(ctx, env, d, p)
	if err != nil {
		return nil, fmt.Errorf("simulated area: %w", err)
	}
	real, err := evaluateReal(ctx, env, d, res, p)
	if err != nil {
		return nil, fmt.Errorf("real areas: %w", err)
	}
	if !p.Shard.Whole() {
		recordShard(res, p)
		return res, nil
	}
	if err := record(res, p, v4, sim, real); err != nil {
		return nil, err
	}
	if err := writeTables(env, res, p, v4, sim, real); err != nil {
		return nil, err
	}
	return res, drawFigure(env, res, p, v4, sim, real)
}
