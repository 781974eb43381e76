package synth

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"compactv4/internal/gauss"
	"compactv4/internal/model"
)

// quadModel is the analytic stand-in for a network of testdata/gen_reference.py:
// f(x) = Σ w·x − 0.5·q·x² over float32(x), summed as numpy sums, returned as float32, with the
// gradient w − q·x rounded to float32.
type quadModel struct {
	w, q  []float64
	calls int
	fail  error // returned by InputGrad when set
	nanAt int   // call at which the gradient becomes NaN (0: never)
	outs  int   // Outputs(); 0 means 1
	terms []float64
}

func (m *quadModel) Outputs() int {
	if m.outs == 0 {
		return 1
	}
	return m.outs
}

func (m *quadModel) InputGrad(x []float32, batch int, dOut, out, dx []float32) error {
	m.calls++
	if m.fail != nil {
		return m.fail
	}
	if batch != 1 || len(x) != len(m.w) || len(dx) != len(x) || len(out) != 1 || len(dOut) != 1 {
		return errors.New("quadModel: bad lengths")
	}
	if cap(m.terms) < len(x) {
		m.terms = make([]float64, len(x))
	}
	t := m.terms[:len(x)]
	for i, v := range x {
		xv := float64(v)
		t[i] = float64(m.w[i]*xv) - float64(float64(float64(0.5*m.q[i])*xv)*xv)
		dx[i] = float32(m.w[i]-float64(m.q[i]*xv)) * dOut[0]
	}
	out[0] = float32(gauss.NumpySum(t))
	if m.nanAt > 0 && m.calls >= m.nanAt {
		dx[len(dx)/2] = float32(math.NaN())
	}
	return nil
}

type synthRef struct {
	Cases []struct {
		Opt          string
		Steps, H, W  int
		ModelW       []float64 `json:"model_w"`
		ModelQ       []float64 `json:"model_q"`
		Noise, Image []float64
		Initial      float64
		Response     float64
		BestStep     int `json:"best_step"`
		Trace        []float64
	} `json:"cases"`
}

