package artificial

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/model"
)

var update = flag.Bool("update", false, "rewrite the goldens in testdata")

func dot(r, x, y float64, pol int) Stimulus {
	return Stimulus{Kind: Dot, Radius: r, Number: 1, Layout: Grid, X: x, Y: y, Polarity: pol, Contrast: 1, Color: "achromatic"}
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

func TestBackgroundIsNearestToZero(t *testing.T) {
	bg := Background()
	if bg != [3]uint8{116, 109, 100} {
		t.Fatalf("background %v, want (116, 109, 100)", bg)
	}
	for c := range 3 {
		if d := math.Abs(float64(bg[c]) - model.MeanPixel[c]); d >= 0.5 {
			t.Errorf("channel %d: the model sees the background as %v", c, -d)
		}
	}
	px, err := dot(2, 56, 56, 1).Render()
	if err != nil {
		t.Fatal(err)
	}
	for c := range 3 { // the corner pixel is background
		if px[c] != bg[c] {
			t.Errorf("corner channel %d = %d, want %d", c, px[c], bg[c])
		}
	}
}

// TestCoverageKnownAnswers checks shapes whose pixel coverage is known in closed form.
func TestCoverageKnownAnswers(t *testing.T) {
	cases := []struct {
		name       string
		s          Stimulus
		full, part int     // pixels entirely and partly inside
		area       float64 // sum of coverage
	}{
		// A horizontal bar 10 × 4 centred at (56, 56) covers x ∈ [51, 61], y ∈ [54, 58].
		{"bar 10x4", Stimulus{Kind: Bar, Length: 10, Width: 4, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}, 40, 0, 40},
		// The same bar at 90° is 4 wide and 10 high.
		{"bar 10x4 vertical", Stimulus{Kind: Bar, Length: 10, Width: 4, Orientation: 90, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}, 40, 0, 40},
		// An edge facing right through x = 56 covers the right half.
		{"edge right", Stimulus{Kind: Edge, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}, 56 * 112, 0, 56 * 112},
		// A disc of radius 0.5 centred in pixel (56, 56): of its 16 sample points, the 4 at
		// (±1/8, ±1/8) and the 8 at (±1/8, ±3/8) or (±3/8, ±1/8) lie within 0.5, the 4 at
		// (±3/8, ±3/8) (distance 0.53) do not.
		{"disc r0.5", dot(0.5, 56.5, 56.5, 1), 0, 1, 0.75},
		// A disc of radius 80 centred at (56, 56) reaches every corner (distance 79.2).
		{"full field", Stimulus{Kind: Disc, Radius: 80, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}, 112 * 112, 0, 112 * 112},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cov, err := c.s.Coverage()
			if err != nil {
				t.Fatal(err)
			}
			full, part := 0, 0
			for _, m := range cov {
				switch {
				case m == 1:
					full++
				case m > 0:
					part++
				}
			}
			if full != c.full || part != c.part || sum(cov) != c.area {
				t.Errorf("full %d, partial %d, area %v; want %d, %d, %v", full, part, sum(cov), c.full, c.part, c.area)
			}
		})
	}
}

// TestDiscArea checks the area of discs against πr² (the 16-point sampling errs by less than
// the perimeter times a sample spacing).
func TestDiscArea(t *testing.T) {
	for _, r := range []float64{2, 4, 10, 30} {
		cov, err := dot(r, 56, 56, 1).Coverage()
		if err != nil {
			t.Fatal(err)
		}
		want := math.Pi * r * r
		if got := sum(cov); math.Abs(got-want) > 2*math.Pi*r/4 {
			t.Errorf("radius %v: area %v, want %v", r, got, want)
		}
	}
}

func flipH(px []uint8) []uint8 {
	out := make([]uint8, len(px))
	for i := range Size {
		for j := range Size {
			copy(out[3*(i*Size+j):3*(i*Size+j)+3], px[3*(i*Size+Size-1-j):3*(i*Size+Size-1-j)+3])
		}
	}
	return out
}

func flipV(px []uint8) []uint8 {
	out := make([]uint8, len(px))
	for i := range Size {
		copy(out[3*i*Size:3*(i+1)*Size], px[3*(Size-1-i)*Size:3*(Size-i)*Size])
	}
	return out
}

