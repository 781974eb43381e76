package plots

import (
	"bytes"
	"encoding/binary"
	"image"
	"image/color"
	"image/png"
	"math"
	"path/filepath"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"

	"gonum.org/v1/plot/vg"
)

// goldenFiles returns the committed golden figures with the given
// extension: real outputs of this package.
func goldenFiles(tb testing.TB, ext string) [][]byte {
	return fuzzseed.Files(tb, filepath.Join("testdata", "golden", "*"+ext))
}

func FuzzDiffPNG(f *testing.F) {
	small := func(w, h int, c color.NRGBA) []byte {
		img := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.SetNRGBA(x, y, c)
			}
		}
		return encodePNG(f, img)
	}
	red, white := small(3, 2, color.NRGBA{R: 255, A: 255}), small(3, 2, color.NRGBA{R: 255, G: 255, B: 255, A: 255})
	gray := encodePNG(f, image.NewGray16(image.Rect(0, 0, 3, 2)))
	pal := encodePNG(f, image.NewPaletted(image.Rect(0, 0, 3, 2), color.Palette{color.Black, color.White}))
	f.Add(red, white)
	f.Add(gray, pal)
	f.Add(red, red[:len(red)-5])
	f.Add(hugePNGHeader(1<<20, 1<<20), red)
	// Corners of the golden figures (24x16 pixels, a few hundred bytes): real colours and
	// antialiasing. The whole goldens (20-80 KB) are regression cases (TestFuzzChecksGoldens):
	// as seeds they slow the fuzzer to a crawl.
	for _, g := range goldenFiles(f, ".png") {
		c := corner(f, g)
		f.Add(c, c)
		f.Add(c, red)
	}
	fuzzbound.Minimize(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fuzzbound.Run(t, func() { checkDiffPNG(t, a, b) })
	})
}

// corner returns the top-left 24x16 pixels of a PNG, encoded as a PNG.
func corner(tb testing.TB, b []byte) []byte {
	tb.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		tb.Fatal(err)
	}
	sub, ok := img.(interface {
		SubImage(image.Rectangle) image.Image
	})
	if !ok {
		tb.Fatalf("a %T has no SubImage", img)
	}
	return encodePNG(tb, sub.SubImage(image.Rect(0, 0, 24, 16).Add(img.Bounds().Min)))
}

// checkDiffPNG compares two PNGs both ways and checks the statistics.
func checkDiffPNG(t *testing.T, a, b []byte) {
	st, d, err := DiffPNG(bytes.NewReader(a), bytes.NewReader(b))
	if err != nil {
		return
	}
	n := st.Width * st.Height
	if d.Bounds() != image.Rect(0, 0, st.Width, st.Height) {
		t.Fatalf("diff image %v for %dx%d", d.Bounds(), st.Width, st.Height)
	}
	if st.Differing < 0 || st.Differing > n || (n > 0 && st.Fraction != float64(st.Differing)/float64(n)) {
		t.Fatalf("inconsistent stats %+v", st)
	}
	if st.Identical() != st.Bounds.Empty() || st.Identical() != (st.MaxDelta == 0) {
		t.Fatalf("inconsistent stats %+v", st)
	}
	if !st.Bounds.In(image.Rect(0, 0, st.Width, st.Height)) && !st.Bounds.Empty() {
		t.Fatalf("bounds %v outside the image", st.Bounds)
	}
	back, _, err := DiffPNG(bytes.NewReader(b), bytes.NewReader(a))
	if err != nil || back != st {
		t.Fatalf("Diff(b, a) = %+v, %v; Diff(a, b) = %+v", back, err, st)
	}
	if bytes.Equal(a, b) && !st.Identical() {
		t.Fatalf("identical files differ: %+v", st)
	}
}

