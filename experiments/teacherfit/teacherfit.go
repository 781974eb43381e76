// Package teacherfit is experiment E1 of the paper (Fig. 1b, claims C3 and C4): how well the
// teacher (the ResNet50 trunk with its 25-member ensemble, reference/upstream.md §6) and the
// task-driven networks predict V4 responses on held-out images, through the linear mappings of
// reference/upstream.md §7.
//
// What runs depends on the files present:
//
//   - The teacher's rows need the 25 ensemble member files (data_ensemble_model/
//     ensemble_model_member*.keras, fetched by `make data-full`) and the Keras ImageNet weight
//     file resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 where Keras caches it
//     ($KERAS_HOME/models, else ~/.keras/models; `replicate data fetch -weights` puts it there).
//     Without them the rows are recorded as not runnable, naming the files. With them, for each
//     test session of the profile, the images pass once through the trunk (to conv4_block4_out,
//     reference/upstream.md §3.2) and each member (to layer4_add), and rows are computed for the ensemble, ResNet50 (its conv4_block4_out
//     features, the trunk's output) and, when its weight file vgg19_weights_tf_dim_ordering_
//     tf_kernels_notop.h5 is there too, VGG19 (block4_pool), each under two protocols: ridge
//     regression fitted on the train half (images 0…M/2−1) and scored on the evaluation half
//     (M/2…M−1), the ridge alpha chosen by choose_alpha on the train half's raw repeats (the
//     default alpha formula where those are missing); and upstream script2's own protocol
//     (ridge, alpha 100, fitted on images 0…M−101, scored on the last 100). The ensemble's
//     ridge prediction is the average of one ridge fit per member. Beside them, the factorized
//     rows (the mapping of the paper's Fig. 1b; reference/upstream.md §7) under the halves
//     protocol: for each member and each task-driven network, the two-stage mapping
//     (mapping.TrainFactorizedEpochs with spec §7's defaults, mapping.EnsembleDefaults and
//     mapping.TaskDrivenDefaults) trained on the train half but its last eighth, whose
//     validation r²_ER (r² against the repeat-averaged responses without raw repeats) chooses
//     the epoch, and scored on the evaluation half; the ensemble's members are fitted apart
//     and their predictions averaged per epoch before the epoch is chosen (upstream carries one
//     mapping from member to member, which would make the members one sequential unit).
//     -mappings ridge,factorized chooses the mappings (default both; the factorized fits take
//     hours per session on the real networks). Each row is scored with eval
//     (Pearson r and r² against the repeat-averaged responses, r²_ER where the raw repeats
//     exist) per neuron, with medians and 90 % bootstrap intervals over the sessions' neurons.
//     C3 compares the published compact models with the ensemble on the same neurons and images
//     (its first halves row: ridge when it ran; the compact models' predictions through eval,
//     as experiment compression makes them); C4 compares the ensemble with the best task-driven
//     network under each mapping and protocol. A run holds, for one session at a time, the
//     trunk's features, VGG19's, and for a task-driven network's ridge a float64 copy of its
//     features: about 3 GB per 1,000 images. The computation is internal/teacherrows (one
//     teacherrows.Session per session computes each network's features once for all its
//     units). Units of work, each a cached step keyed by its member file, the session's data,
//     the weight files' MD5s and its options (the unit a killed run resumes from): per test
//     session in plan order, the session's ridge rows, then each member's factorized fit, then
//     each task-driven network's. `-shard i/n` computes every n-th unit from the i-th into the
//     cache and writes no table or figure (it scores no shared model; C3 and C4 are reported
//     as not run, with a note naming the shard); a run without -shard on the same cache
//     assembles the rows from it. experiments/teacherfit/teacherfit.slurm runs one array task
//     per shard.
//   - ResNet50-robust and CORnet-S are not runnable at all: their weights are PyTorch files and
//     the paper does not state which layer ("a middle layer") is mapped to V4.
//   - What runs on every copy: C4's comparison through the published shared compact models,
//     which the authors distilled from each teacher (reference/upstream.md §4.6). Every shared
//     model of the profile predicts the evaluation half of each test session of the profile
//     (reference/upstream.md §5.1); the session's output rows are scored with eval (Pearson r and
//     r² against the repeat-averaged responses; r²_ER where the raw repeats are present). The
//     line "via the distilled shared models" compares the model distilled from the ensemble
//     (K = 200) with the best model distilled from a task-driven network (K = 200), on the same
//     neurons. It is a statement about the distilled students, never the teachers' own accuracy.
//
// Tables: surrogate.csv (teacher,K,n_neurons,median_r_eval,median_r2_eval: one row per shared
// model) and surrogate.json (C4's surrogate line) always; where the teacher ran, teacher.csv
// (model,mapping,protocol,n_neurons,median_r,r_lo,r_hi,median_r2,r2_lo,r2_hi,median_r2er,
// r2er_lo,r2er_hi: one row per model, mapping (ridge, factorized; "none" for the compact
// models) and protocol, model "compact" for the compact models on the evaluation halves, r²_ER
// columns empty without raw repeats) and teacher_neurons.csv (model,mapping,protocol,session,
// neuron,r,r2,r2er: the per-neuron scores behind it).
//
// Figures: surrogate_vs_k always; where the teacher ran, teacher_vs_taskdriven (per neuron the
// ensemble against each task-driven network on the evaluation halves, one panel per network
// and mapping, with the identity line), teacher_medians (Fig. 1b: every row's median with its
// 90 % bootstrap interval) and, when both mappings ran, ridge_vs_factorized (per neuron, one
// panel per model). Their metric is r²_ER where every row compared has it, else r².
//
// Profiles: quick scores the quick session's evaluation half with the K = 5, 50 and 200 models of
// every teacher folder (and the teacher's rows on that session where its files are present);
// full scores all four test sessions with all 56 shared models.
package teacherfit

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/mapping"
	"compactv4/internal/v4data"
)

