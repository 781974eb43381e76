package distillation

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/distill"
	"compactv4/internal/distimages"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/teacher"
	"compactv4/internal/v4data"
)

// neuronResult is what the experiment found for one neuron.
type neuronResult struct {
	Neuron
	student *model.Network
	curve   []distill.Point
	// r on the evaluation half (NaN where not computed).
	rStudent, rTeacher, rPublished float64
	published                      *eval.Compact // nil when its file is missing
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
	heldStep := harness.Step{
		Name:   fmt.Sprintf("distillation/teacher_heldout/%s/%s/neuron%d", tch.Name(), nr.Session, nr.N),
		Inputs: inputs, Params: imagesParams, Code: heldOutCode,
	}
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

	distStep := harness.Step{
		Name:   fmt.Sprintf("distillation/distil/%s/%s/neuron%d", tch.Name(), nr.Session, nr.N),
		Inputs: inputs,
		Params: map[string]any{"images": imagesParams, "schedule": p.Distil, "init_seed": p.InitSeed, "filters": studentFilters},
		Code:   distilCode,
	}
	b, err = env.Cache.Do(distStep, func() ([]byte, error) {
		student, err := model.NewCompact(studentFilters)
		if err != nil {
			return nil, err
		}
		if err := nn.InitKeras(student, p.InitSeed); err != nil {
			return nil, err
		}
		student.Name = fmt.Sprintf("distilled_model_%s_neuron%d", nr.Session, nr.N)
		job := distill.Job{
			Name: fmt.Sprintf("%s neuron %d, distillation", nr.Session, nr.N), Net: student, Teacher: tm, Images: set,
			Schedule: p.Distil, HeldOut: held, Log: env.Log,
		}
		wd, err := env.Cache.WorkDir(distStep)
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
			env.Logf("%s: %d presentations in %.1fs, %.2f presentations/s; training steps %.1fs (%.2f presentations/s)", job.Name, r.Presented,
				r.Total.Seconds(), float64(r.Presented)/r.Total.Seconds(), r.StepTime.Seconds(), float64(r.Presented)/r.StepTime.Seconds())
		}
		return distill.Encode(r)
	})
	if err != nil {
		return nil, err
	}
	dr, err := distill.Decode(b)
	if err != nil {
		return nil, err
	}
	out := &neuronResult{Neuron: nr, student: dr.Net, curve: dr.Curve, rStudent: math.NaN(), rTeacher: math.NaN(), rPublished: math.NaN()}

	// The evaluation half: student, teacher and published compact model.
	resp, err := d.EvalHalf(nr.Session, eval.Lost{
		Images: "the student, the teacher and the published compact model are not evaluated on its evaluation half",
		Raw:    "r²_ER of the rerun compact models is not computed",
	})
	if err != nil || resp == nil {
		return out, err
	}
	one, err := resp.Neuron(nr.N)
	if err != nil {
		return nil, err
	}
	score := func(m eval.Model) (float64, error) {
		pred, err := d.Predict(ctx, m, nr.Session, resp.Lo, resp.Hi)
		if err != nil {
			return 0, err
		}
		s, err := eval.Score32(one, [][]float32{pred})
		if err != nil {
			return 0, err
		}
		return s.R[0], nil
	}
	if out.rStudent, err = score(eval.NewNetwork(dr.Net.Name, nil, dr.Net)); err != nil {
		return nil, err
	}
	if out.rTeacher, err = score(tm); err != nil {
		return nil, err
	}
	id := v4data.CompactID{Session: nr.Session, Neuron: nr.N}
	path := v4data.FormatKeras.CompactPath(id)
	if _, err := env.Data.Path(path); err != nil {
		if !eval.IsMissing(err) {
			return nil, err
		}
		d.NotRunnable(path, fmt.Sprintf("the published compact model of %s neuron %d is not evaluated", nr.Session, nr.N))
		return out, nil
	}
	cs, err := eval.LoadCompacts(ctx, env.Data, func(c v4data.CompactID) bool { return c == id })
	if err != nil {
		return nil, err
	}
	out.published = cs[0]
	if out.rPublished, err = score(cs[0]); err != nil {
		return nil, err
	}
	env.Logf("%s neuron %d: r on the evaluation half: student %.4f, teacher %.4f, published compact model %.4f; held-out fidelity %.4f",
		nr.Session, nr.N, out.rStudent, out.rTeacher, out.rPublished, out.fidelity())
	return out, nil
}

// fidelity is the student's last held-out fidelity, NaN without a measurement.
func (r *neuronResult) fidelity() float64 {
	if len(r.curve) == 0 {
		return math.NaN()
	}
	return r.curve[len(r.curve)-1].R
}