func FuzzDiffText(f *testing.F) {
	f.Add([]byte("a\nb\nc\n"), []byte("a\nB\nc"))
	f.Add([]byte(""), []byte("\n\n"))
	// The first 30 lines of each golden SVG; the whole goldens are regression cases
	// (TestFuzzChecksGoldens).
	for _, g := range goldenFiles(f, ".svg") {
		g = bytes.Join(bytes.SplitAfterN(g, []byte("\n"), 31)[:30], nil)
		f.Add(g, g)
		f.Add(g, bytes.Replace(g, []byte("<text"), []byte("<tex"), 3))
	}
	fuzzbound.Minimize(f)
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fuzzbound.Run(t, func() { checkDiffText(t, a, b) })
	})
}

// checkDiffText diffs two texts both ways and checks the statistics.
func checkDiffText(t *testing.T, a, b []byte) {
	st := DiffText(a, b)
	if st.Equal != bytes.Equal(a, b) {
		t.Fatalf("Equal = %v", st.Equal)
	}
	if st.Removed < 0 || st.Added < 0 || st.Removed > st.LinesA || st.Added > st.LinesB {
		t.Fatalf("inconsistent %+v", st)
	}
	if st.LinesA-st.Removed != st.LinesB-st.Added {
		t.Fatalf("kept lines differ: %+v", st)
	}
	if !st.Approximate && st.LinesA <= 40 && st.LinesB <= 40 {
		ids := map[string]int{}
		num := func(ls [][]byte) []int {
			var out []int
			for _, l := range ls {
				if _, ok := ids[string(l)]; !ok {
					ids[string(l)] = len(ids)
				}
				out = append(out, ids[string(l)])
			}
			return out
		}
		x, y := num(splitLines(a)), num(splitLines(b))
		if want := len(x) - lcs(x, y); st.Removed != want {
			t.Fatalf("Removed = %d, want %d (%+v)", st.Removed, want, st)
		}
	}
	back := DiffText(b, a)
	if back.Removed != st.Added || back.Added != st.Removed {
		t.Fatalf("DiffText(b, a) = %+v, DiffText(a, b) = %+v", back, st)
	}
}

// TestFuzzChecksGoldens runs the diff targets' checks on the whole golden figures.
func TestFuzzChecksGoldens(t *testing.T) {
	pngs, svgs := goldenFiles(t, ".png"), goldenFiles(t, ".svg")
	for i, g := range pngs {
		checkDiffPNG(t, g, g)
		checkDiffPNG(t, g, pngs[(i+1)%len(pngs)])
	}
	for _, g := range svgs {
		checkDiffText(t, g, g)
		checkDiffText(t, g, bytes.Replace(g, []byte("<text"), []byte("<tex"), 3))
	}
}

