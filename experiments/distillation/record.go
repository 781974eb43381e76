package distillation

import (
	"fmt"
	"math"
	"strings"

	"compactv4/harness"
	"compactv4/internal/distill"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

// Tolerances of the golden values. Scores of fixed models (teacher, published compact model) move
// only with the float32 kernels' rounding (~1e-7). The student's numbers come from thousands of
// float32 training steps: the assembly kernel sets give the same bits, but the pure-Go set
// rounds fused multiply-adds differently and the difference grows along the run. The pruning
// decisions (filters, parameters) are recorded exactly: the assembly kernel sets agree on them.
const (
	tolFixed   = 1e-5
	tolTrained = 0.02
)

func record(env *harness.Env, res *harness.Result, p plan, rs *results) error {
	v := &res.Values
	v.Exact("training_images", float64(rs.set.Train()))
	v.Exact("held_out_images", float64(len(rs.set.HeldOut())))
	var ratios, studentRatios, students, compacts, factors []float64
	var layers [model.NumLayers][]float64
	for _, r := range rs.neurons {
		key := fmt.Sprintf("%s/neuron%d", r.Session, r.N)
		v.Exact("params/student/"+key, float64(r.student.Params().Total))
		v.Exact("params/compact/"+key, float64(r.compact.Params().Total))
		v.Text("filters/compact/"+key, filterString(r.pruning.Result.FiltersAfter))
		for _, pt := range r.curve {
			v.Num(fmt.Sprintf("fidelity/%s/%d", key, pt.Presentations), pt.R, tolTrained, 0)
		}
		for i, pt := range r.pruning.Path {
			v.Num(fmt.Sprintf("fidelity_pruning/%s/%d", key, i), pt.Fidelity, tolTrained, 0)
		}
		for _, pt := range r.retrainCurve {
			v.Num(fmt.Sprintf("fidelity_retraining/%s/%d", key, p.Distil.Presentations+pt.Presentations), pt.R, tolTrained, 0)
		}
		v.Num("r_eval/student/"+key, r.rStudent, tolTrained, 0)
		v.Num("r_eval/compact/"+key, r.rCompact, tolTrained, 0)
		v.Num("fidelity_eval/compact/"+key, r.fidelityEval, tolTrained, 0)
		v.Num("r2er_eval/compact/"+key, r.r2erCompact, tolTrained, 0)
		v.Num("r_eval/teacher/"+key, r.rTeacher, tolFixed, 0)
		v.Num("r_eval/published/"+key, r.rPublished, tolFixed, 0)
		students = append(students, float64(r.student.Params().Total))
		compacts = append(compacts, float64(r.compact.Params().Total))
		factors = append(factors, float64(r.teacherParams)/float64(r.compact.Params().Total))
		for l, f := range r.pruning.Result.FiltersAfter {
			layers[l] = append(layers[l], float64(f))
		}
		if !math.IsNaN(r.rTeacher) {
			if !math.IsNaN(r.rCompact) {
				ratios = append(ratios, r.rCompact/r.rTeacher)
			}
			if !math.IsNaN(r.rStudent) {
				studentRatios = append(studentRatios, r.rStudent/r.rTeacher)
			}
		}
	}
	rate := describeRate(p.Distil)
	if r := describeRate(p.Retrain); r != rate {
		rate += " in the distillation and " + r + " in the retraining"
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("Teacher: %s (a published shared compact model standing in for the ensemble, whose files and 12 M distillation images are not public).", p.Teacher),
		fmt.Sprintf("Presentations per neuron: %s in the distillation of the [100]*5 student, then %s in the retraining of the pruned network (the paper: 12 M each); learning rate %s (the paper: constant 1e-4); %s.",
			harness.Comma(int(p.Distil.Presentations)), harness.Comma(int(p.Retrain.Presentations)), rate, describeBatch(p.Distil.Batch, p.Retrain.Batch)),
		fmt.Sprintf("Augmentation families of the image stream: %s (the paper's 12 M natural images needed none).", p.Families),
		fmt.Sprintf("Base images of the stream: %s training and %s held-out images of %d sessions, without the test sessions' evaluation halves and %s.",
			harness.Comma(rs.set.Train()), harness.Comma(len(rs.set.HeldOut())), len(rs.set.Sessions()), synthNote(p.LeaveOutSynth)))
	if p.TestEvery > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("Images: one in %d of the stream is drawn from the test sessions' training halves (%s of the %s training images), the others from all training images.",
			p.TestEvery, harness.Comma(rs.set.TestImages()), harness.Comma(rs.set.Train())))
	}
	if len(rs.absent) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("The images of sessions %s are not in the data directory; the distillation uses the others.", strings.Join(rs.absent, ", ")))
	}

	c2 := harness.ClaimResult{ID: "C2", Status: harness.Partial, Figures: []string{"pruning"},
		Value: "rerun: no neuron", Detail: "the compression factor against the 62.8 M-parameter ensemble is the compression experiment's (C2 there); the rerun's is against the teacher actually used"}
	c5 := harness.ClaimResult{ID: "C5", Status: harness.Partial, Figures: []string{"filters"}, Value: "rerun: no neuron",
		Detail: "a rerun on a few neurons shows whether the narrowing emerges, not the 219 models' medians"}
	if p.Distil.ReadoutLasso != 0 || p.Distil.GammaL1 != 0 {
		c5.Detail += "; the distillation's penalty (-readout-lasso, -gamma-l1; upstream has none) favours few filters, so the narrowing it penalises is partly by construction (-readout-lasso: layer 4 alone)"
	}
	if len(compacts) > 0 {
		v.Num("C2/median_params_compact", metrics.Median(compacts), 0, 0)
		v.Num("C2/median_compression_factor_teacher", metrics.Median(factors), 0, 1e-12)
		c2.Value = fmt.Sprintf("rerun: %d neuron(s); [100]*5 students of %s parameters pruned to compact models of %s (median), %.0f times fewer than the teacher %s (median per neuron of the teacher's single-neuron network)",
			len(compacts), harness.Comma(int(metrics.Median(students))), harness.Comma(int(metrics.Median(compacts))), metrics.Median(factors), p.Teacher)
		med := make([]float64, model.NumLayers)
		for l := range layers {
			med[l] = metrics.Median(layers[l])
		}
		step, ratio, err := metrics.SharpestNarrowing(med)
		if err != nil {
			return err
		}
		v.Exact("C5/sharpest_narrowing_layer", float64(step))
		c5.Value = fmt.Sprintf("rerun: median filters per layer %g, %g, %g, %g, %g over %d neuron(s); sharpest narrowing into layer %d (ratio %.3f; the published models: into layer 2)",
			med[0], med[1], med[2], med[3], med[4], len(compacts), step, ratio)
	}
	c3 := harness.ClaimResult{ID: "C3", Status: harness.Partial, Figures: []string{"accuracy"}}
	if len(ratios) == 0 {
		c3.Status = harness.NotRunnable
		c3.Value = "rerun: no neuron evaluated"
		c3.Detail = "the evaluation halves of the plan's sessions are missing (named below)"
	} else {
		v.Num("C3/median_ratio_compact_teacher", metrics.Median(ratios), tolTrained, 0)
		v.Num("C3/median_ratio_student_teacher", metrics.Median(studentRatios), tolTrained, 0)
		c3.Value = fmt.Sprintf("rerun: median over %d neuron(s) of r(compact) / r(teacher) on the evaluation half %.3f (student: %.3f; Pearson r against repeat-averaged responses)",
			len(ratios), metrics.Median(ratios), metrics.Median(studentRatios))
		c3.Detail = "Pearson r rather than the paper's noise-corrected r²_ER (neurons.csv has r²_ER where the raw repeats exist); a short schedule on public images"
	}
	res.Claims = append(res.Claims, c2, c3, c5)
	return nil
}

