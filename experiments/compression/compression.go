// Package compression is experiment E2 of the paper (Fig. 1c-h): the 5,000-fold compression of
// the teacher into single-neuron compact models, evaluated on the published models.
//
// It counts the teacher's parameters from the released Keras summaries (claim C1) and every
// compact model's from its weights, cross-checked with its printed summary (C2); tabulates the
// filters per layer across the 219 models (C5); and predicts the evaluation half of every test
// session of the plan whose images are present (reference/upstream.md §5.1) with each of that
// session's compact models, scoring the predictions against the recorded responses (C3: Pearson r
// and r² against the repeat-averaged responses; the noise-corrected r²_ER where the raw repeats
// are present).
//
// The distillation and pruning that produced the models, and the teacher's own predictions, are
// not rerun here.
package compression

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/v4data"
)

func init() {
	harness.Register(harness.Definition[plan]{
		Name:   "compression",
		Title:  "5,000x compression: parameter counts, consolidation profile and accuracy of the published compact models",
		Paper:  "Fig. 1c-h",
		Claims: []string{"C1", "C2", "C3", "C5"},
		Plan:   planFor,
		Run:    run,
	})
}

// plan is what a profile runs: parameter counts and filters always cover all 219 models.
type plan struct {
	Sessions []string `json:"eval_sessions"` // test sessions whose evaluation halves are scored
}

// planFor: quick scores the quick profile's test session, full all four.
func planFor(p harness.Profile) (plan, error) {
	if p == harness.Quick {
		return plan{Sessions: []string{v4data.QuickSession.ID}}, nil
	}
	return plan{Sessions: v4data.TestSessionIDs()}, nil
}

// bootstrapSeed seeds the bootstrap of every median's confidence interval: session i of the
// plan uses bootstrapSeed+i for all its metrics, the pooled medians bootstrapSeed+100.
const bootstrapSeed = 20261126

func run(ctx context.Context, env *harness.Env, p plan) (*harness.Result, error) {
	res := &harness.Result{}
	teacher, err := countTeacher(env)
	if err != nil {
		return nil, fmt.Errorf("teacher size: %w", err)
	}
	models, err := loadModels(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("compact models: %w", err)
	}
	sizes := summarizeSizes(models, teacher)
	if err := recordSizes(res, env, teacher, models, sizes); err != nil {
		return nil, err
	}
	if err := recordFilters(res, env, models); err != nil {
		return nil, err
	}
	evals, err := evaluate(ctx, eval.New(env, res), p, models)
	if err != nil {
		return nil, err
	}
	acc, err := summarizeAccuracy(evals)
	if err != nil {
		return nil, err
	}
	recordAccuracy(res, env, evals, acc)
	if err := writeTables(env, res, teacher, models, sizes, evals, acc); err != nil {
		return nil, err
	}
	return res, drawFigures(env, res, teacher, models, sizes, evals)
}
