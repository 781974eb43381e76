package areas

import (
	"fmt"
	"strconv"

	"compactv4/harness"
	"compactv4/internal/filtercurve"
	"compactv4/internal/plots"

	"gonum.org/v1/plot/vg"
)

// curveRows are the table rows of one curve: one per K and one for the full model, whose k is
// fullK (empty when fullK is 0: the full model is the task-driven teacher).
func curveRows(area, seed, metric string, c *filtercurve.Curve, fullK int) [][]string {
	var rows [][]string
	row := func(k string, role string, m float64, lo, hi float64, n int, smallest bool) {
		rows = append(rows, []string{area, seed, k, role, metric, harness.FormatFloat(m), harness.FormatFloat(lo), harness.FormatFloat(hi), strconv.Itoa(n), strconv.FormatBool(smallest)})
	}
	for _, p := range c.Points {
		row(strconv.Itoa(p.K), "compressed", p.Acc.Median, p.Acc.Lo, p.Acc.Hi, p.Acc.N, p.K == c.Smallest)
	}
	k, role := strconv.Itoa(fullK), "full"
	if fullK == 0 {
		k, role = "", "full (teacher)"
	}
	row(k, role, c.Full.Median, c.Full.Lo, c.Full.Hi, c.Full.N, false)
	return rows
}

func writeTables(env *harness.Env, res *harness.Result, p plan, v4 *v4Curve, sim []simRun, real []realCurve) error {
	var rows [][]string
	if v4.Curve != nil {
		rows = append(rows, curveRows("V4 (published shared models, "+p.Teacher+")", "", metricLabel(v4.Metric), v4.Curve, p.FullK)...)
	}
	for _, run := range sim {
		for _, r := range run.Results {
			rows = append(rows, curveRows("simulated "+string(r.Kind), strconv.FormatUint(run.Seed, 10), "r²_ER", r.Curve, p.Sim.FullK)...)
		}
	}
	for _, c := range real {
		rows = append(rows, curveRows(c.Area+" ("+c.Dataset+", students distilled from "+c.Teacher+")", "", "r²_ER", c.Curve, 0)...)
	}
	return res.AddTable(env.WriteCSV("accuracy_vs_k.csv",
		[]string{"area", "seed", "k", "model", "metric", "median", "ci_lo", "ci_hi", "neurons", "smallest_k"}, rows))
}

// curvePanel draws one area: the median with its 90 % interval (band) per K, and the full
// model's median (line) and interval (band) from the smallest K to the full model's (to the
// largest K when fullK is 0: the full model is the teacher), with a vertical line at the
// smallest K that performs no worse.
func curvePanel(title, metric string, c *filtercurve.Curve, fullK int) (plots.Drawer, error) {
	var s plots.Series
	s.Label = "K early filters"
	for _, p := range c.Points {
		s.X, s.Y = append(s.X, float64(p.K)), append(s.Y, p.Acc.Median)
		s.Lo, s.Hi = append(s.Lo, p.Acc.Lo), append(s.Hi, p.Acc.Hi)
	}
	label, end := fmt.Sprintf("full (K = %d), 90 %% CI", fullK), float64(fullK)
	if fullK == 0 {
		label, end = "full model (teacher), 90 % CI", s.X[len(s.X)-1]
	}
	full := plots.Series{
		Label: label,
		X:     []float64{s.X[0], end}, Y: []float64{c.Full.Median, c.Full.Median},
		Lo: []float64{c.Full.Lo, c.Full.Lo}, Hi: []float64{c.Full.Hi, c.Full.Hi},
	}
	var vl []plots.RefLine
	if c.Smallest > 0 {
		vl = append(vl, plots.RefLine{Value: float64(c.Smallest), Label: fmt.Sprintf("smallest K = %d", c.Smallest)})
	}
	p, err := plots.Lines([]plots.Series{s, full}, plots.LineOptions{
		Axes:   plots.Axes{Title: title, XLabel: "K (filters in the early layers)", YLabel: "median " + metric, LogX: true},
		VLines: vl, Legend: plots.BottomRight,
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

func drawFigure(env *harness.Env, res *harness.Result, p plan, v4 *v4Curve, sim []simRun, real []realCurve) error {
	var panels []plots.Drawer
	if v4.Curve != nil {
		d, err := curvePanel("V4: published shared models ("+p.Teacher+")", metricLabel(v4.Metric), v4.Curve, p.FullK)
		if err != nil {
			return err
		}
		panels = append(panels, d)
	}
	for _, c := range real {
		d, err := curvePanel(fmt.Sprintf("%s (%s): students of the task-driven teacher", c.Area, c.Dataset), "r²_ER", c.Curve, 0)
		if err != nil {
			return err
		}
		panels = append(panels, d)
	}
	if len(sim) > 0 {
		for _, r := range sim[0].Results {
			d, err := curvePanel(fmt.Sprintf("simulated %s (seed %d)", r.Kind, sim[0].Seed), "r²_ER", r.Curve, p.Sim.FullK)
			if err != nil {
				return err
			}
			panels = append(panels, d)
		}
	}
	if len(panels) == 0 {
		return nil
	}
	grid, err := plots.Grid(panels, plots.GridOptions{Cols: min(len(panels), 2), Letters: len(panels) > 1})
	if err != nil {
		return err
	}
	rowsN := (len(panels) + 1) / 2
	return res.AddFigure(env.SaveFigure(grid, "accuracy_vs_k", plots.DoubleColumn, plots.SingleColumn*vg.Length(rowsN)*0.8))
}
