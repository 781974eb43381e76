package areas

import (
	"bytes"
	"context"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/areadata"
	"compactv4/internal/areasim"
	"compactv4/internal/areateacher"
	"compactv4/internal/distill"
	"compactv4/internal/distimages"
	"compactv4/internal/filtercurve"
	"compactv4/internal/imagenet"
	"compactv4/internal/kerasweights"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/pinfetch"
	"compactv4/internal/v4data"
)

// The real areas.
const (
	areaV1 = "V1"
	areaIT = "IT"
)

// realAreas are the real areas a plan may name, with the data set each is read from.
var realAreas = map[string]string{areaV1: areadata.Cadena2019, areaIT: areadata.MajajHong2015}

// realPlan is the part of a plan for the real areas (see the package doc for its choices).
type realPlan struct {
	Areas []string `json:"areas"`
	// Layer is the trunk's layer mapped to the neurons (ResNet50's).
	Layer string `json:"layer"`
	// Side is the side of the RGB images every area's images are resized to (teacher and
	// distillation images), the students' input (model.ImageSize).
	Side int `json:"image_side"`
	// SplitSeed draws the fit/evaluation split (areadata.Area.Split with Brain-Score's sizes) and,
	// with +1, the validation part of the fit images, ValFraction of them.
	SplitSeed   uint64  `json:"split_seed"`
	ValFraction float64 `json:"validation_fraction"`
	// MappingEpochs and MappingKerasEpochs replace mapping.TaskDrivenDefaults' Epochs and
	// KerasEpochs (the other hyper-parameters are its).
	MappingEpochs      int `json:"mapping_epochs"`
	MappingKerasEpochs int `json:"mapping_keras_epochs"`
	// Stream is the number of images of the distillation stream (internal/distimages over the V4
	// data's images, all augmentation families, StreamSeed) the students are trained on, with
	// the area's fit images.
	Stream     int    `json:"stream_images"`
	StreamSeed uint64 `json:"stream_seed"`
	// Ks are the students' numbers of early filters (layers 0-2 of the shared compact model),
	// Width the filters of its layers 3-4 (model.SharedWidth, the paper's; the tests narrow it);
	// Epochs, Batch and LearningRate their schedule (areasim.Fit).
	Ks           []int   `json:"ks"`
	Width        int     `json:"student_width"`
	Epochs       int     `json:"epochs"`
	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"`
	// Dir is the area data directory (-areadata; "" for areadata.Dir's default: $AREADATA, else
	// data/areas) and Weights the directory of the Keras weight files (-weights; "" for Keras'
	// own cache).
	Dir     string `json:"area_data,omitempty"`
	Weights string `json:"weights,omitempty"`
}

// realPlanFor is the real areas' part of a profile's plan.
func realPlanFor(p harness.Profile) realPlan {
	r := realPlan{
		Areas: []string{areaV1, areaIT}, Layer: model.ResNet50Output, Side: model.ImageSize,
		SplitSeed: 1, ValFraction: 0.1, MappingKerasEpochs: 10, StreamSeed: 1,
		Width: model.SharedWidth, Batch: distill.PaperBatch, LearningRate: studentLearningRate,
	}
	if p == harness.Quick {
		r.MappingEpochs, r.Stream, r.Ks, r.Epochs = 10, 2000, []int{2, 4, 8, 16}, 10
		return r
	}
	r.MappingEpochs, r.Stream, r.Ks, r.Epochs = mapping.TaskDrivenDefaults().Epochs, 20000, []int{2, 4, 8, 16, 32}, 20
	return r
}

// studentLearningRate is the students' Adam learning rate (see the package doc for the trial it
// rests on).
const studentLearningRate = 3e-4

// realCurve is the curve of one real area.
type realCurve struct {
	Area, Dataset string
	Neurons       int
	Teacher       string // the teacher in words
	Best          int    // the mapping's chosen epoch (1-based)
	Curve         *filtercurve.Curve
}

// openTrunk loads the teacher's trunk up to layer from the pinned ResNet50 weight file in
// weightsDir (imagenet.LoadResNet50, which writes the file's SHA-256 to log while it is not
// pinned); the tests give a narrowed one.
var openTrunk = func(weightsDir, layer string, log io.Writer) (*nn.GraphNet, error) {
	_, g, err := imagenet.LoadResNet50(weightsDir, layer, log)
	return g, err
}