func init() {
	harness.Register(harness.Definition[plan]{
		Name:   "teacherfit",
		Title:  "Teacher fit: the ensemble teacher versus task-driven networks (here through the shared models distilled from each)",
		Paper:  "Fig. 1b",
		Claims: []string{"C3", "C4"},
		Plan:   planFor,
		Run:    run,
		Options: []harness.Option{
			{Name: "weights", Usage: "directory of the Keras ImageNet weight files, as `replicate data fetch -weights DIR` fills it (default $KERAS_HOME/models, then ~/.keras/models)"},
			{Name: "mappings", Usage: "the teacher rows' mappings, comma-separated: ridge, factorized (default both; the factorized fits take hours per session)"},
			harness.ShardOption,
		},
		Configure: configure,
	})
}

// configure applies -weights, -mappings and -shard.
func configure(p *plan, values map[string]string) error {
	if v, ok := values["weights"]; ok {
		if v == "" {
			return fmt.Errorf("-weights: want a directory")
		}
		p.Weights = v
	}
	if v, ok := values["mappings"]; ok {
		var ms []string
		for _, m := range strings.Split(v, ",") {
			m = strings.TrimSpace(m)
			if !slices.Contains(allMappings, m) {
				return fmt.Errorf("-mappings %q: unknown mapping %q, want a comma-separated list of %s", v, m, strings.Join(allMappings, ", "))
			}
			if !slices.Contains(ms, m) {
				ms = append(ms, m)
			}
		}
		// Recording order, whatever the order given.
		p.Mappings = slices.DeleteFunc(slices.Clone(allMappings), func(m string) bool { return !slices.Contains(ms, m) })
	}
	if v, ok := values["shard"]; ok {
		sh, err := harness.ParseShard(v)
		if err != nil {
			return err
		}
		p.Shard = sh
	}
	return nil
}

