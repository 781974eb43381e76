package dots

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/artificial"
	"compactv4/internal/dotsel"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// ablation is what silencing one filter did.
type ablation struct {
	Layer, Filter int
	// Necessity is the fraction of the dot response (the plan's TopDots most driving dots,
	// above the blank) that the ablation removes; NaturalChange the RMS change of the
	// natural-image responses over their standard deviation.
	Necessity, NaturalChange float64
	// SizeInvariance is dotsel.Invariance of the filter's own intact activation (its maximum
	// over positions) over the centred dots of the model's preferred polarity, relative to the
	// blank; DotDrive that activation for the preferred dot minus the blank's.
	SizeInvariance, DotDrive float64
	// Resp are the ablated model's responses to the artificial set (NaN for the stimuli it was
	// not shown: a single filter's ablation is shown the top dots only), Blank to the blank;
	// Model is the ablated model.
	Resp  []float64
	Blank float64
	Model *eval.Network
}

// Ablation modes: how an ablated filter is silenced.
const (
	// zeroAblation holds the filter's output at zero (model.Ablate).
	zeroAblation = "zero"
	// meanAblation holds it at its mean over the natural images the ablated models are shown
	// and over positions (model.Clamp).
	meanAblation = "mean"
)

// ablator silences filters of a trunk layer in one mode.
type ablator struct {
	Mode string
	// Means are, for mean-ablation, each layer's filters' mean activations.
	Means map[int][]float32
}

// apply returns the network with the listed filters of layer silenced; no filter gives an exact
// copy.
func (ab ablator) apply(n *model.Network, layer int, filters []int) (*model.Network, error) {
	switch ab.Mode {
	case zeroAblation:
		return model.Ablate(n, layer, filters...)
	case meanAblation:
		means, ok := ab.Means[layer]
		if !ok {
			return nil, fmt.Errorf("mean-ablation of layer %d: no mean activations", layer)
		}
		vals := make([]float32, len(filters))
		for i, f := range filters {
			if f < 0 || f >= len(means) {
				return nil, fmt.Errorf("mean-ablation of layer %d: filter %d out of range [0, %d)", layer, f, len(means))
			}
			vals[i] = means[f]
		}
		return model.Clamp(n, layer, filters, vals)
	}
	return nil, fmt.Errorf("ablation mode %q: want %q or %q", ab.Mode, zeroAblation, meanAblation)
}

// tag names an ablated model in the cache: zero-ablations keep the plain names.
func (ab ablator) tag(t string) string {
	if ab.Mode == zeroAblation {
		return t
	}
	return ab.Mode + "_" + t
}

// dissection is the dissection of one dot-like model in one ablation mode.
type dissection struct {
	S    *screened
	Mode string
	// Before and Layer are the layer before the consolidation step and the step itself.
	Before, Layer int
	Ablations     []ablation // every filter of Before, then of Layer
	Test          dotsel.Consolidation
	TopDots       []int // the stimuli whose response necessity measures
	// Split splits the response of the consolidation step's most necessary filter
	// (Test.Carrier) to the preferred dot into its inputs' contributions.
	Split inputSplit
	// Cumulative[k−1] is the necessity of the consolidation step's k most necessary filters
	// ablated together, up to the first group that reaches dotsel.Threshold: Needed filters (0
	// when even all of them do not).
	Cumulative []float64
	Needed     int
	// Excitatory and Inhibitory are the carrier's excitatory and inhibitory inputs ablated as
	// groups.
	Excitatory, Inhibitory group
	// Other are the same model's dissections in the plan's other ablation modes (their own
	// Other empty); Means the mean activations mean-ablation used.
	Other []*dissection
	Means map[int][]float32
	// Contributors are the carrier's main inputs with their preferred stimuli (the first mode's
	// dissection only).
	Contributors []contributor
}

