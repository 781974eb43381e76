package dotsel

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"compactv4/internal/artificial"
	"compactv4/internal/blob"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

func standard(t *testing.T) []artificial.Stimulus {
	t.Helper()
	set, err := artificial.Standard(1)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestMeasureKnownAnswers gives Measure responses built from the stimuli's parameters: a
// bright-dot unit tuned to radius 4 (response 10 − |r − 4| for bright single dots, floored at
// 1), silent for dark stimuli, 5 for every bright control, blank 1.
func TestMeasureKnownAnswers(t *testing.T) {
	set := standard(t)
	resp := make([]float64, len(set))
	for i, s := range set {
		switch {
		case s.Polarity < 0:
			resp[i] = 0
		case s.Kind == artificial.Disc:
			resp[i] = 1
		case s.IsDot():
			resp[i] = math.Max(10-math.Abs(s.Radius-4), 1)
		default:
			resp[i] = 5
		}
	}
	natural := []float64{0, 1, 2, 3, 6}
	ix, err := Measure(set, resp, 1, natural)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
	check("DotNatural", ix.DotNatural, (10-2)/4.0)
	check("Selectivity", ix.Selectivity, (10-5)/4.0)
	check("PreferredRadius", ix.PreferredRadius, 4)
	check("Polarity", float64(ix.Polarity), 1)
	check("SizeSuppression", ix.SizeSuppression, 1) // the full field gives the blank's response
	// Dot radii 1 … 16: responses 7, 7.5, 8, 9, 10, 9, 8, 6, 4, 2, 1 minus the blank.
	check("SizeInvariance", ix.SizeInvariance, (6+6.5+7+8+9+8+7+5+3+1+0)/11.0/9)
	// Every position has radius 3: response 9, the same everywhere.
	check("PositionInvariance", ix.PositionInvariance, 1)
	if len(ix.SizeTuning) != len(Radii()) || ix.SizeTuning[4] != 9 || ix.SizeTuning[len(ix.SizeTuning)-1] != 0 {
		t.Errorf("size tuning %v", ix.SizeTuning)
	}
	if set[ix.BestDot].Radius != 4 || set[ix.BestControl].IsDot() {
		t.Errorf("best dot %+v, best control %+v", set[ix.BestDot], set[ix.BestControl])
	}
}

func TestMeasureErrors(t *testing.T) {
	set := standard(t)
	resp := make([]float64, len(set))
	nat := []float64{0, 1}
	for _, c := range []struct {
		name string
		set  []artificial.Stimulus
		resp []float64
		nat  []float64
		want string
	}{
		{"lengths", set, resp[1:], nat, "responses for"},
		{"natural", set, resp, nat[:1], "natural"},
		{"NaN", set, append(append([]float64(nil), resp[1:]...), math.NaN()), nat, "NaN"},
		{"no controls", set[:22], resp[:22], nat, "controls"},
		{"no position", set[len(set)-200:], resp[len(set)-200:], nat, "size"},
	} {
		if _, err := Measure(c.set, c.resp, 0, c.nat); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestRank(t *testing.T) {
	sel := []float64{0.1, 0.9, math.NaN(), 0.1, 0.5}
	bl := []float64{0.2, 0.8, 0.9, 0.3, 0.1}
	r, err := Rank(sel, bl)
	if err != nil {
		t.Fatal(err)
	}
	// By selectivity; models 0 and 3 tie and 3 has the larger blobness; the NaN is last.
	want := []int{1, 4, 3, 0, 2}
	for i, w := range want {
		if r[i].Index != w {
			t.Fatalf("ranking %v, want order %v", r, want)
		}
	}
	if r[0].Score != 0.9 {
		t.Errorf("top score %v", r[0].Score)
	}
	if _, err := Rank(sel, bl[:2]); err == nil {
		t.Error("mismatched lengths accepted")
	}
}

func TestNecessityAndConsolidation(t *testing.T) {
	n, err := Necessity([]float64{3, 5}, []float64{1, 1}, 1)
	if err != nil || n != 1 {
		t.Errorf("necessity %v, %v; want 1", n, err)
	}
	if n, _ := Necessity([]float64{3, 5}, []float64{3, 5}, 1); n != 0 {
		t.Errorf("necessity of a no-op %v", n)
	}
	if c, _ := Change([]float64{1, 2, 3}, []float64{1, 2, 3}); c != 0 {
		t.Errorf("change of a no-op %v", c)
	}
	for _, c := range []struct {
		before, cons []float64
		holds        bool
	}{
		{[]float64{0.1, 0.3, 0.2}, []float64{0.9, 0.05, 0.1}, true},
		{[]float64{0.1, 0.6}, []float64{0.9, 0.05}, false},  // a filter before carries it
		{[]float64{0.1, 0.3}, []float64{0.9, 0.7}, false},   // two carriers
		{[]float64{0.1, 0.3}, []float64{0.4, 0.2}, false},   // none
		{[]float64{math.NaN()}, []float64{0.9, 0.1}, false}, // undefined
	} {
		got, err := TestConsolidation(c.before, c.cons)
		if err != nil || got.Holds != c.holds {
			t.Errorf("before %v, consolidated %v: %+v, %v; want holds %v", c.before, c.cons, got, err, c.holds)
		}
	}
}

// detector builds a compact model with one filter per layer whose layer-0 kernel is k (5×5, the
// same on R, G and B) and whose later layers pass the centre tap through, read out by the Dense
// layer at position (13, 13) of the 28×28 map, which sees layer-0 pixel (55, 55).
func detector(t *testing.T, k [5][5]float32) *model.Network {
	t.Helper()
	n, err := model.NewCompact([model.NumLayers]int{1, 1, 1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	c0 := n.Layer("layer0_conv").Weights[0] // (5, 5, 3, 1)
	for y := range 5 {
		for x := range 5 {
			for ch := range 3 {
				c0.Data[(y*5+x)*3+ch] = k[y][x] / 100
			}
		}
	}
	for l := 1; l < model.NumLayers; l++ {
		w := n.Layer("layer" + string(rune('0'+l)) + "_conv").Weights
		w[0].Data[12] = 1 // depthwise centre tap
		w[1].Data[0] = 1  // pointwise
	}
	n.Layer("Beta").Weights[0].Data[13*28+13] = 1 // (28·28, 1)
	return n
}

func respond(t *testing.T, n *model.Network, pix []uint8, count int) []float64 {
	t.Helper()
	c, err := nn.Compile(n)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Predict(pix, count)
	if err != nil {
		t.Fatal(err)
	}
	r := make([]float64, count)
	for i, v := range out {
		r[i] = float64(v)
	}
	return r
}

// TestConstructedModels ranks hand-built models: a centre-surround (dot) detector must rank
// first, an edge detector and a uniform-luminance detector must not be dot-like.
func TestConstructedModels(t *testing.T) {
	var dot, edge, lum, bar [5][5]float32
	for y := range 5 {
		for x := range 5 {
			dot[y][x] = -1.0 / 24
			lum[y][x] = 1.0 / 25
			bar[y][x] = -1.0 / 20
			switch {
			case x < 2:
				edge[y][x] = -1
			case x > 2:
				edge[y][x] = 1
			}
			if x == 2 {
				bar[y][x] = 1.0 / 5
			}
		}
	}
	dot[2][2] = 1
	set := standard(t)
	pix, err := artificial.RenderAll(set)
	if err != nil {
		t.Fatal(err)
	}
	blank := make([]uint8, artificial.Size*artificial.Size*3)
	bg := artificial.Background()
	for p := range artificial.Size * artificial.Size {
		copy(blank[3*p:], bg[:])
	}
	// "Natural" images: smoothed noise.
	rng := rand.New(rand.NewPCG(9, 0))
	const nat = 20
	natPix := make([]uint8, nat*len(blank))
	for i := range natPix {
		natPix[i] = uint8(64 + rng.IntN(128))
	}
	names := []string{"dot", "edge", "luminance", "bar"}
	var sel, bl []float64
	for i, k := range [][5][5]float32{dot, edge, lum, bar} {
		n := detector(t, k)
		resp := respond(t, n, pix, len(set))
		ix, err := Measure(set, resp, respond(t, n, blank, 1)[0], respond(t, n, natPix, nat))
		if err != nil {
			t.Fatal(err)
		}
		best := ix.BestDot
		if resp[ix.BestControl] > resp[best] {
			best = ix.BestControl
		}
		m, err := blob.Of(blob.Uint8(pix[best*len(blank):(best+1)*len(blank)]), artificial.Size, artificial.Size)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: selectivity %.3f, preferred %s r=%v, blobness %.3f, size suppression %.3f", names[i], ix.Selectivity, set[best].Family, ix.PreferredRadius, m.Blobness, ix.SizeSuppression)
		sel, bl = append(sel, ix.Selectivity), append(bl, m.Blobness)
	}
	r, err := Rank(sel, bl)
	if err != nil {
		t.Fatal(err)
	}
	if r[0].Index != 0 {
		t.Errorf("ranking %v: the dot detector is not first", r)
	}
	if sel[0] <= 0 {
		t.Errorf("the dot detector's selectivity is %v", sel[0])
	}
	for _, i := range []int{1, 2} {
		if sel[i] > 0 {
			t.Errorf("the %s detector has dot selectivity %v", names[i], sel[i])
		}
	}
}
