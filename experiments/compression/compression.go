// Package compression is experiment E2 of the paper (Fig. 1c-h): the 5,000-fold compression of
// the teacher into single-neuron compact models, evaluated on the published models.
//
// It counts the teacher's parameters from the released Keras summaries (claim C1) and every
// compact model's from its weights, cross-checked with its printed summary (C2); tabulates the
// filters per layer across the 219 models (C5); and predicts the evaluation half of every test
// session whose images are present (spec §5.1) with each of that session's compact models,
// scoring the predictions against the recorded responses (C3: Pearson r and r² against the
// repeat-averaged responses; the noise-corrected r²_ER where the raw repeats are present).
//
// The distillation and pruning that produced the models, and the teacher's own predictions, are
// not rerun here.
package compression

import (
	"context"
	"fmt"

	"compactv4/harness"
)

func init() {
	harness.Register(&harness.Experiment{
		Name:   "compression",
		Title:  "5,000x compression: parameter counts, consolidation profile and accuracy of the published compact models",
		Paper:  "Fig. 1c-h",
		Claims: []string{"C1", "C2", "C3", "C5"},
		Run:    Run,
	})
}

// Sessions returns the test sessions a profile evaluates.
func Sessions(p harness.Profile) []string {
	if p == harness.Quick {
		return []string{"190923"}
	}
	return []string{"190923", "201025", "210225", "211022"}
}

// BootstrapSeed seeds the bootstrap of every median's confidence interval (session i uses
// BootstrapSeed+i; the pooled median uses BootstrapSeed+100); metrics.MedianWithCI gives the
// level (90 %) and the number of resamples (10,000).
const BootstrapSeed = 20261126

// Run runs the experiment.
func Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	claims, err := harness.PaperClaims()
	if err != nil {
		return nil, err
	}
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
	if err := recordSizes(res, claims, teacher, models, sizes); err != nil {
		return nil, err
	}
	if err := recordFilters(res, claims, models); err != nil {
		return nil, err
	}

	evals, err := evaluate(ctx, env, res, models)
	if err != nil {
		return nil, err
	}
	if err := recordAccuracy(res, env, evals); err != nil {
		return nil, err
	}
	if err := writeTables(env, res, teacher, models, sizes, evals); err != nil {
		return nil, err
	}
	if err := drawFigures(env, res, teacher, models, sizes, evals); err != nil {
		return nil, err
	}
	return res, nil
}
