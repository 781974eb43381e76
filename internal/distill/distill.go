// Package distill trains a student network on a teacher's responses to a stream of images: the
// distillation of reference/upstream.md §8 step 1 and, on a pruned network, the retraining of
// step 3. It runs the training engine of internal/nn (Trainer: training-mode batchnorm, MSE,
// Keras 3's Adam) on batches of internal/distimages' stream, labels each batch with the teacher
// when it is made, smooths the weights (nn.SmoothWeights, upstream smooth_weights) at evenly
// spaced points of the run as upstream does after each of its 24 zips, and measures the
// held-out fidelity (Pearson r between student and teacher on the held-out images) after each
// smoothing or, with Schedule.FidelityEvery, after every few and the last.
//
// A run checkpoints its whole state (weights, batchnorm statistics, Adam's state and step
// count, the stream position, the curve so far) atomically every few minutes of work and when
// it is cancelled; restarted with the same Job it continues from the checkpoint and ends with
// the same bytes as a run that never stopped, because a step is a deterministic function of
// that state and the stream's images depend on their position alone.
//
// A training step whose loss is not finite, or that leaves a weight that is not, stops the run
// with an error naming the job and the step; the checkpoint keeps the last good state and no
// weights are returned.
package distill

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"compactv4/harness"
	"compactv4/internal/distimages"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/statefile"
)

// Upstream's schedule (reference/upstream.md §8): one pass over 24 zips of 500,000 images,
// batch 64, Adam(1e-4), smoothing after each zip.
const (
	PaperPresentations = 24 * 500_000
	PaperBatch         = 64
	PaperLearningRate  = 1e-4
	PaperSmoothings    = 24
)

// Schedule is the training schedule of one run.
type Schedule struct {
	Presentations int64   // images presented in all (the last batch may be short)
	Batch         int     // images per Adam step
	LearningRate  float64 // Adam's learning rate (no clipping, as upstream's distillation); a Cosine schedule's peak
	// Smoothings is the number of weight smoothings, evenly spaced over the steps, the last
	// after the final step (upstream: 24, one per zip).
	Smoothings int
	// FidelityEvery: the held-out fidelity is measured after every FidelityEvery-th smoothing
	// and after the last (0 or 1: after each, as upstream).
	FidelityEvery int `json:",omitempty"`
	// Decay is how the learning rate changes over the steps: Constant (upstream) or Cosine.
	Decay Decay `json:",omitempty"`
	// Warmup is the fraction of the steps, at the start, over which a Cosine schedule's rate
	// rises linearly to LearningRate (0 ≤ Warmup < 1).
	Warmup float64 `json:",omitempty"`
	// ReadoutRate multiplies the learning rate of the readout's kernel (the network's Dense
	// layer: Beta, 784·F4 weights) against the other weights' (0 or 1: the same rate, as
	// upstream).
	ReadoutRate float64 `json:",omitempty"`
	// GammaL1 is the factor λ of an L1 penalty λ·Σ|γ| on the scales γ of every batchnorm
	// layer (Keras' gamma_regularizer=L1(λ), nn.Trainer.SetGammaL1), added to the MSE of each
	// step (0: none, as upstream).
	GammaL1 float64 `json:",omitempty"`
	// ReadoutLasso is the factor λ of a group-lasso penalty λ·Σ_c ‖Beta_c‖₂ on the readout's
	// kernel, one group per filter of the last layer (nn.Trainer.SetReadoutGroupL1), added to
	// the MSE of each step (0: none, as upstream).
	ReadoutLasso float64 `json:",omitempty"`
}

// Decay names a learning-rate schedule.
type Decay string

// The learning-rate schedules.
const (
	// Constant keeps LearningRate at every step, as upstream does.
	Constant Decay = ""
	// Cosine rises linearly over the first Warmup·Steps() steps (step k of W at k/W of the
	// rate), then follows a half cosine from LearningRate towards 0: step k of the n − W after
	// the warm-up (k from 0) at LearningRate·(1 + cos(π·k/(n − W)))/2.
	Cosine Decay = "cosine"
)

// ParseDecay reads "constant" or "cosine".
func ParseDecay(s string) (Decay, error) {
	switch s {
	case "constant":
		return Constant, nil
	case string(Cosine):
		return Cosine, nil
	}
	return "", fmt.Errorf("learning-rate schedule %q: want constant or cosine", s)
}

