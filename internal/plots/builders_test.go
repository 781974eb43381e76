package plots

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"slices"
	"strings"
	"sync"
	"testing"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// figure is a named builder call; build must return a fresh figure.
type figure struct {
	name          string
	width, height vg.Length
	build         func(t testing.TB) (Drawer, error)
}

// make builds the figure, failing the test on error.
func (f figure) make(t testing.TB) Drawer {
	t.Helper()
	d, err := f.build(t)
	if err != nil {
		t.Fatalf("%s: %v", f.name, err)
	}
	return d
}

// asDrawer converts a builder's result to (Drawer, error).
func asDrawer[T Drawer](d T, err error) (Drawer, error) {
	if err != nil {
		return nil, err
	}
	return d, nil
}

// must fails the test on err and returns v.
func must[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// figures covers every builder and option that changes the drawing.
func figures() []figure {
	small, wide := SingleColumn/2, DoubleColumn
	return []figure{
		{"scatter_unity", small, small, func(t testing.TB) (Drawer, error) {
			return asDrawer(Scatter(sampleScatter(), ScatterOptions{Axes: Axes{XLabel: "Teacher R^{2}", YLabel: "Compact R^{2}"}, Unity: true, Legend: BottomRight}))
		}},
		{"scatter_loglog_square", small, small, func(t testing.TB) (Drawer, error) {
			s := []Series{{Label: "models", X: []float64{2.1e3, 5e3, 1.2e4, 4e4, 9e4}, Y: []float64{2.3e7, 2.1e7, 2.5e7, 2.3e7, 2.4e7}}}
			return Square(must(Scatter(s, ScatterOptions{Axes: Axes{XLabel: "Compact parameters", YLabel: "Teacher parameters", LogX: true, LogY: true}, Unity: true, Legend: BottomRight}))(t)), nil
		}},
		{"lines_errbars_band", small, small, func(t testing.TB) (Drawer, error) {
			return asDrawer(Lines(sampleLines(), LineOptions{Axes: Axes{XLabel: "Filters K", YLabel: "Accuracy", LogX: true}, HLines: []RefLine{{Value: 0.5, Label: "teacher"}}, VLines: []RefLine{{Value: 10}}, Legend: BottomRight}))
		}},
		{"groups_box_points", SingleColumn, small, func(t testing.TB) (Drawer, error) {
			return asDrawer(Groups(sampleGroups(6, 30), GroupOptions{Axes: Axes{XLabel: "Session", YLabel: "Accuracy"}, Seed: 7}))
		}},
		{"groups_profile", SingleColumn, small, func(t testing.TB) (Drawer, error) {
			return asDrawer(Groups(sampleGroups(8, 219), GroupOptions{Axes: Axes{XLabel: "Layer", YLabel: "Filters"}, Style: Points, ConnectMedians: true, Colored: true, TiltLabels: true}))
		}},
		{"groups_box_only", small, small, func(t testing.TB) (Drawer, error) {
			return asDrawer(Groups(sampleGroups(3, 10), GroupOptions{Style: Box, Axes: Axes{YLim: Limits{0, 1}}}))
		}},
		{"histogram", SingleColumn, small, func(t testing.TB) (Drawer, error) {
			d := append(sampleDists(), Distribution{Label: "untrained", Values: []float64{-0.1, 0, 0.05, 0.1}, Null: true})
			return asDrawer(Histogram(d, HistOptions{Axes: Axes{XLabel: "r", YLabel: "Density"}, Density: true, Bins: 25, VLines: []RefLine{{Value: 0.42, Label: "observed"}}}))
		}},
		{"grid_aligned", wide, SingleColumn, func(t testing.TB) (Drawer, error) {
			var ps []Drawer
			for i := range 5 {
				s := sampleScatter()[:1]
				s[0].Label = ""
				ps = append(ps, must(Scatter(s, ScatterOptions{Axes: Axes{Title: "Neuron " + string(rune('1'+i)), XLabel: "Recorded", YLabel: "Predicted"}}))(t))
			}
			ps = append(ps, nil)
			return asDrawer(Grid(ps, GridOptions{Cols: 3, Letters: true, ShareX: true, ShareY: true, Title: "Held-out session"}))
		}},
		{"grid_mixed", wide, small, func(t testing.TB) (Drawer, error) {
			h := must(Heatmap(sampleMatrix(5), HeatmapOptions{Diverging: true}))(t)
			p := must(Scatter(sampleScatter(), ScatterOptions{}))(t)
			return asDrawer(Grid([]Drawer{p, h}, GridOptions{Letters: true}))
		}},
		{"image_grid", wide, SingleColumn * 0.9, func(t testing.TB) (Drawer, error) {
			return asDrawer(ImageGrid(sampleImages(t), ImageGridOptions{Cols: 5, Titles: []string{"a", "b", "c", "d", "e", "k1", "k2", "k3", "k4", "k5"}, Title: "Preferred stimuli"}))
		}},
		{"heatmap_labels", SingleColumn, SingleColumn, func(t testing.TB) (Drawer, error) {
			m := sampleMatrix(12)
			m[3][4] = math.NaN()
			return asDrawer(Heatmap(m, HeatmapOptions{Title: "Similarity", Diverging: true, ColorBarLabel: "r", RowLabels: labels(12), ColLabels: labels(12)}))
		}},
		{"heatmap_large", SingleColumn, SingleColumn, func(t testing.TB) (Drawer, error) {
			return asDrawer(Heatmap(sampleMatrix(219), HeatmapOptions{XLabel: "Model", YLabel: "Model", ColorBarLabel: "Similarity", Range: Limits{-1, 1}}))
		}},
	}
}

func sampleLines() []Series {
	ks := []float64{1, 2, 4, 8, 16, 32, 64, 100}
	var ls []Series
	for j, name := range []string{"ResNet50", "VGG19", "CORnet-S"} {
		y := make([]float64, len(ks))
		e := make([]float64, len(ks))
		lo := make([]float64, len(ks))
		hi := make([]float64, len(ks))
		for i, k := range ks {
			y[i] = 0.45 - 0.3*math.Exp(-k/(8+4*float64(j)))
			e[i] = 0.02
			lo[i], hi[i] = y[i]-0.04, y[i]+0.04
		}
		s := Series{Label: name, X: ks, Y: y, YErr: e}
		if j == 0 {
			s.YErr, s.Lo, s.Hi = nil, lo, hi
		}
		ls = append(ls, s)
	}
	return ls
}

// TestDeterminism renders every figure twice from fresh builds, and the
// same figure object twice (gonum mutates plots while drawing), and
// requires identical PNG and SVG bytes.
func TestDeterminism(t *testing.T) {
	for _, f := range figures() {
		t.Run(f.name, func(t *testing.T) {
			d1 := f.make(t)
			png1, svg1 := must2(t, d1, f)
			png2, svg2 := must2(t, f.make(t), f)
			png3, svg3 := must2(t, d1, f)
			if !bytes.Equal(png1, png2) || !bytes.Equal(png1, png3) {
				t.Errorf("PNG bytes differ between renders")
			}
			if !bytes.Equal(svg1, svg2) || !bytes.Equal(svg1, svg3) {
				t.Errorf("SVG bytes differ between renders")
			}
			img, err := png.Decode(bytes.NewReader(png1))
			if err != nil {
				t.Fatal(err)
			}
			wantW := int(f.width/vg.Inch*DPI + 0.5)
			wantH := int(f.height/vg.Inch*DPI + 0.5)
			if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
				t.Errorf("PNG is %v, want %dx%d at %d DPI", b.Size(), wantW, wantH, DPI)
			}
			if !strings.HasPrefix(string(svg1), "<?xml") || !strings.HasSuffix(string(svg1), "</svg>\n") {
				t.Errorf("SVG is not a complete document")
			}
			if blank(img) {
				t.Errorf("PNG is blank")
			}
		})
	}
}

