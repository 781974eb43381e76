package distillation

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"strconv"

	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/modelfile"
	"compactv4/internal/npy"
	"compactv4/internal/plots"
	"compactv4/internal/prune"
)

// neuronsHeader is the header of neurons.csv: one row per neuron (filters as 5 numbers joined by
// "-"; fidelities are r with the teacher, on the held-out images and, for fidelity_eval_compact,
// on the evaluation half's images; r²_ER NaN where the session's raw repeats are missing).
var neuronsHeader = []string{"session", "neuron", "teacher", "n_params_student", "n_params_compact", "filters_compact",
	"fidelity_student", "fidelity_compact", "fidelity_eval_compact", "r_eval_teacher", "r_eval_compact", "r_eval_published", "r2er_eval_compact"}

func output(env *harness.Env, res *harness.Result, p plan, rs *results) error {
	ff := harness.FormatFloat
	var rows, students, curve, path [][]string
	for _, r := range rs.neurons {
		s, n := r.Session, strconv.Itoa(r.N)
		rows = append(rows, []string{s, n, p.Teacher, strconv.Itoa(r.student.Params().Total), strconv.Itoa(r.compact.Params().Total), filterString(r.pruning.Result.FiltersAfter),
			ff(r.fidelity()), ff(r.fidelityCompact()), ff(r.fidelityEval), ff(r.rTeacher), ff(r.rCompact), ff(r.rPublished), ff(r.r2erCompact)})
		students = append(students, []string{s, n, strconv.FormatInt(p.Distil.Presentations, 10), ff(r.fidelity()), ff(r.rStudent), ff(r.rTeacher), ff(r.rPublished)})
		for _, pt := range r.curve {
			curve = append(curve, []string{s, n, "distillation", strconv.FormatInt(pt.Presentations, 10), ff(pt.R)})
		}
		for _, pt := range r.retrainCurve {
			curve = append(curve, []string{s, n, "retraining", strconv.FormatInt(p.Distil.Presentations+pt.Presentations, 10), ff(pt.R)})
		}
		for i, pt := range r.pruning.Path {
			path = append(path, []string{s, n, strconv.Itoa(i), strconv.Itoa(pt.Layer), filterString(pt.Filters), strconv.Itoa(pt.Params), ff(pt.Fidelity)})
		}
	}
	if err := writeModels(env, p, rs); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("neurons.csv", neuronsHeader, rows)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("students.csv", []string{"session", "neuron", "presentations", "fidelity_student", "r_eval_student", "r_eval_teacher", "r_eval_published"}, students)); err != nil {
		return err
	}
	// Presentations count from the start of the distillation, through the retraining.
	if err := res.AddTable(env.WriteCSV("fidelity.csv", []string{"session", "neuron", "phase", "presentations", "fidelity"}, curve)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("pruning_path.csv", []string{"session", "neuron", "step", "layer_pruned", "filters", "params", "fidelity"}, path)); err != nil {
		return err
	}
	var held [][]string
	for _, h := range rs.set.HeldOut() {
		held = append(held, []string{h.Session, strconv.Itoa(h.Index + 1), strconv.FormatBool(h.Flipped)})
	}
	if err := res.AddTable(env.WriteCSV("heldout.csv", []string{"session", "image", "flipped"}, held)); err != nil {
		return err
	}
	return figures(env, res, p, rs)
}

// pruningFile is pruning_<session>_neuron<n>.json: the decisions of prune.Step1 (per layer the
// filters before, the student's filter indices kept and removed, the scores and the fractions of
// variance tested) and the held-out fidelity along the path.
type pruningFile struct {
	Session string `json:"session"`
	Neuron  int    `json:"neuron"`
	Teacher string `json:"teacher"`
	*prune.Result
	Path []pathPoint `json:"path"`
}

// writeModels writes per neuron, into models/: the distilled student and the compact model in
// upstream's model_weights_npy layout (modelfile.WriteNPY, with their filter counts in
// nums_filters/ beside models/), the teacher's responses to the held-out images (float64, in the
// order of heldout.csv) and the pruning decisions.
func writeModels(env *harness.Env, p plan, rs *results) error {
	dir := filepath.Join(env.Out, "models")
	for _, r := range rs.neurons {
		stem := r.stem()
		if err := modelfile.WriteNPY(filepath.Join(dir, "distilled_model_"+stem+".npy"), r.student); err != nil {
			return err
		}
		if err := modelfile.WriteNPY(filepath.Join(dir, "compact_model_"+stem+".npy"), r.compact); err != nil {
			return err
		}
		held := make([]float64, len(r.held))
		for i, v := range r.held {
			held[i] = float64(v)
		}
		var b bytes.Buffer
		if err := npy.WriteFloat64(&b, []int{len(held)}, held); err != nil {
			return fmt.Errorf("teacher_heldout_%s.npy: %w", stem, err)
		}
		if err := harness.WriteFileAtomic(filepath.Join(dir, "teacher_heldout_"+stem+".npy"), b.Bytes()); err != nil {
			return err
		}
		if _, err := env.WriteJSON(filepath.Join("models", "pruning_"+stem+".json"),
			pruningFile{Session: r.Session, Neuron: r.N, Teacher: p.Teacher, Result: r.pruning.Result, Path: r.pruning.Path}); err != nil {
			return err
		}
	}
	return nil
}