// String names the decay ("constant" for Constant).
func (d Decay) String() string {
	if d == Constant {
		return "constant"
	}
	return string(d)
}

// warmupSteps is the number of warm-up steps of a Cosine schedule.
func (s Schedule) warmupSteps() int64 {
	if s.Decay != Cosine {
		return 0
	}
	return int64(math.Ceil(s.Warmup * float64(s.Steps())))
}

// Rate is the learning rate of step k (1-based).
func (s Schedule) Rate(k int64) float64 {
	if s.Decay != Cosine {
		return s.LearningRate
	}
	w := s.warmupSteps()
	if k <= w {
		return s.LearningRate * float64(k) / float64(w)
	}
	return s.LearningRate * (1 + math.Cos(math.Pi*float64(k-w-1)/float64(s.Steps()-w))) / 2
}

// Steps is the number of Adam steps of the schedule.
func (s Schedule) Steps() int64 { return (s.Presentations + int64(s.Batch) - 1) / int64(s.Batch) }

func (s Schedule) check() error {
	if s.Presentations < 1 || s.Batch < 1 || !(s.LearningRate > 0) || math.IsInf(s.LearningRate, 0) || s.Smoothings < 0 || int64(s.Smoothings) > s.Steps() {
		return fmt.Errorf("schedule %+v: want positive presentations, batch and learning rate, and at most one smoothing per step", s)
	}
	if !(s.ReadoutRate >= 0) || math.IsInf(s.ReadoutRate, 0) {
		return fmt.Errorf("schedule %+v: want a non-negative, finite readout rate", s)
	}
	if !(s.GammaL1 >= 0) || math.IsInf(s.GammaL1, 0) || !(s.ReadoutLasso >= 0) || math.IsInf(s.ReadoutLasso, 0) {
		return fmt.Errorf("schedule %+v: want non-negative, finite penalty factors", s)
	}
	if s.FidelityEvery < 0 {
		return fmt.Errorf("schedule %+v: want a non-negative fidelity interval", s)
	}
	if s.Decay != Constant && s.Decay != Cosine || !(s.Warmup >= 0 && s.Warmup < 1) || s.Decay == Constant && s.Warmup != 0 {
		return fmt.Errorf("schedule %+v: want a constant or cosine decay, and a warm-up fraction in [0, 1) with cosine only", s)
	}
	return nil
}

// smoothAfter reports whether the weights are smoothed after step k (1-based).
func (s Schedule) smoothAfter(k int64) bool {
	n, m := s.Steps(), int64(s.Smoothings)
	return m > 0 && k*m/n != (k-1)*m/n
}

// measureAfter reports whether the held-out fidelity is measured after step k (1-based), a step
// after which the weights are smoothed.
func (s Schedule) measureAfter(k int64) bool {
	i := k * int64(s.Smoothings) / s.Steps() // smoothings so far
	return s.FidelityEvery <= 1 || i%int64(s.FidelityEvery) == 0 || i == int64(s.Smoothings)
}

// Labeller gives a teacher's responses to uint8 RGB images: Outputs values per image, image
// after image (eval.Model is one).
type Labeller interface {
	Outputs() int
	Predict(pix []uint8, n int) ([]float32, error)
}

// Student is one network of a Job, trained on one of the teacher's outputs.
type Student struct {
	Name   string         // for messages, e.g. "190923 neuron 0"
	Net    *model.Network // the network to train, with its initial weights; one output
	Output int            // the teacher's output (0-based) it learns
	// HeldOut are the teacher's responses Output to Images.HeldOutPixels(), for the fidelity.
	HeldOut []float32
}

// Job is one training run of one or more students in lock step: every step makes one batch of
// the stream, labels it once with the teacher and trains each student on it in turn. Each
// student's training depends on its own state and the batch alone, so it ends with the same
// bytes whichever students share its run.
type Job struct {
	Name     string // for messages, e.g. "distillation of 4 students"
	Students []Student
	Teacher  Labeller
	Images   *distimages.Set
	Start    int64 // stream position of the first image
	Schedule Schedule

	// Checkpoint is the file of the run's checkpoint ("" for none); Every the work between two
	// checkpoints (0: 3 minutes).
	Checkpoint string
	Every      time.Duration
	Log        io.Writer // progress lines; nil for none
}

// Point is one measurement of the held-out fidelity.
type Point struct {
	Presentations int64   // images presented before the measurement
	R             float64 // Pearson r between student and teacher on the held-out images
}

