package stimuli

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

func init() {
	harness.Register(&harness.Experiment{
		Name:  "stimuli",
		Title: "Preferred stimuli of the compact models: synthesised images against the largest natural-image response",
		Paper: "Fig. 2a",
		Run:   Run,
	})
}

// BaseSeed is the base of every model's seed (see ModelSeed): the noise that the synthesis of
// model <stem> starts from is drawn from PCG(ModelSeed(BaseSeed, stem), restart).
const BaseSeed = 0x5717_2a00_e3

// QuickSession and QuickModels define the quick profile's models: QuickModels neurons of
// QuickSession, evenly spaced over its neurons (see Select).
const (
	QuickSession = "190923"
	QuickModels  = 8
)

// ParamsFor returns the synthesis parameters of a profile. Both profiles use upstream's class
// defaults (DefaultParams: one run of 1,000 steps), the setting of the paper's optimisation;
// script6's 100 steps × 9 restarts is a demonstration script (Script6Params offers it). 1,000
// steps fit the quick profile's time budget (8 models) and the full one (219 models) in about
// half an hour on 2 cores.
func ParamsFor(p harness.Profile) Params { return DefaultParams() }

// Select returns the compact models a profile synthesises, in the order of v4data.CompactIDs:
// for quick, QuickModels neurons of QuickSession evenly spaced over its N neurons
// (neuron ⌊i·N/QuickModels⌋ for i = 0…QuickModels−1: 0, 4, 8, …, 28 of 33); for full, all 219.
func Select(ids []v4data.CompactID, p harness.Profile) ([]v4data.CompactID, error) {
	if p != harness.Quick {
		return ids, nil
	}
	var session []v4data.CompactID
	for _, id := range ids {
		if id.Session == QuickSession {
			session = append(session, id)
		}
	}
	n := len(session)
	if n < QuickModels {
		return nil, fmt.Errorf("session %s has %d compact models, want at least %d", QuickSession, n, QuickModels)
	}
	out := make([]v4data.CompactID, QuickModels)
	for i := range out {
		out[i] = session[i*n/QuickModels]
	}
	return out, nil
}

// Stimulus is the outcome for one compact model.
type Stimulus struct {
	ID    v4data.CompactID
	Seed  uint64
	Synth *Synth
	// Uint8Response is the model's response (inference engine, nn.Net) to the stimulus as saved
	// in the PNG: Synth.Uint8(), recentred as any image.
	Uint8Response float64
	// Natural holds the model's responses to all images of its session (nil when the session's
	// images are missing); NatMax is the largest, at image NatArgmax (0-based), NatMedian the
	// median.
	Natural           []float32
	NatMax, NatMedian float64
	NatArgmax         int
	// Ratio is Synth.Response / NatMax (NaN without natural responses, or when NatMax ≤ 0, where
	// the ratio has no meaning); Exceeds says whether Synth.Response > NatMax.
	Ratio   float64
	Exceeds bool
}

// HasNatural reports whether the model's natural-image responses were computed.
func (s *Stimulus) HasNatural() bool { return s.Natural != nil }

// Run runs the experiment.
func Run(ctx context.Context, env *harness.Env) (*harness.Result, error) {
	p := ParamsFor(env.Profile)
	all, err := v4data.CompactIDs(env.Data)
	if err != nil {
		return nil, err
	}
	ids, err := Select(all, env.Profile)
	if err != nil {
		return nil, err
	}
	return run(ctx, env, p, ids)
}