// group is a group of filters ablated together: the necessity of the dot response, the ablated
// model's indices (dotsel.Measure with the intact model's natural responses, so that its
// selectivity and size tuning are in the intact model's natural-range units) and its responses
// to the bar probe. For an empty group they are NaN (the indices nanIndices, the probe without
// responses).
type group struct {
	Filters                []int
	Necessity, Selectivity float64
	Blank                  float64
	Ix                     dotsel.Indices
	Probe                  probe
}

// of returns the ablations of one layer.
func (d *dissection) of(layer int) []ablation {
	var out []ablation
	for _, a := range d.Ablations {
		if a.Layer == layer {
			out = append(out, a)
		}
	}
	return out
}

// dissectChosen dissects the first p.Dissect dot-like models.
func dissectChosen(ctx context.Context, env *harness.Env, d *eval.Data, set []artificial.Stimulus, scr *screening, p plan) ([]*dissection, error) {
	pix, err := artificial.RenderAll(set)
	if err != nil {
		return nil, err
	}
	pix = append(pix, blankImage()...)
	var out []*dissection
	for _, s := range scr.Chosen[:min(p.Dissect, len(scr.Chosen))] {
		if s.Natural == nil {
			env.Logf("  %s: not dissected, its session's images are missing", s.M.ID.Stem())
			continue
		}
		nat, err := naturalSubset(d, s, p.NaturalStride)
		if err != nil {
			return nil, err
		}
		means, err := filterMeans(s, nat, []int{s.Consolidation - 1, s.Consolidation})
		if err != nil {
			return nil, fmt.Errorf("dissect %s: %w", s.M.ID.Stem(), err)
		}
		var first *dissection
		for _, mode := range p.Ablations {
			t0 := time.Now()
			ds, err := dissect(ctx, d, set, pix, s, nat, p.TopDots, ablator{Mode: mode, Means: means})
			if err != nil {
				return nil, fmt.Errorf("dissect %s (%s-ablation): %w", s.M.ID.Stem(), mode, err)
			}
			ds.Means = means
			env.Logf("  %s, %s-ablation: %d filters ablated (layers %d and %d) in %v; hypothesis holds: %v", s.M.ID.Stem(), mode, len(ds.Ablations), ds.Before, ds.Layer, time.Since(t0).Round(time.Millisecond), ds.Test.Holds)
			if first == nil {
				first = ds
			} else {
				first.Other = append(first.Other, ds)
			}
		}
		t0 := time.Now()
		if first.Contributors, err = contributors(ctx, env, s, first.Split, p); err != nil {
			return nil, fmt.Errorf("dissect %s: %w", s.M.ID.Stem(), err)
		}
		env.Logf("  %s: preferred stimuli of %d main inputs in %v", s.M.ID.Stem(), len(first.Contributors), time.Since(t0).Round(time.Millisecond))
		out = append(out, first)
	}
	return out, nil
}

// filterMeans returns, for each listed trunk layer, the mean activation of each of its filters
// over the natural images and every position.
func filterMeans(s *screened, nat natural, layers []int) (map[int][]float32, error) {
	const batch = 25 // images per forward pass, to bound the activations held at once
	n := len(nat.Intact)
	per := artificial.Size * artificial.Size * 3
	if n < 1 || len(nat.Pix) != n*per {
		return nil, fmt.Errorf("filter means: %d natural images with %d pixel values", n, len(nat.Pix))
	}
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = fmt.Sprintf("layer%d_act", l)
	}
	sums := make([][]float64, len(layers))
	counts := make([]int, len(layers))
	for i0 := 0; i0 < n; i0 += batch {
		i1 := min(i0+batch, n)
		acts, err := s.M.Activations(nat.Pix[i0*per:i1*per], i1-i0, names)
		if err != nil {
			return nil, fmt.Errorf("filter means: %w", err)
		}
		for li, t := range acts {
			if len(t.Shape) != 4 {
				return nil, fmt.Errorf("filter means: %s has shape %v", names[li], t.Shape)
			}
			c := t.Shape[3]
			if sums[li] == nil {
				sums[li] = make([]float64, c)
			}
			for k, v := range t.Data {
				sums[li][k%c] += float64(v)
			}
			counts[li] += len(t.Data) / c
		}
	}
	out := map[int][]float32{}
	for li, l := range layers {
		m := make([]float32, len(sums[li]))
		for f, v := range sums[li] {
			m[f] = float32(v / float64(counts[li]))
		}
		out[l] = m
	}
	return out, nil
}