func must2(t *testing.T, d Drawer, f figure) ([]byte, []byte) {
	t.Helper()
	p, s, err := Render(d, f.width, f.height)
	if err != nil {
		t.Fatal(err)
	}
	return p, s
}

// blank reports whether img is a single colour.
func blank(img image.Image) bool {
	b := img.Bounds()
	first := img.At(b.Min.X, b.Min.Y)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if img.At(x, y) != first {
				return false
			}
		}
	}
	return true
}

// TestConcurrentRender renders figures from several goroutines; run with
// -race it checks that the shared font cache is safe, and the bytes must
// still match a sequential render.
func TestConcurrentRender(t *testing.T) {
	fs := figures()[:4]
	want := make([][]byte, len(fs))
	for i, f := range fs {
		want[i], _ = must2(t, f.make(t), f)
	}
	var wg sync.WaitGroup
	got := make([][]byte, len(fs))
	errs := make([]error, len(fs))
	ds := make([]Drawer, len(fs))
	for i, f := range fs {
		ds[i] = f.make(t)
	}
	for i, f := range fs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _, errs[i] = Render(ds[i], f.width, f.height)
		}()
	}
	wg.Wait()
	for i := range fs {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("%s: concurrent render differs", fs[i].name)
		}
	}
}

func TestBuilderErrors(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	ok := []float64{1, 2, 3}
	cases := []struct {
		name string
		err  func() error
		want string
	}{
		{"scatter empty", func() error { _, err := Scatter(nil, ScatterOptions{}); return err }, "no data"},
		{"scatter no values", func() error { _, err := Scatter([]Series{{}}, ScatterOptions{}); return err }, "no values"},
		{"scatter NaN", func() error {
			_, err := Scatter([]Series{{X: ok, Y: []float64{1, nan, 3}}}, ScatterOptions{})
			return err
		}, "y[1] is NaN"},
		{"scatter Inf", func() error {
			_, err := Scatter([]Series{{X: []float64{1, 2, inf}, Y: ok}}, ScatterOptions{})
			return err
		}, "x[2] is +Inf"},
		{"scatter huge", func() error {
			_, err := Scatter([]Series{{X: []float64{1, 2, 1e300}, Y: ok}}, ScatterOptions{})
			return err
		}, "magnitude"},
		{"scatter lengths", func() error {
			_, err := Scatter([]Series{{Label: "s", X: ok, Y: ok[:2]}}, ScatterOptions{})
			return err
		}, `series 0 ("s"): 3 x values and 2 y values`},
		{"scatter log zero", func() error {
			_, err := Scatter([]Series{{X: []float64{0, 1, 2}, Y: ok}}, ScatterOptions{Axes: Axes{LogX: true}})
			return err
		}, "log axis needs values > 0"},
		{"scatter bad limits", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok}}, ScatterOptions{Axes: Axes{XLim: Limits{2, 1}}})
			return err
		}, "need finite Min < Max"},
		{"scatter huge limits", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok}}, ScatterOptions{Axes: Axes{YLim: Limits{-1e300, 1e300}}})
			return err
		}, "magnitude above"},
		{"scatter narrow limits", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok}}, ScatterOptions{Axes: Axes{YLim: Limits{1, 1 + 1e-12}}})
			return err
		}, "too narrow"},
		{"scatter log limits", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok}}, ScatterOptions{Axes: Axes{LogY: true, YLim: Limits{0, 1}}})
			return err
		}, "log axis needs Min > 0"},
		{"scatter unity mixed scales", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok}}, ScatterOptions{Axes: Axes{LogY: true}, Unity: true})
			return err
		}, "both axes linear or both log"},
		{"scatter NaN ref line", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok}}, ScatterOptions{HLines: []RefLine{{Value: nan}}})
			return err
		}, "horizontal line 0"},
		{"lines yerr length", func() error { _, err := Lines([]Series{{X: ok, Y: ok, YErr: ok[:1]}}, LineOptions{}); return err }, "1 error values for 3 points"},
		{"lines negative yerr", func() error {
			_, err := Lines([]Series{{X: ok, Y: ok, YErr: []float64{0, -1, 0}}}, LineOptions{})
			return err
		}, "errors must be ≥ 0"},
		{"lines yerr below log zero", func() error {
			_, err := Lines([]Series{{X: ok, Y: ok, YErr: []float64{0, 3, 0}}}, LineOptions{Axes: Axes{LogY: true}})
			return err
		}, "log axis needs values > 0"},
		{"scatter half error bars", func() error { _, err := Scatter([]Series{{X: ok, Y: ok, ErrLo: ok}}, ScatterOptions{}); return err }, "need both ErrLo and ErrHi"},
		{"scatter error bars with yerr", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok, ErrLo: ok, ErrHi: ok, YErr: ok}}, ScatterOptions{})
			return err
		}, "and not YErr"},
		{"scatter point outside its error bar", func() error {
			_, err := Scatter([]Series{{X: ok, Y: ok, ErrLo: []float64{0, 3, 0}, ErrHi: []float64{9, 9, 9}}}, ScatterOptions{})
			return err
		}, "point 1: y 2 outside its error bar 3 to 9"},
		{"lines half band", func() error { _, err := Lines([]Series{{X: ok, Y: ok, Lo: ok}}, LineOptions{}); return err }, "needs both Lo and Hi"},
		{"lines inverted band", func() error {
			_, err := Lines([]Series{{X: ok, Y: ok, Lo: []float64{1, 5, 3}, Hi: ok}}, LineOptions{})
			return err
		}, "lo[1] = 5 > hi[1] = 2"},
		{"groups empty", func() error { _, err := Groups(nil, GroupOptions{}); return err }, "no data"},
		{"groups empty group", func() error {
			_, err := Groups([]Group{{Label: "a", Values: ok}, {Label: "b"}}, GroupOptions{})
			return err
		}, `group 1 ("b"): no values`},
		{"groups NaN", func() error { _, err := Groups([]Group{{Values: []float64{nan}}}, GroupOptions{}); return err }, "is NaN"},
		{"groups log x", func() error {
			_, err := Groups([]Group{{Values: ok}}, GroupOptions{Axes: Axes{LogX: true}})
			return err
		}, "categorical"},
		{"groups style", func() error { _, err := Groups([]Group{{Values: ok}}, GroupOptions{Style: 9}); return err }, "unknown group style"},
		{"hist empty", func() error { _, err := Histogram(nil, HistOptions{}); return err }, "no data"},
		{"hist NaN", func() error { _, err := Histogram([]Distribution{{Values: []float64{nan}}}, HistOptions{}); return err }, "is NaN"},
		{"hist bins", func() error { _, err := Histogram([]Distribution{{Values: ok}}, HistOptions{Bins: -1}); return err }, "-1 bins"},
		{"hist outside range", func() error {
			_, err := Histogram([]Distribution{{Values: ok}}, HistOptions{Range: Limits{0, 2}})
			return err
		}, "outside the bin range"},
		{"hist log", func() error {
			_, err := Histogram([]Distribution{{Values: ok}}, HistOptions{Axes: Axes{LogY: true}})
			return err
		}, "log axes"},
		{"grid empty", func() error { _, err := Grid(nil, GridOptions{}); return err }, "no data"},
		{"grid all nil", func() error { _, err := Grid([]Drawer{nil, nil}, GridOptions{}); return err }, "all 2 panels are nil"},
		{"grid cols", func() error { _, err := Grid([]Drawer{NewPlot()}, GridOptions{Cols: 3}); return err }, "3 columns for 1 panels"},
		{"grid share non-plot", func() error {
			h, _ := Heatmap([][]float64{{1}}, HeatmapOptions{})
			_, err := Grid([]Drawer{NewPlot(), h}, GridOptions{ShareX: true})
			return err
		}, "ShareX and ShareY need *plot.Plot panels"},
		{"image grid empty", func() error { _, err := ImageGrid(nil, ImageGridOptions{}); return err }, "no data"},
		{"image grid titles", func() error {
			_, err := ImageGrid([]image.Image{image.NewGray(image.Rect(0, 0, 2, 2))}, ImageGridOptions{Titles: []string{"a", "b"}})
			return err
		}, "2 titles for 1 items"},
		{"image grid nil image", func() error { _, err := ImageGrid([]image.Image{nil}, ImageGridOptions{}); return err }, "image 0 is nil"},
		{"image grid empty image", func() error {
			_, err := ImageGrid([]image.Image{image.NewGray(image.Rect(0, 0, 0, 3))}, ImageGridOptions{})
			return err
		}, "0×3 pixels"},
		{"rgb shape", func() error { _, err := RGB(make([]uint8, 10), 2, 2); return err }, "needs 12 values, got 10"},
		{"rgb negative", func() error { _, err := RGB(nil, -1, 2); return err }, "shape -1×2×3"},
		{"signed channels", func() error { _, err := Signed(make([]float32, 8), 2, 2, 2, 0); return err }, "2 channels"},
		{"signed NaN", func() error { _, err := Signed([]float64{0, nan, 0, 0}, 2, 2, 1, 0); return err }, "value 1 is NaN"},
		{"signed NaN scale", func() error { _, err := Signed([]float64{0, 0, 0, 0}, 2, 2, 1, nan); return err }, "scale NaN"},
		{"heatmap empty", func() error { _, err := Heatmap(nil, HeatmapOptions{}); return err }, "no data"},
		{"heatmap ragged", func() error { _, err := Heatmap([][]float64{{1, 2}, {3}}, HeatmapOptions{}); return err }, "row 1 has 1 columns"},
		{"heatmap Inf", func() error { _, err := Heatmap([][]float64{{1, inf}}, HeatmapOptions{}); return err }, "m[0][1] is +Inf"},
		{"heatmap all NaN", func() error { _, err := Heatmap([][]float64{{nan}}, HeatmapOptions{}); return err }, "every cell is NaN"},
		{"heatmap row labels", func() error {
			_, err := Heatmap([][]float64{{1}}, HeatmapOptions{RowLabels: []string{"a", "b"}})
			return err
		}, "2 row labels for 1 items"},
		{"heatmap col labels", func() error { _, err := Heatmap([][]float64{{1}}, HeatmapOptions{ColLabels: []string{}}); return err }, "0 column labels for 1 items"},
		{"render nil", func() error { _, _, err := Render(nil, 100, 100); return err }, "nil figure"},
		{"render size", func() error { _, _, err := Render(NewPlot(), 0, 100); return err }, "sides must be"},
		{"render NaN size", func() error { _, _, err := Render(NewPlot(), vg.Length(nan), 100); return err }, "sides must be"},
		{"render huge", func() error { _, _, err := Render(NewPlot(), 1e9, 100); return err }, "sides must be"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.err()
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

// panicky is a figure whose drawing panics.
type panicky struct{}

func (panicky) Draw(draw.Canvas) { panic("boom") }

// TestRenderRecoversPanic checks that a figure that panics while drawing
// (gonum/plot panics on a log scale over a non-positive range) gives an
// error instead.
func TestRenderRecoversPanic(t *testing.T) {
	p := NewPlot()
	p.Add(unityLine{})
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = -1, 1, -1, 1
	for _, d := range []Drawer{p, panicky{}} {
		if _, err := RenderPNG(d, 100, 100); err == nil || !strings.Contains(err.Error(), "render png: draw:") {
			t.Errorf("PNG: err = %v, want a recovered panic", err)
		}
		if _, err := RenderSVG(d, 100, 100); err == nil || !strings.Contains(err.Error(), "render svg: draw:") {
			t.Errorf("SVG: err = %v, want a recovered panic", err)
		}
	}
}

func TestSignedScaling(t *testing.T) {
	img, err := Signed([]float32{-2, -1, 0, 1, 2, 4}, 1, 6, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 64, 128, 191, 255, 255} // ±2 → 0/255, beyond saturates
	for x, w := range want {
		if got := img.NRGBAAt(x, 0); got.R != w || got.G != w || got.B != w || got.A != 255 {
			t.Errorf("pixel %d = %v, want grey %d", x, got, w)
		}
	}
	auto, err := Signed([]float64{-1, 0.5, 0, 0, 0, 1}, 1, 2, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := auto.NRGBAAt(0, 0); got.R != 0 || got.G != 191 || got.B != 128 {
		t.Errorf("auto-scaled pixel = %v, want {0 191 128}", got)
	}
	zero, err := Signed([]float64{0, 0, 0}, 1, 1, 3, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := zero.NRGBAAt(0, 0); got.R != 128 {
		t.Errorf("all-zero image = %v, want grey", got)
	}
}

func TestRGBLayout(t *testing.T) {
	pix := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12} // 2×2, HWC
	img, err := RGB(pix, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.NRGBAAt(1, 0); got.R != 4 || got.G != 5 || got.B != 6 || got.A != 255 {
		t.Errorf("pixel (x=1, y=0) = %v, want {4 5 6 255}", got)
	}
	if got := img.NRGBAAt(0, 1); got.R != 7 {
		t.Errorf("pixel (x=0, y=1) = %v, want R 7", got)
	}
}

// TestImageGridKeepsPixelsSharp checks that a 2×2 checkerboard drawn large
// keeps its pure colours: no smoothing between pixels except at edges.
func TestImageGridKeepsPixelsSharp(t *testing.T) {
	img, err := Signed([]float64{-1, 1, 1, -1}, 2, 2, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	g, err := ImageGrid([]image.Image{img}, ImageGridOptions{})
	if err != nil {
		t.Fatal(err)
	}
	data, err := RenderPNG(g, 100, 100)
	if err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	levels := map[uint32]int{}
	b := out.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, _, _, _ := out.At(x, y).RGBA()
			levels[r>>8]++
		}
	}
	pure := levels[0] + levels[255]
	if frac := float64(pure) / float64(b.Dx()*b.Dy()); frac < 0.97 {
		t.Errorf("only %.1f%% of pixels are pure black or white; the image was smoothed", 100*frac)
	}
	if levels[0] == 0 || levels[0] < b.Dx()*b.Dy()/4 {
		t.Errorf("black cells missing: %d black pixels", levels[0])
	}
}

func TestHeatmapCellsAndColourBar(t *testing.T) {
	// A 1×2 matrix: the left cell at the bottom of the diverging range
	// (blue), the right at the top (red), with square cells.
	h, err := Heatmap([][]float64{{-1, 1}}, HeatmapOptions{Diverging: true})
	if err != nil {
		t.Fatal(err)
	}
	hm := h.(*heatmap)
	if hm.lo != -1 || hm.hi != 1 {
		t.Errorf("colour range [%g, %g], want [-1, 1]", hm.lo, hm.hi)
	}
	img := hm.cells
	if got := img.NRGBAAt(0, 0); got != blueRed(0) {
		t.Errorf("left cell %v, want %v", got, blueRed(0))
	}
	if got := img.NRGBAAt(1, 0); got != blueRed(1) {
		t.Errorf("right cell %v, want %v", got, blueRed(1))
	}
	nan, err := Heatmap([][]float64{{math.NaN(), 2}, {3, 4}}, HeatmapOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cells := nan.(*heatmap).cells
	if got := cells.NRGBAAt(0, 0); got != LightGrey {
		t.Errorf("NaN cell %v, want LightGrey", got)
	}
	if got := cells.NRGBAAt(1, 1); got != viridis(1) {
		t.Errorf("max cell %v, want the top of viridis", got)
	}
}

func TestHistogramCounts(t *testing.T) {
	if got := binCounts([]float64{0, 0.1, 0.5, 0.99, 1}, 0, 0.5, 2, false); !slices.Equal(got, []float64{2, 3}) {
		t.Errorf("counts %v, want [2 3] (the top edge falls in the last bin)", got)
	}
	got := binCounts([]float64{0, 0.1, 0.5, 0.99}, 0, 0.25, 4, true)
	if !slices.Equal(got, []float64{2, 0, 1, 1}) {
		t.Errorf("density %v, want [2 0 1 1]", got)
	}
	if _, err := Histogram([]Distribution{{Values: []float64{0, 1}}}, HistOptions{Range: Limits{0, 1}}); err != nil {
		t.Errorf("values on the range edges: %v", err)
	}
}

func TestUnityScatterSharesRange(t *testing.T) {
	p, err := Scatter([]Series{{X: []float64{1, 2}, Y: []float64{5, 9}}}, ScatterOptions{Unity: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.X.Min != p.Y.Min || p.X.Max != p.Y.Max || p.X.Min != 1 || p.X.Max != 9 {
		t.Errorf("ranges x [%g, %g], y [%g, %g]; want both [1, 9]", p.X.Min, p.X.Max, p.Y.Min, p.Y.Max)
	}
}

func TestDegenerateRangesRender(t *testing.T) {
	// A single point, equal values and tiny spans must still give ticks.
	for _, s := range []Series{
		{X: []float64{5}, Y: []float64{5}},
		{X: []float64{0, 0}, Y: []float64{1e-300, 1e-300}},
		{X: []float64{1e100, 1e100 * (1 + 1e-15)}, Y: []float64{-3, -3}},
	} {
		p, err := Scatter([]Series{s}, ScatterOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := Render(p, 100, 100); err != nil {
			t.Errorf("%v: %v", s, err)
		}
	}
}
