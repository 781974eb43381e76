package dots

import (
	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/artificial"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/dotsel"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

func TestConsolidationLayer(t *testing.T) {
	for _, c := range []struct {
		f    [model.NumLayers]int
		want int
	}{
		{[model.NumLayers]int{47, 57, 3, 7, 3}, 2},
		{[model.NumLayers]int{10, 5, 5, 5, 5}, 1},   // 1/2 at layer 1
		{[model.NumLayers]int{10, 10, 5, 10, 5}, 2}, // ties go to the first
		{[model.NumLayers]int{4, 4, 4, 4, 1}, 4},
	} {
		got, err := consolidationLayer(c.f)
		if err != nil || got != c.want {
			t.Errorf("%v: layer %d, %v; want %d", c.f, got, err, c.want)
		}
	}
	if _, err := consolidationLayer([model.NumLayers]int{1, 0, 1, 1, 1}); err == nil {
		t.Error("a layer without filters was accepted")
	}
}

func TestTopImages(t *testing.T) {
	x := []float64{1, 5, 3, 5, -1}
	if got := topImages(x, 3); got[0] != 1 || got[1] != 3 || got[2] != 2 {
		t.Errorf("top 3 of %v: %v", x, got)
	}
	if got := topOf([]int{0, 2, 4}, x, 2); got[0] != 2 || got[1] != 0 {
		t.Errorf("top 2 of the even indices: %v", got)
	}
}

func TestPlan(t *testing.T) {
	q, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	f, err := planFor(harness.Full)
	if err != nil {
		t.Fatal(err)
	}
	if len(q.Sessions) != 1 || q.Dissect != 1 || len(f.Sessions) != len(v4data.TestSessions) || f.Dissect != f.Chosen || f.Synthesis.Steps != 1000 {
		t.Errorf("plans %+v, %+v", q, f)
	}
	for _, p := range []plan{q, f} {
		if !slices.Equal(p.Ablations, []string{zeroAblation, meanAblation}) || p.Contributors != 3 {
			t.Errorf("plan %+v: want both ablation modes, zero first, and 3 main inputs of each sign", p)
		}
	}
	if q.NaturalStride != 12 || f.NaturalStride != 4 {
		t.Errorf("natural strides %d (quick) and %d (full)", q.NaturalStride, f.NaturalStride)
	}
}

// planted builds a compact model with filters (1, 3, 1, 1, 1) whose consolidation step is layer
// 2: layer 0 is a centre-surround dot detector; layer 1 passes it on through three filters with
// pointwise weights split (the dot response is spread over them); layer 2 sums them; layers 3-4
// pass the centre tap through; the readout is position (13, 13) of the 28×28 map.
func planted(t *testing.T, split [3]float32) *eval.Compact {
	t.Helper()
	f := [model.NumLayers]int{1, 3, 1, 1, 1}
	n, err := model.NewCompact(f)
	if err != nil {
		t.Fatal(err)
	}
	c0 := n.Layer("layer0_conv").Weights[0].Data // (5, 5, 3, 1)
	for p := range 25 {
		for ch := range 3 {
			c0[p*3+ch] = -1.0 / 24 / 100
			if p == 12 {
				c0[p*3+ch] = 1.0 / 100
			}
		}
	}
	l1 := n.Layer("layer1_conv").Weights
	l1[0].Data[12] = 1
	copy(l1[1].Data, split[:])
	l2 := n.Layer("layer2_conv").Weights
	for c := range 3 {
		l2[0].Data[12*3+c] = 1
		l2[1].Data[c] = 1
	}
	for _, l := range []string{"layer3_conv", "layer4_conv"} {
		w := n.Layer(l).Weights
		w[0].Data[12], w[1].Data[0] = 1, 1
	}
	n.Layer("Beta").Weights[0].Data[13*28+13] = 1
	return &eval.Compact{Network: eval.NewNetwork("planted", nil, n), ID: v4data.CompactID{Session: "test"}, Filters: f}
}

func floats(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// TestDissectPlanted dissects planted models: with the dot response spread over the three
// filters of layer 1 and summed by the one filter of layer 2 the hypothesis holds; with one
// layer-1 filter carrying it alone, it does not. It also checks that the ablations are exact:
// ablating the layer-2 filter leaves the blank's response everywhere.
func TestDissectPlanted(t *testing.T) {
	set, err := artificial.Standard(stimulusSeed)
	if err != nil {
		t.Fatal(err)
	}
	pix, err := artificial.RenderAll(set)
	if err != nil {
		t.Fatal(err)
	}
	pix = append(pix, blankImage()...)
	rng := rand.New(rand.NewPCG(1, 2))
	const nNat = 12
	natPix := make([]uint8, nNat*artificial.Size*artificial.Size*3)
	for i := range natPix {
		natPix[i] = uint8(64 + rng.IntN(128))
	}
	env := &harness.Env{Log: io.Discard}
	d := eval.New(env, &harness.Result{})
	for _, c := range []struct {
		split [3]float32
		holds bool
	}{
		{[3]float32{1.0 / 3, 1.0 / 3, 1.0 / 3}, true},
		{[3]float32{1, 0, 0}, false},
	} {
		m := planted(t, c.split)
		out, err := m.Predict(pix, len(set)+1)
		if err != nil {
			t.Fatal(err)
		}
		natOut, err := m.Predict(natPix, nNat)
		if err != nil {
			t.Fatal(err)
		}
		s := &screened{M: m, Resp: floats(out[:len(set)]), Blank: float64(out[len(set)]), Natural: floats(natOut), Consolidation: 2}
		if s.Ix, err = dotsel.Measure(set, s.Resp, s.Blank, s.Natural); err != nil {
			t.Fatal(err)
		}
		nat := natural{Label: "noise", Pix: natPix, Intact: s.Natural}
		means, err := filterMeans(s, nat, []int{1, 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{zeroAblation, meanAblation} {
			ab := ablator{Mode: mode, Means: means}
			// Ablating nothing gives the intact responses bit for bit.
			same, err := ab.apply(m.Net, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := eval.NewNetwork("same", nil, same).Predict(pix, len(set)+1)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, out) {
				t.Errorf("%s-ablation of no filter changes the responses", mode)
			}
			ds, err := dissect(context.Background(), d, set, pix, s, nat, 10, ab)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("split %v, %s-ablation: %+v", c.split, mode, ds.Test)
			if ds.Test.Holds != c.holds {
				t.Errorf("split %v, %s-ablation: hypothesis holds %v, want %v (%+v)", c.split, mode, ds.Test.Holds, c.holds, ds.Test)
			}
			// The consolidated filter ablated: every stimulus gives the same response (the blank's
			// when it is held at zero).
			carrier := ds.of(2)[0]
			for _, i := range ds.TopDots {
				if r := carrier.Resp[i]; r != carrier.Blank || mode == zeroAblation && r != s.Blank {
					t.Fatalf("split %v, %s-ablation: with layer 2 ablated, stimulus %d gives %v, the blank %v (intact %v)", c.split, mode, i, r, carrier.Blank, s.Blank)
				}
			}
			if mode == zeroAblation && math.Abs(carrier.Necessity-1) > 1e-6 {
				t.Errorf("split %v: the consolidated filter's necessity is %v, want 1", c.split, carrier.Necessity)
			}
			if ds.Needed != 1 || len(ds.Cumulative) != 1 {
				t.Errorf("split %v, %s-ablation: %d consolidated filters needed (%v), want 1", c.split, mode, ds.Needed, ds.Cumulative)
			}
			if c.holds {
				if len(ds.Excitatory.Filters) != 3 || len(ds.Inhibitory.Filters) != 0 || !math.IsNaN(ds.Inhibitory.Necessity) ||
					!math.IsNaN(ds.Inhibitory.Ix.SizeSuppression) || !math.IsNaN(ds.Inhibitory.Probe.Suppression) {
					t.Errorf("groups: excitatory %+v, inhibitory %+v; want all three layer-1 filters excitatory", ds.Excitatory, ds.Inhibitory)
				}
				if mode == zeroAblation {
					if math.Abs(ds.Excitatory.Necessity-1) > 1e-6 {
						t.Errorf("excitatory group necessity %v, want 1", ds.Excitatory.Necessity)
					}
					for _, a := range ds.of(1) {
						if math.Abs(a.Necessity-1.0/3) > 1e-3 {
							t.Errorf("layer-1 filter %d: necessity %v, want 1/3", a.Filter, a.Necessity)
						}
					}
				}
			}
		}
	}
}

// TestFilterMeans checks the mean activations mean-ablation uses against a direct average, and
// that a mean-ablated filter outputs exactly that mean everywhere.
func TestFilterMeans(t *testing.T) {
	m := planted(t, [3]float32{1.0 / 3, 1.0 / 3, 1.0 / 3})
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 30 // more than one batch
	pix := make([]uint8, n*artificial.Size*artificial.Size*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	s := &screened{M: m}
	means, err := filterMeans(s, natural{Pix: pix, Intact: make([]float64, n)}, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	acts, err := m.Activations(pix, n, []string{"layer0_act"})
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, v := range acts[0].Data {
		sum += float64(v)
	}
	want := sum / float64(len(acts[0].Data))
	if len(means[0]) != 1 || math.Abs(float64(means[0][0])-want) > 1e-6*math.Abs(want) || want <= 0 {
		t.Fatalf("mean %v, want %v", means[0], want)
	}
	net, err := ablator{Mode: meanAblation, Means: means}.apply(m.Net, 0, []int{0})
	if err != nil {
		t.Fatal(err)
	}
	got, err := eval.NewNetwork("mean", nil, net).Activations(pix[:2*artificial.Size*artificial.Size*3], 2, []string{"layer0_act"})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got[0].Data {
		if v != means[0][0] {
			t.Fatalf("mean-ablated activation %d is %v, want %v", i, v, means[0][0])
		}
	}
	if _, err := (ablator{Mode: meanAblation}).apply(m.Net, 0, []int{0}); err == nil {
		t.Error("mean-ablation without means was accepted")
	}
	if _, err := (ablator{Mode: "half"}).apply(m.Net, 0, []int{0}); err == nil {
		t.Error("an unknown ablation mode was accepted")
	}
	if _, err := filterMeans(s, natural{Pix: pix[:10], Intact: make([]float64, n)}, []int{0}); err == nil {
		t.Error("natural images without their pixels were accepted")
	}
}

func TestParseAblations(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"zero", []string{"zero"}},
		{"mean,zero", []string{"mean", "zero"}},
		{" zero , mean", []string{"zero", "mean"}},
		{"zero,zero", nil},
		{"half", nil},
		{"", nil},
	} {
		got, err := parseAblations(c.in)
		if c.want == nil {
			if err == nil {
				t.Errorf("%q accepted as %v", c.in, got)
			}
			continue
		}
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%q: %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	if err := configure(&p, map[string]string{"ablation": "mean"}); err != nil || !slices.Equal(p.Ablations, []string{"mean"}) {
		t.Errorf("-ablation mean: %v, %v", p.Ablations, err)
	}
	if err := configure(&p, map[string]string{"ablation": "none"}); err == nil || !strings.Contains(err.Error(), "-ablation") {
		t.Errorf("-ablation none: error %v", err)
	}
}

func TestDissectBadInput(t *testing.T) {
	set, err := artificial.Standard(stimulusSeed)
	if err != nil {
		t.Fatal(err)
	}
	m := planted(t, [3]float32{1, 0, 0})
	d := eval.New(&harness.Env{Log: io.Discard}, &harness.Result{})
	ab := ablator{Mode: zeroAblation}
	s := &screened{M: m, Resp: make([]float64, len(set)), Consolidation: 5}
	if _, err := dissect(context.Background(), d, set, nil, s, natural{}, 10, ab); err == nil || !strings.Contains(err.Error(), "consolidation layer") {
		t.Errorf("consolidation layer 5: error %v", err)
	}
	s.Consolidation = 2
	if _, err := dissect(context.Background(), d, set, nil, s, natural{}, 10, ab); err == nil || !strings.Contains(err.Error(), "natural images") {
		t.Errorf("no natural images: error %v", err)
	}
	// A model without a layer the dissection needs: its layer-1 batchnorm renamed.
	broken := planted(t, [3]float32{1, 0, 0})
	broken.Net.Layer("layer1_bn").Name = "other_bn"
	s = &screened{M: broken, Resp: make([]float64, len(set)), Consolidation: 2}
	if _, err := dissect(context.Background(), d, set, nil, s, natural{}, 10, ab); err == nil || !strings.Contains(err.Error(), `no layer "layer1_bn"`) {
		t.Errorf("a model without layer1_bn: error %v", err)
	}
}

// plantedSplit screens the planted model whose layer-2 filter adds two layer-1 channels and
// subtracts half of the third, and splits that filter's inputs (layer 2, filter 0).
func plantedSplit(t *testing.T) ([]artificial.Stimulus, *screened, inputSplit) {
	t.Helper()
	set, err := artificial.Standard(stimulusSeed)
	if err != nil {
		t.Fatal(err)
	}
	m := planted(t, [3]float32{1.0 / 3, 1.0 / 3, 1.0 / 3})
	m.Net.Layer("layer2_conv").Weights[1].Data[2] = -0.5
	pix, err := artificial.RenderAll(set)
	if err != nil {
		t.Fatal(err)
	}
	pix = append(pix, blankImage()...)
	out, err := m.Predict(pix, len(set)+1)
	if err != nil {
		t.Fatal(err)
	}
	s := &screened{M: m, Resp: floats(out[:len(set)]), Blank: float64(out[len(set)])}
	if s.Ix, err = dotsel.Measure(set, s.Resp, s.Blank, []float64{0, 1, 2}); err != nil {
		t.Fatal(err)
	}
	sp, err := splitInputs(s, set, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	return set, s, sp
}

// TestSplitInputs splits the consolidated filter of a planted model whose layer-2 filter adds
// two layer-1 channels and subtracts half of the third: the two are excitatory, the third
// inhibitory, and the contributions rebuild the network's activation.
func TestSplitInputs(t *testing.T) {
	set, s, sp := plantedSplit(t)
	if math.Abs(sp.Reconstructed-sp.Activation) > 1e-4*math.Abs(sp.Activation)+1e-6 || sp.Activation <= 0 {
		t.Errorf("activation %v, rebuilt %v", sp.Activation, sp.Reconstructed)
	}
	if sp.Inputs[0].Dot <= 0 || sp.Inputs[1].Dot <= 0 || sp.Inputs[2].Input != 2 || sp.Inputs[2].Dot >= 0 {
		t.Errorf("contributions %+v: want inputs 0 and 1 excitatory, 2 inhibitory", sp.Inputs)
	}
	if r := -sp.Inhibitory / sp.Excitatory; math.Abs(r-0.25) > 1e-4 {
		t.Errorf("inhibition / excitation %v, want 0.25", r)
	}
	if _, err := splitInputs(s, set, 0, 0); err == nil {
		t.Error("layer 0 (no layer before it) was accepted")
	}
	if _, err := splitInputs(s, set, 2, 1); err == nil {
		t.Error("a filter out of range was accepted")
	}
}

func TestUnitCentre(t *testing.T) {
	n := planted(t, [3]float32{1, 0, 0}).Net
	for _, c := range []struct {
		l, i int
		want float64
	}{
		{0, 0, 0.5}, {0, 55, 55.5}, {1, 0, 1.5}, {1, 27, 55.5}, {2, 13, 55.5}, {3, 13, 55.5}, {4, 0, 3.5},
	} {
		got, err := unitCentre(n, c.l, c.i)
		if err != nil || got != c.want {
			t.Errorf("layer %d unit %d: centre %v, %v; want %v", c.l, c.i, got, err, c.want)
		}
	}
	if _, err := unitCentre(n, 5, 0); err == nil {
		t.Error("layer 5 was accepted")
	}
}

// TestSplitLocation: in the planted model every depthwise kernel has only its centre tap, so the
// consolidated filter takes each input from the unit under its own centre, whose receptive field
// is centred half a pixel from the dot's centre along each axis.
func TestSplitLocation(t *testing.T) {
	_, s, sp := plantedSplit(t)
	m := s.M
	for _, c := range sp.Inputs {
		if c.TapY != 2*sp.Y+1 || c.TapX != 2*sp.X+1 {
			t.Errorf("input %d taken from (%d, %d), want (%d, %d)", c.Input, c.TapY, c.TapX, 2*sp.Y+1, 2*sp.X+1)
		}
		cy, _ := unitCentre(m.Net, 1, c.TapY)
		cx, _ := unitCentre(m.Net, 1, c.TapX)
		if want := math.Hypot(cy-56, cx-56); c.Distance != want || c.Radii != want/s.Ix.PreferredRadius {
			t.Errorf("input %d: distance %v (%v radii), want %v", c.Input, c.Distance, c.Radii, want)
		}
	}
	cs := mainContributors(sp, 1)
	if len(cs) != 2 || !cs[0].Excitatory || cs[0].Dot != sp.Inputs[0].Dot || cs[1].Excitatory || cs[1].Input != 2 {
		t.Errorf("main contributors %+v", cs)
	}
	if cs := mainContributors(sp, 5); len(cs) != 3 {
		t.Errorf("%d main contributors of 3 inputs", len(cs))
	}
}

// TestBarProbe shows the planted dot detector the bar probe: eight bars of the dot's polarity,
// the dot alone as in its responses to the set, and the suppression recomputed from the
// responses.
func TestBarProbe(t *testing.T) {
	set, err := artificial.Standard(stimulusSeed)
	if err != nil {
		t.Fatal(err)
	}
	m := planted(t, [3]float32{1.0 / 3, 1.0 / 3, 1.0 / 3})
	pix, err := artificial.RenderAll(set)
	if err != nil {
		t.Fatal(err)
	}
	pix = append(pix, blankImage()...)
	out, err := m.Predict(pix, len(set)+1)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := dotsel.Measure(set, floats(out[:len(set)]), float64(out[len(set)]), []float64{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	d := eval.New(&harness.Env{Log: io.Discard}, &harness.Result{})
	pr, err := barProbe(context.Background(), d, m, set, ix)
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Bars) != 8 || len(pr.DotBar) != 8 || len(pr.Bar) != 8 {
		t.Fatalf("%d bars", len(pr.Bars))
	}
	dot, err := preferredDot(set, ix)
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range set {
		if st == dot && math.Abs(float64(out[i])-pr.Dot) > 1e-6 {
			t.Errorf("dot alone: %v in the probe, %v in the set", pr.Dot, out[i])
		}
	}
	sum := 0.0
	for i, b := range pr.Bars {
		if b.Polarity != ix.Polarity || b.Length != artificial.Size {
			t.Errorf("bar %+v", b)
		}
		sum += (pr.Dot - pr.DotBar[i]) / (pr.Dot - pr.Blank)
	}
	if math.Abs(sum/8-pr.Suppression) > 1e-12 {
		t.Errorf("suppression %v, want %v", pr.Suppression, sum/8)
	}
	ix.PreferredRadius = 7 // not a radius of the set
	if _, err := barProbe(context.Background(), d, m, set, ix); err == nil {
		t.Error("a preferred radius the set lacks was accepted")
	}
}

// TestPredictions checks the counting of the models that share each ingredient on constructed
// dissections.
func TestPredictions(t *testing.T) {
	nan := math.NaN()
	a := &screened{M: planted(t, [3]float32{1, 0, 0}), Natural: []float64{0, 1}}
	b := &screened{M: planted(t, [3]float32{1, 0, 0}), Natural: []float64{0, 1}}
	a.Ix.SizeSuppression, b.Ix.SizeSuppression = 0.9, 0.2
	a.Probe.Suppression, b.Probe.Suppression = 0.6, nan
	da := &dissection{S: a, Test: dotsel.Consolidation{Holds: true, MaxCarrier: 0.8},
		Excitatory: group{Necessity: 0.9},
		Inhibitory: group{Selectivity: -0.2, Ix: dotsel.Indices{SizeSuppression: 0.3}, Probe: probe{Suppression: 0.1}},
		Contributors: []contributor{
			{contribution: contribution{Radii: 0.9}, Excitatory: true}, {contribution: contribution{Radii: 1.2}, Excitatory: true},
			{contribution: contribution{Radii: 2}},
		}}
	db := &dissection{S: b, Test: dotsel.Consolidation{MaxCarrier: 0.3},
		Excitatory: group{Necessity: 0.2}, Inhibitory: group{Necessity: nan, Selectivity: nan, Ix: dotsel.Indices{SizeSuppression: nan}, Probe: probe{Suppression: nan}},
		Contributors: []contributor{{contribution: contribution{Radii: 3}, Excitatory: true}}}
	ps := predictions(&screening{Chosen: []*screened{a, b, {M: a.M}}}, []*dissection{da, db})
	want := map[int][2]int{1: {1, 2}, 2: {1, 2}, 3: {1, 2}, 4: {1, 2}, 5: {1, 2}, 6: {1, 2}, 7: {1, 2}, 8: {1, 2}, 9: {1, 2}}
	if len(ps) != len(want) {
		t.Fatalf("%d predictions", len(ps))
	}
	for _, p := range ps {
		if w := want[p.ID]; p.shared() != w[0] || len(p.Values) != w[1] {
			t.Errorf("prediction %d: shared by %d of %d, want %d of %d (%+v)", p.ID, p.shared(), len(p.Values), w[0], w[1], p.Values)
		}
	}
	if v := ps[7].Values[0].Value; v != 1.05 {
		t.Errorf("prediction 8: median radii %v, want 1.05", v)
	}
	if v := ps[5].Values[0].Value; math.Abs(v-0.3/0.9) > 1e-15 {
		t.Errorf("prediction 6: ratio %v, want 1/3", v)
	}
}

// TestScreenMissingImages screens two models of a session whose images are missing from the
// local data copy (211022): they are shown the artificial set, their natural-image indices are
// NaN and they rank last, they are not dissected, and the images are recorded as not runnable.
func TestScreenMissingImages(t *testing.T) {
	if testing.Short() {
		t.Skip("screens compact models")
	}
	dir := datadirtest.Dir(t)
	store, err := v4data.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const session = "211022"
	if store.Has(v4data.ImagesPath(session)) {
		t.Skipf("the images of %s are present", session)
	}
	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	p.Sessions, p.Synthesis.Steps = []string{session}, 2
	models, err := eval.LoadCompacts(context.Background(), store, eval.InSessions(session))
	var missing *v4data.MissingError
	if errors.As(err, &missing) {
		t.Skipf("the models of %s are needed: %v", session, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(models) < 2 {
		t.Skipf("%d models of %s", len(models), session)
	}
	set, err := artificial.Standard(stimulusSeed)
	if err != nil {
		t.Fatal(err)
	}
	env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Log: io.Discard}
	res := &harness.Result{}
	d := eval.New(env, res)
	scr, err := screen(context.Background(), env, d, set, models[:2], p)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.NotRunnable) != 1 || res.NotRunnable[0].Path != v4data.ImagesPath(session) {
		t.Errorf("not runnable %+v, want the images of %s", res.NotRunnable, session)
	}
	for _, s := range scr.Ranked {
		if s.Natural != nil || !math.IsNaN(s.Ix.Selectivity) || len(s.Resp) != len(set) {
			t.Errorf("%s: natural responses %d, selectivity %v, %d artificial responses", s.M.ID.Stem(), len(s.Natural), s.Ix.Selectivity, len(s.Resp))
		}
	}
	dis, err := dissectChosen(context.Background(), env, d, set, scr, p)
	if err != nil || len(dis) != 0 {
		t.Errorf("dissected %d models without natural images (%v)", len(dis), err)
	}
	if preds := predictions(scr, dis); preds[0].Values != nil || preds[2].Values != nil {
		t.Errorf("predictions measured without natural images: %+v", preds)
	}
}

func TestCrop(t *testing.T) {
	const h, w = 6, 5
	px := make([]uint8, h*w*3)
	for i := range px {
		px[i] = uint8(i / 3) // pixel index
	}
	got, gh, gw := crop(px, h, w, 0, 4, 2) // shifted inside: rows 0-1, columns 3-4
	if gh != 2 || gw != 2 || got[0] != 3 || got[3] != 4 || got[6] != 8 || got[9] != 9 {
		t.Errorf("crop: %d×%d %v", gh, gw, got)
	}
	if _, gh, gw := crop(px, h, w, 3, 3, 10); gh != h || gw != w {
		t.Errorf("a window larger than the image: %d×%d", gh, gw)
	}
}