// natural are the natural images an ablated model is shown: their label (for the cache), pixels
// and the intact model's responses.
type natural struct {
	Label  string
	Pix    []uint8
	Intact []float64
}

// naturalSubset returns every stride-th image of the model's session.
func naturalSubset(d *eval.Data, s *screened, stride int) (natural, error) {
	session := s.M.ID.Session
	nat := natural{Label: fmt.Sprintf("natural_%s_every%d", session, stride)}
	ts, ok := v4data.LookupTestSession(session)
	if !ok {
		return nat, fmt.Errorf("unknown test session %s", session)
	}
	for i := 0; i < ts.Images; i += stride {
		px, err := d.Pixels(session, i, i+1)
		if err != nil {
			return nat, err
		}
		nat.Pix = append(nat.Pix, px...)
		nat.Intact = append(nat.Intact, s.Natural[i])
	}
	return nat, nil
}

// dissect ablates every filter of the layer before the consolidation step and of the step
// itself, one at a time, in the ablator's mode, and tests the hypothesis. pix are the set's
// images and the blank.
func dissect(ctx context.Context, d *eval.Data, set []artificial.Stimulus, pix []uint8, s *screened, nat natural, topDots int, ab ablator) (*dissection, error) {
	if s.Consolidation < 1 || s.Consolidation >= model.NumLayers {
		return nil, fmt.Errorf("consolidation layer %d: want 1-%d", s.Consolidation, model.NumLayers-1)
	}
	for _, l := range []int{s.Consolidation - 1, s.Consolidation} {
		for _, name := range []string{"conv", "bn", "act"} {
			if s.M.Net.Layer(fmt.Sprintf("layer%d_%s", l, name)) == nil {
				return nil, fmt.Errorf("%s has no layer %q, which the dissection of its consolidation step (layer %d) needs", s.M.ID.Stem(), fmt.Sprintf("layer%d_%s", l, name), s.Consolidation)
			}
		}
	}
	ds := &dissection{S: s, Mode: ab.Mode, Layer: s.Consolidation, Before: s.Consolidation - 1}
	var dots []int
	for i, st := range set {
		if st.IsDot() {
			dots = append(dots, i)
		}
	}
	ds.TopDots = topOf(dots, s.Resp, topDots)
	nNat := len(nat.Intact)
	if nNat < 2 || len(nat.Pix) != nNat*artificial.Size*artificial.Size*3 {
		return nil, fmt.Errorf("%d natural images with %d pixel values", nNat, len(nat.Pix))
	}
	inv, drive, err := filterSizeInvariance(s, set, []int{ds.Before, ds.Layer})
	if err != nil {
		return nil, err
	}
	// The top dots and the blank, the images every ablated model is shown.
	per := artificial.Size * artificial.Size * 3
	if len(pix) != (len(set)+1)*per {
		return nil, fmt.Errorf("%d pixel values for %d stimuli and the blank", len(pix), len(set))
	}
	var topPix []uint8
	for _, i := range append(append([]int(nil), ds.TopDots...), len(set)) {
		topPix = append(topPix, pix[i*per:(i+1)*per]...)
	}
	// run ablates filters of layer (the model named with tag) and measures the ablated model
	// on the top dots and the blank, and with whole on the whole set (Resp holds NaN for the
	// stimuli not shown), and with naturals on the natural images.
	run := func(layer int, filters []int, tag string, whole, naturals bool) (ablation, error) {
		a := ablation{Layer: layer, Resp: make([]float64, len(set)), NaturalChange: math.NaN()}
		net, err := ab.apply(s.M.Net, layer, filters)
		if err != nil {
			return a, err
		}
		em := eval.NewNetwork(fmt.Sprintf("%s_ablate_layer%d_%s", s.M.ID.Stem(), layer, ab.tag(tag)), nil, net)
		a.Model = em
		for i := range a.Resp {
			a.Resp[i] = math.NaN()
		}
		if whole {
			pred, err := d.PredictImages(ctx, em, "artificial", pix, len(set)+1)
			if err != nil {
				return a, err
			}
			for i := range set {
				a.Resp[i] = float64(pred[i])
			}
			a.Blank = float64(pred[len(set)])
		} else {
			pred, err := d.PredictImages(ctx, em, "top_dots", topPix, len(ds.TopDots)+1)
			if err != nil {
				return a, err
			}
			for k, i := range ds.TopDots {
				a.Resp[i] = float64(pred[k])
			}
			a.Blank = float64(pred[len(ds.TopDots)])
		}
		intact, ablated := make([]float64, len(ds.TopDots)), make([]float64, len(ds.TopDots))
		for k, i := range ds.TopDots {
			intact[k], ablated[k] = s.Resp[i], a.Resp[i]
		}
		if a.Necessity, err = dotsel.Necessity(intact, ablated, s.Blank); err != nil {
			return a, err
		}
		if !naturals {
			return a, nil
		}
		npred, err := d.PredictImages(ctx, em, nat.Label, nat.Pix, nNat)
		if err != nil {
			return a, err
		}
		natResp := make([]float64, len(npred))
		for k, v := range npred {
			natResp[k] = float64(v)
		}
		a.NaturalChange, err = dotsel.Change(nat.Intact, natResp)
		return a, err
	}
	for li, layer := range []int{ds.Before, ds.Layer} {
		for f := range s.M.Filters[layer] {
			a, err := run(layer, []int{f}, fmt.Sprintf("filter%d", f), false, true)
			if err != nil {
				return nil, err
			}
			a.Filter, a.SizeInvariance, a.DotDrive = f, inv[li][f], drive[li][f]
			ds.Ablations = append(ds.Ablations, a)
		}
	}
	// The consolidation step's filters ablated together, the most necessary first, until the
	// group removes at least dotsel.Threshold of the dot response.
	var order []int
	for _, a := range ds.of(ds.Layer) {
		order = append(order, a.Filter)
	}
	nl := ds.of(ds.Layer)
	sort.SliceStable(order, func(i, j int) bool { return nl[order[i]].Necessity > nl[order[j]].Necessity })
	for k := 1; k <= len(order); k++ {
		var nec float64
		if k == 1 {
			nec = nl[order[0]].Necessity
		} else {
			a, err := run(ds.Layer, order[:k], fmt.Sprintf("top%d", k), false, false)
			if err != nil {
				return nil, err
			}
			nec = a.Necessity
		}
		ds.Cumulative = append(ds.Cumulative, nec)
		if nec >= dotsel.Threshold {
			ds.Needed = k
			break
		}
	}
	nec := func(layer int) []float64 {
		var x []float64
		for _, a := range ds.of(layer) {
			x = append(x, a.Necessity)
		}
		return x
	}
	if ds.Test, err = dotsel.TestConsolidation(nec(ds.Before), nec(ds.Layer)); err != nil {
		return nil, err
	}
	if ds.Split, err = splitInputs(s, set, ds.Layer, ds.Test.Carrier); err != nil {
		return nil, err
	}
	if d := math.Abs(ds.Split.Reconstructed - ds.Split.Activation); d > 1e-3*math.Abs(ds.Split.Activation)+1e-4 {
		return nil, fmt.Errorf("layer %d filter %d: the inputs' contributions rebuild an activation of %v, the network's is %v", ds.Layer, ds.Test.Carrier, ds.Split.Reconstructed, ds.Split.Activation)
	}
	// The carrier's excitatory and inhibitory inputs (filters of the layer before) ablated as
	// groups.
	var exc, inh []int
	for _, c := range ds.Split.Inputs {
		if c.Dot > 0 {
			exc = append(exc, c.Input)
		} else if c.Dot < 0 {
			inh = append(inh, c.Input)
		}
	}
	sort.Ints(exc)
	sort.Ints(inh)
	for _, g := range []struct {
		filters []int
		tag     string
		dst     *group
	}{{exc, "excitatory", &ds.Excitatory}, {inh, "inhibitory", &ds.Inhibitory}} {
		g.dst.Filters = g.filters
		g.dst.Necessity, g.dst.Selectivity, g.dst.Blank = math.NaN(), math.NaN(), math.NaN()
		g.dst.Ix, g.dst.Probe = nanIndices(), probe{Suppression: math.NaN()}
		if len(g.filters) == 0 {
			continue
		}
		a, err := run(ds.Before, g.filters, g.tag+fmt.Sprintf("_of_layer%d_filter%d", ds.Layer, ds.Test.Carrier), true, false)
		if err != nil {
			return nil, err
		}
		g.dst.Necessity, g.dst.Blank = a.Necessity, a.Blank
		if g.dst.Ix, err = dotsel.Measure(set, a.Resp, a.Blank, s.Natural); err != nil {
			return nil, fmt.Errorf("%s group: %w", g.tag, err)
		}
		g.dst.Selectivity = g.dst.Ix.Selectivity
		if g.dst.Probe, err = barProbe(ctx, d, a.Model, set, s.Ix); err != nil {
			return nil, fmt.Errorf("%s group: %w", g.tag, err)
		}
	}
	return ds, nil
}