// describeRate says how a schedule's learning rate changes.
func describeRate(s distill.Schedule) string {
	r := fmt.Sprintf("constant %g", s.LearningRate)
	if s.Decay == distill.Cosine {
		r = fmt.Sprintf("cosine decay from %g after a linear warm-up over %g %% of the steps", s.LearningRate, 100*s.Warmup)
	}
	if s.ReadoutRate != 0 && s.ReadoutRate != 1 {
		r += fmt.Sprintf(", times %g for the readout's kernel (-readout-rate)", s.ReadoutRate)
	}
	if s.GammaL1 != 0 {
		r += fmt.Sprintf(", with an L1 penalty %g·Σ|γ| on the batchnorm scales (-gamma-l1)", s.GammaL1)
	}
	if s.ReadoutLasso != 0 {
		r += fmt.Sprintf(", with a group lasso %g·Σ_c ‖Beta_c‖ on the readout (-readout-lasso)", s.ReadoutLasso)
	}
	return r
}

// describeBatch says how many images each Adam step takes in the two phases.
func describeBatch(distil, retrain int) string {
	b := fmt.Sprintf("batches of %d images", distil)
	if retrain != distil {
		b = fmt.Sprintf("batches of %d images in the distillation and %d in the retraining", distil, retrain)
	}
	if distil == distill.PaperBatch && retrain == distill.PaperBatch {
		return b + ", as the paper's"
	}
	return fmt.Sprintf("%s (the paper: %d)", b, distill.PaperBatch)
}

// synthNote says what became of the synthesized images that upstream's training class leaves out.
func synthNote(leftOut bool) string {
	if leftOut {
		return "without images 601-900 of sessions 190924-190929, synthesized images, as upstream's training class leaves them out (-synth-images false)"
	}
	return "with images 601-900 of sessions 190924-190929, synthesized images that upstream's training class leaves out"
}
