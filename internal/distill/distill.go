// Package distill trains a student network on a teacher's responses to a stream of images: the
// distillation of reference/upstream.md §8 step 1 and, on a pruned network, the retraining of
// step 3. It runs the training engine of internal/nn (Trainer: training-mode batchnorm, MSE,
// Keras 3's Adam) on batches of internal/distimages' stream, labels each batch with the teacher
// when it is made, smooths the weights (nn.SmoothWeights, upstream smooth_weights) at evenly
// spaced points of the run as upstream does after each of its 24 zips, and measures the
// held-out fidelity (Pearson r between student and teacher on the held-out images) at each
// smoothing.
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
	// after the final step (upstream: 24, one per zip); the held-out fidelity is measured after
	// each.
	Smoothings int
	// Decay is how the learning rate changes over the steps: Constant (upstream) or Cosine.
	Decay Decay `json:",omitempty"`
	// Warmup is the fraction of the steps, at the start, over which a Cosine schedule's rate
	// rises linearly to LearningRate (0 ≤ Warmup < 1).
	Warmup float64 `json:",omitempty"`
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

// Labeller gives a teacher's responses (one value per image) to uint8 RGB images; eval.Model's
// Predict is one.
type Labeller interface {
	Predict(pix []uint8, n int) ([]float32, error)
}

// Job is one training run.
type Job struct {
	Name     string         // for messages, e.g. "190923 neuron 0, distillation"
	Net      *model.Network // the network to train, with its initial weights; one output
	Teacher  Labeller
	Images   *distimages.Set
	Start    int64 // stream position of the first image
	Schedule Schedule
	// HeldOut are the teacher's responses to Images.HeldOutPixels(), for the fidelity.
	HeldOut []float32

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

// Result is a finished run.
type Result struct {
	Net   *model.Network // the trained network
	Curve []Point
	// Timing of this process's part of the run (not part of any output file): the time spent in
	// the training steps, and in all.
	StepTime, Total time.Duration
	Presented       int64 // images this process presented
}

// checkpoint is the state of a run between two steps.
type checkpoint struct {
	Fingerprint string
	Step        int64
	Weights     []model.Tensor
	Iter        int64
	OptState    [][]float32
	Curve       []Point
}

// fingerprint names everything that decides a run's results, so that a checkpoint of another
// job is never resumed.
func (j *Job) fingerprint() (string, error) {
	h := sha256.New()
	cfg := j.Images.Config()
	fmt.Fprintf(h, "%+v %d %+v %v %d %d\n", j.Schedule, j.Start, cfg, j.Images.Sessions(), j.Images.Train(), len(j.HeldOut))
	if err := gob.NewEncoder(h).Encode(j.Net); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Run trains j.Net and returns the trained network and its fidelity curve. It resumes from
// j.Checkpoint when that file holds a checkpoint of the same job, and removes it when done.
func Run(ctx context.Context, j Job) (*Result, error) {
	if err := j.Schedule.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	}
	if j.Net == nil || j.Teacher == nil || j.Images == nil {
		return nil, fmt.Errorf("%s: a network, a teacher and images are needed", j.Name)
	}
	if len(j.HeldOut) != len(j.Images.HeldOut()) {
		return nil, fmt.Errorf("%s: %d teacher responses for %d held-out images", j.Name, len(j.HeldOut), len(j.Images.HeldOut()))
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
	st := &checkpoint{Fingerprint: fp}
	net := j.Net
	if c, err := readCheckpoint(j.Checkpoint); err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	} else if c != nil {
		if c.Fingerprint != fp {
			return nil, fmt.Errorf("%s: checkpoint %s belongs to another run (other parameters or initial weights); delete it to start over", j.Name, j.Checkpoint)
		}
		net = j.Net.Clone()
		ws := make([]model.Tensor, len(c.Weights))
		copy(ws, c.Weights)
		if err := net.SetWeights(ws); err != nil {
			return nil, fmt.Errorf("%s: checkpoint %s: %w", j.Name, j.Checkpoint, err)
		}
		st = c
		fmt.Fprintf(log, "%s: resuming from the checkpoint after step %d of %d\n", j.Name, c.Step, j.Schedule.Steps())
	}
	adam := nn.NewAdam(j.Schedule.LearningRate, 0)
	tr, err := nn.NewTrainer(net, adam)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", j.Name, err)
	}
	if st.OptState != nil {
		if err := tr.SetOptimizerState(st.Iter, st.OptState); err != nil {
			return nil, fmt.Errorf("%s: checkpoint %s: %w", j.Name, j.Checkpoint, err)
		}
	}
	heldPix := j.Images.HeldOutPixels()
	held := make([]float64, len(j.HeldOut))
	for i, v := range j.HeldOut {
		held[i] = float64(v)
	}

	save := func() error {
		if j.Checkpoint == "" {
			return nil
		}
		st.Iter, st.OptState = tr.OptimizerState()
		st.Weights = st.Weights[:0]
		for _, w := range tr.Network().Weights() {
			st.Weights = append(st.Weights, *w)
		}
		return writeCheckpoint(j.Checkpoint, st)
	}

	steps, batch := j.Schedule.Steps(), j.Schedule.Batch
	pix := make([]uint8, batch*distimages.Size*distimages.Size*3)
	x := make([]float32, len(pix))
	res := &Result{}
	start, lastSave, lastLog := time.Now(), time.Now(), time.Now()
	startStep := st.Step
	var lossSum float64 // training loss since the last progress line
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
		p, xb := pix[:n*distimages.Size*distimages.Size*3], x[:n*distimages.Size*distimages.Size*3]
		if err := j.Images.Fill(j.Start+st.Step*int64(batch), n, p); err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", j.Name, st.Step+1, err)
		}
		y, err := j.Teacher.Predict(p, n)
		if err != nil {
			return nil, fmt.Errorf("%s: step %d: teacher: %w", j.Name, st.Step+1, err)
		}
		if err := nn.Recenter(p, xb); err != nil {
			return nil, fmt.Errorf("%s: step %d: %w", j.Name, st.Step+1, err)
		}
		adam.LearningRate = j.Schedule.Rate(st.Step + 1)
		t0 := time.Now()
		loss, err := tr.Step(xb, y, n)
		if err != nil {
			return nil, stepError(j, st.Step+1, err)
		}
		res.StepTime += time.Since(t0)
		lossSum, lossSteps = lossSum+loss, lossSteps+1
		if l := tr.NonFinite(); l != "" {
			return nil, stepError(j, st.Step+1, fmt.Errorf("layer %s has a weight that is not finite: %w", l, nn.ErrTrain))
		}
		st.Step++
		res.Presented += int64(n)
		if j.Schedule.smoothAfter(st.Step) {
			if err := tr.SmoothWeights(); err != nil {
				return nil, fmt.Errorf("%s: step %d: %w", j.Name, st.Step, err)
			}
			r, err := Fidelity(tr.Network(), heldPix, held)
			if err != nil {
				return nil, fmt.Errorf("%s: step %d: held-out fidelity: %w", j.Name, st.Step, err)
			}
			st.Curve = append(st.Curve, Point{Presentations: min(st.Step*int64(batch), j.Schedule.Presentations), R: r})
			fmt.Fprintf(log, "%s: smoothed after %s presentations; held-out fidelity r = %.4f\n", j.Name, harness.Comma(int(st.Curve[len(st.Curve)-1].Presentations)), r)
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
			rate := float64(res.Presented) / el.Seconds()
			left := time.Duration(float64(steps-st.Step) * float64(el) / float64(st.Step-startStep))
			fmt.Fprintf(log, "%s: step %d/%d (%.1f %%), training loss %.4g, %.1f presentations/s (training step %.0f %% of the time), time left %s\n",
				j.Name, st.Step, steps, 100*float64(st.Step)/float64(steps), lossSum/float64(lossSteps), rate, 100*res.StepTime.Seconds()/el.Seconds(), left.Round(time.Second))
			lastLog, lossSum, lossSteps = time.Now(), 0, 0
		}
	}
	res.Total = time.Since(start)
	res.Net = tr.Network()
	res.Curve = st.Curve
	if j.Checkpoint != "" {
		if err := os.Remove(j.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w", j.Name, err)
		}
	}
	return res, nil
}

