package distillation

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/distill"
	"compactv4/internal/distimages"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/prune"
	"compactv4/internal/teacher"
	"compactv4/internal/v4data"
)

// neuronResult is what the experiment found for one neuron.
type neuronResult struct {
	Neuron
	teacher       *eval.Network // the teacher of this neuron alone
	output        int           // the neuron's output of the teacher of all neurons
	teacherParams int           // parameters of the teacher's network for this neuron
	held          []float32     // the teacher's responses to the held-out images
	student       *model.Network
	curve         []distill.Point
	pruning       *pruned
	compact       *model.Network // the pruned student after retraining
	retrainCurve  []distill.Point
	// r on the evaluation half and the compact model's r²_ER (NaN where not computed).
	rStudent, rTeacher, rPublished, rCompact, r2erCompact float64
	// fidelityEval is the compact model's fidelity on the evaluation half's images: r between
	// its predictions and the teacher's (NaN where not computed).
	fidelityEval float64
	published    *eval.Compact // nil when its file is missing
}

// pruned is the outcome of the pruning step: upstream's decisions and the held-out fidelity of
// the network before pruning and after each layer's removal (before retraining).
type pruned struct {
	Result *prune.Result
	Path   []pathPoint
}

// decodePruned reads a pruning step's cached bytes: the decisions, and one point of the path
// per step plus the student's, with the filter counts the decisions give.
func decodePruned(b []byte) (*pruned, error) {
	var pr pruned
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&pr); err != nil {
		return nil, fmt.Errorf("pruning result does not decode: %w", err)
	}
	if pr.Result == nil || len(pr.Path) != len(pr.Result.Steps)+1 || pr.Path[len(pr.Path)-1].Filters != pr.Result.FiltersAfter {
		return nil, errors.New("pruning result without decisions, or with a path that does not match them")
	}
	for _, f := range pr.Result.FiltersAfter {
		if f < 1 {
			return nil, fmt.Errorf("pruning result keeps %v filters", pr.Result.FiltersAfter)
		}
	}
	return &pr, nil
}

// pathPoint is one network of the pruning path.
type pathPoint struct {
	Layer    int                  `json:"layer"` // the layer just pruned; -1 for the student
	Filters  [model.NumLayers]int `json:"filters"`
	Params   int                  `json:"params"`
	Fidelity float64              `json:"fidelity"` // held-out fidelity, without retraining
}

// results are the neurons of a run, with what they share.
type results struct {
	neurons []*neuronResult
	set     *distimages.Set
	absent  []string // sessions whose images the data directory lacks
}

// Code of the cached steps: the packages that compute them.
var (
	heldOutCode = []string{"compactv4/internal/teacher", "compactv4/internal/distimages"}
	distilCode  = []string{"compactv4/internal/teacher", "compactv4/internal/distill"}
	pruneCode   = []string{"compactv4/internal/teacher", "compactv4/internal/distill", "compactv4/internal/prune"}
)

