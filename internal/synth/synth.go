package synth

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"

	"compactv4/internal/gauss"
	"compactv4/internal/model"
)

// Model is what the synthesis needs from a network: its response to a batch of recentred NHWC
// images and the gradient of a weighted sum of its outputs with respect to the input, with
// batchnorm in inference mode. *nn.GradNet satisfies it.
type Model interface {
	InputGrad(x []float32, batch int, dOut, out, dx []float32) error
	Outputs() int
}

// Params are the hyper-parameters of the preferred-stimulus synthesis (reference/upstream.md §9).
// The defaults of upstream's SynthClass.optimize_synth_image are those of DefaultParams; its
// script6 calls it with 100 steps, nine times (Steps 100, Restarts 9).
type Params struct {
	Steps       int     // gradient steps per restart (num_steps)
	StepSize    float64 // step_size: the image moves by StepSize times the normalised gradient
	Sigma       float64 // gaussian_filter_sigma, in pixels, of the gradient and image smoothing
	Truncate    float64 // scipy's truncate: the Gaussian's radius is int(Truncate·Sigma + 0.5)
	SmoothEvery int     // num_steps_between_smoothing: the image is smoothed after steps 50, 100...
	Restarts    int     // independent runs from fresh noise; the best response wins
	Minimize    bool    // opt='min': descend instead of ascend
}

// DefaultParams returns upstream's defaults: 1,000 steps of size 10, σ = 1 (truncate 4),
// image smoothing every 50 steps, one run, maximisation.
func DefaultParams() Params {
	return Params{Steps: 1000, StepSize: 10, Sigma: 1, Truncate: 4, SmoothEvery: 50, Restarts: 1}
}

func (p Params) validate() error {
	switch {
	case p.Steps < 1 || p.Steps > 1e6:
		return fmt.Errorf("steps %d out of range [1, 1e6]", p.Steps)
	case p.Restarts < 1 || p.Restarts > 1e4:
		return fmt.Errorf("restarts %d out of range [1, 1e4]", p.Restarts)
	case p.SmoothEvery < 1:
		return fmt.Errorf("smoothing period %d < 1", p.SmoothEvery)
	case !(p.StepSize > 0) || math.IsInf(p.StepSize, 0):
		return fmt.Errorf("step size %v must be finite and positive", p.StepSize)
	}
	return nil
}

// Synth is the outcome of a synthesis: the image with the best response over every step of
// every restart.
type Synth struct {
	H, W int
	// Image is the best image as raw RGB in HWC order: clip(img_best + mean_c, 0, 255)
	// (upstream's set_images_to_raw), float64 as upstream returns it.
	Image []float64
	// Response is the model's response to the best image (before the conversion to raw
	// pixels), or the starting best (0 when maximising, 1e5 when minimising) when no step beat
	// it; then BestStep is −1 and Image is the starting noise.
	Response float64
	BestStep int // 0-based step at which Image was reached
	Restart  int // 0-based restart that produced Image
	// Initial is the response to the starting noise image of the winning restart.
	Initial float64
	// Trace is the response after every step of the winning restart (recorded before the
	// periodic image smoothing, as upstream records it).
	Trace []float32
}

// Uint8 returns the image as uint8 the way upstream's script6 shows it
// (img_synth.astype('uint8'): truncation toward zero of values in [0, 255]).
func (s *Synth) Uint8() []uint8 {
	out := make([]uint8, len(s.Image))
	for i, v := range s.Image {
		out[i] = uint8(v)
	}
	return out
}

// ModelSeed derives the seed of one model's synthesis from the experiment's base seed and the
// model's file stem (e.g. "compact_model_190923_neuron4"): base XOR the 64-bit FNV-1a hash of
// the stem. Restart r of that model draws its noise from PCG(seed, r).
func ModelSeed(base uint64, stem string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(stem))
	return base ^ h.Sum64()
}

// noiseImage returns upstream's starting image (get_white_noise_image), recentred: pixel value
// U[0,1)·50 + 128 − mean_c for every row, column and channel in that (C) order, with U drawn from
// rng. The image has h×w×3 values.
func noiseImage(rng *rand.Rand, h, w int) []float64 {
	img := make([]float64, h*w*3)
	for i := range img {
		img[i] = float64(rng.Float64()*50) + 128 - model.MeanPixel[i%3]
	}
	return img
}

