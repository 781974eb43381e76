package plots

import (
	"image/color"
	"math"
	"slices"
	"strings"
	"testing"

	"gonum.org/v1/plot"
)

func TestColorCycles(t *testing.T) {
	if Color(0) != palette[0] || Color(8) != palette[0] || Color(9) != palette[1] || Color(-1) != palette[7] {
		t.Errorf("Color does not cycle through Palette")
	}
	// Okabe–Ito, in the documented order.
	want := []uint32{0x0072B2, 0xD55E00, 0x009E73, 0xE69F00, 0xCC79A7, 0x56B4E9, 0xF0E442, 0x000000}
	for i, w := range want {
		c := palette[i]
		if got := uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B); got != w || c.A != 0xFF {
			t.Errorf("palette[%d] = %06X (A %d), want %06X", i, got, c.A, w)
		}
	}
}

func TestWithAlphaNeverTransparent(t *testing.T) {
	// gonum/plot's SVG writer divides by alpha.
	if a := withAlpha(Black, 0).A; a == 0 {
		t.Errorf("withAlpha(0) is fully transparent")
	}
	if a := withAlpha(Black, 2).A; a != 255 {
		t.Errorf("withAlpha(2).A = %d", a)
	}
}

func TestTypoNumber(t *testing.T) {
	for in, want := range map[string]string{
		"":     "",
		"0.5":  "0.5",
		"-0.5": "\u22120.5",
		"-0":   "0",
		"-0.0": "0.0",
		"-1e6": "\u22121e6",
	} {
		if got := typoNumber(in); got != want {
			t.Errorf("typoNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainNumber(t *testing.T) {
	for _, c := range []struct {
		v    float64
		want string
	}{
		{0.001, "0.001"}, {1, "1"}, {1000, "1000"}, {10000, "10,000"}, {1e6, "1,000,000"}, {12345.5, "12,345.5"},
	} {
		if got := plainNumber(c.v); got != c.want {
			t.Errorf("plainNumber(%g) = %q, want %q", c.v, got, c.want)
		}
	}
}

func labelsOf(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestLinearTicks(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     []string
	}{
		{0, 5, []string{"0.0", "2.5", "5.0"}}, // one decimal for all, as 2.5 needs one
		{0, 1, []string{"0.0", "0.5", "1.0"}},
		{-1, 1, []string{"\u22121", "0", "1"}},
		{0.13, 0.87, []string{"0.2", "0.4", "0.6", "0.8"}},
		{0, 40, []string{"0", "20", "40"}},
	} {
		got := labelsOf(linearTicks{}.Ticks(c.min, c.max))
		if !slices.Equal(got, c.want) {
			t.Errorf("ticks [%g, %g] = %q, want %q", c.min, c.max, got, c.want)
		}
	}
}

func TestLinearTicksDegenerate(t *testing.T) {
	for _, r := range [][2]float64{{1, 1}, {2, 1}, {-1e308, 1e308}, {1, 1 + 1e-15}, {0, 1e-300}, {math.NaN(), 1}} {
		if ts := (linearTicks{}).Ticks(r[0], r[1]); ts != nil {
			t.Errorf("ticks %v = %v, want none", r, ts)
		}
	}
}

func TestDecimals(t *testing.T) {
	for _, c := range []struct {
		vs   []float64
		want int
		ok   bool
	}{
		{[]float64{0, 2.5, 5}, 1, true},
		{[]float64{0, 2, 4}, 0, true},
		{[]float64{0.25, 0.5}, 2, true},
		{[]float64{1e7}, 0, false},
		{nil, 0, false},
	} {
		d, ok := decimals(c.vs)
		if d != c.want || ok != c.ok {
			t.Errorf("decimals(%v) = %d, %v; want %d, %v", c.vs, d, ok, c.want, c.ok)
		}
	}
}

func TestLogTicks(t *testing.T) {
	for _, c := range []struct {
		min, max float64
		want     []string
	}{
		{1, 100, []string{"1", "10", "100"}},
		{2000, 3e7, []string{"10^{4}", "10^{5}", "10^{6}", "10^{7}"}},
		{1e-6, 1e10, []string{"10^{\u22126}", "10^{\u22123}", "10^{0}", "10^{3}", "10^{6}", "10^{9}"}},
		{20, 80, []string{"20", "50"}}, // no power of ten inside: 1–2–5 labels
		{0.5, 8, []string{"0.5", "1", "2", "5"}},
	} {
		got := labelsOf(logTicks{}.Ticks(c.min, c.max))
		if !slices.Equal(got, c.want) {
			t.Errorf("log ticks [%g, %g] = %q, want %q", c.min, c.max, got, c.want)
		}
	}
	for _, bad := range [][2]float64{{0, 1}, {-1, 1}, {2, 1}, {1, math.Inf(1)}, {math.NaN(), 1}} {
		if ts := (logTicks{}).Ticks(bad[0], bad[1]); ts != nil {
			t.Errorf("log ticks %v = %v, want none", bad, ts)
		}
	}
}

func TestSegments(t *testing.T) {
	for in, want := range map[string][]segment{
		"plain":         {{s: "plain"}},
		"10^{3}":        {{s: "10"}, {s: "3", sup: true}},
		"s^{−1} (Hz)":   {{s: "s"}, {s: "−1", sup: true}, {s: " (Hz)"}},
		"open ^{ brace": {{s: "open ^{ brace"}},
		"^{a}^{b}":      {{s: "a", sup: true}, {s: "b", sup: true}},
	} {
		if got := segments(in); !slices.Equal(got, want) {
			t.Errorf("segments(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestRichTextWidth(t *testing.T) {
	sty := TextStyle(LabelSize, false)
	plain, sup := sty.Width("10"), sty.Width("10^{3}")
	digit := TextStyle(LabelSize*supScale, false).Width("3")
	if math.Abs(float64(sup-plain-digit)) > 1e-9 {
		t.Errorf("width of 10^{3} = %v, want %v + %v", sup, plain, digit)
	}
}

func TestPanelLetter(t *testing.T) {
	for i, want := range map[int]string{0: "a", 1: "b", 25: "z", 26: "aa", 27: "ab", 51: "az", 52: "ba"} {
		if got := panelLetter(i); got != want {
			t.Errorf("panelLetter(%d) = %q, want %q", i, got, want)
		}
	}
}

func TestQuantileType7(t *testing.T) {
	// numpy.quantile([1, 2, 3, 4, 10], [0.25, 0.5, 0.75]) = [2, 3, 4];
	// numpy.quantile([1, 2, 3, 4], [0.25, 0.5, 0.75]) = [1.75, 2.5, 3.25].
	for _, c := range []struct {
		xs   []float64
		want [3]float64
	}{
		{[]float64{1, 2, 3, 4, 10}, [3]float64{2, 3, 4}},
		{[]float64{1, 2, 3, 4}, [3]float64{1.75, 2.5, 3.25}},
		{[]float64{7}, [3]float64{7, 7, 7}},
	} {
		for i, p := range []float64{0.25, 0.5, 0.75} {
			if got := quantile(c.xs, p); math.Abs(got-c.want[i]) > 1e-12 {
				t.Errorf("quantile(%v, %g) = %g, want %g", c.xs, p, got, c.want[i])
			}
		}
	}
}

func TestGroupStatsWhiskers(t *testing.T) {
	// Q1 = 2, Q3 = 4, IQR = 2: fences at −1 and 7, so 10 is an outlier
	// and the upper whisker stops at 4.
	g := newGroupStats([]float64{1, 2, 3, 4, 10}, Color(0), 0, 0)
	if g.whiskLo != 1 || g.whiskHi != 4 || g.median != 3 {
		t.Errorf("whiskers %g–%g, median %g; want 1–4, 3", g.whiskLo, g.whiskHi, g.median)
	}
	h := newGroupStats([]float64{1, 2, 3, 4, 10}, Color(0), 0, 0)
	if !slices.Equal(g.jitter, h.jitter) {
		t.Errorf("jitter differs for the same seed")
	}
	k := newGroupStats([]float64{1, 2, 3, 4, 10}, Color(0), 1, 0)
	if slices.Equal(g.jitter, k.jitter) {
		t.Errorf("jitter is the same for different seeds")
	}
}

func TestColormaps(t *testing.T) {
	hex := func(c color.NRGBA) uint32 { return uint32(c.R)<<16 | uint32(c.G)<<8 | uint32(c.B) }
	for _, c := range []struct {
		name string
		f    func(float64) color.NRGBA
		t    float64
		want uint32
	}{
		{"viridis", viridis, 0, 0x440154},
		{"viridis", viridis, 1, 0xfde725},
		{"viridis", viridis, 0.5, 0x21918c},
		{"viridis", viridis, -3, 0x440154},
		{"viridis", viridis, math.NaN(), 0x440154},
		{"blueRed", blueRed, 0, 0x053061},
		{"blueRed", blueRed, 0.5, 0xf7f7f7},
		{"blueRed", blueRed, 1, 0x67001f},
		{"blueRed", blueRed, 7, 0x67001f},
	} {
		if got := hex(c.f(c.t)); got != c.want {
			t.Errorf("%s(%g) = %06x, want %06x", c.name, c.t, got, c.want)
		}
	}
	// Viridis gets lighter monotonically (perceptually ordered).
	lum := func(c color.NRGBA) float64 { return 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B) }
	prev := -1.0
	for i := 0; i <= 100; i++ {
		l := lum(viridis(float64(i) / 100))
		if l < prev-0.5 {
			t.Fatalf("viridis luminance falls at %d/100", i)
		}
		prev = l
	}
}

func TestNewPlotIgnoresGonumDefaults(t *testing.T) {
	// Another package changing gonum's package-level default font must
	// not change our figures.
	p := mustScatter(t)
	before, _, err := Render(p, 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	saved := plot.DefaultFont
	plot.DefaultFont.Variant = "Mono"
	defer func() { plot.DefaultFont = saved }()
	after, _, err := Render(mustScatter(t), 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Errorf("figure changed with plot.DefaultFont")
	}
}

func mustScatter(t *testing.T) *plot.Plot {
	t.Helper()
	p, err := Scatter(sampleScatter(), ScatterOptions{Axes: Axes{Title: "t", XLabel: "x", YLabel: "y"}, Unity: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSVGNamesFallbackFonts(t *testing.T) {
	_, svg, err := Render(mustScatter(t), 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(svg), "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;") {
		t.Errorf("SVG does not name the fall-back fonts")
	}
	if strings.Contains(string(svg), "Liberation Serif") {
		t.Errorf("SVG uses Liberation Serif")
	}
}

func TestSVGImagesArePNG(t *testing.T) {
	h, err := Heatmap([][]float64{{1, 2}, {3, 4}}, HeatmapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, svg, err := Render(h, 200, 150)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(svg), `xlink:href="data:image/png;base64,iVBORw0KGgo`); n != 2 {
		t.Errorf("%d PNG images in the SVG, want 2 (cells and colour bar)", n)
	}
	if n := strings.Count(string(svg), `<image preserveAspectRatio="none" x=`); n != 2 {
		t.Errorf("%d images stretch to their rectangles, want 2", n)
	}
	if strings.Contains(string(svg), "image/jpg") {
		t.Errorf("SVG labels a PNG image as image/jpg")
	}
}
