package distill

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"compactv4/internal/distimages"
	"compactv4/internal/imagezip"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

func smallNet(t *testing.T, seed uint64) *model.Network {
	t.Helper()
	n, err := model.NewCompact([model.NumLayers]int{3, 3, 2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(n, seed); err != nil {
		t.Fatal(err)
	}
	return n
}

func images(t *testing.T) *distimages.Set {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	im := &imagezip.Images{N: 14, H: distimages.Size, W: distimages.Size, Pix: make([]uint8, 14*distimages.Size*distimages.Size*3)}
	for i := range im.Pix {
		im.Pix[i] = uint8(rng.IntN(256))
	}
	s, err := distimages.New([]distimages.Session{{ID: "s", Images: im}}, distimages.Config{HeldOut: 6, Seed: 3, Families: distimages.AllFamilies})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// teacherOutputs is the number of outputs of the tests' teacher.
const teacherOutputs = 3

// job returns a small job of one student per output given (each from its own initial weights),
// whose teacher is a random network of teacherOutputs outputs.
func job(t *testing.T, lr float64, outputs ...int) Job {
	t.Helper()
	set := images(t)
	tn, err := model.NewShared(2, teacherOutputs, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(tn, 99); err != nil {
		t.Fatal(err)
	}
	teacher, err := nn.Compile(tn)
	if err != nil {
		t.Fatal(err)
	}
	n := len(set.HeldOut())
	held, err := teacher.Predict(set.HeldOutPixels(), n)
	if err != nil {
		t.Fatal(err)
	}
	if len(outputs) == 0 {
		outputs = []int{1}
	}
	j := Job{
		Name: "test run", Teacher: teacher, Images: set, Start: 5,
		Schedule: Schedule{Presentations: 22, Batch: 4, LearningRate: lr, Smoothings: 3, Decay: Cosine, Warmup: 0.2},
	}
	for _, o := range outputs {
		s := Student{Name: fmt.Sprintf("neuron %d", o), Net: smallNet(t, 1+uint64(o)), Output: o, HeldOut: make([]float32, n)}
		for i := range n {
			s.HeldOut[i] = held[i*teacherOutputs+o]
		}
		j.Students = append(j.Students, s)
	}
	return j
}

// encodeAll is every trained student of a result, encoded.
func encodeAll(t *testing.T, r *Result) []byte {
	t.Helper()
	var all []byte
	for _, s := range r.Students {
		b, err := Encode(s)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// Students trained in lock step end with the bytes each ends with when trained alone.
func TestLockStep(t *testing.T) {
	both, err := Run(context.Background(), job(t, 1e-3, 0, 2))
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range []int{0, 2} {
		alone, err := Run(context.Background(), job(t, 1e-3, o))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(encodeAll(t, alone), encodeAll(t, &Result{Students: both.Students[i : i+1]})) {
			t.Errorf("output %d: trained beside another student, it differs from its run alone", o)
		}
	}
	if both.Students[0].Curve[2].R == both.Students[1].Curve[2].R {
		t.Error("two students of different outputs have the same fidelity")
	}
}

func TestSmoothAfter(t *testing.T) {
	for _, s := range []Schedule{{Presentations: 40, Batch: 4, Smoothings: 3}, {Presentations: 38, Batch: 4, Smoothings: 10}, {Presentations: 5, Batch: 4, Smoothings: 0}} {
		var at []int64
		for k := int64(1); k <= s.Steps(); k++ {
			if s.smoothAfter(k) {
				at = append(at, k)
			}
		}
		if len(at) != s.Smoothings || len(at) > 0 && at[len(at)-1] != s.Steps() {
			t.Errorf("%+v: smoothed after steps %v", s, at)
		}
	}
}

func TestMeasureAfter(t *testing.T) {
	for _, c := range []struct {
		every, smoothings int
		want              []int // smoothings (1-based) after which the fidelity is measured
	}{
		{0, 5, []int{1, 2, 3, 4, 5}},
		{1, 5, []int{1, 2, 3, 4, 5}},
		{2, 5, []int{2, 4, 5}},
		{3, 24, []int{3, 6, 9, 12, 15, 18, 21, 24}},
		{3, 7, []int{3, 6, 7}},
		{9, 4, []int{4}},
	} {
		s := Schedule{Presentations: 400, Batch: 4, Smoothings: c.smoothings, FidelityEvery: c.every}
		var got []int
		i := 0
		for k := int64(1); k <= s.Steps(); k++ {
			if s.smoothAfter(k) {
				i++
				if s.measureAfter(k) {
					got = append(got, i)
				}
			}
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("every %d of %d smoothings: measured after %v, want %v", c.every, c.smoothings, got, c.want)
		}
	}
}

// Measuring the fidelity less often leaves the trained weights as they are.
func TestFidelityEvery(t *testing.T) {
	all, err := Run(context.Background(), job(t, 1e-3, 1))
	if err != nil {
		t.Fatal(err)
	}
	j := job(t, 1e-3, 1)
	j.Schedule.FidelityEvery = 2
	some, err := Run(context.Background(), j)
	if err != nil {
		t.Fatal(err)
	}
	weights := func(r *Result) []byte { return encodeAll(t, &Result{Students: []Trained{{Net: r.Students[0].Net}}}) }
	if !bytes.Equal(weights(all), weights(some)) {
		t.Error("measuring the fidelity after every second smoothing changed the weights")
	}
	a, b := all.Students[0].Curve, some.Students[0].Curve
	if len(a) != 3 || len(b) != 2 || b[0] != a[1] || b[1] != a[2] {
		t.Errorf("curves %v (every smoothing) and %v (every second and the last)", a, b)
	}
}

// A readout rate of 1 trains the same bytes as none; another rate moves the readout by a
// different amount from the first step on.
func TestReadoutRate(t *testing.T) {
	weights := func(rate float64) []byte {
		j := job(t, 1e-3, 1)
		j.Schedule.ReadoutRate = rate
		r, err := Run(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		return encodeAll(t, &Result{Students: []Trained{{Net: r.Students[0].Net}}})
	}
	plain := weights(0)
	if !bytes.Equal(weights(1), plain) {
		t.Error("readout rate 1 changed the weights")
	}
	if bytes.Equal(weights(0.1), plain) {
		t.Error("readout rate 0.1 left the weights as they were")
	}
}

// Each penalty leaves what it penalises smaller than a run without it, from the same initial
// weights and images: the sum of the batchnorm scales' magnitudes (-gamma-l1) and the sum of the
// readout's per-filter norms (-readout-lasso).
func TestPenalties(t *testing.T) {
	scales := func(n *model.Network) float64 {
		var sum float64
		for _, l := range n.Layers {
			if l.Class == model.BatchNormalization {
				for _, g := range l.Weights[0].Data {
					sum += math.Abs(float64(g))
				}
			}
		}
		return sum
	}
	readoutNorms := func(n *model.Network) float64 {
		f, err := model.CompactFilters(n)
		if err != nil {
			t.Fatal(err)
		}
		ss := make([]float64, f[model.NumLayers-1])
		for i, w := range n.Layer(readout(n)).Weights[0].Data {
			ss[i%len(ss)] += float64(w) * float64(w)
		}
		var sum float64
		for _, v := range ss {
			sum += math.Sqrt(v)
		}
		return sum
	}
	for _, tc := range []struct {
		name    string
		set     func(*Schedule)
		measure func(*model.Network) float64
	}{
		{"Σ|γ| with -gamma-l1 0.5", func(s *Schedule) { s.GammaL1 = 0.5 }, scales},
		{"Σ‖Beta_c‖ with -readout-lasso 0.5", func(s *Schedule) { s.ReadoutLasso = 0.5 }, readoutNorms},
	} {
		trained := func(set func(*Schedule)) float64 {
			j := job(t, 1e-3, 1)
			set(&j.Schedule)
			r, err := Run(context.Background(), j)
			if err != nil {
				t.Fatal(err)
			}
			return tc.measure(r.Students[0].Net)
		}
		plain, pen := trained(func(*Schedule) {}), trained(tc.set)
		t.Logf("%s: %.4f, without the penalty %.4f", tc.name, pen, plain)
		if !(pen < plain) {
			t.Errorf("%s: %v, not below %v without the penalty", tc.name, pen, plain)
		}
	}
}

// cancelAfter is a teacher that cancels the run when asked for its calls-th batch.
type cancelAfter struct {
	Labeller
	calls  int
	cancel context.CancelFunc
}

func (c *cancelAfter) Predict(pix []uint8, n int) ([]float32, error) {
	c.calls--
	if c.calls == 0 {
		c.cancel()
	}
	return c.Labeller.Predict(pix, n)
}

// failAt is a teacher that fails on its calls-th batch.
type failAt struct {
	Labeller
	calls int
}

func (f *failAt) Predict(pix []uint8, n int) ([]float32, error) {
	f.calls--
	if f.calls == 0 {
		return nil, errors.New("teacher gone")
	}
	return f.Labeller.Predict(pix, n)
}

// A run interrupted (cancelled, or stopped after a checkpoint) and restarted ends with the bytes
// of a run that never stopped.
func TestResume(t *testing.T) {
	whole := job(t, 1e-3)
	var log bytes.Buffer
	whole.Log = &log
	want, err := Run(context.Background(), whole)
	if err != nil {
		t.Fatal(err)
	}
	if c := want.Students[0].Curve; len(c) != 3 || c[2].Presentations != 22 || !strings.Contains(log.String(), "presentations/s") {
		t.Fatalf("curve %+v, log %s", c, log.String())
	}
	wantBytes := encodeAll(t, want)
	for _, stopAt := range []int{2, 4, 5} {
		j := job(t, 1e-3)
		j.Checkpoint = filepath.Join(t.TempDir(), "ckpt")
		ctx, cancel := context.WithCancel(context.Background())
		j.Teacher = &cancelAfter{Labeller: j.Teacher, calls: stopAt, cancel: cancel}
		if _, err := Run(ctx, j); !errors.Is(err, context.Canceled) {
			t.Fatalf("stop at %d: %v", stopAt, err)
		}
		j.Teacher = j.Teacher.(*cancelAfter).Labeller
		got, err := Run(context.Background(), j)
		if err != nil {
			t.Fatal(err)
		}
		b := encodeAll(t, got)
		if !bytes.Equal(b, wantBytes) {
			t.Errorf("stopped at step %d and resumed: result differs from an uninterrupted run", stopAt)
		}
		if c, _ := readCheckpoint(j.Checkpoint); c != nil {
			t.Error("checkpoint left after the run")
		}
		back, err := Decode(b)
		if err != nil || len(back.Curve) != 3 || !bytes.Equal(encodeAll(t, &Result{Students: []Trained{back}}), b) {
			t.Errorf("decode: %v", err)
		}
	}
	// A run that dies without saving (here: its teacher fails) resumes from its last periodic
	// checkpoint.
	j0 := job(t, 1e-3)
	j0.Checkpoint, j0.Every = filepath.Join(t.TempDir(), "ckpt"), time.Nanosecond
	good := j0.Teacher
	j0.Teacher = &failAt{Labeller: good, calls: 4}
	if _, err := Run(context.Background(), j0); err == nil || !strings.Contains(err.Error(), "teacher gone") {
		t.Fatalf("failing teacher: %v", err)
	}
	if c, _ := readCheckpoint(j0.Checkpoint); c == nil || c.Step != 3 {
		t.Fatalf("checkpoint after the failure: %+v", c)
	}
	j0.Teacher = good
	got, err := Run(context.Background(), j0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(encodeAll(t, got), wantBytes) {
		t.Error("resumed from a periodic checkpoint: result differs from an uninterrupted run")
	}

	// A checkpoint of another job is refused.
	j := job(t, 1e-3)
	j.Checkpoint = filepath.Join(t.TempDir(), "ckpt")
	ctx, cancel := context.WithCancel(context.Background())
	j.Teacher = &cancelAfter{Labeller: j.Teacher, calls: 2, cancel: cancel}
	Run(ctx, j)
	j.Teacher = j.Teacher.(*cancelAfter).Labeller
	j.Schedule.LearningRate = 2e-3
	if _, err := Run(context.Background(), j); err == nil || !strings.Contains(err.Error(), "belongs to another run") {
		t.Errorf("foreign checkpoint: %v", err)
	}
}

// A run that diverges stops with an error naming the job and the step, and returns no network.
func TestDiverges(t *testing.T) {
	j := job(t, 1e30)
	res, err := Run(context.Background(), j)
	if err == nil || res != nil || !errors.Is(err, nn.ErrTrain) || !strings.Contains(err.Error(), "test run: neuron 1: training stopped at step ") {
		t.Fatalf("result %v, error %v", res, err)
	}
	t.Log(err)
}

func TestRate(t *testing.T) {
	cos := Schedule{Presentations: 40, Batch: 4, LearningRate: 1e-3, Decay: Cosine, Warmup: 0.2} // 10 steps, 2 of warm-up
	for _, tt := range []struct {
		s    Schedule
		k    int64
		want float64
	}{
		{Schedule{Presentations: 40, Batch: 4, LearningRate: 1e-4}, 1, 1e-4},
		{Schedule{Presentations: 40, Batch: 4, LearningRate: 1e-4}, 10, 1e-4},
		{cos, 1, 5e-4},
		{cos, 2, 1e-3},
		{cos, 3, 1e-3}, // the cosine's first step: the peak
		{cos, 7, 1e-3 * (1 + math.Cos(math.Pi/2)) / 2}, // half way through the 8 decay steps
		{cos, 10, 1e-3 * (1 + math.Cos(math.Pi*7/8)) / 2},
		{Schedule{Presentations: 40, Batch: 4, LearningRate: 1e-3, Decay: Cosine}, 1, 1e-3},
	} {
		if got := tt.s.Rate(tt.k); math.Abs(got-tt.want) > 1e-15 {
			t.Errorf("%+v step %d: rate %g, want %g", tt.s, tt.k, got, tt.want)
		}
	}
	for _, s := range []Schedule{
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, Warmup: 0.1},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, Decay: Cosine, Warmup: 1},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, Decay: "linear"},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, ReadoutRate: -1},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, ReadoutRate: math.Inf(1)},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, GammaL1: -1},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, GammaL1: math.NaN()},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, ReadoutLasso: -1},
		{Presentations: 40, Batch: 4, LearningRate: 1e-3, ReadoutLasso: math.Inf(1)},
	} {
		if err := s.check(); err == nil {
			t.Errorf("%+v: no error", s)
		}
	}
	for in, want := range map[string]Decay{"constant": Constant, "cosine": Cosine} {
		if d, err := ParseDecay(in); err != nil || d != want || d.String() != in {
			t.Errorf("ParseDecay(%q) = %q, %v", in, d, err)
		}
	}
	if _, err := ParseDecay("step"); err == nil {
		t.Error("ParseDecay(step): no error")
	}
}