func stepError(j Job, step int64, err error) error {
	saved := "no checkpoint is kept"
	if j.Checkpoint != "" {
		saved = "the checkpoint " + j.Checkpoint + " keeps the last state saved before it"
	}
	return fmt.Errorf("%s: training stopped at step %d of %d: %w; no weights were written (%s)", j.Name, step, j.Schedule.Steps(), err, saved)
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

func readCheckpoint(path string) (*checkpoint, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c, err := decodeCheckpoint(b)
	if err != nil {
		return nil, fmt.Errorf("checkpoint %s does not decode (delete it to start over): %w", path, err)
	}
	return c, nil
}

func decodeCheckpoint(b []byte) (*checkpoint, error) {
	var c checkpoint
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&c); err != nil {
		return nil, err
	}
	return &c, nil
}

func writeCheckpoint(path string, c *checkpoint) error {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(c); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return harness.WriteFileAtomic(path, b.Bytes())
}

// Encode stores a result's network and curve as bytes (for a cache), Decode reads them back.
func Encode(r *Result) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(struct {
		Net   *model.Network
		Curve []Point
	}{r.Net, r.Curve}); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Decode reads what Encode stored.
func Decode(b []byte) (*Result, error) {
	var v struct {
		Net   *model.Network
		Curve []Point
	}
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&v); err != nil {
		return nil, fmt.Errorf("distillation result: %w", err)
	}
	if v.Net == nil {
		return nil, errors.New("distillation result without a network")
	}
	if err := v.Net.Validate(); err != nil {
		return nil, fmt.Errorf("distillation result: %w", err)
	}
	return &Result{Net: v.Net, Curve: v.Curve}, nil
}
