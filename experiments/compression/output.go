package compression

import (
	"fmt"
	"math"
	"sort"
	"strconv"

	"gonum.org/v1/plot/vg"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/plots"
)

func writeTables(env *harness.Env, res *harness.Result, t teacherSize, models []*eval.Compact, s sizeSummary, evals []*sessionEval, acc *accuracy) error {
	var rows [][]string
	for _, m := range models {
		r := []string{m.ID.Session, strconv.Itoa(m.ID.Neuron)}
		for _, f := range m.Filters {
			r = append(r, strconv.Itoa(f))
		}
		p := m.Net.Params()
		r = append(r, strconv.Itoa(p.Total), strconv.Itoa(p.Trainable), strconv.Itoa(p.NonTrainable))
		rows = append(rows, r)
	}
	if err := res.AddTable(env.WriteCSV("models.csv", []string{"session", "neuron", "f0", "f1", "f2", "f3", "f4", "n_params", "n_trainable", "n_nontrainable"}, rows)); err != nil {
		return err
	}

	rows = rows[:0]
	sessions := map[string]any{}
	for i, ev := range evals {
		for n, m := range ev.models {
			r2er := math.NaN()
			if ev.R2ER != nil {
				r2er = ev.R2ER[n]
			}
			rows = append(rows, []string{ev.session.ID, strconv.Itoa(n), strconv.Itoa(m.Net.Params().Total),
				harness.FormatFloat(ev.R[n]), harness.FormatFloat(ev.R2[n]), harness.FormatFloat(r2er)})
		}
		if err := res.AddTable(env.WriteNPY("predictions_"+ev.session.ID+".npy", []int{len(ev.pred), ev.resp.Images()}, flatten(ev.pred))); err != nil {
			return err
		}
		sessions[ev.session.ID] = map[string]any{
			"neurons": len(ev.models), "eval_images": []int{ev.resp.Lo + 1, ev.resp.Hi},
			"medians": eval.JSONMedians(acc.session[i]),
		}
	}
	if err := res.AddTable(env.WriteCSV("neurons.csv", []string{"session", "neuron", "n_params", "r_eval", "r2_eval", "r2er_eval"}, rows)); err != nil {
		return err
	}
	var pooled any = map[string]any{}
	if acc.pooled != nil {
		pooled = eval.JSONMedians(*acc.pooled)
	}
	return res.AddTable(env.WriteJSON("summary.json", map[string]any{
		"teacher": map[string]int{"resnet50_trunk": t.Trunk, "member": t.Member, "members": t.Members, "total": t.Total},
		"compact_params": map[string]float64{
			"models": float64(len(models)), "median": s.Median, "min": s.Min, "max": s.Max, "compression_factor": s.Factor,
		},
		"median_filters_per_layer": medianFilters(models),
		"accuracy": map[string]any{
			"sessions": sessions, "pooled": pooled,
			"metric": "Pearson r and r² of predictions against repeat-averaged responses on each session's evaluation half (images M/2+1…M); r2er = noise-corrected R² (Pospisil & Bair 2021, upstream compute_r2_ER) where raw repeats are present; medians with 90 % percentile-bootstrap CIs",
		},
	}))
}

func flatten(x [][]float32) []float32 {
	var out []float32
	for _, r := range x {
		out = append(out, r...)
	}
	return out
}

const (
	figWidth  = plots.SingleColumn
	figHeight = 70 * vg.Millimeter
)

