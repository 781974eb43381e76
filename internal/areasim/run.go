package areasim

import (
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/internal/areadata"
	"compactv4/internal/filtercurve"
	"compactv4/internal/metrics"
)

// Config is one simulated experiment.
type Config struct {
	Kinds   []Kind
	Units   int     // neurons per population
	Repeats int     // presentations of every image
	Rate    float64 // mean expected count per presentation (0: MeanRate)
	// Ks are the numbers of early filters of the compressed students; FullK is the student that
	// stands for the full model (the least compressed of the family).
	Ks       []int
	FullK    int
	Schedule Schedule
	// Seed draws the populations, the trial noise, the split, the students' initial weights and
	// their image order.
	Seed uint64
}

// Result is the analysis of one population.
type Result struct {
	Kind  Kind
	Curve *filtercurve.Curve
	// Truth holds the scores of the ground truth (the expected counts) on the evaluation images:
	// r²_ER near 1 when it is unbiased.
	Truth eval.Scores
}

// seeds of the parts of a run, from Config.Seed and the population's index.
func (c Config) popSeed(i int) uint64   { return c.Seed*1000 + uint64(i) }
func (c Config) noiseSeed(i int) uint64 { return c.Seed*1000 + 100 + uint64(i) }
func (c Config) initSeed(k int) uint64  { return c.Seed*1000 + 500 + uint64(k) }

// Run simulates every population of cfg on n Side×Side×3 images (Prepare), fits the student
// with each K and the FullK student (Area.Fit), scores them (Area.Score) and summarises each
// population's accuracies (Area.Curve). compact holds the kernels of the V4 population. logf,
// when not nil, gets a line per fitted student.
func Run(ctx context.Context, cfg Config, pix []uint8, n int, compact []Filter, logf func(string, ...any)) ([]Result, error) {
	var out []Result
	for pi := range cfg.Kinds {
		a, err := Prepare(cfg, pi, pix, n, compact)
		if err != nil {
			return nil, err
		}
		ks := a.Ks()
		acc := make([][]float64, len(ks))
		for i, k := range ks {
			pred, err := a.Fit(ctx, k)
			if err != nil {
				return nil, err
			}
			if acc[i], err = a.Score(pred); err != nil {
				return nil, err
			}
			if logf != nil {
				logf("%s, seed %d: K = %d fitted, median r²_ER %.3f", a.Name(), cfg.Seed, k, metrics.NaNMedian(acc[i]))
			}
		}
		res := Result{Kind: a.Kind, Truth: a.Truth}
		if res.Curve, err = a.Curve(acc); err != nil {
			return nil, err
		}
		out = append(out, res)
	}
	return out, nil
}

// Area is population i of a Config prepared for its students: its expected counts on all the
// images (the population calibrated on them), Poisson repeats, Brain-Score's split sizes
// (areadata.Area.Split, unstratified), and the ground truth's scores on the evaluation images.
type Area struct {
	Kind Kind
	// Truth holds the scores of the expected counts on the evaluation images.
	Truth eval.Scores

	cfg           Config
	index         int
	part          *eval.Responses // the evaluation images' repeats
	fitPix, evPix []uint8
	nFit, nEval   int
	fitY          [][]float64 // expected counts of the fit images, [unit][image]
}

