package distillation

import (
	"fmt"
	"math"
	"strconv"

	"compactv4/harness"
	"compactv4/internal/plots"
)

// neuronsHeader is the header of neurons.csv: one row per neuron, the compact-model columns NaN
// until pruning is built (filters as 5 numbers joined by "-").
var neuronsHeader = []string{"session", "neuron", "teacher", "n_params_student", "n_params_compact", "filters_compact",
	"fidelity_student", "fidelity_compact", "r_eval_teacher", "r_eval_compact", "r_eval_published", "r2er_eval_compact"}

func output(env *harness.Env, res *harness.Result, p plan, rs *results) error {
	ff := harness.FormatFloat
	nan := ff(math.NaN())
	var rows, students, curve [][]string
	for _, r := range rs.neurons {
		s, n := r.Session, strconv.Itoa(r.N)
		rows = append(rows, []string{s, n, p.Teacher, strconv.Itoa(r.student.Params().Total), nan, nan,
			ff(r.fidelity()), nan, ff(r.rTeacher), nan, ff(r.rPublished), nan})
		students = append(students, []string{s, n, strconv.FormatInt(p.Distil.Presentations, 10), ff(r.fidelity()), ff(r.rStudent), ff(r.rTeacher), ff(r.rPublished)})
		for _, pt := range r.curve {
			curve = append(curve, []string{s, n, "distillation", strconv.FormatInt(pt.Presentations, 10), ff(pt.R)})
		}
	}
	if err := res.AddTable(env.WriteCSV("neurons.csv", neuronsHeader, rows)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("students.csv", []string{"session", "neuron", "presentations", "fidelity_student", "r_eval_student", "r_eval_teacher", "r_eval_published"}, students)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("fidelity.csv", []string{"session", "neuron", "phase", "presentations", "fidelity"}, curve)); err != nil {
		return err
	}
	var held [][]string
	for _, h := range rs.set.HeldOut() {
		held = append(held, []string{h.Session, strconv.Itoa(h.Index + 1), strconv.FormatBool(h.Flipped)})
	}
	if err := res.AddTable(env.WriteCSV("heldout.csv", []string{"session", "image", "flipped"}, held)); err != nil {
		return err
	}
	return figures(env, res, rs)
}

func figures(env *harness.Env, res *harness.Result, rs *results) error {
	var series []plots.Series
	for _, r := range rs.neurons {
		sr := plots.Series{Label: fmt.Sprintf("%s neuron %d", r.Session, r.N)}
		for _, pt := range r.curve {
			sr.X = append(sr.X, float64(pt.Presentations))
			sr.Y = append(sr.Y, pt.R)
		}
		if len(sr.X) > 0 {
			series = append(series, sr)
		}
	}
	if len(series) > 0 {
		fig, err := plots.Lines(series, plots.LineOptions{
			Axes: plots.Axes{Title: "Distillation: held-out fidelity of the [100]*5 student", XLabel: "Images presented",
				YLabel: "Pearson r, student vs teacher (held-out images)"},
			Legend: plots.BottomRight,
		})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(fig, "fidelity", plots.SingleColumn, plots.SingleColumn)); err != nil {
			return err
		}
	}
	var st, pub plots.Series
	st.Label, pub.Label = "distilled student", "published compact model"
	for _, r := range rs.neurons {
		if math.IsNaN(r.rTeacher) {
			continue
		}
		if !math.IsNaN(r.rStudent) {
			st.X, st.Y = append(st.X, r.rTeacher), append(st.Y, r.rStudent)
		}
		if !math.IsNaN(r.rPublished) {
			pub.X, pub.Y = append(pub.X, r.rTeacher), append(pub.Y, r.rPublished)
		}
	}
	if len(st.X) == 0 {
		return nil
	}
	ss := []plots.Series{st}
	if len(pub.X) > 0 {
		ss = append(ss, pub)
	}
	fig, err := plots.Scatter(ss, plots.ScatterOptions{
		Axes: plots.Axes{Title: "Evaluation half: student and published compact model vs teacher", XLabel: "Teacher r",
			YLabel: "Model r"},
		Unity: true,
	})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(fig, "accuracy", plots.SingleColumn, plots.SingleColumn))
}