func compute(ctx context.Context, env *harness.Env, res *harness.Result, p plan) (*results, error) {
	tch, err := teacher.Open(env.Data, p.Teacher)
	if err != nil {
		return nil, err
	}
	fam, err := distimages.ParseFamilies(p.Families)
	if err != nil {
		return nil, err
	}
	set, absent, err := distimages.Load(env.Data, distimages.Config{HeldOut: p.HeldOut, Seed: p.ImageSeed, Families: fam, TestEvery: p.TestEvery, LeaveOutSynth: p.LeaveOutSynth})
	if err != nil {
		return nil, err
	}
	var files []string
	for _, s := range set.Sessions() {
		files = append(files, v4data.ImagesPath(s))
	}
	inputs, err := env.Inputs(append(files, tch.Files()...)...)
	if err != nil {
		return nil, err
	}
	share := "no extra share"
	if p.TestEvery > 0 {
		share = fmt.Sprintf("one in %d images of the stream", p.TestEvery)
	}
	env.Logf("distillation images: %d sessions (%v), %d training images (%d of the test sessions: %s), %d held out; augmentation %s", len(set.Sessions()), set.Sessions(), set.Train(), set.TestImages(), share, len(set.HeldOut()), fam)
	out := &results{set: set, absent: absent}
	imagesParams := map[string]any{"sessions": set.Sessions(), "held_out": p.HeldOut, "seed": p.ImageSeed, "families": p.Families}
	if p.TestEvery > 0 {
		imagesParams["test_every"] = p.TestEvery
	}
	if p.LeaveOutSynth {
		imagesParams["synth_images"] = "left out"
	}
	for _, nr := range p.Neurons {
		r, err := prepare(env, tch, set, inputs, imagesParams, nr)
		if err != nil {
			return nil, err
		}
		out.neurons = append(out.neurons, r)
	}
	n := len(set.HeldOut())

	// Phase 1: distillation of the [100]*5 students.
	steps := make([]harness.Step, len(out.neurons))
	distParams := make([]map[string]any, len(out.neurons))
	for i, r := range out.neurons {
		distParams[i] = map[string]any{"images": imagesParams, "schedule": p.Distil, "init_seed": p.InitSeed, "filters": studentFilters}
		steps[i] = harness.Step{Name: r.stepName("distil", tch), Inputs: inputs, Params: distParams[i], Code: distilCode}
	}
	dist, err := train(ctx, env, "distillation", tch, set, 0, p.Distil, out.neurons, steps, func(r *neuronResult) (*model.Network, error) {
		student, err := model.NewCompact(studentFilters)
		if err != nil {
			return nil, err
		}
		if err := nn.InitKeras(student, p.InitSeed); err != nil {
			return nil, err
		}
		student.Name = "distilled_model_" + r.stem()
		return student, nil
	})
	if err != nil {
		return nil, err
	}
	for i, r := range out.neurons {
		r.student, r.curve = dist[i].Net, dist[i].Curve
	}

	// Phase 2: pruning (upstream's step 1) on the held-out images, and the held-out fidelity of
	// the network after each layer's removal.
	pruneParams := make([]map[string]any, len(out.neurons))
	for i, r := range out.neurons {
		pruneParams[i] = map[string]any{"distillation": distParams[i], "exact": p.PruneExact}
		pruneStep := harness.Step{Name: r.stepName("prune", tch), Inputs: inputs, Params: pruneParams[i], Code: pruneCode}
		b, err := env.Cache.Do(pruneStep, func() ([]byte, error) { return prunePath(r, set.HeldOutPixels(), n, p.PruneExact) })
		if err != nil {
			return nil, fmt.Errorf("pruning: %w", err)
		}
		if r.pruning, err = decodePruned(b); err != nil {
			return nil, fmt.Errorf("cached pruning of %s neuron %d: %w (clear the cache)", r.Session, r.N, err)
		}
		first, last := r.pruning.Path[0], r.pruning.Path[len(r.pruning.Path)-1]
		env.Logf("%s neuron %d, pruning: filters %s → %s, parameters %s → %s, held-out fidelity %.4f → %.4f (before retraining)", r.Session, r.N,
			filterString(first.Filters), filterString(last.Filters), harness.Comma(first.Params), harness.Comma(last.Params), first.Fidelity, last.Fidelity)
	}

	// Phase 3: retraining of the pruned networks, on the stream after the distillation's images.
	for i, r := range out.neurons {
		steps[i] = harness.Step{Name: r.stepName("retrain", tch), Inputs: inputs,
			Params: map[string]any{"pruning": pruneParams[i], "schedule": p.Retrain, "start": p.Distil.Presentations}, Code: pruneCode}
	}
	retr, err := train(ctx, env, "retraining", tch, set, p.Distil.Presentations, p.Retrain, out.neurons, steps, func(r *neuronResult) (*model.Network, error) {
		compact, err := prune.Reconstruct(r.student, r.pruning.Result.Kept())
		if err != nil {
			return nil, err
		}
		compact.Name = "compact_model_" + r.stem()
		return compact, nil
	})
	if err != nil {
		return nil, err
	}
	for i, r := range out.neurons {
		r.compact, r.retrainCurve = retr[i].Net, retr[i].Curve
	}

	d := eval.New(env, res)
	for _, r := range out.neurons {
		if err := evaluate(ctx, env, d, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// prepare makes a neuron's result with its teacher and the teacher's responses to the held-out
// images (a cached step).
func prepare(env *harness.Env, tch teacher.Teacher, set *distimages.Set, inputs []harness.Input, imagesParams map[string]any, nr Neuron) (*neuronResult, error) {
	tm, err := tch.Neuron(nr.Session, nr.N)
	if err != nil {
		return nil, err
	}
	output, err := tch.Output(nr.Session, nr.N)
	if err != nil {
		return nil, err
	}
	out := &neuronResult{Neuron: nr, teacher: tm, output: output, teacherParams: tm.Net.Params().Total,
		rStudent: math.NaN(), rTeacher: math.NaN(), rPublished: math.NaN(), rCompact: math.NaN(), r2erCompact: math.NaN(), fidelityEval: math.NaN()}
	heldStep := harness.Step{Name: out.stepName("teacher_heldout", tch), Inputs: inputs, Params: imagesParams, Code: heldOutCode}
	n := len(set.HeldOut())
	b, err := env.Cache.Do(heldStep, func() ([]byte, error) {
		y, err := tm.Predict(set.HeldOutPixels(), n)
		if err != nil {
			return nil, err
		}
		return eval.EncodeFloat32([]int{n}, y)
	})
	if err != nil {
		return nil, fmt.Errorf("teacher on the held-out images: %w", err)
	}
	if out.held, err = eval.DecodeFloat32("teacher's held-out responses", b, n); err != nil {
		return nil, err
	}
	return out, nil
}

// stepName names the cached step of one phase of the neuron.
func (r *neuronResult) stepName(phase string, tch teacher.Teacher) string {
	return fmt.Sprintf("distillation/%s/%s/%s/neuron%d", phase, tch.Name(), r.Session, r.N)
}

// prunePath makes upstream's pruning decisions for the neuron's student on the held-out images
// and measures the held-out fidelity along the path, as the bytes of a cached step.
func prunePath(r *neuronResult, pix []uint8, n int, exact bool) ([]byte, error) {
	held64 := make([]float64, n)
	for i, v := range r.held {
		held64[i] = float64(v)
	}
	res, err := prune.Step1(r.student, pix, n, held64, prune.Options{Exact: exact})
	if err != nil {
		return nil, fmt.Errorf("%s neuron %d: %w", r.Session, r.N, err)
	}
	pr := &pruned{Result: res}
	for k := 0; k <= len(res.Steps); k++ {
		net, err := prune.Reconstruct(r.student, res.KeptAfter(k))
		if err != nil {
			return nil, err
		}
		f, err := distill.Fidelity(net, pix, held64)
		if err != nil {
			return nil, fmt.Errorf("%s neuron %d: held-out fidelity along the pruning path: %w", r.Session, r.N, err)
		}
		pt := pathPoint{Layer: -1, Params: net.Params().Total, Fidelity: f}
		if k > 0 {
			pt.Layer = res.Steps[k-1].Layer
		}
		if pt.Filters, err = model.CompactFilters(net); err != nil {
			return nil, err
		}
		pr.Path = append(pr.Path, pt)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(pr); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// evaluate scores the neuron's student, compact model, teacher and published compact model on
// the evaluation half of its session.
func evaluate(ctx context.Context, env *harness.Env, d *eval.Data, out *neuronResult) error {
	nr, tm := out.Neuron, out.teacher
	resp, err := d.EvalHalf(nr.Session, eval.Lost{
		Images: "the student, the compact model, the teacher and the published compact model are not evaluated on its evaluation half",
		Raw:    "r²_ER of the rerun compact models is not computed",
	})
	if err != nil || resp == nil {
		return err
	}
	one, err := resp.Neuron(nr.N)
	if err != nil {
		return err
	}
	preds := map[eval.Model][]float32{}
	score := func(m eval.Model) (eval.Scores, error) {
		pred, err := d.Predict(ctx, m, nr.Session, resp.Lo, resp.Hi)
		if err != nil {
			return eval.Scores{}, err
		}
		preds[m] = pred
		return eval.Score32(one, [][]float32{pred})
	}
	r := func(m eval.Model) (float64, error) {
		s, err := score(m)
		if err != nil {
			return 0, err
		}
		return s.R[0], nil
	}
	// The rerun models' predictions are cached under names of their own: the published compact
	// model of the neuron has the name upstream gives the rerun one.
	if out.rStudent, err = r(eval.NewNetwork("rerun_"+out.student.Name, nil, out.student)); err != nil {
		return err
	}
	cm := eval.NewNetwork("rerun_"+out.compact.Name, nil, out.compact)
	cs, err := score(cm)
	if err != nil {
		return err
	}
	out.rCompact = cs.R[0]
	if cs.R2ER != nil {
		out.r2erCompact = cs.R2ER[0]
	}
	if out.rTeacher, err = r(tm); err != nil {
		return err
	}
	if out.fidelityEval, err = metrics.Pearson(float64s(preds[cm]), float64s(preds[tm])); err != nil {
		return fmt.Errorf("%s neuron %d: fidelity on the evaluation half: %w", nr.Session, nr.N, err)
	}
	logR := func() {
		env.Logf("%s neuron %d: r on the evaluation half: student %.4f, compact model %.4f, teacher %.4f, published compact model %.4f; held-out fidelity: student %.4f, compact model %.4f (on the evaluation half %.4f)",
			nr.Session, nr.N, out.rStudent, out.rCompact, out.rTeacher, out.rPublished, out.fidelity(), out.fidelityCompact(), out.fidelityEval)
	}
	id := v4data.CompactID{Session: nr.Session, Neuron: nr.N}
	path := v4data.FormatKeras.CompactPath(id)
	if _, err := env.Data.Path(path); err != nil {
		if !eval.IsMissing(err) {
			return err
		}
		d.NotRunnable(path, fmt.Sprintf("the published compact model of %s neuron %d is not evaluated", nr.Session, nr.N))
		logR()
		return nil
	}
	pubs, err := eval.LoadCompacts(ctx, env.Data, func(c v4data.CompactID) bool { return c == id })
	if err != nil {
		return err
	}
	out.published = pubs[0]
	if out.rPublished, err = r(pubs[0]); err != nil {
		return err
	}
	logR()
	return nil
}

// train runs a training phase of the neurons: each neuron's phase is the cached step steps[i],
// and the neurons whose step is not cached are trained together in lock step
// (internal/distill), on one stream of images from position start labelled once per batch by
// the teacher of them all, each from the network net makes for it. The run checkpoints into
// the work directory of a step named after the phase and keyed by those neurons' steps, so
// that a run killed during the phase and restarted with the same command continues from its
// last checkpoint.
func train(ctx context.Context, env *harness.Env, phase string, tch teacher.Teacher, set *distimages.Set, start int64, sched distill.Schedule,
	rs []*neuronResult, steps []harness.Step, net func(*neuronResult) (*model.Network, error)) ([]distill.Trained, error) {
	var missing []int
	for i, s := range steps {
		has, err := env.Cache.Has(s)
		if err != nil {
			return nil, err
		}
		if !has {
			missing = append(missing, i)
		}
	}
	computed := map[int]distill.Trained{}
	if len(missing) > 0 {
		var names []string
		var keys []any
		job := distill.Job{Teacher: tch.All(), Images: set, Start: start, Schedule: sched, Log: env.Log}
		for _, i := range missing {
			r := rs[i]
			nt, err := net(r)
			if err != nil {
				return nil, err
			}
			names = append(names, r.Neuron.String())
			keys = append(keys, []any{steps[i].Name, steps[i].Params})
			job.Students = append(job.Students, distill.Student{Name: fmt.Sprintf("%s neuron %d", r.Session, r.N), Net: nt, Output: r.output, HeldOut: r.held})
		}
		job.Name = phase
		if len(missing) > 1 {
			job.Name = fmt.Sprintf("%s of %d neurons in lock step (%s)", phase, len(missing), strings.Join(names, ", "))
		}
		group := harness.Step{Name: "distillation/" + phase + "/" + tch.Name() + "/lockstep", Inputs: steps[missing[0]].Inputs,
			Params: map[string]any{"steps": keys}, Code: steps[missing[0]].Code}
		wd, err := env.Cache.WorkDir(group)
		if err != nil {
			return nil, err
		}
		if wd != "" {
			job.Checkpoint = filepath.Join(wd, "checkpoint.gob")
		} else {
			env.Logf("%s: no cache, so no checkpoints", job.Name)
		}
		r, err := distill.Run(ctx, job)
		if err != nil {
			return nil, err
		}
		if r.Presented > 0 {
			m, pct := float64(len(missing)), func(d time.Duration) float64 { return 100 * d.Seconds() / r.Total.Seconds() }
			env.Logf("%s: %d presentations to each of %d students in %.1fs: %.2f presentations/s in all, %.2f in the training steps alone (%.0f %% of the time; making and labelling the batches %.0f %%, smoothings and held-out fidelities %.0f %%)",
				job.Name, r.Presented, len(missing), r.Total.Seconds(), m*float64(r.Presented)/r.Total.Seconds(), m*float64(r.Presented)/r.StepTime.Seconds(),
				pct(r.StepTime), pct(r.LabelTime), pct(r.FidelityTime))
		}
		for k, i := range missing {
			computed[i] = r.Students[k]
		}
	}
	out := make([]distill.Trained, len(steps))
	for i, s := range steps {
		b, err := env.Cache.Do(s, func() ([]byte, error) {
			t, ok := computed[i]
			if !ok {
				return nil, fmt.Errorf("%s: the cached result vanished while the run was computing others; run again", s.Name)
			}
			return distill.Encode(t)
		})
		if err != nil {
			return nil, err
		}
		if out[i], err = distill.Decode(b); err != nil {
			return nil, fmt.Errorf("cached %s of %s: %w (clear the cache)", phase, rs[i].Neuron, err)
		}
	}
	return out, nil
}

// stem is upstream's name of the neuron's files: <session>_neuron<n>.
func (n Neuron) stem() string { return fmt.Sprintf("%s_neuron%d", n.Session, n.N) }

// filterString joins filter counts with "-".
func filterString(f [model.NumLayers]int) string {
	s := make([]string, len(f))
	for i, x := range f {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, "-")
}

// fidelity is the student's last held-out fidelity, NaN without a measurement.
func (r *neuronResult) fidelity() float64 {
	if len(r.curve) == 0 {
		return math.NaN()
	}
	return r.curve[len(r.curve)-1].R
}

// fidelityCompact is the compact model's last held-out fidelity after retraining, NaN without a
// measurement.
func (r *neuronResult) fidelityCompact() float64 {
	if len(r.retrainCurve) == 0 {
		return math.NaN()
	}
	return r.retrainCurve[len(r.retrainCurve)-1].R
}

// float64s widens float32 predictions for internal/metrics.
func float64s(x []float32) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = float64(v)
	}
	return y
}