// trunkBatch is the number of images the trunk evaluates at a time.
const trunkBatch = 8

// realCode are the packages that compute a real area's cached steps.
var realCode = []string{"compactv4/internal/areateacher", "compactv4/internal/areasim", "compactv4/internal/areadata", "compactv4/internal/distimages", "compactv4/internal/imagenet", "compactv4/internal/mapping", "compactv4/eval", "compactv4/internal/nn", "compactv4/internal/model", "compactv4/internal/metrics"}

// realStepVersion versions the real areas' steps: the glue in this file (the splits, the
// students' images and targets, the encoding of a teacher step) is not in realCode, so a change
// of what it computes bumps this.
const realStepVersion = "2"

// realUnit is the number of unit j of the real area with index ai among the plan's units: after
// the simulated students, area by area, its teacher (j = 0), then its students (j = 1 + the index
// of K in realPlan.Ks).
func realUnit(p plan, ai, j int) int {
	return simUnit(p, len(p.Sim.Seeds)*len(p.Sim.Kinds), 0) + ai*(1+len(p.Real.Ks)) + j
}

// areaSource is what the real areas read from the area data directory. An *areadata.Store is
// one, which verifies every file against its published hash; the tests give fixtures of the
// same schemas under the pinned names.
type areaSource interface {
	Path(rel string) (string, error)
	Unverified() []string
	Cadena() (*areadata.Cadena, error)
	Assembly() (*areadata.Assembly, error)
	Stimuli() (*areadata.Stimuli, error)
	StimulusImages(st *areadata.Stimuli, ids []string, side int) ([]uint8, error)
}

// openAreas opens an area data directory that exists.
var openAreas = func(dir string) (areaSource, error) { return areadata.Open(dir) }

