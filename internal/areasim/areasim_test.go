package areasim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// simSessions are the sessions whose images the tests simulate responses to (2,400 images).
var simSessions = []string{"190923", "201025"}

// sessionImages returns the downsampled images of simSessions and the layer-0 kernels of
// compact model 190923 neuron 0, or skips without data.
func sessionImages(t *testing.T) ([]uint8, int, []Filter) {
	t.Helper()
	st, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	var pix []uint8
	for _, s := range simSessions {
		im, err := eval.LoadImages(st, s)
		if err != nil {
			t.Fatal(err)
		}
		d, err := Downsample(im.Pix, im.N)
		if err != nil {
			t.Fatal(err)
		}
		pix = append(pix, d...)
	}
	cm, err := v4data.LoadCompact(st, v4data.CompactID{Session: "190923", Neuron: 0}, v4data.FormatKeras)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := FiltersOf(cm)
	if err != nil {
		t.Fatal(err)
	}
	return pix, len(pix) / (Side * Side * 3), cf
}

func TestDownsample(t *testing.T) {
	const big = model.ImageSize
	pix := make([]uint8, big*big*3)
	for y := range big {
		for x := range big {
			pix[(y*big+x)*3] = uint8(x / Factor * 10) // constant within a block
			pix[(y*big+x)*3+1] = uint8((x + y) % 2)   // half the pixels 1: mean 0.49 or 0.51
			pix[(y*big+x)*3+2] = uint8(255 * (y % 2)) // rows alternate 0 and 255
		}
	}
	d, err := Downsample(pix, 1)
	if err != nil {
		t.Fatal(err)
	}
	for x := range Side {
		p := d[(3*Side+x)*3:]
		if p[0] != uint8(x*10) || p[1] > 1 || p[2] != 109 && p[2] != 146 {
			t.Fatalf("block (3, %d) = %v", x, p[:3])
		}
	}
	if _, err := Downsample(pix[:10], 1); err == nil {
		t.Error("a short input was accepted")
	}
}

// TestRepeats: Poisson counts have the mean and variance of their expected count.
func TestRepeats(t *testing.T) {
	rates := [][]float64{{0.5, 3}, {0, 8}}
	z, err := Repeats(rates, 20000, 1)
	if err != nil {
		t.Fatal(err)
	}
	for j, row := range rates {
		for i, lam := range row {
			var s, ss float64
			for r := range z.R {
				v := z.At(j, i, r)
				s += v
				ss += v * v
			}
			m := s / float64(z.R)
			v := ss/float64(z.R) - m*m
			if tol := 5 * math.Sqrt(lam/float64(z.R)); math.Abs(m-lam) > tol || math.Abs(v-lam) > 0.1*lam+1e-9 {
				t.Errorf("unit %d image %d: mean %.3f variance %.3f, want %.1f", j, i, m, v, lam)
			}
		}
	}
	if _, err := Repeats([][]float64{{-1}}, 2, 1); err == nil {
		t.Error("a negative expected count was accepted")
	}
}