// Trained is one student at the end of a run.
type Trained struct {
	Net   *model.Network // the trained network
	Curve []Point
}

// Result is a finished run.
type Result struct {
	Students []Trained // in the order of Job.Students
	// Timing of this process's part of the run (not part of any output file): the time spent in
	// the students' training steps, in making and labelling the batches, in the smoothings and
	// held-out fidelities, and in all.
	StepTime, LabelTime, FidelityTime, Total time.Duration
	Presented                                int64 // images of the stream this process presented (to every student)
}

// checkpoint is the state of a run between two steps.
type checkpoint struct {
	Fingerprint string
	Step        int64
	Students    []studentState
}

// studentState is one student's part of a checkpoint.
type studentState struct {
	Weights  []model.Tensor
	Iter     int64
	OptState [][]float32
	Curve    []Point
}

// fingerprint names everything that decides a run's results, so that a checkpoint of another
// job is never resumed.
func (j *Job) fingerprint() (string, error) {
	h := sha256.New()
	cfg := j.Images.Config()
	fmt.Fprintf(h, "%+v %d %+v %v %d %d\n", j.Schedule, j.Start, cfg, j.Images.Sessions(), j.Images.Train(), j.Teacher.Outputs())
	for _, s := range j.Students {
		fmt.Fprintf(h, "%d %d\n", s.Output, len(s.HeldOut))
		if err := gob.NewEncoder(h).Encode(s.Net); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (j *Job) check() error {
	if err := j.Schedule.check(); err != nil {
		return err
	}
	if len(j.Students) == 0 || j.Teacher == nil || j.Images == nil {
		return errors.New("students, a teacher and images are needed")
	}
	for _, s := range j.Students {
		if s.Net == nil {
			return fmt.Errorf("%s: no network", s.Name)
		}
		if s.Output < 0 || s.Output >= j.Teacher.Outputs() {
			return fmt.Errorf("%s: teacher output %d of %d", s.Name, s.Output, j.Teacher.Outputs())
		}
		if len(s.HeldOut) != len(j.Images.HeldOut()) {
			return fmt.Errorf("%s: %d teacher responses for %d held-out images", s.Name, len(s.HeldOut), len(j.Images.HeldOut()))
		}
	}
	return nil
}

// trainee is a student being trained.
type trainee struct {
	*Student
	tr   *nn.Trainer
	adam *nn.Adam
	held []float64
	y    []float32 // its labels of the current batch
	st   *studentState
}

// Run trains the job's students and returns the trained networks and their fidelity curves. It
// resumes from j.Checkpoint when that file holds a checkpoint of the same job, and removes it
// when done.
func Run(ctx context.Context, j Job) (*Result, error) {
	if err := j.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	}
	log := j.Log
	if log == nil {
		log = io.Discard
	}
	every := j.Every
	if every <= 0 {
		every = 3 * time.Minute
	}
	fp, err := j.fingerprint()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	}
	st := &checkpoint{Fingerprint: fp, Students: make([]studentState, len(j.Students))}
	c, err := readCheckpoint(j.Checkpoint)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	}
	if c != nil {
		if c.Fingerprint != fp || len(c.Students) != len(j.Students) {
			return nil, fmt.Errorf("%s: checkpoint %s belongs to another run (other parameters, students or initial weights); delete it to start over", j.Name, j.Checkpoint)
		}
		st = c
		fmt.Fprintf(log, "%s: resuming from the checkpoint after step %d of %d\n", j.Name, c.Step, j.Schedule.Steps())
	}
	ts := make([]*trainee, len(j.Students))
	for i := range j.Students {
		s := &j.Students[i]
		t := &trainee{Student: s, st: &st.Students[i], held: make([]float64, len(s.HeldOut))}
		net := s.Net
		if c != nil {
			net = s.Net.Clone()
			ws := make([]model.Tensor, len(t.st.Weights))
			copy(ws, t.st.Weights)
			if err := net.SetWeights(ws); err != nil {
				return nil, fmt.Errorf("%s: checkpoint %s: %s: %w", j.Name, j.Checkpoint, s.Name, err)
			}
		}
		t.adam = nn.NewAdam(j.Schedule.LearningRate, 0)
		if t.tr, err = nn.NewTrainer(net, t.adam); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", j.Name, s.Name, err)
		}
		if r := j.Schedule.ReadoutRate; r != 0 {
			if err := t.tr.SetRateScale(readout(net), r); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", j.Name, s.Name, err)
			}
		}
		if lam := j.Schedule.GammaL1; lam != 0 {
			for _, l := range net.Layers {
				if l.Class != model.BatchNormalization {
					continue
				}
				if err := t.tr.SetGammaL1(l.Name, lam); err != nil {
					return nil, fmt.Errorf("%s: %s: %w", j.Name, s.Name, err)
				}
			}
		}
		if lam := j.Schedule.ReadoutLasso; lam != 0 {
			if err := t.tr.SetReadoutGroupL1(lam); err != nil {
				return nil, fmt.Errorf("%s: %s: %w", j.Name, s.Name, err)
			}
		}
		if t.st.OptState != nil {
			if err := t.tr.SetOptimizerState(t.st.Iter, t.st.OptState); err != nil {
				return nil, fmt.Errorf("%s: checkpoint %s: %s: %w", j.Name, j.Checkpoint, s.Name, err)
			}
		}
		for k, v := range s.HeldOut {
			t.held[k] = float64(v)
		}
		ts[i] = t
	}
	heldPix := j.Images.HeldOutPixels()

	save := func() error {
		if j.Checkpoint == "" {
			return nil
		}
		for _, t := range ts {
			t.st.Iter, t.st.OptState = t.tr.OptimizerState()
			t.st.Weights = t.st.Weights[:0]
			for _, w := range t.tr.Network().Weights() {
				t.st.Weights = append(t.st.Weights, *w)
			}
		}
		return statefile.Write(j.Checkpoint, st)
	}

	steps, batch, outs := j.Schedule.Steps(), j.Schedule.Batch, j.Teacher.Outputs()
	pix := make([]uint8, batch*distimages.Size*distimages.Size*3)
	x := make([]float32, len(pix))
	for _, t := range ts {
		t.y = make([]float32, batch)
	}
	res := &Result{}
	start, lastSave, lastLog := time.Now(), time.Now(), time.Now()
	startStep := st.Step
	var lossSum float64 // training loss since the last progress line, summed over the students
	var lossSteps int
	for st.Step < steps {
		if err := ctx.Err(); err != nil {
			if serr := save(); serr != nil {
				return nil, fmt.Errorf("%s: %w (and the checkpoint failed: %v)", j.Name, err, serr)
			}
			if j.Checkpoint != "" {
				fmt.Fprintf(log, "%s: stopped; checkpoint after step %d\n", j.Name, st.Step)
			}
			return nil, err
		}
		n := batch
		if rest := j.Schedule.Presentations - st.Step*int64(batch); rest < int64(n) {
			n = int(rest)
		}
		tl := time.Now()
		p, xb := pix[:n*distimages.Size*distimages.Size*3], x[:n*distimages.Size*distimages.Size*3]
		if err := j.Images.Fill(j.Start+st.Step*int64(batch), n, p); err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", j.Name, st.Step+1, err)
		}
		y, err := j.Teacher.Predict(p, n)
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: teacher: %w", j.Name, st.Step+1, err)
		}
		if len(y) != n*outs {
			return nil, fmt.Errorf("%s: step %d: teacher gave %d values for %d images of %d outputs", j.Name, st.Step+1, len(y), n, outs)
		}
		if err := nn.Recenter(p, xb); err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", j.Name, st.Step+1, err)
		}
		t0 := time.Now()
		res.LabelTime += t0.Sub(tl)
		for _, t := range ts {
			for k := range n {
				t.y[k] = y[k*outs+t.Output]
			}
			t.adam.LearningRate = j.Schedule.Rate(st.Step + 1)
			loss, err := t.tr.Step(xb, t.y[:n], n)
			if err != nil {
				return nil, stepError(j, t.Name, st.Step+1, err)
			}
			lossSum, lossSteps = lossSum+loss, lossSteps+1
			if l := t.tr.NonFinite(); l != "" {
				return nil, stepError(j, t.Name, st.Step+1, fmt.Errorf("layer %s has a weight that is not finite: %w", l, nn.ErrTrain))
			}
		}
		res.StepTime += time.Since(t0)
		st.Step++
		res.Presented += int64(n)
		if j.Schedule.smoothAfter(st.Step) {
			tf := time.Now()
			at := min(st.Step*int64(batch), j.Schedule.Presentations)
			for _, t := range ts {
				if err := t.tr.SmoothWeights(); err != nil {
					return nil, fmt.Errorf("%s: %s: step %d: %w", j.Name, t.Name, st.Step, err)
				}
				if !j.Schedule.measureAfter(st.Step) {
					continue
				}
				r, err := Fidelity(t.tr.Network(), heldPix, t.held)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: step %d: held-out fidelity: %w", j.Name, t.Name, st.Step, err)
				}
				t.st.Curve = append(t.st.Curve, Point{Presentations: at, R: r})
				fmt.Fprintf(log, "%s: %s: smoothed after %s presentations; held-out fidelity r = %.4f\n", j.Name, t.Name, harness.Comma(int(at)), r)
			}
			res.FidelityTime += time.Since(tf)
		}
		if j.Checkpoint != "" && time.Since(lastSave) >= every && st.Step < steps {
			if err := save(); err != nil {
				return nil, fmt.Errorf("%s: %w", j.Name, err)
			}
			lastSave = time.Now()
			fmt.Fprintf(log, "%s: checkpoint after step %d\n", j.Name, st.Step)
		}
		if time.Since(lastLog) >= 10*time.Second || st.Step == steps {
			el := time.Since(start)
			rate := float64(res.Presented) * float64(len(ts)) / el.Seconds()
			left := time.Duration(float64(steps-st.Step) * float64(el) / float64(st.Step-startStep))
			over := ""
			if len(ts) > 1 {
				over = fmt.Sprintf(" over %d students", len(ts))
			}
			fmt.Fprintf(log, "%s: step %d/%d (%.1f %%), training loss %.4g, %.1f presentations/s%s (training steps %.0f %% of the time), time left %s\n",
				j.Name, st.Step, steps, 100*float64(st.Step)/float64(steps), lossSum/float64(lossSteps), rate, over, 100*res.StepTime.Seconds()/el.Seconds(), left.Round(time.Second))
			lastLog, lossSum, lossSteps = time.Now(), 0, 0
		}
	}
	res.Total = time.Since(start)
	for _, t := range ts {
		res.Students = append(res.Students, Trained{Net: t.tr.Network(), Curve: t.st.Curve})
	}
	if j.Checkpoint != "" {
		if err := os.Remove(j.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", j.Name, err)
		}
	}
	return res, nil
}

