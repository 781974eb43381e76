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

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/distill"
	"compactv4/internal/distimages"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/prune"
	"compactv4/internal/teacher"
	"compactv4/internal/v4data"
)

// neuronResult is what the experiment found for one neuron.
type neuronResult struct {
	Neuron
	teacherParams int       // parameters of the teacher's network for this neuron
	held          []float32 // the teacher's responses to the held-out images
	student       *model.Network
	curve         []distill.Point
	pruning       *pruned
	compact       *model.Network // the pruned student after retraining
	retrainCurve  []distill.Point
	// r on the evaluation half and the compact model's r²_ER (NaN where not computed).
	rStudent, rTeacher, rPublished, rCompact, r2erCompact float64
	published                                             *eval.Compact // nil when its file is missing
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
	set, absent, err := distimages.Load(env.Data, distimages.Config{HeldOut: p.HeldOut, Seed: p.ImageSeed, Families: fam})
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
	env.Logf("distillation images: %d sessions (%v), %d training images, %d held out; augmentation %s", len(set.Sessions()), set.Sessions(), set.Train(), len(set.HeldOut()), fam)
	out := &results{set: set, absent: absent}
	d := eval.New(env, res)
	for i, nr := range p.Neurons {
		env.Logf("neuron %d of %d: session %s neuron %d", i+1, len(p.Neurons), nr.Session, nr.N)
		r, err := computeNeuron(ctx, env, d, p, tch, set, inputs, nr)
		if err != nil {
			return nil, err
		}
		out.neurons = append(out.neurons, r)
	}
	return out, nil
}