// run synthesises the stimuli of the given models with parameters p, computes their
// natural-image responses, and writes the tables and figures.
func run(ctx context.Context, env *harness.Env, p Params, ids []v4data.CompactID) (*harness.Result, error) {
	if len(ids) == 0 {
		return nil, fmt.Errorf("no compact models selected")
	}
	res := &harness.Result{}
	var err error
	nets := make([]*model.Network, len(ids))
	for i, id := range ids {
		if nets[i], err = v4data.LoadCompact(env.Data, id, v4data.FormatKeras); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	stims, err := synthesizeAll(ctx, env, ids, nets, p)
	if err != nil {
		return nil, err
	}
	env.Logf("synthesised %d preferred stimuli in %v", len(stims), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := naturalResponses(ctx, env, res, stims, nets); err != nil {
		return nil, err
	}
	env.Logf("natural-image responses in %v", time.Since(start).Round(time.Millisecond))
	sum := summarize(stims)
	record(res, env.Profile, p, stims, sum)
	if err := writeTables(env, res, p, stims, sum); err != nil {
		return nil, err
	}
	if err := drawFigures(env, res, stims); err != nil {
		return nil, err
	}
	return res, nil
}

// synthesizeAll synthesises every model's preferred stimulus, each a cached step. A GradNet
// computes one image on one goroutine, so models run concurrently, one per core; every model's
// result depends only on its own inputs and seed, so the bytes do not depend on the schedule.
func synthesizeAll(ctx context.Context, env *harness.Env, ids []v4data.CompactID, nets []*model.Network, p Params) ([]*Stimulus, error) {
	stims := make([]*Stimulus, len(ids))
	errs := make([]error, len(ids))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		done int
		next = make(chan int)
		wg   sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), len(ids))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				s, err := synthesizeModel(ctx, env, ids[i], nets[i], p)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", ids[i].Stem(), err)
					cancel()
					continue
				}
				stims[i] = s
				mu.Lock()
				done++
				env.Logf("  %s: response %.4g after step %d (%d/%d, %v)", ids[i].Stem(), s.Synth.Response, s.Synth.BestStep, done, len(ids), time.Since(t0).Round(time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	for i := range ids {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return stims, nil
}

// StepVersion is bumped when the meaning of a cached synthesis changes without a code change
// (it never needs to be in practice: any code change invalidates the cache).
const StepVersion = "1"

func synthesizeModel(ctx context.Context, env *harness.Env, id v4data.CompactID, net *model.Network, p Params) (*Stimulus, error) {
	inputs, err := env.Inputs(v4data.FormatKeras.CompactPath(id))
	if err != nil {
		return nil, err
	}
	seed := ModelSeed(BaseSeed, id.Stem())
	step := harness.Step{
		Name: "stimuli/synth/" + id.Stem(), Inputs: inputs, Version: StepVersion,
		Params: map[string]any{"params": p, "seed": seed, "format": "keras"},
	}
	h, w := net.Input[0], net.Input[1]
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		g, err := nn.NewGradNet(net)
		if err != nil {
			return nil, err
		}
		g.SetWorkers(1)
		s, err := Synthesize(ctx, g, h, w, p, seed)
		if err != nil {
			return nil, err
		}
		return s.MarshalBinary()
	})
	if err != nil {
		return nil, err
	}
	s, err := ReadSynth(bytesReader(b))
	if err != nil {
		return nil, fmt.Errorf("cached synthesis: %w", err)
	}
	if s.H != h || s.W != w || len(s.Trace) != p.Steps {
		return nil, fmt.Errorf("cached synthesis: %d×%d image, %d steps; want %d×%d, %d", s.H, s.W, len(s.Trace), h, w, p.Steps)
	}
	return &Stimulus{ID: id, Seed: seed, Synth: s, Ratio: math.NaN()}, nil
}

// Summary is what the experiment found over all models.
type Summary struct {
	Models      int     // models synthesised
	WithNatural int     // models whose session's natural images were available
	Exceed      int     // of those, models whose synthesised response exceeds the largest natural one
	Improved    int     // models whose optimisation beat the starting best (0) at some step
	MedianRatio float64 // over models with a defined ratio (NaN if none)
	MinRatio    float64
	MaxRatio    float64
	Ratios      int // models with a defined ratio
}

func summarize(stims []*Stimulus) Summary {
	s := Summary{Models: len(stims), MedianRatio: math.NaN(), MinRatio: math.NaN(), MaxRatio: math.NaN()}
	var rs []float64
	for _, st := range stims {
		if st.Synth.BestStep >= 0 {
			s.Improved++
		}
		if !st.HasNatural() {
			continue
		}
		s.WithNatural++
		if st.Exceeds {
			s.Exceed++
		}
		if !math.IsNaN(st.Ratio) {
			rs = append(rs, st.Ratio)
		}
	}
	s.Ratios = len(rs)
	if len(rs) > 0 {
		sort.Float64s(rs)
		s.MinRatio, s.MaxRatio = rs[0], rs[len(rs)-1]
		s.MedianRatio = median(rs)
	}
	return s
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