func transpose(px []uint8) []uint8 {
	out := make([]uint8, len(px))
	for i := range Size {
		for j := range Size {
			copy(out[3*(i*Size+j):3*(i*Size+j)+3], px[3*(j*Size+i):3*(j*Size+i)+3])
		}
	}
	return out
}

func render(t *testing.T, s Stimulus) []uint8 {
	t.Helper()
	px, err := s.Render()
	if err != nil {
		t.Fatal(err)
	}
	return px
}

func TestSymmetry(t *testing.T) {
	for _, s := range []Stimulus{
		dot(3, 56, 56, 1), dot(7.5, 56, 56, -1),
		{Kind: Ring, Radius: 8, Width: 2, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"},
		{Kind: Dot, Radius: 2, Number: 9, Spacing: 10, Layout: Grid, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "red"},
	} {
		px := render(t, s)
		for name, f := range map[string]func([]uint8) []uint8{"horizontal flip": flipH, "vertical flip": flipV, "transpose": transpose} {
			if !bytes.Equal(f(px), px) {
				t.Errorf("%s r=%v n=%d: not invariant under %s", s.Kind, s.Radius, s.Number, name)
			}
		}
	}
	bar := Stimulus{Kind: Bar, Length: 16, Width: 4, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}
	vert := bar
	vert.Orientation = 90
	if !bytes.Equal(transpose(render(t, bar)), render(t, vert)) {
		t.Error("a bar at 90° is not the transpose of the bar at 0°")
	}
	edge := Stimulus{Kind: Edge, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}
	left := edge
	left.Orientation = 180
	if !bytes.Equal(flipH(render(t, edge)), render(t, left)) {
		t.Error("the edge facing 180° is not the mirror of the edge facing 0°")
	}
	up := edge
	up.Orientation = 90
	px := render(t, up)
	if px[3*(10*Size+56)] == Background()[0] || px[3*(100*Size+56)] != Background()[0] {
		t.Error("the edge facing 90° does not cover the upper half")
	}
}

func TestPolarity(t *testing.T) {
	bg := Background()
	for _, s := range []Stimulus{
		dot(2.5, 40.3, 61.7, 1),
		{Kind: Grating, Period: 9, Orientation: 30, Phase: 45, X: 56, Y: 56, Polarity: 1, Contrast: 0.7, Color: "achromatic"},
		{Kind: Curve, Radius: 10, Width: 2, Extent: 120, Orientation: 45, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "blue"},
	} {
		dark := s
		dark.Polarity = -1
		b, d := render(t, s), render(t, dark)
		for i := range b {
			if int(b[i])-int(bg[i%3]) != int(bg[i%3])-int(d[i]) {
				t.Fatalf("%s: value %d bright %d, dark %d: not mirrored about %d", s.Kind, i, b[i], d[i], bg[i%3])
			}
		}
	}
	// Full-contrast achromatic dots are (2·bg) bright and black dark at their centre; a red dot
	// raises red to 2·bg and takes green and blue to 0.
	centre := 3 * (56*Size + 56)
	for _, c := range []struct {
		s    Stimulus
		want [3]uint8
	}{
		{dot(4, 56, 56, 1), [3]uint8{232, 218, 200}},
		{dot(4, 56, 56, -1), [3]uint8{0, 0, 0}},
		{func() Stimulus { s := dot(4, 56, 56, 1); s.Color = "red"; return s }(), [3]uint8{232, 0, 0}},
		{func() Stimulus { s := dot(4, 56, 56, -1); s.Color = "red"; return s }(), [3]uint8{0, 218, 200}},
		{func() Stimulus { s := dot(4, 56, 56, 1); s.Contrast = 0.5; return s }(), [3]uint8{174, 164, 150}},
	} {
		px := render(t, c.s)
		if got := [3]uint8(px[centre : centre+3]); got != c.want {
			t.Errorf("%s polarity %d contrast %v: centre %v, want %v", c.s.Color, c.s.Polarity, c.s.Contrast, got, c.want)
		}
	}
}

func TestNumberAndPosition(t *testing.T) {
	one, err := dot(2, 56, 56, 1).Coverage()
	if err != nil {
		t.Fatal(err)
	}
	four := dot(2, 56, 56, 1)
	four.Number, four.Spacing = 4, 10
	cov, err := four.Coverage()
	if err != nil {
		t.Fatal(err)
	}
	if sum(cov) != 4*sum(one) {
		t.Errorf("four dots cover %v, want 4 × %v", sum(cov), sum(one))
	}
	// Moving a dot by whole pixels moves its image.
	moved, err := dot(2, 56+7, 56-3, 1).Coverage()
	if err != nil {
		t.Fatal(err)
	}
	for i := range Size {
		for j := range Size {
			si, sj := i+3, j-7
			want := 0.0
			if si >= 0 && si < Size && sj >= 0 && sj < Size {
				want = one[si*Size+sj]
			}
			if moved[i*Size+j] != want {
				t.Fatalf("pixel (%d, %d) = %v, want %v", i, j, moved[i*Size+j], want)
			}
		}
	}
	// A random layout keeps its discs apart and inside, and depends only on its seed.
	r := Stimulus{Kind: Dot, Radius: 3, Number: 16, Spacing: 9, Layout: Random, Spread: 64, Seed: 7, X: 56, Y: 56, Polarity: 1, Contrast: 1, Color: "achromatic"}
	cs, err := r.Centres()
	if err != nil {
		t.Fatal(err)
	}
	for a := range cs {
		for b := range a {
			if d := math.Hypot(cs[a][0]-cs[b][0], cs[a][1]-cs[b][1]); d < 9 {
				t.Errorf("dots %d and %d are %v apart", a, b, d)
			}
		}
	}
	again, _ := r.Centres()
	r.Seed = 8
	other, _ := r.Centres()
	if cs[0] != again[0] || cs[0] == other[0] {
		t.Error("random centres do not follow the seed")
	}
}

func TestValidate(t *testing.T) {
	good := dot(3, 56, 56, 1)
	cases := []struct {
		name string
		edit func(*Stimulus)
		want string
	}{
		{"radius zero", func(s *Stimulus) { s.Radius = 0 }, "radius"},
		{"radius NaN", func(s *Stimulus) { s.Radius = math.NaN() }, "radius"},
		{"polarity", func(s *Stimulus) { s.Polarity = 0 }, "polarity"},
		{"contrast", func(s *Stimulus) { s.Contrast = 1.5 }, "contrast"},
		{"colour", func(s *Stimulus) { s.Color = "purple" }, "colour"},
		{"outside", func(s *Stimulus) { s.X = 120 }, "x"},
		{"leaves image", func(s *Stimulus) { s.X = 1 }, "leaves"},
		{"number", func(s *Stimulus) { s.Number = 0 }, "number"},
		{"overlap", func(s *Stimulus) { s.Number, s.Spacing = 4, 5 }, "overlap"},
		{"layout", func(s *Stimulus) { s.Layout = "spiral" }, "layout"},
		{"unused field", func(s *Stimulus) { s.Period = 8 }, "period"},
		{"kind", func(s *Stimulus) { s.Kind = "star" }, "kind"},
		{"unplaceable", func(s *Stimulus) { s.Number, s.Layout, s.Spread, s.Spacing = 30, Random, 10, 8 }, "no place"},
		{"orientation", func(s *Stimulus) {
			s.Kind, s.Radius, s.Number, s.Layout, s.Length, s.Width, s.Orientation = Bar, 0, 0, "", 8, 2, 360
		}, "orientation"},
		{"ring width", func(s *Stimulus) { s.Kind, s.Number, s.Layout, s.Width = Ring, 0, "", 4 }, "width"},
		{"grating period", func(s *Stimulus) { s.Kind, s.Radius, s.Number, s.Layout, s.Period = Grating, 0, 0, "", 1 }, "period"},
	}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		s := good
		c.edit(&s)
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
		if _, rerr := s.Render(); rerr == nil {
			t.Errorf("%s: rendered", c.name)
		}
	}
}