// areaStore opens the area data directory (areadata.Dir of the plan's), or returns nil when it
// does not exist.
func areaStore(r realPlan) (areaSource, error) {
	dir := areadata.Dir(r.Dir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return openAreas(dir)
}

// missingArea records the files of an area's data set that the store (nil: no area data
// directory) lacks as not runnable, and reports whether there were any.
func missingArea(res *harness.Result, st areaSource, area string) bool {
	missing := false
	for _, f := range areadata.Dataset(realAreas[area]) {
		if st != nil {
			_, err := st.Path(f.Path)
			if err == nil {
				continue
			}
			var ce *areadata.CorruptError
			if errors.As(err, &ce) {
				missing = true
				res.NotRunnable = append(res.NotRunnable, harness.Missing{Path: "$" + areadata.EnvVar + "/" + f.Path, SHA1: f.SHA1,
					Reason: fmt.Sprintf("accuracy versus K for %s is not computed: %v", area, err)})
				continue
			}
		}
		missing = true
		how := "`replicate data areas -fetch` downloads it into $" + areadata.EnvVar
		if f.URL == "" {
			how = "it is served only inside " + f.Archive + " (no published hash); unpack " + f.Member + " into $" + areadata.EnvVar + "/" + f.Dataset
		}
		res.NotRunnable = append(res.NotRunnable, harness.Missing{
			Path: "$" + areadata.EnvVar + "/" + f.Path,
			SHA1: f.SHA1,
			Reason: fmt.Sprintf("accuracy versus K for %s (%s) is not computed: %s; with it and the Keras weight file %s (MD5 %s) the teacher is fitted and the students distilled (source: %s)",
				area, areaOf[f.Dataset], how, kerasweights.ResNet50.Name, kerasweights.ResNet50.MD5, f.Source()),
		})
	}
	return missing
}

// loadedArea is a real area ready for its steps.
type loadedArea struct {
	name   string
	area   *areadata.Area
	pix    []uint8 // every image, Side×Side RGB
	inputs []harness.Input
	split  areadata.Split
	train  []int // the fit images the mapping trains on, and those it stops on
	val    []int
	part   *eval.Responses // the evaluation images' responses
}

// loadArea reads an area's responses and images and draws its splits.
func loadArea(st areaSource, r realPlan, name string) (*loadedArea, error) {
	la := &loadedArea{name: name}
	var err error
	switch name {
	case areaV1:
		c, err := st.Cadena()
		if err != nil {
			return nil, err
		}
		if la.area, err = c.Area(nil); err != nil {
			return nil, err
		}
		if la.pix, err = c.RGB(r.Side); err != nil {
			return nil, err
		}
	case areaIT:
		if la.area, la.pix, err = loadIT(st, r.Side); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("real area %q: want %s or %s", name, areaV1, areaIT)
	}
	for _, f := range areadata.Dataset(realAreas[name]) {
		sum := f.SHA1
		if sum == "" {
			p, err := st.Path(f.Path)
			if err != nil {
				return nil, err
			}
			if sum, _, err = pinfetch.PlainSHA1.File(p); err != nil {
				return nil, fmt.Errorf("area data file %s: %w", f.Path, err)
			}
		}
		la.inputs = append(la.inputs, harness.Input{Path: "$" + areadata.EnvVar + "/" + f.Path, SHA1: sum})
	}
	a := la.area
	if la.split, err = a.Split(areadata.BrainScoreTrainSize, r.SplitSeed); err != nil {
		return nil, err
	}
	fitResp, err := a.Part("fit", la.split.Fit)
	if err != nil {
		return nil, err
	}
	fit := &areadata.Area{Name: a.Name + " fit images", ImageIDs: pick(a.ImageIDs, la.split.Fit), Resp: fitResp}
	if a.Objects != nil {
		fit.Objects = pick(a.Objects, la.split.Fit)
	}
	vs, err := fit.Split(1-r.ValFraction, r.SplitSeed+1)
	if err != nil {
		return nil, err
	}
	for _, i := range vs.Fit {
		la.train = append(la.train, la.split.Fit[i])
	}
	for _, i := range vs.Eval {
		la.val = append(la.val, la.split.Fit[i])
	}
	if la.part, err = a.Part("evaluation", la.split.Eval); err != nil {
		return nil, err
	}
	return la, nil
}

// loadIT reads the IT sites of the MajajHong2015 assembly (areadata.Assembly.Area, objects from
// the stimulus set) and their images, side×side RGB.
func loadIT(st areaSource, side int) (*areadata.Area, []uint8, error) {
	asm, err := st.Assembly()
	if err != nil {
		return nil, nil, err
	}
	stim, err := st.Stimuli()
	if err != nil {
		return nil, nil, err
	}
	a, err := asm.Area(areaIT, stim)
	if err != nil {
		return nil, nil, err
	}
	pix, err := st.StimulusImages(stim, a.ImageIDs, side)
	if err != nil {
		return nil, nil, err
	}
	return a, pix, nil
}

// pick returns xs[idx...].
func pick[T any](xs []T, idx []int) []T {
	out := make([]T, len(idx))
	for k, i := range idx {
		out[k] = xs[i]
	}
	return out
}

// images returns the images idx of the area, Side×Side RGB.
func (la *loadedArea) images(idx []int, side int) []uint8 {
	per := side * side * 3
	out := make([]uint8, 0, len(idx)*per)
	for _, i := range idx {
		out = append(out, la.pix[i*per:(i+1)*per]...)
	}
	return out
}

// teacherOut is what a teacher step caches: the mapping's validation scores and chosen epoch
// (0-based), its predictions for the evaluation images and its labels of the students' training
// images (the stream's, then the area's fit images), each neuron after neuron.
type teacherOut struct {
	Scores []float64
	Best   int
	Eval   []float32
	Labels []float32
}

// realRun holds what every step of one real area shares.
type realRun struct {
	env     *harness.Env
	r       realPlan
	la      *loadedArea
	stream  *distimages.Set
	params  map[string]any
	inputs  []harness.Input
	trunkFn func() (areateacher.Trunk, error)
	fitted  *teacherOut // the teacher step's result, once read
}

// studentPix returns the students' training images at the real plan's Side: the stream's
// images, then the area's fit images.
func (rr *realRun) studentPix() ([]uint8, int, error) {
	s := rr.r.Side
	if s != distimages.Size {
		return nil, 0, fmt.Errorf("distillation stream images are %d×%d, the plan's images %d×%d", distimages.Size, distimages.Size, s, s)
	}
	pix := make([]uint8, rr.r.Stream*s*s*3)
	if err := rr.stream.Fill(0, rr.r.Stream, pix); err != nil {
		return nil, 0, err
	}
	pix = append(pix, rr.la.images(rr.la.split.Fit, s)...)
	return pix, rr.r.Stream + len(rr.la.split.Fit), nil
}

// teacher fits the area's teacher and labels the students' images, as a cached step (read once
// per run).
func (rr *realRun) teacher(ctx context.Context) (*teacherOut, error) {
	if rr.fitted != nil {
		return rr.fitted, nil
	}
	step := harness.Step{
		Name: "areas/" + rr.la.name + "/teacher", Inputs: rr.inputs, Params: rr.params, Code: realCode, Version: realStepVersion,
	}
	b, err := rr.env.Cache.Do(step, func() ([]byte, error) {
		trunk, err := rr.trunkFn()
		if err != nil {
			return nil, err
		}
		opts := mapping.TaskDrivenDefaults()
		opts.Epochs, opts.KerasEpochs = rr.r.MappingEpochs, rr.r.MappingKerasEpochs
		rr.env.Logf("%s teacher: trunk features of %d images, mapping of %d neurons (%d epochs)", rr.la.area.Name, len(rr.la.area.ImageIDs), rr.la.area.Resp.Neurons(), opts.Epochs)
		t, err := areateacher.Fit(ctx, trunk, areateacher.Input{Area: rr.la.area, Pix: rr.la.pix, Side: rr.r.Side, Train: rr.la.train, Val: rr.la.val, Eval: rr.la.split.Eval}, opts)
		if err != nil {
			return nil, err
		}
		pix, n, err := rr.studentPix()
		if err != nil {
			return nil, err
		}
		rr.env.Logf("%s teacher: epoch %d chosen; labelling %d distillation images", rr.la.area.Name, t.Best+1, n)
		lab, err := t.Label(ctx, pix, n)
		if err != nil {
			return nil, err
		}
		out := teacherOut{Scores: t.Scores, Best: t.Best, Eval: flat(t.Eval), Labels: flat(lab)}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(out); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("%s teacher: %w", rr.la.area.Name, err)
	}
	var out teacherOut
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s teacher: cached result: %w", rr.la.area.Name, err)
	}
	nn, ne := rr.la.area.Resp.Neurons(), len(rr.la.split.Eval)
	if len(out.Eval) != nn*ne || len(out.Labels) != nn*(rr.r.Stream+len(rr.la.split.Fit)) {
		return nil, fmt.Errorf("%s teacher: cached result of %d predictions and %d labels for %d neurons", rr.la.area.Name, len(out.Eval), len(out.Labels), nn)
	}
	rr.fitted = &out
	return &out, nil
}

// realStudent is the real areas' student with k early filters and one output per neuron: the
// shared compact model (model.NewSharedWidth with ReLUs, width filters in layers 3-4) with
// Keras' initial weights drawn with seed (nn.InitKeras).
func realStudent(k, width, outputs int, seed uint64) (*model.Network, error) {
	net, err := model.NewSharedWidth(k, width, outputs, true)
	if err != nil {
		return nil, err
	}
	if err := nn.InitKeras(net, seed); err != nil {
		return nil, err
	}
	return net, nil
}

// student distils the student with k early filters (realStudent) from the teacher's labels
// (areasim.Train on the Side×Side images) and returns its outputs for the evaluation images, as
// a cached step.
func (rr *realRun) student(ctx context.Context, k int) ([]float32, error) {
	params := map[string]any{"teacher": rr.params, "k": k, "width": rr.r.Width, "epochs": rr.r.Epochs, "batch": rr.r.Batch, "learning_rate": rr.r.LearningRate, "student": "shared compact model"}
	step := harness.Step{
		Name: fmt.Sprintf("areas/%s/K%d", rr.la.name, k), Inputs: rr.inputs, Params: params, Code: realCode, Version: realStepVersion,
	}
	nn, ne := rr.la.area.Resp.Neurons(), len(rr.la.split.Eval)
	shape := []int{ne, nn}
	b, err := rr.env.Cache.Do(step, func() ([]byte, error) {
		t, err := rr.teacher(ctx)
		if err != nil {
			return nil, err
		}
		pix, n, err := rr.studentPix()
		if err != nil {
			return nil, err
		}
		ev := rr.la.images(rr.la.split.Eval, rr.r.Side)
		targets := make([][]float64, nn)
		for j := range targets {
			targets[j] = make([]float64, n)
			for i := range n {
				targets[j][i] = float64(t.Labels[j*n+i])
			}
		}
		rr.env.Logf("%s: distilling the K = %d student on %d images (%d epochs)", rr.la.area.Name, k, n, rr.r.Epochs)
		// The initial weights are seeded by the stream's seed and K, the image order by the
		// stream's seed.
		sched := areasim.Schedule{Epochs: rr.r.Epochs, Batch: rr.r.Batch, LearningRate: rr.r.LearningRate, Seed: rr.r.StreamSeed,
			Progress: progress(rr.env, fmt.Sprintf("%s K = %d student", rr.la.area.Name, k), time.Now())}
		// The fit checkpoints after each epoch into the step's work directory: a stopped run
		// (a Slurm task's time limit, SIGTERM) resumes there with the same bytes.
		wd, err := rr.env.Cache.WorkDir(step)
		if err != nil {
			return nil, err
		}
		if wd != "" {
			sched.Checkpoint = filepath.Join(wd, "fit.gob")
		}
		net, err := realStudent(k, rr.r.Width, nn, rr.r.StreamSeed*1000+uint64(k))
		if err != nil {
			return nil, err
		}
		pred, err := areasim.Train(ctx, net, pix, n, targets, sched, ev, ne)
		if err != nil {
			return nil, fmt.Errorf("%s K = %d student: %w", rr.la.area.Name, k, err)
		}
		return eval.EncodeFloat32(shape, pred)
	})
	if err != nil {
		return nil, err
	}
	return eval.DecodeFloat32(fmt.Sprintf("outputs of the %s K = %d student", rr.la.area.Name, k), b, shape...)
}

// progressEvery is the least time between two progress lines of a student's fit.
const progressEvery = time.Minute

// progress returns an areasim.Schedule.Progress that logs what's steps, the time since start
// and the time left at the rate so far (of the steps this process took: a fit resumed from its
// checkpoint starts past step 0), at most once per progressEvery and after the last step.
func progress(env *harness.Env, what string, start time.Time) func(step, steps int) {
	last, from := start, -1
	return func(step, steps int) {
		if from < 0 {
			from = step - 1
		}
		now := time.Now()
		if now.Sub(last) < progressEvery && step < steps {
			return
		}
		last = now
		took := now.Sub(start)
		eta := (took / time.Duration(step-from) * time.Duration(steps-step)).Round(time.Second)
		env.Logf("%s: step %d of %d (%s elapsed, ETA %s)", what, step, steps, took.Round(time.Second), eta)
	}
}

// flat concatenates rows.
func flat(x [][]float64) []float32 {
	var out []float32
	for _, row := range x {
		for _, v := range row {
			out = append(out, float32(v))
		}
	}
	return out
}

// evaluateReal computes each real area of the plan whose data files are present: its teacher
// and students (the shard's units only, for a shard) and, for a whole run, its curve. An area
// whose files are missing is recorded as not runnable, and so is the weight file when an area
// needs it.
func evaluateReal(ctx context.Context, env *harness.Env, d *eval.Data, res *harness.Result, p plan) ([]realCurve, error) {
	r := p.Real
	st, err := areaStore(r)
	if err != nil {
		return nil, err
	}
	var trunk *areateacher.Trunk
	trunkFn := func() (areateacher.Trunk, error) {
		if trunk != nil {
			return *trunk, nil
		}
		g, err := openTrunk(r.Weights, r.Layer, env.Log)
		if err != nil {
			return areateacher.Trunk{}, err
		}
		s, err := g.LayerShape(r.Layer)
		if err != nil {
			return areateacher.Trunk{}, err
		}
		trunk = &areateacher.Trunk{Net: g, Shape: s, Batch: trunkBatch}
		return *trunk, nil
	}
	var out []realCurve
	var stream *distimages.Set
	var streamInputs []harness.Input
	for ai, name := range r.Areas {
		if _, ok := realAreas[name]; !ok {
			return nil, fmt.Errorf("real area %q: want %s or %s", name, areaV1, areaIT)
		}
		if missingArea(res, st, name) {
			continue
		}
		todo := false
		for j := range 1 + len(r.Ks) {
			todo = todo || p.Shard.Has(realUnit(p, ai, j))
		}
		if !todo {
			continue
		}
		if _, err := trunkFn(); err != nil {
			var me *kerasweights.MissingError
			var ce *kerasweights.CorruptError
			if !errors.As(err, &me) && !errors.As(err, &ce) {
				return nil, err
			}
			where := "$KERAS_HOME/models/" + kerasweights.ResNet50.Name
			if r.Weights != "" {
				where = filepath.Join(r.Weights, kerasweights.ResNet50.Name)
			}
			d.NotRunnable(where, fmt.Sprintf("the %s teacher and students are not computed: %v", name, err))
			continue
		}
		if stream == nil {
			set, _, err := distimages.Load(env.Data, distimages.Config{Seed: r.StreamSeed, Families: distimages.AllFamilies})
			if err != nil {
				return nil, err
			}
			var paths []string
			for _, s := range set.Sessions() {
				paths = append(paths, v4data.ImagesPath(s))
			}
			if streamInputs, err = env.Inputs(paths...); err != nil {
				return nil, err
			}
			stream = set
		}
		la, err := loadArea(st, r, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		g := trunk.Net
		rr := &realRun{env: env, r: r, la: la, stream: stream, trunkFn: trunkFn,
			inputs: append(append([]harness.Input(nil), la.inputs...), streamInputs...),
			params: map[string]any{
				"area": name, "neurons": la.area.Resp.Neurons(), "images": len(la.area.ImageIDs), "side": r.Side,
				"trunk": g.Name(), "layer": r.Layer, "trunk_outputs": g.Outputs(), "weights_md5": kerasweights.ResNet50.MD5,
				"split_seed": r.SplitSeed, "validation_fraction": r.ValFraction, "train_size": areadata.BrainScoreTrainSize,
				"mapping_epochs": r.MappingEpochs, "mapping_keras_epochs": r.MappingKerasEpochs,
				"stream": r.Stream, "stream_seed": r.StreamSeed, "stream_sessions": stream.Sessions(),
			}}
		c, err := rr.curve(ctx, p, ai)
		if err != nil {
			return nil, err
		}
		if c != nil {
			out = append(out, *c)
		}
	}
	if st != nil {
		if u := st.Unverified(); len(u) > 0 {
			res.Notes = append(res.Notes, fmt.Sprintf("read without a published hash (its publisher records none): %s", strings.Join(u, ", ")))
		}
	}
	if !p.Shard.Whole() {
		return nil, nil
	}
	return out, nil
}

// curve computes the shard's units of the area and, for a whole run, its curve.
func (rr *realRun) curve(ctx context.Context, p plan, ai int) (*realCurve, error) {
	nn, ne := rr.la.area.Resp.Neurons(), len(rr.la.split.Eval)
	var full []float64
	best := 0
	if p.Shard.Has(realUnit(p, ai, 0)) {
		t, err := rr.teacher(ctx)
		if err != nil {
			return nil, err
		}
		rows := make([][]float32, nn)
		for j := range rows {
			rows[j] = t.Eval[j*ne : (j+1)*ne]
		}
		s, err := eval.Score32(rr.la.part, rows)
		if err != nil {
			return nil, err
		}
		full, best = s.R2ER, t.Best+1
		rr.env.Logf("%s teacher (epoch %d): median r²_ER %.3f over %d neurons", rr.la.area.Name, best, metrics.NaNMedian(full), nn)
	}
	acc := make([][]float64, len(rr.r.Ks))
	for ki, k := range rr.r.Ks {
		if !p.Shard.Has(realUnit(p, ai, 1+ki)) {
			continue
		}
		pred, err := rr.student(ctx, k)
		if err != nil {
			return nil, err
		}
		s, err := eval.Score(rr.la.part, areasim.ByOutput(pred, ne, nn), metrics.R2EROptions{})
		if err != nil {
			return nil, err
		}
		acc[ki] = s.R2ER
		rr.env.Logf("%s K = %d student: median r²_ER %.3f", rr.la.area.Name, k, metrics.NaNMedian(acc[ki]))
	}
	if !p.Shard.Whole() {
		return nil, nil
	}
	c, err := filtercurve.New(rr.r.Ks, acc, full, bootstrapSeed+uint64(ai+1)*100)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rr.la.area.Name, err)
	}
	return &realCurve{
		Area: rr.la.name, Dataset: realAreas[rr.la.name], Neurons: nn, Best: best, Curve: c,
		Teacher: fmt.Sprintf("ResNet50 %s + factorized mapping (epoch %d of %d)", rr.r.Layer, best, rr.r.MappingEpochs),
	}, nil
}