func computeNeuron(ctx context.Context, env *harness.Env, d *eval.Data, p plan, tch teacher.Teacher, set *distimages.Set, inputs []harness.Input, nr Neuron) (*neuronResult, error) {
	tm, err := tch.Neuron(nr.Session, nr.N)
	if err != nil {
		return nil, err
	}
	imagesParams := map[string]any{"sessions": set.Sessions(), "held_out": p.HeldOut, "seed": p.ImageSeed, "families": p.Families}
	stepName := func(phase string) string {
		return fmt.Sprintf("distillation/%s/%s/%s/neuron%d", phase, tch.Name(), nr.Session, nr.N)
	}
	heldStep := harness.Step{Name: stepName("teacher_heldout"), Inputs: inputs, Params: imagesParams, Code: heldOutCode}
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
	held, err := eval.DecodeFloat32("teacher's held-out responses", b, n)
	if err != nil {
		return nil, err
	}
	held64 := make([]float64, n)
	for i, v := range held {
		held64[i] = float64(v)
	}
	out := &neuronResult{Neuron: nr, teacherParams: tm.Net.Params().Total, held: held,
		rStudent: math.NaN(), rTeacher: math.NaN(), rPublished: math.NaN(), rCompact: math.NaN(), r2erCompact: math.NaN()}

	// Phase 1: distillation of the [100]*5 student.
	distParams := map[string]any{"images": imagesParams, "schedule": p.Distil, "init_seed": p.InitSeed, "filters": studentFilters}
	distStep := harness.Step{Name: stepName("distil"), Inputs: inputs, Params: distParams, Code: distilCode}
	dr, err := train(ctx, env, distStep, func() (distill.Job, error) {
		student, err := model.NewCompact(studentFilters)
		if err != nil {
			return distill.Job{}, err
		}
		if err := nn.InitKeras(student, p.InitSeed); err != nil {
			return distill.Job{}, err
		}
		student.Name = "distilled_model_" + nr.stem()
		return distill.Job{
			Name: fmt.Sprintf("%s neuron %d, distillation", nr.Session, nr.N), Net: student, Teacher: tm, Images: set,
			Schedule: p.Distil, HeldOut: held, Log: env.Log,
		}, nil
	})
	if err != nil {
		return nil, err
	}
	out.student, out.curve = dr.Net, dr.Curve

	// Phase 2: pruning (upstream's step 1) on the held-out images, and the held-out fidelity of
	// the network after each layer's removal.
	pruneParams := map[string]any{"distillation": distParams, "exact": p.PruneExact}
	pruneStep := harness.Step{Name: stepName("prune"), Inputs: inputs, Params: pruneParams, Code: pruneCode}
	b, err = env.Cache.Do(pruneStep, func() ([]byte, error) {
		pix := set.HeldOutPixels()
		res, err := prune.Step1(dr.Net, pix, n, held64, prune.Options{Exact: p.PruneExact})
		if err != nil {
			return nil, fmt.Errorf("%s neuron %d: %w", nr.Session, nr.N, err)
		}
		pr := &pruned{Result: res}
		for k := 0; k <= len(res.Steps); k++ {
			net, err := prune.Reconstruct(dr.Net, res.KeptAfter(k))
			if err != nil {
				return nil, err
			}
			f, err := distill.Fidelity(net, pix, held64)
			if err != nil {
				return nil, fmt.Errorf("%s neuron %d: held-out fidelity along the pruning path: %w", nr.Session, nr.N, err)
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
	})
	if err != nil {
		return nil, fmt.Errorf("pruning: %w", err)
	}
	if out.pruning, err = decodePruned(b); err != nil {
		return nil, fmt.Errorf("cached pruning of %s neuron %d: %w (clear the cache)", nr.Session, nr.N, err)
	}
	first, last := out.pruning.Path[0], out.pruning.Path[len(out.pruning.Path)-1]
	env.Logf("%s neuron %d, pruning: filters %s → %s, parameters %s → %s, held-out fidelity %.4f → %.4f (before retraining)", nr.Session, nr.N,
		filterString(first.Filters), filterString(last.Filters), harness.Comma(first.Params), harness.Comma(last.Params), first.Fidelity, last.Fidelity)

	// Phase 3: retraining of the pruned network, on the stream after the distillation's images.
	retrainStep := harness.Step{Name: stepName("retrain"), Inputs: inputs,
		Params: map[string]any{"pruning": pruneParams, "schedule": p.Retrain, "start": p.Distil.Presentations}, Code: pruneCode}
	rr, err := train(ctx, env, retrainStep, func() (distill.Job, error) {
		compact, err := prune.Reconstruct(dr.Net, out.pruning.Result.Kept())
		if err != nil {
			return distill.Job{}, err
		}
		compact.Name = "compact_model_" + nr.stem()
		return distill.Job{
			Name: fmt.Sprintf("%s neuron %d, retraining", nr.Session, nr.N), Net: compact, Teacher: tm, Images: set,
			Start: p.Distil.Presentations, Schedule: p.Retrain, HeldOut: held, Log: env.Log,
		}, nil
	})
	if err != nil {
		return nil, err
	}
	out.compact, out.retrainCurve = rr.Net, rr.Curve

	// The evaluation half: student, compact model, teacher and published compact model.
	resp, err := d.EvalHalf(nr.Session, eval.Lost{
		Images: "the student, the compact model, the teacher and the published compact model are not evaluated on its evaluation half",
		Raw:    "r²_ER of the rerun compact models is not computed",
	})
	if err != nil || resp == nil {
		return out, err
	}
	one, err := resp.Neuron(nr.N)
	if err != nil {
		return nil, err
	}
	score := func(m eval.Model) (eval.Scores, error) {
		pred, err := d.Predict(ctx, m, nr.Session, resp.Lo, resp.Hi)
		if err != nil {
			return eval.Scores{}, err
		}
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
	if out.rStudent, err = r(eval.NewNetwork("rerun_"+dr.Net.Name, nil, dr.Net)); err != nil {
		return nil, err
	}
	cs, err := score(eval.NewNetwork("rerun_"+rr.Net.Name, nil, rr.Net))
	if err != nil {
		return nil, err
	}
	out.rCompact = cs.R[0]
	if cs.R2ER != nil {
		out.r2erCompact = cs.R2ER[0]
	}
	if out.rTeacher, err = r(tm); err != nil {
		return nil, err
	}
	logR := func() {
		env.Logf("%s neuron %d: r on the evaluation half: student %.4f, compact model %.4f, teacher %.4f, published compact model %.4f; held-out fidelity: student %.4f, compact model %.4f",
			nr.Session, nr.N, out.rStudent, out.rCompact, out.rTeacher, out.rPublished, out.fidelity(), out.fidelityCompact())
	}
	id := v4data.CompactID{Session: nr.Session, Neuron: nr.N}
	path := v4data.FormatKeras.CompactPath(id)
	if _, err := env.Data.Path(path); err != nil {
		if !eval.IsMissing(err) {
			return nil, err
		}
		d.NotRunnable(path, fmt.Sprintf("the published compact model of %s neuron %d is not evaluated", nr.Session, nr.N))
		logR()
		return out, nil
	}
	pubs, err := eval.LoadCompacts(ctx, env.Data, func(c v4data.CompactID) bool { return c == id })
	if err != nil {
		return nil, err
	}
	out.published = pubs[0]
	if out.rPublished, err = r(pubs[0]); err != nil {
		return nil, err
	}
	logR()
	return out, nil
}

// train runs a training phase as a cached step: the job that job makes (called only when the
// step is not cached) checkpoints into the step's work directory, so that a run killed during
// the phase and restarted with the same command continues from its last checkpoint.
func train(ctx context.Context, env *harness.Env, step harness.Step, job func() (distill.Job, error)) (*distill.Result, error) {
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		j, err := job()
		if err != nil {
			return nil, err
		}
		wd, err := env.Cache.WorkDir(step)
		if err != nil {
			return nil, err
		}
		if wd != "" {
			j.Checkpoint = filepath.Join(wd, "checkpoint.gob")
		} else {
			env.Logf("%s: no cache, so no checkpoints", j.Name)
		}
		r, err := distill.Run(ctx, j)
		if err != nil {
			return nil, err
		}
		if r.Presented > 0 {
			env.Logf("%s: %d presentations in %.1fs, %.2f presentations/s; training steps %.1fs (%.2f presentations/s)", j.Name, r.Presented,
				r.Total.Seconds(), float64(r.Presented)/r.Total.Seconds(), r.StepTime.Seconds(), float64(r.Presented)/r.StepTime.Seconds())
		}
		return distill.Encode(r)
	})
	if err != nil {
		return nil, err
	}
	return distill.Decode(b)
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