func TestStandardSet(t *testing.T) {
	set, err := Standard(1)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	dots := 0
	for _, s := range set {
		counts[s.Family]++
		if s.IsDot() {
			dots++
		}
	}
	for fam, want := range map[string]int{"size": 22, "position": 50, "contrast": 4, "colour": 24, "disc": 12, "ring": 12, "bar": 64, "edge": 8, "grating": 24, "curve": 16, "scatter": 24} {
		if counts[fam] != want {
			t.Errorf("family %s: %d stimuli, want %d", fam, counts[fam], want)
		}
	}
	if dots+counts["disc"]+counts["ring"]+counts["bar"]+counts["edge"]+counts["grating"]+counts["curve"] != len(set) {
		t.Errorf("%d dots and controls, %d stimuli", dots, len(set))
	}
	other, err := Standard(2)
	if err != nil {
		t.Fatal(err)
	}
	same, _ := Standard(1)
	diff := 0
	for i := range set {
		if set[i] != same[i] {
			t.Fatalf("stimulus %d differs between two calls with the same seed", i)
		}
		if set[i] != other[i] {
			diff++
		}
	}
	if diff != counts["scatter"] {
		t.Errorf("%d stimuli depend on the seed, want the %d scattered ones", diff, counts["scatter"])
	}
}