// plan is what a profile runs.
type plan struct {
	Sessions []string `json:"eval_sessions"` // test sessions whose evaluation halves are scored
	Teachers []string `json:"teachers"`      // shared-model folders
	Ks       []int    `json:"ks"`
	// Weights is the directory of the Keras weight files (-weights; "" for Keras' own).
	Weights string `json:"weights,omitempty"`
	// Mappings are the mappings of the teacher's rows (-mappings), in recording order.
	Mappings []string `json:"mappings"`
	// Factorized are the factorized mappings' options.
	Factorized factorizedPlan `json:"factorized"`
	// Shard selects the teacher's units of work that the run computes (see the package doc); a
	// shard run fills the cache and assembles nothing.
	Shard harness.Shard `json:"shard,omitzero"`
}

// planFor: quick scores the quick session with K = 5, 50, 200 of every folder (the models the
// quick profile of sharedfilters predicts, so one run's cached predictions serve the other);
// full all four test sessions with every K.
func planFor(p harness.Profile) (plan, error) {
	fp := factorizedPlan{Ensemble: mapping.EnsembleDefaults(), TaskDriven: mapping.TaskDrivenDefaults()}
	if p == harness.Quick {
		return plan{Sessions: []string{v4data.QuickSession.ID}, Teachers: v4data.Teachers, Ks: []int{5, 50, 200}, Mappings: allMappings, Factorized: fp}, nil
	}
	return plan{Sessions: v4data.TestSessionIDs(), Teachers: v4data.Teachers, Ks: v4data.SharedKs, Mappings: allMappings, Factorized: fp}, nil
}

// bootstrapSeed seeds the bootstrap of every median's interval: shared model i of the plan
// (teacher-major, K ascending) uses bootstrapSeed+i for all its metrics.
const bootstrapSeed = 20261202

func run(ctx context.Context, env *harness.Env, p plan) (*harness.Result, error) {
	return runWith(ctx, env, p, realTeacher)
}

// runWith is run with the teacher's networks from src.
func runWith(ctx context.Context, env *harness.Env, p plan, src teacherSource) (*harness.Result, error) {
	res := &harness.Result{}
	d := eval.New(env, res)
	nets, status, err := src.Open(env, d, p.Weights)
	if err != nil {
		return nil, err
	}
	sp := p
	if !p.Shard.Whole() {
		sp.Teachers = nil // a shard computes the teacher's units only
	}
	sur, err := evaluateSurrogates(ctx, env, d, sp)
	if err != nil {
		return nil, fmt.Errorf("shared compact models: %w", err)
	}
	var te *teacherEval
	if nets != nil {
		if te, err = evaluateTeacher(ctx, env, d, sur, nets, src.Images, p); err != nil {
			return nil, fmt.Errorf("teacher: %w", err)
		}
	}
	if !p.Shard.Whole() {
		recordShard(res, p, nets, len(sur.Sessions))
		return res, nil
	}
	cmp, err := compareSurrogates(sur)
	if err != nil {
		return nil, err
	}
	if err := record(res, sur, cmp, status, te); err != nil {
		return nil, err
	}
	if err := writeTables(env, res, sur, cmp, te); err != nil {
		return nil, err
	}
	return res, drawFigures(env, res, sur, te)
}

// recordShard reports a shard run: its units of work are in the cache and the claims are not
// assessed; a run without -shard assembles the result.
func recordShard(res *harness.Result, p plan, nets *openedTeacher, sessions int) {
	total, n := 0, 0
	if nets != nil {
		total = sessions * len(sessionUnits(p, nets))
	}
	for k := range total {
		if p.Shard.Has(k) {
			n++
		}
	}
	what := fmt.Sprintf("shard %s: %d of the plan's %d units of work of the teacher's rows (per session: the ridge rows, each member's and each task-driven network's factorized fit) computed into the cache; no table or figure", p.Shard, n, total)
	if nets == nil {
		what += " (the teacher's files are missing, named below)"
	}
	res.Notes = append(res.Notes, what+"; a run without -shard assembles the result from the cache")
	for _, id := range []string{"C3", "C4"} {
		res.Claims = append(res.Claims, harness.ClaimResult{ID: id, Status: harness.NotRun, Value: "not assessed by a shard run",
			Detail: what + "; run without -shard (same profile and cache) to assemble the rows"})
	}
}