// TestR2ERUnbiased: on a simulated population (wide, 32 units, 6 repeats of Brain-Score's 10 %
// evaluation images, 1 spike per presentation on average), predictions whose true r² with the
// expected counts is known (unit j predicted by the sum of units j and j+1) get r²_ER whose
// mean over units and the 100 noise seeds 1…100 is within one standard error (over the seeds)
// of the true mean r².
func TestR2ERUnbiased(t *testing.T) {
	pix, n, _ := sessionImages(t)
	p, err := New(Wide, 32, 7, nil)
	if err != nil {
		t.Fatal(err)
	}
	p.MeanRate = 1
	if err := p.Calibrate(pix, n); err != nil {
		t.Fatal(err)
	}
	idx := make([]int, 0, n/10)
	for i := 0; i < n; i += 10 {
		idx = append(idx, i)
	}
	rates, err := p.Rates(gather(pix, idx, Side*Side*3), len(idx))
	if err != nil {
		t.Fatal(err)
	}
	pred := make([][]float64, len(rates))
	trueR2 := 0.0
	for j := range rates {
		pred[j] = make([]float64, len(idx))
		for i := range idx {
			pred[j][i] = rates[j][i] + rates[(j+1)%len(rates)][i]
		}
		r, err := metrics.Pearson(pred[j], rates[j])
		if err != nil {
			t.Fatal(err)
		}
		trueR2 += r * r / float64(len(rates))
	}
	const seeds = 100
	d := make([]float64, seeds)
	for s := range seeds {
		raw, err := Repeats(rates, 6, uint64(s+1))
		if err != nil {
			t.Fatal(err)
		}
		r2er, err := metrics.R2ER(raw, pred, metrics.R2EROptions{})
		if err != nil {
			t.Fatal(err)
		}
		d[s] = metrics.Mean(r2er) - trueR2
	}
	bias, se := metrics.Mean(d), math.Sqrt(metrics.NaNVar(d, 1)/seeds)
	t.Logf("true mean r² %.4f; mean r²_ER − r² over %d seeds %.5f, standard error %.5f (%.2f SE)", trueR2, seeds, bias, se, bias/se)
	if math.Abs(bias) > se {
		t.Errorf("r²_ER is biased: mean difference %.5f, standard error %.5f", bias, se)
	}
}

// orderingConfig is the simulation of TestOrdering: 32 neurons per population, 6 repeats of
// each image (the median repeat count of the upstream raw files), 0.5 spikes per presentation on
// average (Poisson noise large enough that the 90 % intervals of the median r²_ER are a few
// hundredths wide, as the real sessions' are), students with K = 4 against the K = 16 student,
// 10 epochs of Adam at 5e-3 in batches of 16.
var orderingConfig = Config{
	Kinds: []Kind{V1, Wide}, Units: 32, Repeats: 6, Rate: 0.5,
	Ks: []int{4}, FullK: 16,
	Schedule: Schedule{Epochs: 10, Batch: 16, LearningRate: 5e-3},
}

// TestOrdering: on seeds 1, 2 and 3, the V1-like population (2 filters) needs fewer early filters
// than the wide one (24 filters) by the smallest-K rule against the K = 16 student. Measured:
// V1-like K = 4 reaches the full model's interval on all three seeds (0.934 against
// [0.921, 0.970], 0.957 against [0.952, 0.975], 0.967 against [0.961, 0.996]), wide K = 4 on
// none (0.798, 0.817, 0.803 against lower ends 0.881, 0.904, 0.866).
func TestOrdering(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 12 students")
	}
	pix, n, cf := sessionImages(t)
	for _, seed := range []uint64{1, 2, 3} {
		cfg := orderingConfig
		cfg.Seed = seed
		res, err := Run(context.Background(), cfg, pix, n, cf, t.Logf)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res {
			t.Logf("seed %d %s: full %v, smallest K %d, truth median r²_ER %.3f", seed, r.Kind, r.Curve.Full, r.Curve.Smallest, metrics.Median(r.Truth.R2ER))
			for _, p := range r.Curve.Points {
				t.Logf("  K = %d: %v", p.K, p.Acc)
			}
		}
		if Rank(res[0].Curve, res[1].Curve) >= 0 {
			t.Errorf("seed %d: smallest K %d (%s) is not below %d (%s)", seed, res[0].Curve.Smallest, res[0].Kind, res[1].Curve.Smallest, res[1].Kind)
		}
	}
}