// TestZipGolden writes the standard set twice (same bytes), checks the archive's entries and
// PNGs, and compares the parameter table and a hash of the pixels with testdata goldens.
func TestZipGolden(t *testing.T) {
	set, err := Standard(1)
	if err != nil {
		t.Fatal(err)
	}
	var a, b bytes.Buffer
	if err := WriteZip(&a, set); err != nil {
		t.Fatal(err)
	}
	if err := WriteZip(&b, set); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of the same set differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != len(set)+1 || zr.File[len(set)].Name != "stimuli.csv" {
		t.Fatalf("%d entries, want %d PNGs and stimuli.csv", len(zr.File), len(set))
	}
	pix, err := RenderAll(set)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{0, len(set) / 2, len(set) - 1} {
		f, err := zr.File[i].Open()
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for p := range Size * Size {
			r, g, bl, _ := img.At(p%Size, p/Size).RGBA()
			got := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}
			off := (i*Size*Size + p) * 3
			if got != [3]uint8(pix[off:off+3]) {
				t.Fatalf("%s pixel %d: PNG %v, rendered %v", zr.File[i].Name, p, got, pix[off:off+3])
			}
		}
	}
	var table bytes.Buffer
	if err := WriteCSV(&table, set); err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256(pix)
	golden := table.String() + "# sha256 of the pixels: " + hex.EncodeToString(h[:]) + "\n"
	path := filepath.Join("testdata", "standard.csv")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(golden), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != golden {
		t.Errorf("the standard set differs from %s (run with -update if the change is intended)", path)
	}
}

// TestOverlay draws a dark dot and a dark bar through it: inside either shape the pixel is
// the darker of the two renderings, elsewhere the background; one stimulus alone is its Render.
func TestOverlay(t *testing.T) {
	dot := Stimulus{Family: "size", Kind: Dot, X: 56, Y: 56, Radius: 5, Number: 1, Layout: Grid, Polarity: -1, Contrast: 1, Color: "achromatic"}
	bar := Stimulus{Family: "bar", Kind: Bar, X: 56, Y: 56, Length: 112, Width: 2, Orientation: 45, Polarity: -1, Contrast: 1, Color: "achromatic"}
	d, err := dot.Render()
	if err != nil {
		t.Fatal(err)
	}
	b, err := bar.Render()
	if err != nil {
		t.Fatal(err)
	}
	one, err := Overlay(dot)
	if err != nil || !bytes.Equal(one, d) {
		t.Fatalf("overlay of one stimulus differs from its rendering (%v)", err)
	}
	both, err := Overlay(dot, bar)
	if err != nil {
		t.Fatal(err)
	}
	rev, err := Overlay(bar, dot)
	if err != nil || !bytes.Equal(both, rev) {
		t.Fatalf("overlay depends on the order (%v)", err)
	}
	for p := range both {
		if want := min(d[p], b[p]); both[p] != want {
			t.Fatalf("pixel value %d: %d, want %d", p, both[p], want)
		}
	}
	bad := dot
	bad.Radius = -1
	if _, err := Overlay(dot, bad); err == nil || !strings.Contains(err.Error(), "stimulus 1") {
		t.Errorf("a stimulus out of range: error %v", err)
	}
	if _, err := Overlay(); err == nil {
		t.Error("an empty overlay was accepted")
	}
}
