package teacherfit

import (
	"fmt"
	"math"

	"compactv4/harness"
	"compactv4/internal/metrics"
)

var nan = math.NaN()

// tolMedian is the tolerance of the golden medians computed from float32 predictions: the
// pure-Go kernels (CPUs without AVX2/FMA) round differently and move a correlation by ~1e-7.
const tolMedian = 1e-5

func modelKey(m *surrogate) string { return fmt.Sprintf("surrogate/%s/K%d", m.Teacher, m.K) }

func record(res *harness.Result, s *surrogates, c *comparison, t teacherStatus) error {
	v := &res.Values
	v.Exact("teacher/member_files", float64(t.Members))
	v.Exact("teacher/member_files_missing", float64(len(t.MissingMembers)))
	for _, m := range s.Models {
		v.CI(modelKey(m)+"/r", m.Summary.R, tolMedian)
		v.CI(modelKey(m)+"/r2", m.Summary.R2, tolMedian)
		if m.Summary.R2ER != nil {
			v.CI(modelKey(m)+"/r2er", *m.Summary.R2ER, tolMedian)
		}
	}
	if c != nil {
		v.Text("C4/surrogate/best_taskdriven", c.Best.Teacher)
		v.Num("C4/surrogate/percent_r2", c.PercentR2, 1e-3, 0)
		v.Num("C4/surrogate/percent_r", c.PercentR, 1e-3, 0)
		if !math.IsNaN(c.PercentR2ER) {
			v.Num("C4/surrogate/percent_r2er", c.PercentR2ER, 1e-3, 0)
		}
		v.Exact("C4/surrogate/wins", float64(c.Wins))
		v.Exact("C4/surrogate/losses", float64(c.Losses))
		v.Num("C4/surrogate/sign_test_p", c.P, 1e-9, 1e-6)
	}

	teacherRows := t.notRunnableRows()
	teacherStatus := harness.NotRunnable
	if len(t.MissingMembers) == 0 {
		teacherStatus = harness.NotImplemented
	}
	c4 := harness.ClaimResult{ID: "C4", Status: teacherStatus, Figures: []string{"surrogate_vs_k"}}
	if c == nil {
		c4.Value = fmt.Sprintf("no comparison: the shared models %s and a task-driven one at K=%d were not both scored", ensembleFolder, compareK)
		c4.Detail = teacherRows
	} else {
		c4.Status = harness.Partial
		c4.Value = "via the distilled shared models (students of each teacher, not the teachers themselves): " + c.String()
		c4.Detail = "the teachers' own comparison is not computed: " + teacherRows
	}
	c3 := harness.ClaimResult{ID: "C3", Status: teacherStatus,
		Value:  "the teacher's accuracy on the evaluation halves is not computed, so compact models are not compared with it here",
		Detail: teacherRows}
	res.Claims = append(res.Claims, c3, c4)
	return nil
}

// String is the surrogate line in words and numbers.
func (c *comparison) String() string {
	n := len(c.Ensemble.R2)
	s := fmt.Sprintf("K=%d student of the ensemble, median r² %s, vs the best task-driven student (%s), %s, on the same %d neurons: %+.1f %% in median r² (r: %s vs %s, %+.1f %%)",
		compareK, ci(c.Ensemble.Summary.R2), c.Best.Teacher, ci(c.Best.Summary.R2), n, c.PercentR2,
		ci(c.Ensemble.Summary.R), ci(c.Best.Summary.R), c.PercentR)
	if !math.IsNaN(c.PercentR2ER) {
		s += fmt.Sprintf("; r²_ER %s vs %s, %+.1f %%", ci(*c.Ensemble.Summary.R2ER), ci(*c.Best.Summary.R2ER), c.PercentR2ER)
	}
	return s + fmt.Sprintf("; r² higher for %d and lower for %d neurons (sign test p = %.2g)", c.Wins, c.Losses, c.P)
}

func ci(m metrics.MedianCI) string { return fmt.Sprintf("%.3f [%.3f, %.3f]", m.Median, m.Lo, m.Hi) }
