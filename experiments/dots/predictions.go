package dots

import (
	"math"

	"compactv4/internal/dotsel"
	"compactv4/internal/metrics"
)

// prediction is one testable prediction of the circuit hypothesis for dot-selective neurons,
// with the in-silico number behind it for each model it is measured on and whether that model
// shares the ingredient.
type prediction struct {
	ID        int
	Statement string // what a dot-selective neuron should do
	Metric    string // the in-silico number
	Criterion string // when a model shares the ingredient
	// Dissected: measured on the dissected models (the first ablation mode); otherwise on the
	// dot-like models with natural-image responses.
	Dissected bool
	Values    []predValue
}

type predValue struct {
	S      *screened
	Value  float64
	Shares bool
}

// shared counts the models that share the ingredient.
func (p prediction) shared() int {
	n := 0
	for _, v := range p.Values {
		if v.Shares {
			n++
		}
	}
	return n
}

// predictions measures the circuit hypothesis's predictions on the dot-like models and the
// dissections. Every criterion uses dotsel.Threshold (one half) as its bar, so that "shares"
// means the effect is at least half of its largest possible size.
func predictions(scr *screening, dis []*dissection) []prediction {
	half := dotsel.Threshold
	var chosen []*screened
	for _, s := range scr.Chosen {
		if s.Natural != nil {
			chosen = append(chosen, s)
		}
	}
	onChosen := func(p prediction, f func(*screened) (float64, bool)) prediction {
		for _, s := range chosen {
			v, ok := f(s)
			p.Values = append(p.Values, predValue{S: s, Value: v, Shares: ok})
		}
		return p
	}
	onDissected := func(p prediction, f func(*dissection) (float64, bool)) prediction {
		p.Dissected = true
		for _, ds := range dis {
			v, ok := f(ds)
			p.Values = append(p.Values, predValue{S: ds.S, Value: v, Shares: ok})
		}
		return p
	}
	ratio := func(a, b float64) float64 {
		if !(b > 0) {
			return math.NaN()
		}
		return a / b
	}
	medianRadii := func(ds *dissection, excitatory bool) float64 {
		var r []float64
		for _, c := range ds.Contributors {
			if c.Excitatory == excitatory {
				r = append(r, c.Radii)
			}
		}
		if len(r) == 0 {
			return math.NaN()
		}
		return metrics.Median(r)
	}
	return []prediction{
		onChosen(prediction{
			ID:        1,
			Statement: "the response falls for discs larger than the preferred dot: a uniform field takes at least half of the preferred dot's response away",
			Metric:    "size suppression (r(preferred dot) − r(full field))/(r(preferred dot) − r(blank))",
			Criterion: "≥ 0.5",
		}, func(s *screened) (float64, bool) { return s.Ix.SizeSuppression, s.Ix.SizeSuppression >= half }),
		onChosen(prediction{
			ID:        2,
			Statement: "a long bar of the dot's polarity through the preferred dot suppresses the dot response by at least half",
			Metric:    "bar suppression: mean over the 8 full-length centred bars (2 widths × 4 orientations) of (r(dot) − r(dot with bar))/(r(dot) − r(blank))",
			Criterion: "≥ 0.5",
		}, func(s *screened) (float64, bool) { return s.Probe.Suppression, s.Probe.Suppression >= half }),
		onDissected(prediction{
			ID:        3,
			Statement: "the dot response is consolidated: no single filter before the consolidation step carries it, one consolidated filter does",
			Metric:    "necessity of the consolidation step's most necessary filter",
			Criterion: "hypothesis test holds (no filter before ≥ 0.5, exactly one consolidated filter ≥ 0.5)",
		}, func(ds *dissection) (float64, bool) { return ds.Test.MaxCarrier, ds.Test.Holds }),
		onDissected(prediction{
			ID:        4,
			Statement: "the consolidated filter's excitatory inputs are necessary: without them the dot response is at least half gone",
			Metric:    "necessity of the excitatory inputs ablated together",
			Criterion: "≥ 0.5",
		}, func(ds *dissection) (float64, bool) {
			return ds.Excitatory.Necessity, ds.Excitatory.Necessity >= half
		}),
		onDissected(prediction{
			ID:        5,
			Statement: "the inhibitory inputs make the model dot-selective: without them some control drives it at least as much as its best dot",
			Metric:    "dot-selectivity index with the inhibitory inputs ablated together (intact natural-range units)",
			Criterion: "≤ 0",
		}, func(ds *dissection) (float64, bool) {
			return ds.Inhibitory.Selectivity, ds.Inhibitory.Selectivity <= 0
		}),
		onDissected(prediction{
			ID:        6,
			Statement: "the inhibitory inputs make the size tuning: without them a uniform field suppresses the response at most half as much",
			Metric:    "size suppression without the inhibitory inputs / intact size suppression",
			Criterion: "≤ 0.5 (intact size suppression > 0)",
		}, func(ds *dissection) (float64, bool) {
			r := ratio(ds.Inhibitory.Ix.SizeSuppression, ds.S.Ix.SizeSuppression)
			return r, r <= half
		}),
		onDissected(prediction{
			ID:        7,
			Statement: "the inhibitory inputs make the bar suppression: without them a bar through the dot suppresses it at most half as much",
			Metric:    "bar suppression without the inhibitory inputs / intact bar suppression",
			Criterion: "≤ 0.5 (intact bar suppression > 0)",
		}, func(ds *dissection) (float64, bool) {
			r := ratio(ds.Inhibitory.Probe.Suppression, ds.S.Probe.Suppression)
			return r, r <= half
		}),
		onDissected(prediction{
			ID:        8,
			Statement: "the main excitatory inputs act at the dot's edge",
			Metric:    "median distance, in dot radii, from the dot's centre to where the consolidated filter takes its main excitatory inputs from (their largest depthwise tap)",
			Criterion: "between 0.5 and 1.5",
		}, func(ds *dissection) (float64, bool) {
			r := medianRadii(ds, true)
			return r, r >= 0.5 && r <= 1.5
		}),
		onDissected(prediction{
			ID:        9,
			Statement: "the main inhibitory inputs act outside the dot",
			Metric:    "median distance, in dot radii, from the dot's centre to where the consolidated filter takes its main inhibitory inputs from",
			Criterion: "> 1",
		}, func(ds *dissection) (float64, bool) {
			r := medianRadii(ds, false)
			return r, r > 1
		}),
	}
}