func figures(env *harness.Env, res *harness.Result, p plan, rs *results) error {
	// Held-out fidelity against presentations: the distillation, then the retraining.
	var series []plots.Series
	for _, r := range rs.neurons {
		label := fmt.Sprintf("%s n%d", r.Session, r.N)
		st := plots.Series{Label: label + " student"}
		for _, pt := range r.curve {
			st.X, st.Y = append(st.X, float64(pt.Presentations)), append(st.Y, pt.R)
		}
		ct := plots.Series{Label: label + " compact (retraining)"}
		for _, pt := range r.retrainCurve {
			ct.X, ct.Y = append(ct.X, float64(p.Distil.Presentations+pt.Presentations)), append(ct.Y, pt.R)
		}
		for _, s := range []plots.Series{st, ct} {
			if len(s.X) > 0 {
				series = append(series, s)
			}
		}
	}
	if len(series) > 0 {
		fig, err := plots.Lines(series, plots.LineOptions{
			Axes: plots.Axes{Title: "Held-out fidelity: distillation, then retraining after pruning", XLabel: "Images presented",
				YLabel: "Pearson r, model vs teacher (held-out images)"},
			Legend: plots.BottomRight,
		})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(fig, "fidelity", plots.SingleColumn, plots.SingleColumn)); err != nil {
			return err
		}
	}

	// Fig. 1d analogue: held-out fidelity against parameters along the pruning path (the student,
	// then after each layer's removal, before retraining), and the retrained compact model.
	series = nil
	for _, r := range rs.neurons {
		label := fmt.Sprintf("%s n%d", r.Session, r.N)
		path := plots.Series{Label: label + " pruning path"}
		for _, pt := range r.pruning.Path {
			path.X, path.Y = append(path.X, float64(pt.Params)), append(path.Y, pt.Fidelity)
		}
		series = append(series, path)
		if f := r.fidelityCompact(); !math.IsNaN(f) {
			series = append(series, plots.Series{Label: label + " retrained", X: []float64{float64(r.compact.Params().Total)}, Y: []float64{f}})
		}
	}
	if len(series) > 0 {
		fig, err := plots.Lines(series, plots.LineOptions{
			Axes: plots.Axes{Title: "Pruning: held-out fidelity against model size", XLabel: "Parameters (log scale)",
				YLabel: "Pearson r, model vs teacher (held-out images)", LogX: true},
			Legend: plots.BottomRight,
		})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(fig, "pruning", plots.SingleColumn, plots.SingleColumn)); err != nil {
			return err
		}
	}

	// Filters per layer: rerun compact models against the published ones of the same neurons.
	series = nil
	for _, r := range rs.neurons {
		label := fmt.Sprintf("%s n%d", r.Session, r.N)
		series = append(series, layerSeries(label+" rerun", r.pruning.Result.FiltersAfter))
		if r.published != nil {
			series = append(series, layerSeries(label+" published", r.published.Filters))
		}
	}
	if len(series) > 0 {
		fig, err := plots.Lines(series, plots.LineOptions{
			Axes: plots.Axes{Title: "Filters per layer: rerun and published compact models", XLabel: "Layer",
				YLabel: "Filters (log scale)", LogY: true},
			Legend: plots.TopRight,
		})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(fig, "filters", plots.SingleColumn, plots.SingleColumn)); err != nil {
			return err
		}
	}

	// Fig. 1h analogue: accuracy on the evaluation half against the teacher's.
	st := plots.Series{Label: "distilled student"}
	cm := plots.Series{Label: "rerun compact model"}
	pub := plots.Series{Label: "published compact model"}
	for _, r := range rs.neurons {
		if math.IsNaN(r.rTeacher) {
			continue
		}
		for _, x := range []struct {
			s *plots.Series
			r float64
		}{{&st, r.rStudent}, {&cm, r.rCompact}, {&pub, r.rPublished}} {
			if !math.IsNaN(x.r) {
				x.s.X, x.s.Y = append(x.s.X, r.rTeacher), append(x.s.Y, x.r)
			}
		}
	}
	var ss []plots.Series
	for _, s := range []plots.Series{st, cm, pub} {
		if len(s.X) > 0 {
			ss = append(ss, s)
		}
	}
	if len(ss) == 0 {
		return nil
	}
	fig, err := plots.Scatter(ss, plots.ScatterOptions{
		Axes: plots.Axes{Title: "Evaluation half: student and compact models vs teacher", XLabel: "Teacher r",
			YLabel: "Model r"},
		Unity: true,
	})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(fig, "accuracy", plots.SingleColumn, plots.SingleColumn))
}

// layerSeries is a model's filter counts against the layer (0-4).
func layerSeries(label string, f [model.NumLayers]int) plots.Series {
	s := plots.Series{Label: label}
	for l, n := range f {
		s.X, s.Y = append(s.X, float64(l)), append(s.Y, float64(n))
	}
	return s
}
