// Package sharedfilters is experiment E4 of the paper (Fig. 3a-d): the filters the 219
// single-neuron compact models share, how their layers consolidate, and the shared compact
// models (one trunk with K early filters and 219 outputs) as a function of K.
//
// Three analyses, all on the published models (nothing is trained):
//
//  1. Shared early filters (claim C6). For every pair of compact models, every filter of one is
//     matched with its most similar filter of the other by absolute cosine similarity after
//     removing each kernel's mean; layer 0 compares the 5×5×3 kernels, layers 1-4 the 5×5
//     depthwise kernels. The same statistic is computed for two null populations with the same
//     numbers of filters: kernels drawn from the upstream initialiser (Keras GlorotUniform), and
//     the models' own kernels with their spatial positions shuffled; layers 1-4 also get
//     initialiser kernels smoothed once as the upstream training smoothed them. As a check,
//     layer-0 filters are also compared by the correlation of their responses to natural-image
//     patches. The pooled layer-0 kernels are clustered (sign-invariant spherical k-means, k
//     chosen by the silhouette width, shown against the initialiser null).
//  2. Consolidation (claim C5). Per model and layer, the number of filters and the effective
//     dimensionality of the layer's output on natural images (participation ratio of the channel
//     covariance), and where each shrinks most.
//  3. Shared compact models (claim C7, Fig. 3d). Every shared model of the profile predicts the
//     evaluation half of every test session whose images are present; its output rows of that
//     session (reference/upstream.md §4.6) are scored per neuron (Pearson r, r² against the repeat-averaged
//     responses, r²_ER where raw repeats exist), summarised by medians with bootstrapped 90 %
//     confidence intervals per teacher and K, with the single-neuron compact models of the same
//     neurons as the reference; parameter counts are recomputed from the files.
package sharedfilters

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/v4data"
)

func init() {
	harness.Register(harness.Definition[plan]{
		Name:   "sharedfilters",
		Title:  "Shared early filters, consolidation, and shared compact models versus the number of filters K",
		Paper:  "Fig. 3a-d",
		Claims: []string{"C5", "C6", "C7"},
		Plan:   planFor,
		Run:    run,
	})
}

// plan is what a profile runs.
type plan struct {
	// ModelSessions are the sessions whose compact models are analysed (filters, consolidation).
	ModelSessions []string `json:"model_sessions"`
	// EvalSessions are the test sessions whose evaluation halves the shared models predict.
	EvalSessions []string `json:"eval_sessions"`
	// Teachers and Ks select the shared compact models.
	Teachers []string `json:"teachers"`
	Ks       []int    `json:"ks"`
}

// planFor: quick uses the quick profile's test session (its 33 compact models, its evaluation
// images) and the K = 5, 50, 200 models of every teacher; full uses all four test sessions and
// all 56 shared models.
func planFor(p harness.Profile) (plan, error) {
	if p == harness.Quick {
		q := []string{v4data.QuickSession.ID}
		return plan{ModelSessions: q, EvalSessions: q, Teachers: v4data.Teachers, Ks: []int{5, 50, 200}}, nil
	}
	all := v4data.TestSessionIDs()
	return plan{ModelSessions: all, EvalSessions: all, Teachers: v4data.Teachers, Ks: v4data.SharedKs}, nil
}

// Seeds of every random draw of the experiment. Null-model kernels of compact model i (its
// position among all 219) for layer l come from nullSeed + nullKind<<32 + l<<24 + i, so a
// model's null does not depend on which other models a profile includes.
const (
	nullSeed       = 0x5eed0f11
	clusterSeed    = 20260306
	silhouetteSeed = 20260307
	bootstrapSeed  = 20260308
)

func run(ctx context.Context, env *harness.Env, p plan) (*harness.Result, error) {
	res := &harness.Result{}
	d := eval.New(env, res)
	models, err := eval.LoadCompacts(ctx, env.Data, eval.InSessions(p.ModelSessions...))
	if err != nil {
		return nil, fmt.Errorf("compact models: %w", err)
	}
	env.Logf("loaded %d compact models", len(models))
	pm, err := patchMetric(env, d)
	if err != nil {
		return nil, fmt.Errorf("patch statistics: %w", err)
	}
	sim, err := analyseSimilarity(ctx, env, models, pm)
	if err != nil {
		return nil, fmt.Errorf("filter similarity: %w", err)
	}
	clus, err := analyseClusters(ctx, env, models)
	if err != nil {
		return nil, fmt.Errorf("filter clusters: %w", err)
	}
	dims, err := dimensionality(ctx, env, d, models)
	if err != nil {
		return nil, fmt.Errorf("effective dimensionality: %w", err)
	}
	cons, err := summariseConsolidation(models, dims)
	if err != nil {
		return nil, fmt.Errorf("consolidation: %w", err)
	}
	shared, err := evaluateShared(ctx, env, d, p, models)
	if err != nil {
		return nil, fmt.Errorf("shared compact models: %w", err)
	}

	if err := recordSimilarity(res, sim); err != nil {
		return nil, err
	}
	recordClusters(res, clus)
	if err := recordConsolidation(res, env, p, cons); err != nil {
		return nil, err
	}
	if err := recordShared(res, env, p, shared); err != nil {
		return nil, err
	}
	if err := writeTables(env, res, sim, clus, cons, shared); err != nil {
		return nil, err
	}
	return res, drawFigures(env, res, sim, clus, cons, shared)
}