// Synthesize optimises an h×w RGB image for the single output of m, following upstream's
// SynthClass.optimize_synth_image (reference/upstream.md §9) step by step:
//
//  1. img = noise (NoiseImage, recentred); best = 0 (1e5 when minimising); img_best = img.
//  2. For t = 0…Steps−1: g = ∂mean(m(img))/∂img; g /= sqrt(mean(g²)) + 1e−5;
//     g = gaussian_filter(g, (0, σ, σ, 0)); img ± StepSize·g; clip channel c to
//     [−mean_c, 255 − mean_c]; r = m(img); if r beats best: best = r, img_best = img;
//     if t % SmoothEvery == 0 and t > 0: img = gaussian_filter(img, (0, σ, σ, 0)).
//  3. Return clip(img_best + mean, 0, 255) and best.
//
// The image is kept in float64 as upstream keeps it in numpy; the model sees float32(img), as
// Keras casts it. One evaluation of m per step gives both r for step t and the gradient for
// step t+1 (they are taken at the same image), so a step costs one InputGrad, plus one more
// after each image smoothing. Restart r starts from PCG(seed, r) noise; the best response over
// restarts wins (the first on ties).
func Synthesize(ctx context.Context, m Model, h, w int, p Params, seed uint64) (*Synth, error) {
	if err := p.validate(); err != nil {
		return nil, fmt.Errorf("synthesis: %w", err)
	}
	if h <= 0 || w <= 0 || h > 1<<12 || w > 1<<12 {
		return nil, fmt.Errorf("synthesis: bad image size %d×%d", h, w)
	}
	if n := m.Outputs(); n != 1 {
		return nil, fmt.Errorf("synthesis: the model has %d outputs, want a single-neuron model", n)
	}
	wts, err := gauss.Kernel(p.Sigma, p.Truncate)
	if err != nil {
		return nil, fmt.Errorf("synthesis: %w", err)
	}
	var best *Synth
	for r := 0; r < p.Restarts; r++ {
		s, err := synthesizeFrom(ctx, m, h, w, p, wts, noiseImage(rand.New(rand.NewPCG(seed, uint64(r))), h, w))
		if err != nil {
			if p.Restarts > 1 {
				return nil, fmt.Errorf("synthesis restart %d: %w", r, err)
			}
			return nil, fmt.Errorf("synthesis: %w", err)
		}
		s.Restart = r
		if best == nil || better(s.Response, best.Response, p.Minimize) {
			best = s
		}
	}
	return best, nil
}

func better(r, best float64, minimize bool) bool {
	if minimize {
		return r < best
	}
	return r > best
}

// synthesizeFrom is one run of the optimisation from the recentred h×w×3 image img, which it
// overwrites.
func synthesizeFrom(ctx context.Context, m Model, h, w int, p Params, wts []float64, img []float64) (*Synth, error) {
	n := h * w * 3
	if len(img) != n {
		return nil, fmt.Errorf("starting image has %d values, want %d", len(img), n)
	}
	imgBest := append([]float64(nil), img...)
	g := make([]float64, n)
	sq := make([]float64, n)
	tmp := make([]float64, n)
	x := make([]float32, n)
	dx := make([]float32, n)
	dOut := []float32{1} // ∂ mean(output)/∂ output for one output
	out := []float32{0}
	var lo, hi [3]float64
	for c := range lo {
		lo[c], hi[c] = -model.MeanPixel[c], 255-model.MeanPixel[c]
	}
	sign := 1.0
	best := 0.0
	if p.Minimize {
		sign, best = -1, 1e5
	}
	s := &Synth{H: h, W: w, BestStep: -1, Trace: make([]float32, 0, p.Steps)}

	// eval sets out = m(img) and dx = ∂out/∂img at the current image.
	eval := func() error {
		for i, v := range img {
			x[i] = float32(v)
		}
		if err := m.InputGrad(x, 1, dOut, out, dx); err != nil {
			return err
		}
		if o := float64(out[0]); math.IsNaN(o) || math.IsInf(o, 0) {
			return fmt.Errorf("the model's response is %v", o)
		}
		return nil
	}
	if err := eval(); err != nil {
		return nil, fmt.Errorf("starting image: %w", err)
	}
	s.Initial = float64(out[0])
	fresh := true // dx is the gradient at img
	for t := 0; t < p.Steps; t++ {
		if t%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		if !fresh {
			if err := eval(); err != nil {
				return nil, fmt.Errorf("step %d: %w", t, err)
			}
		}
		// Normalise the gradient by its root mean square (+1e-5), summing the squares as numpy
		// does (pairwise), then smooth it.
		for i, v := range dx {
			d := float64(v)
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return nil, fmt.Errorf("step %d: gradient %v at input %d", t, d, i)
			}
			g[i] = d
			sq[i] = d * d
		}
		scale := math.Sqrt(gauss.NumpySum(sq)/float64(n)) + 1e-5
		for i := range g {
			g[i] /= scale
		}
		if err := gauss.FilterHWScratch(g, g, tmp, h, w, 3, wts); err != nil {
			return nil, err
		}
		for i := range img {
			v := img[i] + sign*float64(p.StepSize*g[i])
			c := i % 3
			img[i] = math.Min(math.Max(v, lo[c]), hi[c])
		}
		if err := eval(); err != nil {
			return nil, fmt.Errorf("step %d: %w", t, err)
		}
		fresh = true
		r := float64(out[0])
		s.Trace = append(s.Trace, out[0])
		if better(r, best, p.Minimize) {
			best = r
			copy(imgBest, img)
			s.BestStep = t
		}
		if t%p.SmoothEvery == 0 && t > 0 {
			if err := gauss.FilterHWScratch(img, img, tmp, h, w, 3, wts); err != nil {
				return nil, err
			}
			fresh = false
		}
	}
	s.Response = best
	s.Image = imgBest
	for i, v := range imgBest {
		s.Image[i] = math.Min(math.Max(v+model.MeanPixel[i%3], 0), 255)
	}
	return s, nil
}