// TestSynthReference runs the synthesis on the analytic model of testdata/gen_reference.py from
// the same starting noise, and requires upstream's loop (ported there line by line in numpy and
// scipy) to give the same image, response, best step and trace, bit for bit: the order of the
// gradient normalisation, smoothing, step, clipping, recording and periodic image smoothing,
// the boundary handling and the float64/float32 conversions are all the reference's.
func TestSynthReference(t *testing.T) {
	var ref synthRef
	readJSON(t, "synth.json", &ref)
	if len(ref.Cases) != 2 {
		t.Fatalf("%d cases in testdata/synth.json, want 2", len(ref.Cases))
	}
	wts, err := gauss.Kernel(1, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ref.Cases {
		t.Run(c.Opt, func(t *testing.T) {
			p := DefaultParams()
			p.Steps = c.Steps
			p.Minimize = c.Opt == "min"
			m := &quadModel{w: c.ModelW, q: c.ModelQ}
			s, err := synthesizeFrom(context.Background(), m, c.H, c.W, p, wts, append([]float64(nil), c.Noise...))
			if err != nil {
				t.Fatal(err)
			}
			if s.Initial != c.Initial {
				t.Errorf("initial response %v, reference %v", s.Initial, c.Initial)
			}
			if s.Response != c.Response || s.BestStep != c.BestStep {
				t.Errorf("best response %v at step %d, reference %v at step %d", s.Response, s.BestStep, c.Response, c.BestStep)
			}
			if len(s.Trace) != len(c.Trace) {
				t.Fatalf("trace of %d steps, reference %d", len(s.Trace), len(c.Trace))
			}
			for i := range s.Trace {
				if float64(s.Trace[i]) != c.Trace[i] {
					t.Fatalf("response after step %d: %v, reference %v", i, s.Trace[i], c.Trace[i])
				}
			}
			bad := 0
			for i := range s.Image {
				if s.Image[i] != c.Image[i] {
					if bad < 5 {
						t.Errorf("pixel value %d = %v, reference %v", i, s.Image[i], c.Image[i])
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d pixel values differ", bad, len(s.Image))
			}
			// One InputGrad per step, plus the starting image, plus one after each image
			// smoothing (steps 50, 100...).
			if want := 1 + c.Steps + (c.Steps-1)/p.SmoothEvery; m.calls != want {
				t.Errorf("%d model evaluations, want %d", m.calls, want)
			}
		})
	}
}

func randomQuad(h, w int, seed uint64) *quadModel {
	rng := rand.New(rand.NewPCG(seed, 0))
	n := h * w * 3
	m := &quadModel{w: make([]float64, n), q: make([]float64, n)}
	for i := range m.w {
		m.w[i] = float64(float32(rng.NormFloat64()))
		m.q[i] = float64(float32(rng.Float64() * 0.02))
	}
	return m
}

// TestSynthesizeDeterministic: the same seed gives the same bytes, another seed another image,
// and with restarts the best restart wins.
func TestSynthesizeDeterministic(t *testing.T) {
	ctx := context.Background()
	h, w := 10, 8
	p := DefaultParams()
	p.Steps = 60
	seed := ModelSeed(7, "compact_model_190923_neuron4")
	a, err := Synthesize(ctx, randomQuad(h, w, 1), h, w, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Synthesize(ctx, randomQuad(h, w, 1), h, w, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	if !equalF64(a.Image, b.Image) || a.Response != b.Response || a.BestStep != b.BestStep {
		t.Fatal("two runs with the same seed differ")
	}
	c, err := Synthesize(ctx, randomQuad(h, w, 1), h, w, p, seed+1)
	if err != nil {
		t.Fatal(err)
	}
	if equalF64(a.Image, c.Image) {
		t.Fatal("another seed gives the same image")
	}
	for _, v := range a.Image {
		if !(v >= 0 && v <= 255) {
			t.Fatalf("raw pixel %v outside [0, 255]", v)
		}
	}
	if a.Response <= a.Initial {
		t.Errorf("the optimisation did not improve the response: %v from %v", a.Response, a.Initial)
	}

	p.Restarts = 4
	r, err := Synthesize(ctx, randomQuad(h, w, 1), h, w, p, seed)
	if err != nil {
		t.Fatal(err)
	}
	// Restart 0 is the single run above; the winner is the best of four, found again by
	// running each restart alone.
	best := math.Inf(-1)
	for k := 0; k < 4; k++ {
		wts, _ := gauss.Kernel(1, 4)
		s, err := synthesizeFrom(ctx, randomQuad(h, w, 1), h, w, paramsWithSteps(60), wts, noiseImage(rand.New(rand.NewPCG(seed, uint64(k))), h, w))
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 && (s.Response != a.Response || !equalF64(s.Image, a.Image)) {
			t.Fatal("restart 0 differs from the single run")
		}
		if s.Response > best {
			best = s.Response
			if r.Restart != k && s.Response > r.Response {
				t.Fatalf("restart %d has response %v, above the winner's %v", k, s.Response, r.Response)
			}
		}
	}
	if r.Response != best {
		t.Errorf("winner's response %v, best restart %v", r.Response, best)
	}
}

// paramsWithSteps is DefaultParams with another number of steps.
func paramsWithSteps(n int) Params {
	p := DefaultParams()
	p.Steps = n
	return p
}

func equalF64(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}

// TestSynthesizeNoImprovement: when no step beats the starting best (0 when maximising), the
// result is the noise image with response 0 and BestStep −1, as upstream returns it.
func TestSynthesizeNoImprovement(t *testing.T) {
	h, w := 6, 5
	m := randomQuad(h, w, 3)
	for i := range m.w { // f ≤ −Σ q x²/2 − ... < 0 everywhere: a bowl below zero
		m.w[i] = 0
		m.q[i] = 0.01
	}
	p := paramsWithSteps(5)
	s, err := Synthesize(context.Background(), m, h, w, p, 1)
	if err != nil {
		t.Fatal(err)
	}
	if s.BestStep != -1 || s.Response != 0 {
		t.Fatalf("best step %d response %v, want -1 and 0", s.BestStep, s.Response)
	}
	noise := noiseImage(rand.New(rand.NewPCG(1, 0)), h, w)
	for i, v := range noise {
		if want := math.Min(math.Max(v+model.MeanPixel[i%3], 0), 255); s.Image[i] != want {
			t.Fatalf("pixel %d = %v, want the noise's %v", i, s.Image[i], want)
		}
	}
}

func TestNoiseImage(t *testing.T) {
	img := noiseImage(rand.New(rand.NewPCG(5, 6)), 112, 112)
	if len(img) != 112*112*3 {
		t.Fatalf("%d values", len(img))
	}
	var sum [3]float64
	for i, v := range img {
		raw := v + model.MeanPixel[i%3]
		if raw < 128-1e-9 || raw >= 178+1e-9 {
			t.Fatalf("raw value %v outside [128, 178)", raw)
		}
		sum[i%3] += raw
	}
	for c, s := range sum {
		if m := s / (112 * 112); math.Abs(m-153) > 0.5 {
			t.Errorf("channel %d: mean raw value %v, want about 153", c, m)
		}
	}
}

func TestModelSeed(t *testing.T) {
	a := ModelSeed(1, "compact_model_190923_neuron0")
	if a != ModelSeed(1, "compact_model_190923_neuron0") {
		t.Fatal("not deterministic")
	}
	if a == ModelSeed(1, "compact_model_190923_neuron1") || a == ModelSeed(2, "compact_model_190923_neuron0") {
		t.Fatal("collision on the first try")
	}
}

func TestSynthesizeErrors(t *testing.T) {
	ctx := context.Background()
	h, w := 4, 4
	good := paramsWithSteps(3)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	for _, c := range []struct {
		name string
		ctx  context.Context
		m    *quadModel
		h, w int
		p    func(*Params)
		want string
	}{
		{"zero steps", ctx, randomQuad(h, w, 1), h, w, func(p *Params) { p.Steps = 0 }, "steps"},
		{"zero restarts", ctx, randomQuad(h, w, 1), h, w, func(p *Params) { p.Restarts = 0 }, "restarts"},
		{"zero period", ctx, randomQuad(h, w, 1), h, w, func(p *Params) { p.SmoothEvery = 0 }, "smoothing"},
		{"NaN step", ctx, randomQuad(h, w, 1), h, w, func(p *Params) { p.StepSize = math.NaN() }, "step size"},
		{"zero sigma", ctx, randomQuad(h, w, 1), h, w, func(p *Params) { p.Sigma = 0 }, "sigma"},
		{"bad size", ctx, randomQuad(h, w, 1), 0, w, nil, "size"},
		{"two outputs", ctx, &quadModel{outs: 2}, h, w, nil, "2 outputs"},
		{"model fails", ctx, &quadModel{fail: errors.New("boom")}, h, w, nil, "boom"},
		{"NaN gradient", ctx, func() *quadModel { m := randomQuad(h, w, 1); m.nanAt = 2; return m }(), h, w, nil, "gradient NaN"},
		{"canceled", canceled, randomQuad(h, w, 1), h, w, nil, "canceled"},
	} {
		p := good
		if c.p != nil {
			c.p(&p)
		}
		_, err := Synthesize(c.ctx, c.m, c.h, c.w, p, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
}
