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

// Run simulates every population of cfg on n Side×Side×3 images: expected counts (the
// population calibrated on all n images), Poisson repeats, Brain-Score's split sizes
// (areadata.Area.Split, unstratified), students with each K fitted to the expected counts of
// the fit images, and each student's r²_ER on the evaluation images' repeats, summarised by
// filtercurve.New against the FullK student. compact holds the kernels of the V4 population.
// logf, when not nil, gets a line per fitted student.
func Run(ctx context.Context, cfg Config, pix []uint8, n int, compact []Filter, logf func(string, ...any)) ([]Result, error) {
	if cfg.Units < 1 || cfg.Repeats < 1 || len(cfg.Ks) == 0 || cfg.FullK < 1 {
		return nil, fmt.Errorf("simulation: config %+v", cfg)
	}
	const px = Side * Side * 3
	var out []Result
	for pi, kind := range cfg.Kinds {
		p, err := New(kind, cfg.Units, cfg.popSeed(pi), compact)
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
		raw, err := Repeats(rates, cfg.Repeats, cfg.noiseSeed(pi))
		if err != nil {
			return nil, err
		}
		name := "simulated " + string(kind)
		ar := &areadata.Area{Name: name, ImageIDs: make([]string, n), Resp: &eval.Responses{Session: name, Hi: n, Averaged: raw.Means(), Raw: &raw}}
		sp, err := ar.Split(areadata.BrainScoreTrainSize, cfg.Seed)
		if err != nil {
			return nil, err
		}
		part, err := ar.Part("evaluation", sp.Eval)
		if err != nil {
			return nil, err
		}
		fitPix, evPix := gather(pix, sp.Fit, px), gather(pix, sp.Eval, px)
		fitY, truth := columns(rates, sp.Fit), columns(rates, sp.Eval)
		res := Result{Kind: kind}
		if res.Truth, err = eval.Score(part, truth, metrics.R2EROptions{}); err != nil {
			return nil, err
		}
		ks := append(append([]int(nil), cfg.Ks...), cfg.FullK)
		acc := make([][]float64, len(ks))
		for i, k := range ks {
			net, err := Student(k, cfg.Units, cfg.initSeed(k))
			if err != nil {
				return nil, err
			}
			sched := cfg.Schedule
			sched.Seed = cfg.Seed
			fit, err := Fit(ctx, net, fitPix, len(sp.Fit), fitY, sched)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			pred, err := Predict(fit, evPix, len(sp.Eval))
			if err != nil {
				return nil, err
			}
			s, err := eval.Score(part, pred, metrics.R2EROptions{})
			if err != nil {
				return nil, err
			}
			acc[i] = s.R2ER
			if logf != nil {
				logf("%s, seed %d: K = %d fitted, median r²_ER %.3f", name, cfg.Seed, k, metrics.NaNMedian(s.R2ER))
			}
		}
		last := len(ks) - 1
		if res.Curve, err = filtercurve.New(ks[:last], acc[:last], acc[last], cfg.popSeed(pi)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, res)
	}
	return out, nil
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