// readout names the network's Dense layer ("" if it has none, which SetRateScale refuses).
func readout(n *model.Network) string {
	for _, l := range n.Layers {
		if l.Class == model.Dense {
			return l.Name
		}
	}
	return ""
}

func stepError(j Job, student string, step int64, err error) error {
	saved := "no checkpoint is kept"
	if j.Checkpoint != "" {
		saved = "the checkpoint " + j.Checkpoint + " keeps the last state saved before it"
	}
	return fmt.Errorf("%s: %s: training stopped at step %d of %d: %w; no weights were written (%s)", j.Name, student, step, j.Schedule.Steps(), err, saved)
}

// Fidelity is the Pearson r between a single-output network's predictions on images pix and the
// teacher's responses to them.
func Fidelity(net *model.Network, pix []uint8, teacher []float64) (float64, error) {
	c, err := nn.Compile(net)
	if err != nil {
		return 0, err
	}
	if c.Outputs() != 1 {
		return 0, fmt.Errorf("%s has %d outputs, want 1", net.Name, c.Outputs())
	}
	p, err := c.Predict(pix, len(teacher))
	if err != nil {
		return 0, err
	}
	x := make([]float64, len(p))
	for i, v := range p {
		x[i] = float64(v)
	}
	return metrics.Pearson(x, teacher)
}

// readCheckpoint reads the run's checkpoint at path, or returns nil when there is none.
func readCheckpoint(path string) (*checkpoint, error) {
	var c checkpoint
	if path == "" {
		return nil, nil
	}
	if ok, err := statefile.Read(path, &c); !ok {
		return nil, err
	}
	return &c, nil
}

// Encode stores a trained student's network and curve as bytes (for a cache), Decode reads
// them back.
func Encode(t Trained) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads what Encode stored.
func Decode(b []byte) (Trained, error) {
	var t Trained
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&t); err != nil {
		return Trained{}, fmt.Errorf("distillation result: %w", err)
	}
	if t.Net == nil {
		return Trained{}, errors.New("distillation result without a network")
	}
	if err := t.Net.Validate(); err != nil {
		return Trained{}, fmt.Errorf("distillation result: %w", err)
	}
	return t, nil
}