// Fit reports every step to Progress, the last with the whole fit's count (an epoch's last
// batch short), and its result does not depend on whether Progress is set.
func TestFitProgress(t *testing.T) {
	const n = 20
	pix := make([]uint8, n*Side*Side*3)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	targets := [][]float64{make([]float64, n)}
	for i := range n {
		targets[0][i] = float64(i % 3)
	}
	fit := func(s Schedule) []float32 {
		net, err := Student(2, 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		out, err := Train(context.Background(), net, pix, n, targets, s, pix, n)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var got [][2]int
	s := Schedule{Epochs: 2, Batch: 8, LearningRate: 1e-3, Seed: 1}
	plain := fit(s)
	s.Progress = func(step, steps int) { got = append(got, [2]int{step, steps}) }
	with := fit(s)
	if len(got) != 6 || got[0] != [2]int{1, 6} || got[5] != [2]int{6, 6} {
		t.Errorf("progress calls %v, want steps 1 to 6 of 6", got)
	}
	if !slices.Equal(plain, with) {
		t.Error("the outputs depend on Progress")
	}
}

// TestFitResume stops a fit during each epoch after the first, resumes it from its checkpoint and
// wants the bytes of a fit never stopped; a checkpoint of another fit is refused.
func TestFitResume(t *testing.T) {
	const n = 20
	pix := make([]uint8, n*Side*Side*3)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	targets := [][]float64{make([]float64, n), make([]float64, n)}
	for i := range n {
		targets[0][i], targets[1][i] = float64(i%3), float64(i%5)
	}
	student := func() *model.Network {
		net, err := Student(2, 2, 1)
		if err != nil {
			t.Fatal(err)
		}
		return net
	}
	s := Schedule{Epochs: 3, Batch: 8, LearningRate: 1e-3, Seed: 1}
	want, err := Fit(context.Background(), student(), pix, n, targets, s)
	if err != nil {
		t.Fatal(err)
	}
	for _, stopAt := range []int{4, 5, 7, 9} { // 3 steps per epoch: stop within epoch 2 or 3
		t.Run(fmt.Sprint(stopAt), func(t *testing.T) {
			s := s
			s.Checkpoint = filepath.Join(t.TempDir(), "fit.gob")
			ctx, cancel := context.WithCancel(context.Background())
			s.Progress = func(step, _ int) {
				if step == stopAt-1 {
					cancel()
				}
			}
			if _, err := Fit(ctx, student(), pix, n, targets, s); !errors.Is(err, context.Canceled) {
				t.Fatalf("stopped fit: %v, want context.Canceled", err)
			}
			if _, err := os.Stat(s.Checkpoint); err != nil {
				t.Fatalf("no checkpoint after the stop: %v", err)
			}
			var steps []int
			s.Progress = func(step, _ int) { steps = append(steps, step) }
			got, err := Fit(context.Background(), student(), pix, n, targets, s)
			if err != nil {
				t.Fatal(err)
			}
			if steps[0] != (stopAt-1)/3*3+1 {
				t.Errorf("resumed at step %d, want the first step of the epoch under way at %d", steps[0], stopAt)
			}
			for i, w := range got.Weights() {
				if !slices.Equal(w.Data, want.Weights()[i].Data) {
					t.Fatalf("weights %d differ from the fit never stopped", i)
				}
			}
			if _, err := os.Stat(s.Checkpoint); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the finished fit left its checkpoint: %v", err)
			}
		})
	}
	t.Run("another fit", func(t *testing.T) {
		s := s
		s.Checkpoint = filepath.Join(t.TempDir(), "fit.gob")
		ctx, cancel := context.WithCancel(context.Background())
		s.Progress = func(step, _ int) {
			if step == 4 {
				cancel()
			}
		}
		if _, err := Fit(ctx, student(), pix, n, targets, s); !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		s.Progress, s.LearningRate = nil, 2e-3
		if _, err := Fit(context.Background(), student(), pix, n, targets, s); err == nil || !strings.Contains(err.Error(), "belongs to another fit") {
			t.Errorf("a checkpoint of another schedule: %v, want an error saying so", err)
		}
		if err := os.WriteFile(s.Checkpoint, []byte("not a checkpoint"), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Fit(context.Background(), student(), pix, n, targets, s); err == nil || !strings.Contains(err.Error(), "does not decode") {
			t.Errorf("a corrupt checkpoint: %v, want an error saying so", err)
		}
	})
}