// FuzzBuilders feeds arbitrary values (including NaN, ±Inf, huge, tiny,
// negative) and options to every builder: each must return an error or a
// figure that renders without panicking. Input: a builder selector byte,
// an option byte, then little-endian float64 values.
func FuzzBuilders(f *testing.F) {
	enc := func(sel, opt byte, vs ...float64) []byte {
		out := []byte{sel, opt}
		for _, v := range vs {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
		return out
	}
	// 40 response-like values (the real responses, as seeds, made inputs of kilobytes whose
	// drawing and minimisation slowed the fuzzer to a crawl).
	ramp := make([]float64, 40)
	for i := range ramp {
		ramp[i] = math.Mod(float64(i)*0.37, 1.3) - 0.2
	}
	for sel := range byte(8) {
		f.Add(enc(sel, 0, 1, 2, 3, 4, 5, 6))
		f.Add(enc(sel, 0xFF, 1e-300, 1e-300, 1e300, 7, 0.5, -2))
		f.Add(enc(sel, 0x55, math.NaN(), 1, math.Inf(1), 0))
		f.Add(enc(sel, 0x0A, 5))
		f.Add(enc(sel, 0, ramp...))
		f.Add(enc(sel, 0x0F, ramp...))
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		if len(data) < 2 {
			return
		}
		sel, opt := data[0]%8, data[1]
		var vs []float64
		for b := data[2:]; len(b) >= 8 && len(vs) < 64; b = b[8:] {
			vs = append(vs, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		}
		bit := func(i uint) bool { return opt&(1<<i) != 0 }
		half := len(vs) / 2
		axes := Axes{LogX: bit(0), LogY: bit(1), XLabel: "x^{2}", YLabel: "y"}
		if bit(5) && len(vs) >= 2 {
			axes.YLim = Limits{vs[0], vs[1]}
		}
		var d Drawer
		var err error
		switch sel {
		case 0:
			p, perr := Scatter([]Series{{Label: "a", X: vs[:half], Y: vs[half : 2*half]}}, ScatterOptions{Axes: axes, Unity: bit(2), HLines: []RefLine{{Value: 1}}})
			if err = perr; err == nil {
				d = p
				if bit(3) {
					d = Square(p)
				}
			}
		case 1:
			third := len(vs) / 3
			s := Series{X: vs[:third], Y: vs[third : 2*third]}
			if bit(2) {
				s.YErr = vs[2*third : 3*third]
			} else {
				s.Lo, s.Hi = vs[2*third:3*third], vs[third:2*third]
			}
			d, err = Lines([]Series{s}, LineOptions{Axes: axes, NoMarkers: bit(3)})
		case 2:
			gs := []Group{{Label: "a", Values: vs[:half]}, {Label: "b", Values: vs[half:]}}
			d, err = Groups(gs, GroupOptions{Axes: Axes{LogY: bit(1), YLim: axes.YLim}, Style: GroupStyle(opt >> 6), ConnectMedians: bit(2), TiltLabels: bit(3), Seed: uint64(opt)})
		case 3:
			h := HistOptions{Bins: int(opt >> 4), Density: bit(2), Axes: Axes{XLabel: "r"}}
			if bit(3) && len(vs) >= 2 {
				h.Range = Limits{vs[0], vs[1]}
			}
			d, err = Histogram([]Distribution{{Values: vs[:half], Null: true}, {Label: "x", Values: vs[half:]}}, h)
		case 4:
			n := int(math.Sqrt(float64(len(vs))))
			m := make([][]float64, n)
			for i := range m {
				m[i] = vs[i*n : (i+1)*n]
			}
			d, err = Heatmap(m, HeatmapOptions{Diverging: bit(2), ColorBarLabel: "c"})
		case 5:
			img, ierr := Signed(vs, 1, len(vs), 1, 0)
			if ierr != nil {
				return
			}
			d, err = ImageGrid([]image.Image{img, img}, ImageGridOptions{Titles: []string{"a", "b"}})
		case 6:
			p, perr := Scatter([]Series{{X: vs[:half], Y: vs[half : 2*half]}}, ScatterOptions{Axes: axes})
			if perr != nil {
				return
			}
			d, err = Grid([]Drawer{p, nil, p}, GridOptions{Letters: true, ShareX: bit(2), ShareY: bit(3)})
		case 7:
			d, err = Lines([]Series{{X: vs[:half], Y: vs[half : 2*half]}}, LineOptions{Axes: axes, VLines: []RefLine{{Value: 2, Label: "v"}}})
		}
		if err != nil {
			return
		}
		// Small figures keep the fuzzer fast; sizes vary with the input. The builders draw the
		// same on every canvas, and rasterising (RenderPNG) costs eight times what SVG does,
		// so only one input in sixteen is also rendered to PNG.
		w := 40 + 2*float64(opt)
		if _, err := RenderSVG(d, vg.Length(w), 60); err != nil {
			t.Fatalf("builder %d accepted the input but rendering to SVG failed: %v", sel, err)
		}
		if len(data)%16 == 0 {
			if _, err := RenderPNG(d, vg.Length(w), 60); err != nil {
				t.Fatalf("builder %d accepted the input but rendering to PNG failed: %v", sel, err)
			}
		}
	})
}
