// Package stimuli is experiment E3 of the paper (Fig. 2a): the preferred stimuli of the
// single-neuron compact models, synthesised by gradient ascent on each model's response from
// white noise exactly as upstream's SynthClass.optimize_synth_image does (internal/synth,
// reference/upstream.md §9), and compared with the model's responses to its session's natural
// images.
//
// The quick profile synthesises 8 models of the quick session (neurons 0, 4, …, 28: evenly
// spaced), the full profile all 219, both with upstream's defaults (synth.DefaultParams: one
// run of 1,000 steps, the setting of the paper's optimisation; script6's 100 steps × 9 restarts
// is a demonstration). Each model's noise comes from PCG(synth.ModelSeed(baseSeed, stem),
// restart), so a model's stimulus does not depend on which others run; models run concurrently,
// one per core, each a cached step. Every model is then evaluated on all images of its session;
// a session whose images are missing (211022 in the local data copy) is not runnable for that
// comparison, while its stimuli are still synthesised. Outputs below <out>/stimuli: stimuli.csv
// (per model: seed, best step, responses to the noise, the synthesised image and its uint8 PNG,
// largest and median natural-image response, ratio), images/<stem>.png, images.npy (float32 raw
// images), traces.npy (response after every step), natural_responses_<session>.npy,
// summary.json; figures preferred_stimuli (Fig. 2a style: session, neuron, response ratio),
// per-session grids in the full profile, synth_vs_natural and optimisation. The golden values
// and their tolerances are explained in record.go.
package stimuli

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/synth"
	"compactv4/internal/v4data"
)

func init() {
	harness.Register(harness.Definition[plan]{
		Name:  "stimuli",
		Title: "Preferred stimuli of the compact models: synthesised images against the largest natural-image response",
		Paper: "Fig. 2a",
		Plan:  planFor,
		Run:   run,
	})
}

// baseSeed is the base of every model's seed: the noise that the synthesis of model <stem>
// starts from is drawn from PCG(synth.ModelSeed(baseSeed, stem), restart).
const baseSeed = 0x5717_2a00_e3

// quickModels is the number of models of the quick profile.
const quickModels = 8

// plan is what a profile runs.
type plan struct {
	Synthesis synth.Params       `json:"synthesis"`
	Models    []v4data.CompactID `json:"models"`
}

// planFor: quick takes quickModels neurons of the quick session evenly spaced over its N
// neurons (neuron ⌊i·N/quickModels⌋ for i = 0…quickModels−1: 0, 4, 8, …, 28 of 33); full takes
// every published model, in v4data.CompactIDs order.
func planFor(p harness.Profile) (plan, error) {
	pl := plan{Synthesis: synth.DefaultParams()}
	if p == harness.Quick {
		ts := v4data.QuickSession
		for i := range quickModels {
			pl.Models = append(pl.Models, v4data.CompactID{Session: ts.ID, Neuron: i * ts.Neurons / quickModels})
		}
		return pl, nil
	}
	for _, ts := range v4data.TestSessions {
		for n := range ts.Neurons {
			pl.Models = append(pl.Models, v4data.CompactID{Session: ts.ID, Neuron: n})
		}
	}
	return pl, nil
}

// Stimulus is the outcome for one compact model.
type stimulus struct {
	ID    v4data.CompactID
	Seed  uint64
	Synth *synth.Synth
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
func (s *stimulus) HasNatural() bool { return s.Natural != nil }

// run synthesises the stimuli of the plan's models, computes their natural-image responses,
// and writes the tables and figures.
func run(ctx context.Context, env *harness.Env, p plan) (*harness.Result, error) {
	if len(p.Models) == 0 {
		return nil, fmt.Errorf("no compact models selected")
	}
	res := &harness.Result{}
	models, err := eval.LoadCompacts(ctx, env.Data, func(id v4data.CompactID) bool { return slices.Contains(p.Models, id) })
	if err != nil {
		return nil, err
	}
	if len(models) != len(p.Models) {
		return nil, fmt.Errorf("%d of the plan's %d compact models are published", len(models), len(p.Models))
	}
	start := time.Now()
	stims, err := synthesizeAll(ctx, env, models, p.Synthesis)
	if err != nil {
		return nil, err
	}
	env.Logf("synthesised %d preferred stimuli in %v", len(stims), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := naturalResponses(ctx, eval.New(env, res), stims, models); err != nil {
		return nil, err
	}
	env.Logf("natural-image responses in %v", time.Since(start).Round(time.Millisecond))
	sum := summarize(stims)
	record(res, env.Profile, p.Synthesis, stims, sum)
	if err := writeTables(env, res, p.Synthesis, stims, sum); err != nil {
		return nil, err
	}
	return res, drawFigures(env, res, stims)
}

// Summary is what the experiment found over all models.
type summary struct {
	Models      int     // models synthesised
	WithNatural int     // models whose session's natural images were available
	Exceed      int     // of those, models whose synthesised response exceeds the largest natural one
	Improved    int     // models whose optimisation beat the starting best (0) at some step
	MedianRatio float64 // over models with a defined ratio (NaN if none)
	MinRatio    float64
	MaxRatio    float64
	Ratios      int // models with a defined ratio
}

func summarize(stims []*stimulus) summary {
	s := summary{Models: len(stims), MedianRatio: math.NaN(), MinRatio: math.NaN(), MaxRatio: math.NaN()}
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
		s.MedianRatio = metrics.Median(rs)
	}
	return s
}
