package stimuli

import (
	"fmt"
	"math"
	"strings"

	"compactv4/harness"
	"compactv4/internal/synth"
	"compactv4/internal/v4data"
)

// Tolerances of the golden values, and why.
//
// Deterministic evaluations are pinned tightly: the largest natural-image response and the
// response to the starting noise image are single forward passes of fixed float32 inputs, which
// differ between machines only by the rounding of the float32 kernels (fused or separate
// multiply-adds: about 1e-6 of the response's scale, see internal/nn), so 1e-4 absolute plus
// 1e-4 relative leaves two orders of magnitude of room.
//
// The synthesised response is the end of 1,000 gradient steps, each of which feeds the rounding
// of the last into the next, so what reproduces is the level the optimisation reaches, not the
// image. Measured: from the same noise, nn and PyTorch (testdata/torch_synth.py, other float32
// rounding) agree to 1e-6 for about 15 steps and then drift apart (1.5 % by step 57,
// TestTorchReference), so by step 1,000 another machine's run is in effect another trajectory;
// the pure-Go kernels of nn (-tags purego, separate multiply and add instead of FMA) moved the
// best response of 4 quick models by 0.5-2.8 % from the same seed; and rerunning the 8 quick
// models from two other seeds each moved it by at most 10.9 % (median 2.1 %; 190923 n0: 23.21
// against 20.68). synthRel, about three times the largest of those, bounds the synthesised
// responses and ratios; the median ratio, a median over models, gets half of it.
//
// The number of models whose stimulus exceeds its largest natural-image response can change
// only through a model whose synthesised response lies within synthRel of its natural maximum;
// its tolerance is the number of such models in the run (exceedTolerance): zero when every
// model is clear of the threshold, as in the quick profile.
const (
	tightAbs = 1e-4
	tightRel = 1e-4
	// synthRel is the relative tolerance of synthesised responses and ratios.
	synthRel = 0.3
)

// exceedTolerance is the absolute tolerance of the count of models whose synthesised response
// exceeds their largest natural-image response: the number of models whose synthesised
// response is within synthRel (relative to itself) of that maximum, and so could fall on the
// other side of it in another run.
func exceedTolerance(stims []*stimulus) int {
	n := 0
	for _, s := range stims {
		if s.HasNatural() && math.Abs(s.Synth.Response-s.NatMax) <= synthRel*math.Abs(s.Synth.Response) {
			n++
		}
	}
	return n
}

// key is the golden-value prefix of a model: "<session>/n<neuron>".
func key(s *stimulus) string { return fmt.Sprintf("%s/n%d", s.ID.Session, s.ID.Neuron) }

// record stores the golden values and the notes (headline numbers) of a run.
func record(res *harness.Result, prof harness.Profile, p synth.Params, stims []*stimulus, sum summary) {
	v := &res.Values
	v.Exact("models", float64(sum.Models))
	v.Exact("models_with_natural_images", float64(sum.WithNatural))
	v.Num("models_exceeding_natural_max", float64(sum.Exceed), float64(exceedTolerance(stims)), 0)
	v.Num("median_ratio", sum.MedianRatio, 0, synthRel/2)
	for _, s := range stims {
		k := key(s)
		v.Num(k+"/response_noise", s.Synth.Initial, tightAbs, tightRel)
		v.Num(k+"/response_synth", s.Synth.Response, 0, synthRel)
		if s.HasNatural() {
			v.Num(k+"/natural_max", s.NatMax, tightAbs, tightRel)
			v.Num(k+"/ratio", s.Ratio, 0, synthRel)
		}
	}

	var sessions []string
	seen := map[string]int{}
	for _, s := range stims {
		if _, ok := seen[s.ID.Session]; !ok {
			sessions = append(sessions, s.ID.Session)
		}
		seen[s.ID.Session]++
	}
	var parts []string
	for _, ss := range sessions {
		parts = append(parts, fmt.Sprintf("%s: %d", ss, seen[ss]))
	}
	sel := "all published compact models"
	if prof == harness.Quick {
		sel = fmt.Sprintf("%d neurons of session %s evenly spaced over its neurons (n = ⌊i·N/%d⌋)", quickModels, v4data.QuickSession.ID, quickModels)
	}
	res.Notes = append(res.Notes,
		fmt.Sprintf("E3 (%s profile): preferred stimuli of %d compact models (%s; %s), each synthesised from white noise by %d gradient steps of size %g (gradient normalised by its RMS and smoothed with σ = %g, image smoothed every %d steps, %d run%s per model, seeds from base %#x and the model's file stem).",
			prof, sum.Models, sel, strings.Join(parts, ", "), p.Steps, p.StepSize, p.Sigma, p.SmoothEvery, p.Restarts, plural(p.Restarts), uint64(baseSeed)),
	)
	if sum.WithNatural > 0 {
		res.Notes = append(res.Notes,
			fmt.Sprintf("E3: the synthesised image exceeds the model's largest response to its session's natural images for %d of %d models (%.0f %%); response ratio synthesised / largest natural: median %.3g, range %.3g–%.3g (over %d models with a positive largest natural response).",
				sum.Exceed, sum.WithNatural, 100*float64(sum.Exceed)/float64(sum.WithNatural), sum.MedianRatio, sum.MinRatio, sum.MaxRatio, sum.Ratios))
	}
	if sum.WithNatural < sum.Models {
		res.Notes = append(res.Notes, fmt.Sprintf("E3: %d models have no natural-image responses (their session's images are missing; see not runnable); their stimuli are synthesised and shown.", sum.Models-sum.WithNatural))
	}
	if sum.Improved < sum.Models {
		res.Notes = append(res.Notes, fmt.Sprintf("E3: for %d models no step beat the starting best response 0; as upstream, their result is the starting noise with response 0.", sum.Models-sum.Improved))
	}
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// ratioText formats a ratio for titles and tables ("n/a" when undefined).
func ratioText(r float64) string {
	if math.IsNaN(r) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", r)
}
