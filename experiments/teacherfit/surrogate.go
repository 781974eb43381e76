package teacherfit

import (
	"context"
	"fmt"
	"slices"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

// Folders of the shared models that C4's surrogate line compares: the one distilled from the
// ensemble teacher and those distilled from task-driven networks. (linear_from_ensemble_model is
// a linear student of the same teacher, from_V4data_direct_fit has no teacher.)
const ensembleFolder = "from_ensemble_model"

var taskDrivenFolders = []string{"from_resnet50", "from_resnet50_robust", "from_vgg19", "from_cornets"}

// compareK is the K of the shared models that C4's surrogate line compares.
const compareK = 200

// evalSession is a test session whose evaluation half is scored.
type evalSession struct {
	session v4data.TestSession
	resp    *eval.Responses
}

// surrogate is one shared model's accuracy over the neurons of the evaluated sessions
// (concatenated in session order).
type surrogate struct {
	Teacher string
	K       int
	eval.Scores
	Summary eval.Summary
}

// surrogates is the evaluation of the plan's shared models.
type surrogates struct {
	Sessions []*evalSession
	Models   []*surrogate // teacher by teacher, K ascending; only models whose file is present
}

// find returns the evaluated model of a folder and K, or nil.
func (s *surrogates) find(teacher string, k int) *surrogate {
	for _, m := range s.Models {
		if m.Teacher == teacher && m.K == k {
			return m
		}
	}
	return nil
}

// evaluateSurrogates predicts the evaluation half of every session of the plan with every shared
// model of the plan and scores each session's output rows; missing images, raw repeats and
// model files are recorded as not runnable.
func evaluateSurrogates(ctx context.Context, env *harness.Env, d *eval.Data, p plan) (*surrogates, error) {
	s := &surrogates{}
	var resps []*eval.Responses
	for _, id := range p.Sessions {
		ts, ok := v4data.LookupTestSession(id)
		if !ok {
			return nil, fmt.Errorf("unknown test session %s", id)
		}
		resp, err := d.EvalHalf(id, eval.Lost{
			Images: fmt.Sprintf("the shared models' outputs %d-%d (its %d neurons) are not scored", ts.Offset, ts.Offset+ts.Neurons-1, ts.Neurons),
			Raw:    "the noise-corrected R² (r²_ER) of the shared models is not computed for its neurons; Pearson r and r² against the repeat-averaged responses are still computed",
		})
		if err != nil {
			return nil, err
		}
		if resp != nil {
			s.Sessions = append(s.Sessions, &evalSession{session: ts, resp: resp})
			resps = append(resps, resp)
		}
	}
	for ti, teacher := range p.Teachers {
		for ki, k := range p.Ks {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			path := v4data.SharedPath(teacher, k)
			if !env.Data.Has(path) {
				d.NotRunnable(path, fmt.Sprintf("shared compact model %s K=%d is not scored", teacher, k))
				continue
			}
			if len(s.Sessions) == 0 {
				continue
			}
			net, err := v4data.LoadShared(env.Data, teacher, k)
			if err != nil {
				return nil, err
			}
			m := &surrogate{Teacher: teacher, K: k}
			if m.Scores, _, err = d.ScoreShared(ctx, eval.NewShared(teacher, k, net), resps); err != nil {
				return nil, fmt.Errorf("%s K=%d: %w", teacher, k, err)
			}
			seed := bootstrapSeed + uint64(ti*len(p.Ks)+ki)
			if m.Summary, err = eval.Summarize(m.Scores, eval.SameSeed(seed)); err != nil {
				return nil, fmt.Errorf("%s K=%d: %w", teacher, k, err)
			}
			s.Models = append(s.Models, m)
			env.Logf("shared %s K=%d: median r %.3f, r² %.3f over %d neurons", teacher, k, m.Summary.R.Median, m.Summary.R2.Median, len(m.R))
		}
	}
	return s, nil
}

// comparison is C4's surrogate line: the shared model distilled from the ensemble against the
// best one distilled from a task-driven network, both with K = compareK, on the same neurons.
type comparison struct {
	Ensemble, Best *surrogate
	// Others are the task-driven folders evaluated at compareK, best first.
	Others []*surrogate
	// PercentR2 and PercentR are 100·(median_ensemble/median_best − 1) of r² and r;
	// PercentR2ER the same for r²_ER (NaN without raw repeats).
	PercentR2, PercentR, PercentR2ER float64
	// Wins and Losses count the neurons whose r² is higher (lower) with the ensemble's student;
	// P is the sign test's two-sided p-value.
	Wins, Losses int
	P            float64
}

// compareSurrogates builds C4's surrogate line; nil when the ensemble's model or every
// task-driven one at compareK was not evaluated. The best task-driven model is the one with the
// highest median r² (ties: the first in taskDrivenFolders).
func compareSurrogates(s *surrogates) (*comparison, error) {
	c := &comparison{Ensemble: s.find(ensembleFolder, compareK)}
	for _, f := range taskDrivenFolders {
		if m := s.find(f, compareK); m != nil {
			c.Others = append(c.Others, m)
		}
	}
	if c.Ensemble == nil || len(c.Others) == 0 {
		return nil, nil
	}
	slices.SortStableFunc(c.Others, func(a, b *surrogate) int {
		switch {
		case a.Summary.R2.Median > b.Summary.R2.Median:
			return -1
		case a.Summary.R2.Median < b.Summary.R2.Median:
			return 1
		}
		return 0
	})
	c.Best = c.Others[0]
	pct := func(a, b float64) float64 { return 100 * (a/b - 1) }
	c.PercentR2 = pct(c.Ensemble.Summary.R2.Median, c.Best.Summary.R2.Median)
	c.PercentR = pct(c.Ensemble.Summary.R.Median, c.Best.Summary.R.Median)
	c.PercentR2ER = nan
	if c.Ensemble.Summary.R2ER != nil && c.Best.Summary.R2ER != nil {
		c.PercentR2ER = pct(c.Ensemble.Summary.R2ER.Median, c.Best.Summary.R2ER.Median)
	}
	var err error
	if c.Wins, c.Losses, c.P, err = metrics.SignTest(c.Ensemble.R2, c.Best.R2); err != nil {
		return nil, fmt.Errorf("sign test %s vs %s: %w", c.Ensemble.Teacher, c.Best.Teacher, err)
	}
	return c, nil
}