// topOf returns the k members of idx with the largest resp, largest first (earlier on ties).
func topOf(idx []int, resp []float64, k int) []int {
	vals := make([]float64, len(idx))
	for j, i := range idx {
		vals[j] = resp[i]
	}
	var out []int
	for _, j := range topImages(vals, k) {
		out = append(out, idx[j])
	}
	return out
}

// filterSizeInvariance returns, for each listed layer and each of its filters, the size
// invariance of the filter's own activation (maximum over positions) over the centred dots of
// the model's preferred polarity, relative to its activation to the blank, and its drive by the
// preferred dot (activation minus the blank's).
func filterSizeInvariance(s *screened, set []artificial.Stimulus, layers []int) ([][]float64, [][]float64, error) {
	var sizes []artificial.Stimulus
	pref := -1
	for _, st := range set {
		if st.Family == "size" && st.Polarity == s.Ix.Polarity {
			if st.Radius == s.Ix.PreferredRadius {
				pref = len(sizes)
			}
			sizes = append(sizes, st)
		}
	}
	if len(sizes) == 0 || pref < 0 {
		return nil, nil, fmt.Errorf("no centred dots of polarity %d and radius %v", s.Ix.Polarity, s.Ix.PreferredRadius)
	}
	pix, err := artificial.RenderAll(sizes)
	if err != nil {
		return nil, nil, err
	}
	pix = append(pix, blankImage()...)
	names := make([]string, len(layers))
	for i, l := range layers {
		names[i] = fmt.Sprintf("layer%d_act", l)
	}
	acts, err := s.M.Activations(pix, len(sizes)+1, names)
	if err != nil {
		return nil, nil, err
	}
	inv := make([][]float64, len(layers))
	drive := make([][]float64, len(layers))
	for li, t := range acts {
		if len(t.Shape) != 4 {
			return nil, nil, fmt.Errorf("%s: activation of shape %v", names[li], t.Shape)
		}
		per, c := t.Shape[1]*t.Shape[2]*t.Shape[3], t.Shape[3]
		peak := func(img, f int) float64 {
			m := math.Inf(-1)
			for p := f; p < per; p += c {
				m = math.Max(m, float64(t.Data[img*per+p]))
			}
			return m
		}
		for f := range c {
			blank := peak(len(sizes), f)
			vals := make([]float64, len(sizes))
			for i := range sizes {
				vals[i] = peak(i, f)
			}
			inv[li] = append(inv[li], dotsel.Invariance(vals, blank))
			drive[li] = append(drive[li], vals[pref]-blank)
		}
	}
	return inv, drive, nil
}
