package teacherfit

import (
	"fmt"
	"strconv"

	"gonum.org/v1/plot/vg"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/plots"
)

func writeTables(env *harness.Env, res *harness.Result, s *surrogates, c *comparison, te *teacherEval) error {
	if te != nil {
		if err := writeTeacherTables(env, res, te); err != nil {
			return err
		}
	}
	var rows [][]string
	for _, m := range s.Models {
		rows = append(rows, []string{m.Teacher, strconv.Itoa(m.K), strconv.Itoa(len(m.R)),
			harness.FormatFloat(m.Summary.R.Median), harness.FormatFloat(m.Summary.R2.Median)})
	}
	if err := res.AddTable(env.WriteCSV("surrogate.csv", []string{"teacher", "K", "n_neurons", "median_r_eval", "median_r2_eval"}, rows)); err != nil {
		return err
	}
	var line any
	if c != nil {
		line = map[string]any{
			"label":               "via the distilled shared models",
			"k":                   compareK,
			"ensemble":            c.Ensemble.Teacher,
			"best_task_driven":    c.Best.Teacher,
			"neurons":             len(c.Ensemble.R2),
			"percent_median_r2":   c.PercentR2,
			"percent_median_r":    c.PercentR,
			"wins":                c.Wins,
			"losses":              c.Losses,
			"sign_test_p":         c.P,
			"metric":              "Pearson r and r² against repeat-averaged responses on the evaluation halves (images M/2+1…M); percent = 100·(median ensemble student / median best task-driven student − 1)",
			"not_the_teachers":    "these are the students distilled from each teacher, not the teachers' own predictions",
			"best_chosen_by":      "highest median r² among the task-driven folders at the same K",
			"task_driven_folders": taskDrivenFolders,
		}
	}
	return res.AddTable(env.WriteJSON("surrogate.json", map[string]any{"c4_surrogate": line}))
}

// teacherHeader and teacherNeuronHeader are the columns of teacher.csv and teacher_neurons.csv.
var (
	teacherHeader       = []string{"model", "mapping", "protocol", "n_neurons", "median_r", "r_lo", "r_hi", "median_r2", "r2_lo", "r2_hi", "median_r2er", "r2er_lo", "r2er_hi"}
	teacherNeuronHeader = []string{"model", "mapping", "protocol", "session", "neuron", "r", "r2", "r2er"}
)

func writeTeacherTables(env *harness.Env, res *harness.Result, te *teacherEval) error {
	ciCols := func(m *metrics.MedianCI) []string {
		if m == nil {
			return []string{"", "", ""}
		}
		return []string{harness.FormatFloat(m.Median), harness.FormatFloat(m.Lo), harness.FormatFloat(m.Hi)}
	}
	var rows, neurons [][]string
	for _, r := range append(te.Rows, te.Compact) {
		if r == nil {
			continue
		}
		row := []string{r.Model, r.Mapping, r.Protocol, strconv.Itoa(len(r.R))}
		row = append(row, ciCols(&r.Summary.R)...)
		row = append(row, ciCols(&r.Summary.R2)...)
		rows = append(rows, append(row, ciCols(r.Summary.R2ER)...))
		k := 0
		for i, ev := range te.Evals {
			for n := range ev.Neurons() {
				er := ""
				if r.R2ER != nil {
					er = harness.FormatFloat(r.R2ER[k])
				}
				neurons = append(neurons, []string{r.Model, r.Mapping, r.Protocol, te.IDs[i], strconv.Itoa(n),
					harness.FormatFloat(r.R[k]), harness.FormatFloat(r.R2[k]), er})
				k++
			}
		}
	}
	if err := res.AddTable(env.WriteCSV("teacher.csv", teacherHeader, rows)); err != nil {
		return err
	}
	return res.AddTable(env.WriteCSV("teacher_neurons.csv", teacherNeuronHeader, neurons))
}

func drawFigures(env *harness.Env, res *harness.Result, s *surrogates, te *teacherEval) error {
	if te != nil {
		if err := drawTeacherFigures(env, res, te); err != nil {
			return err
		}
	}
	if len(s.Models) == 0 {
		return nil
	}
	var series []plots.Series
	var order []string
	by := map[string]*plots.Series{}
	for _, m := range s.Models {
		sr, ok := by[m.Teacher]
		if !ok {
			order = append(order, m.Teacher)
			sr = &plots.Series{Label: m.Teacher}
			by[m.Teacher] = sr
		}
		sr.X = append(sr.X, float64(m.K))
		sr.Y = append(sr.Y, m.Summary.R.Median)
		sr.Lo = append(sr.Lo, m.Summary.R.Lo)
		sr.Hi = append(sr.Hi, m.Summary.R.Hi)
	}
	for _, t := range order {
		series = append(series, *by[t])
	}
	title := "Shared models distilled from each teacher folder"
	p, err := plots.Lines(series, plots.LineOptions{
		Axes: plots.Axes{Title: title, XLabel: "Filters K of layers 0-2", LogX: true,
			YLabel: fmt.Sprintf("Median r, evaluation half (%d neurons; 90 %% CI)", len(s.Models[0].R))},
		Legend: plots.BottomRight,
	})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(p, "surrogate_vs_k", plots.SingleColumn, 90*vg.Millimeter))
}