// Prepare draws population i of cfg.Kinds on n Side×Side×3 images; compact holds the kernels of
// the V4 population.
func Prepare(cfg Config, i int, pix []uint8, n int, compact []Filter) (*Area, error) {
	if cfg.Units < 1 || cfg.Repeats < 1 || len(cfg.Ks) == 0 || cfg.FullK < 1 || i < 0 || i >= len(cfg.Kinds) {
		return nil, fmt.Errorf("simulation: population %d of config %+v", i, cfg)
	}
	const px = Side * Side * 3
	kind := cfg.Kinds[i]
	p, err := New(kind, cfg.Units, cfg.popSeed(i), compact)
	if err != nil {
		return nil, err
	}
	if cfg.Rate > 0 {
		p.MeanRate = cfg.Rate
	}
	if err := p.Calibrate(pix, n); err != nil {
		return nil, err
	}
	rates, err := p.Rates(pix, n)
	if err != nil {
		return nil, err
	}
	raw, err := Repeats(rates, cfg.Repeats, cfg.noiseSeed(i))
	if err != nil {
		return nil, err
	}
	a := &Area{Kind: kind, cfg: cfg, index: i}
	name := a.Name()
	ar := &areadata.Area{Name: name, ImageIDs: make([]string, n), Resp: &eval.Responses{Session: name, Hi: n, Averaged: raw.Means(), Raw: &raw}}
	sp, err := ar.Split(areadata.BrainScoreTrainSize, cfg.Seed)
	if err != nil {
		return nil, err
	}
	if a.part, err = ar.Part("evaluation", sp.Eval); err != nil {
		return nil, err
	}
	a.fitPix, a.evPix = gather(pix, sp.Fit, px), gather(pix, sp.Eval, px)
	a.nFit, a.nEval = len(sp.Fit), len(sp.Eval)
	a.fitY = columns(rates, sp.Fit)
	if a.Truth, err = eval.Score(a.part, columns(rates, sp.Eval), metrics.R2EROptions{}); err != nil {
		return nil, err
	}
	return a, nil
}

// Name is "simulated <kind>".
func (a *Area) Name() string { return "simulated " + string(a.Kind) }

// Ks are the students of the area: the config's Ks, then FullK.
func (a *Area) Ks() []int { return append(append([]int(nil), a.cfg.Ks...), a.cfg.FullK) }

// EvalImages is the number of evaluation images.
func (a *Area) EvalImages() int { return a.nEval }

// Fit fits the student with k early filters (Student, Fit, with the config's schedule and
// seeds) to the expected counts of the fit images and returns its outputs for the evaluation
// images, image after image (EvalImages()·Units values).
func (a *Area) Fit(ctx context.Context, k int) ([]float32, error) {
	sched := a.cfg.Schedule
	sched.Seed = a.cfg.Seed
	net, err := Student(k, len(a.fitY), a.cfg.initSeed(k))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	out, err := Train(ctx, net, a.fitPix, a.nFit, a.fitY, sched, a.evPix, a.nEval)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	return out, nil
}

// Score returns each unit's r²_ER of outputs that Fit returns, on the evaluation images' repeats.
func (a *Area) Score(pred []float32) ([]float64, error) {
	if len(pred) != a.nEval*a.cfg.Units {
		return nil, fmt.Errorf("%s: %d predictions for %d images of %d units", a.Name(), len(pred), a.nEval, a.cfg.Units)
	}
	s, err := eval.Score(a.part, ByOutput(pred, a.nEval, a.cfg.Units), metrics.R2EROptions{})
	if err != nil {
		return nil, err
	}
	return s.R2ER, nil
}

// Curve summarises the accuracies acc[i] of the students Ks()[i] (filtercurve.New against the
// last, FullK, seeded by the population).
func (a *Area) Curve(acc [][]float64) (*filtercurve.Curve, error) {
	last := len(acc) - 1
	c, err := filtercurve.New(a.cfg.Ks, acc[:last], acc[last], a.cfg.popSeed(a.index))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", a.Name(), err)
	}
	return c, nil
}

// gather concatenates the images idx of pix (px bytes each).
func gather(pix []uint8, idx []int, px int) []uint8 {
	out := make([]uint8, 0, len(idx)*px)
	for _, i := range idx {
		out = append(out, pix[i*px:(i+1)*px]...)
	}
	return out
}

// columns returns x[row][idx...].
func columns(x [][]float64, idx []int) [][]float64 {
	out := make([][]float64, len(x))
	for j, row := range x {
		out[j] = make([]float64, len(idx))
		for k, i := range idx {
			out[j][k] = row[i]
		}
	}
	return out
}

// Rank orders the smallest K of two curves, counting "none" (0) as more than any K: the result
// is negative when a needs fewer filters than b, zero when as many, positive when more.
func Rank(a, b *filtercurve.Curve) int {
	inf := func(k int) int {
		if k == 0 {
			return int(^uint(0) >> 1)
		}
		return k
	}
	x, y := inf(a.Smallest), inf(b.Smallest)
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
