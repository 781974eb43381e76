package teacherfit

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/plots"
	"compactv4/internal/teacherrows"
)

// Figure names of the teacher's rows.
const (
	figVsTaskDriven     = "teacher_vs_taskdriven"
	figMedians          = "teacher_medians"
	figRidgeVsFactorize = "ridge_vs_factorized"
)

// metricOf returns a row's per-neuron metric and its median with interval: r²_ER when er (the
// rows compared all have it), else r² against the repeat-averaged responses.
func metricOf(r *teacherRow, er bool) ([]float64, metrics.MedianCI) {
	if er {
		return r.R2ER, *r.Summary.R2ER
	}
	return r.R2, r.Summary.R2
}

// allER reports whether every row has r²_ER.
func allER(rows ...*teacherRow) bool {
	for _, r := range rows {
		if r.R2ER == nil {
			return false
		}
	}
	return true
}

// metricLabel names the metric of metricOf.
func metricLabel(er bool) string {
	if er {
		return "r²_ER"
	}
	return "r²"
}

// finitePairs returns the neurons' (x, y) where both are finite.
func finitePairs(x, y []float64) (fx, fy []float64) {
	for i := range x {
		if !math.IsNaN(x[i]) && !math.IsInf(x[i], 0) && !math.IsNaN(y[i]) && !math.IsInf(y[i], 0) {
			fx, fy = append(fx, x[i]), append(fy, y[i])
		}
	}
	return fx, fy
}

// neuronScatter is one panel of per-neuron accuracies b (y) against a (x), with the identity
// line, over the neurons where both are finite; nil (an empty cell) when there is none.
func neuronScatter(a, b *teacherRow, title, xlabel, ylabel string) (plots.Drawer, error) {
	er := allER(a, b)
	xa, _ := metricOf(a, er)
	yb, _ := metricOf(b, er)
	x, y := finitePairs(xa, yb)
	if len(x) == 0 {
		return nil, nil
	}
	m := metricLabel(er)
	return plots.Scatter([]plots.Series{{X: x, Y: y}}, plots.ScatterOptions{
		Axes: plots.Axes{Title: fmt.Sprintf("%s (%d neurons)", title, len(x)),
			XLabel: xlabel + ", " + m, YLabel: ylabel + ", " + m},
		Unity: true, Legend: plots.NoLegend,
	})
}

// rowsOf returns the rows of one mapping and protocol, the ensemble first.
func (te *teacherEval) rowsOf(mapping, protocol string) []*teacherRow {
	var out []*teacherRow
	for _, r := range te.Rows {
		if r.Mapping == mapping && r.Protocol == protocol {
			out = append(out, r)
		}
	}
	return out
}

// drawTeacherFigures draws the figures of the teacher's rows (evaluation halves): per neuron the
// ensemble against each task-driven network, one panel per network and mapping
// (teacher_vs_taskdriven); the medians with their 90 % bootstrap intervals of every row
// (teacher_medians, Fig. 1b); and, when both mappings ran, per neuron the factorized against
// the ridge mapping of each model (ridge_vs_factorized).
func drawTeacherFigures(env *harness.Env, res *harness.Result, te *teacherEval) error {
	var vs []plots.Drawer
	cols := 0
	for _, mp := range allMappings {
		rows := te.rowsOf(mp, teacherrows.Halves)
		if len(rows) < 2 {
			continue
		}
		cols = len(rows) - 1
		for _, r := range rows[1:] {
			p, err := neuronScatter(r, rows[0], r.Model+", "+mp, r.Model, "ensemble teacher")
			if err != nil {
				return err
			}
			vs = append(vs, p)
		}
	}
	if len(vs) > 0 {
		g, err := plots.Grid(vs, plots.GridOptions{Cols: cols, Letters: true,
			Title: "Teacher vs task-driven networks per neuron (evaluation halves)"})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(g, figVsTaskDriven, plots.DoubleColumn, 80*vg.Millimeter*vg.Length(len(vs)/cols))); err != nil {
			return err
		}
	}
	if err := drawMedians(env, res, te); err != nil {
		return err
	}
	ridgeRows, fzRows := te.rowsOf(ridge, teacherrows.Halves), te.rowsOf(factorized, teacherrows.Halves)
	if len(ridgeRows) == 0 || len(fzRows) != len(ridgeRows) {
		return nil
	}
	var panels []plots.Drawer
	for i, r := range ridgeRows {
		p, err := neuronScatter(r, fzRows[i], r.Model, "ridge", "factorized")
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	g, err := plots.Grid(panels, plots.GridOptions{Cols: len(panels), Letters: true,
		Title: "Factorized vs ridge mapping per neuron (evaluation halves)"})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(g, figRidgeVsFactorize, plots.DoubleColumn, 80*vg.Millimeter))
}

// drawMedians draws every row's median with its 90 % bootstrap interval (the rows' Summary,
// eval.Summarize's seeded bootstrap), one series per mapping and protocol, models along x.
func drawMedians(env *harness.Env, res *harness.Result, te *teacherEval) error {
	all := te.Rows
	if te.Compact != nil {
		all = append(all[:len(all):len(all)], te.Compact)
	}
	if len(all) == 0 {
		return nil
	}
	er := allER(all...)
	var models []string
	at := map[string]int{}
	type group struct{ mapping, protocol string }
	var groups []group
	seen := map[group]bool{}
	for _, r := range all {
		if _, ok := at[r.Model]; !ok {
			at[r.Model] = len(models)
			models = append(models, r.Model)
		}
		g := group{r.Mapping, r.Protocol}
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	var series []plots.Series
	for gi, g := range groups {
		s := plots.Series{Label: g.mapping + ", " + g.protocol}
		if g.mapping == "none" {
			s.Label = "compact models, " + g.protocol
		}
		off := 0.2 * (float64(gi) - float64(len(groups)-1)/2)
		for _, r := range all {
			if r.Mapping != g.mapping || r.Protocol != g.protocol {
				continue
			}
			_, m := metricOf(r, er)
			s.X = append(s.X, float64(at[r.Model])+off)
			s.Y, s.ErrLo, s.ErrHi = append(s.Y, m.Median), append(s.ErrLo, m.Lo), append(s.ErrHi, m.Hi)
		}
		series = append(series, s)
	}
	p, err := plots.Scatter(series, plots.ScatterOptions{
		Axes: plots.Axes{Title: fmt.Sprintf("Fig. 1b: median accuracy per model (%d neurons)", len(all[0].R)),
			XLabel: "Model", YLabel: "Median " + metricLabel(er) + " (90 % bootstrap CI)"},
		Legend: plots.BottomRight,
	})
	if err != nil {
		return err
	}
	ticks := make([]plot.Tick, len(models))
	for i, m := range models {
		ticks[i] = plot.Tick{Value: float64(i), Label: m}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.6, float64(len(models))-0.4
	return res.AddFigure(env.SaveFigure(p, figMedians, plots.SingleColumn, 80*vg.Millimeter))
}