func drawFigures(env *harness.Env, res *harness.Result, t teacherSize, models []*eval.Compact, s sizeSummary, evals []*sessionEval) error {

	// Parameter counts: every compact model against the teacher (log axis).
	counts := make([]float64, len(models))
	for i, m := range models {
		counts[i] = float64(m.Net.Params().Total)
	}
	sort.Float64s(counts)
	rank := make([]float64, len(counts))
	for i := range rank {
		rank[i] = float64(i + 1)
	}
	p, err := plots.Scatter([]plots.Series{{Label: fmt.Sprintf("compact models (n = %d)", len(models)), X: rank, Y: counts}}, plots.ScatterOptions{
		Axes: plots.Axes{
			Title:  fmt.Sprintf("Teacher %.1f M vs compact median %s parameters: %.0f-fold", float64(t.Total)/1e6, harness.Comma(int(s.Median)), s.Factor),
			XLabel: "Compact model (sorted by size)", YLabel: "Parameters",
			LogY: true, YLim: plots.Limits{Min: 1e3, Max: 2e8},
		},
		HLines: []plots.RefLine{
			{Value: float64(t.Total), Label: "teacher"},
			{Value: s.Median},
		},
		Legend: plots.BottomRight,
	})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(p, "params", figWidth, figHeight)); err != nil {
		return err
	}

	// Consolidation profile: filters per layer across the models.
	var groups []plots.Group
	for l := 0; l < model.NumLayers; l++ {
		g := plots.Group{Label: fmt.Sprintf("layer %d", l)}
		for _, m := range models {
			g.Values = append(g.Values, float64(m.Filters[l]))
		}
		groups = append(groups, g)
	}
	p, err = plots.Groups(groups, plots.GroupOptions{
		Axes:           plots.Axes{Title: fmt.Sprintf("Filters per layer (%d compact models)", len(models)), XLabel: "Layer", YLabel: "Filters"},
		ConnectMedians: true, Seed: 1,
	})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(p, "filters", figWidth, figHeight)); err != nil {
		return err
	}

	if len(evals) == 0 {
		return nil
	}
	// Accuracy by session: Pearson r, and r²_ER where every session has raw repeats.
	var panels []plots.Drawer
	for _, name := range []string{"r", "r2er"} {
		var gs []plots.Group
		for _, ev := range evals {
			if xs := ev.metric(name); xs != nil {
				gs = append(gs, plots.Group{Label: ev.session.ID, Values: xs})
			}
		}
		if len(gs) != len(evals) {
			continue
		}
		ylabel := "Pearson r (vs repeat-averaged)"
		if name == "r2er" {
			ylabel = "Noise-corrected R² (r²_ER)"
		}
		p, err := plots.Groups(gs, plots.GroupOptions{
			Axes:    plots.Axes{Title: "Compact models, evaluation half", XLabel: "Session", YLabel: ylabel},
			Colored: true, Seed: 2,
		})
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	acc, err := plots.Grid(panels, plots.GridOptions{Cols: len(panels), Letters: len(panels) > 1})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(acc, "accuracy", figWidth*vg.Length(len(panels)), figHeight)); err != nil {
		return err
	}

	// Predicted versus recorded responses of a few neurons.
	panels = panels[:0]
	for _, g := range gridNeurons(evals) {
		ev := g.session
		x := make([]float64, len(ev.pred[g.neuron]))
		for i, v := range ev.pred[g.neuron] {
			x[i] = float64(v)
		}
		p, err := plots.Scatter([]plots.Series{{X: x, Y: ev.resp.Averaged[g.neuron]}}, plots.ScatterOptions{
			Axes: plots.Axes{
				Title:  fmt.Sprintf("%s neuron %d, r = %.2f", ev.session.ID, g.neuron, ev.R[g.neuron]),
				XLabel: "Predicted (a.u.)", YLabel: "Recorded (spikes / 100 ms)",
			},
		})
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	grid, err := plots.Grid(panels, plots.GridOptions{Cols: 2, Letters: true})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(grid, "predictions", plots.DoubleColumn, 2*figHeight))
}

// metric returns one of the session's scores by name (nil when not computed).
func (ev *sessionEval) metric(name string) []float64 {
	switch name {
	case "r":
		return ev.R
	case "r2":
		return ev.R2
	case "r2er":
		return ev.R2ER
	}
	return nil
}
