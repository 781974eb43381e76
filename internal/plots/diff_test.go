package plots

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// whiteImage returns a w×h opaque white NRGBA image.
func whiteImage(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	return img
}

func TestDiffKnownDifferences(t *testing.T) {
	a := whiteImage(10, 8)
	a.SetNRGBA(0, 0, color.NRGBA{A: 0xFF}) // black, the same in b
	b := whiteImage(10, 8)
	b.SetNRGBA(0, 0, color.NRGBA{A: 0xFF})
	b.SetNRGBA(3, 2, color.NRGBA{R: 245, G: 255, B: 255, A: 255}) // |Δ| 10
	b.SetNRGBA(7, 5, color.NRGBA{R: 255, G: 55, B: 255, A: 255})  // |Δ| 200
	st, d, err := Diff(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := DiffStats{Width: 10, Height: 8, Differing: 2, Fraction: 2.0 / 80, MaxDelta: 200, Bounds: image.Rect(3, 2, 8, 6)}
	if st != want {
		t.Errorf("stats %+v\nwant  %+v", st, want)
	}
	if st.Identical() {
		t.Errorf("Identical() with 2 differing pixels")
	}
	dn := d.(*image.NRGBA)
	for _, p := range []image.Point{{3, 2}, {7, 5}} {
		if got := dn.NRGBAAt(p.X, p.Y); got != DiffColor {
			t.Errorf("diff pixel %v = %v, want DiffColor", p, got)
		}
	}
	// The box two pixels out of Bounds: x 1..9, y 0..7.
	for _, p := range []image.Point{{1, 0}, {9, 0}, {1, 7}, {9, 7}, {5, 0}, {1, 4}} {
		if got := dn.NRGBAAt(p.X, p.Y); got != DiffBoxColor {
			t.Errorf("box pixel %v = %v, want DiffBoxColor", p, got)
		}
	}
	// Unchanged pixels are a dimmed A: black becomes light grey, white stays.
	if got := dn.NRGBAAt(0, 0); got != (color.NRGBA{R: 179, G: 179, B: 179, A: 255}) {
		t.Errorf("dimmed black = %v, want grey 179", got)
	}
	if got := dn.NRGBAAt(5, 3); got != (color.NRGBA{R: 255, G: 255, B: 255, A: 255}) {
		t.Errorf("dimmed white = %v, want white", got)
	}
	if !strings.Contains(st.String(), "2 differ") || !strings.Contains(st.String(), "x 3–7, y 2–5") {
		t.Errorf("String() = %q", st)
	}
}

func TestDiffIdentical(t *testing.T) {
	a := whiteImage(4, 3)
	st, d, err := Diff(a, whiteImage(4, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !st.Identical() || st.Differing != 0 || st.MaxDelta != 0 || !st.Bounds.Empty() || st.Fraction != 0 {
		t.Errorf("stats %+v, want identical", st)
	}
	if d.Bounds() != image.Rect(0, 0, 4, 3) {
		t.Errorf("diff image bounds %v", d.Bounds())
	}
	if !strings.Contains(st.String(), "identical") {
		t.Errorf("String() = %q", st)
	}
}

func TestDiffTypesAndOrigins(t *testing.T) {
	// The same picture as Gray with origin (5, 5) and as RGBA at (0, 0).
	g := image.NewGray(image.Rect(5, 5, 8, 7))
	r := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for y := range 2 {
		for x := range 3 {
			v := uint8(40*x + 90*y)
			g.SetGray(5+x, 5+y, color.Gray{Y: v})
			r.SetRGBA(x, y, color.RGBA{R: v, G: v, B: v, A: 255})
		}
	}
	st, _, err := Diff(g, r)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Identical() {
		t.Errorf("Gray and RGBA copies differ: %v", st)
	}
	// A sub-image keeps its own origin.
	big := whiteImage(6, 6)
	big.SetNRGBA(4, 4, color.NRGBA{A: 255})
	sub := big.SubImage(image.Rect(3, 3, 6, 6))
	st, _, err = Diff(sub, whiteImage(3, 3))
	if err != nil {
		t.Fatal(err)
	}
	if st.Differing != 1 || st.Bounds != image.Rect(1, 1, 2, 2) {
		t.Errorf("sub-image diff %+v, want one pixel at (1, 1)", st)
	}
	// Translucent premultiplied pixels compare as non-premultiplied.
	ta := image.NewRGBA(image.Rect(0, 0, 1, 1))
	ta.SetRGBA(0, 0, color.RGBA{R: 50, A: 100})
	tb := image.NewNRGBA(image.Rect(0, 0, 1, 1))
	tb.SetNRGBA(0, 0, color.NRGBAModel.Convert(color.RGBA{R: 50, A: 100}).(color.NRGBA))
	if st, _, err := Diff(ta, tb); err != nil || !st.Identical() {
		t.Errorf("premultiplied and straight alpha: %v, %v", st, err)
	}
}

func TestDiffErrors(t *testing.T) {
	if _, _, err := Diff(whiteImage(3, 3), whiteImage(3, 4)); err == nil || !strings.Contains(err.Error(), "sizes differ: 3×3 and 3×4") {
		t.Errorf("size mismatch: err = %v", err)
	}
	if _, _, err := Diff(nil, whiteImage(1, 1)); err == nil {
		t.Errorf("nil image: no error")
	}
	good := encodePNG(t, whiteImage(2, 2))
	for name, c := range map[string]struct {
		a, b []byte
		want string
	}{
		"empty":     {nil, good, "first image: decode png"},
		"truncated": {good, good[:len(good)/2], "second image: decode png"},
		"not png":   {[]byte("GIF89a"), good, "first image"},
		"too large": {hugePNGHeader(100000, 100000), good, "too large"},
	} {
		if _, _, err := DiffPNG(bytes.NewReader(c.a), bytes.NewReader(c.b)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func encodePNG(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// hugePNGHeader returns a PNG signature and a valid IHDR declaring a w×h
// RGBA image, and nothing else.
func hugePNGHeader(w, h uint32) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	chunk := make([]byte, 4+4+13+4)
	binary.BigEndian.PutUint32(chunk, 13)
	copy(chunk[4:], "IHDR")
	binary.BigEndian.PutUint32(chunk[8:], w)
	binary.BigEndian.PutUint32(chunk[12:], h)
	chunk[16], chunk[17] = 8, 6 // 8-bit RGBA
	binary.BigEndian.PutUint32(chunk[21:], crc32.ChecksumIEEE(chunk[4:21]))
	return append(out, chunk...)
}

func TestDiffFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := whiteImage(5, 5), whiteImage(5, 5)
	b.SetNRGBA(2, 2, color.NRGBA{R: 1, G: 255, B: 255, A: 255})
	pa, pb, out := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png"), filepath.Join(dir, "d.png")
	for p, img := range map[string]image.Image{pa: a, pb: b} {
		if err := os.WriteFile(p, encodePNG(t, img), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	st, err := DiffFiles(pa, pb, out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Differing != 1 || st.MaxDelta != 254 {
		t.Errorf("stats %+v, want 1 pixel, |Δ| 254", st)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := color.NRGBAModel.Convert(d.At(2, 2)); got != DiffColor {
		t.Errorf("diff file pixel = %v, want DiffColor", got)
	}
	if _, err := DiffFiles(pa, filepath.Join(dir, "missing.png"), ""); err == nil || !strings.Contains(err.Error(), "missing.png") {
		t.Errorf("missing file: err = %v", err)
	}
	small := filepath.Join(dir, "small.png")
	if err := os.WriteFile(small, encodePNG(t, whiteImage(4, 5)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := DiffFiles(pa, small, filepath.Join(dir, "never.png")); err == nil || !strings.Contains(err.Error(), "sizes differ") {
		t.Errorf("size mismatch: err = %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "never.png")); err == nil {
		t.Errorf("diff image written despite the error")
	}
}

func TestDiffText(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want TextDiffStats
	}{
		{"a\nb\nc\n", "a\nb\nc\n", TextDiffStats{LinesA: 3, LinesB: 3, Equal: true}},
		{"a\nb\nc\n", "a\nB\nc\n", TextDiffStats{LinesA: 3, LinesB: 3, Removed: 1, Added: 1}},
		{"a\nc\n", "a\nb\nc\n", TextDiffStats{LinesA: 2, LinesB: 3, Added: 1}},
		{"a\nb\nc\nd\n", "b\nd\n", TextDiffStats{LinesA: 4, LinesB: 2, Removed: 2}},
		{"", "x\ny\n", TextDiffStats{LinesB: 2, Added: 2}},
		{"a\nb", "a\nb\n", TextDiffStats{LinesA: 2, LinesB: 2}}, // only the final newline differs
		{"a\nb\n", "b\na\n", TextDiffStats{LinesA: 2, LinesB: 2, Removed: 1, Added: 1}},
	} {
		if got := DiffText([]byte(c.a), []byte(c.b)); got != c.want {
			t.Errorf("DiffText(%q, %q) = %+v, want %+v", c.a, c.b, got, c.want)
		}
	}
}

func TestDiffTextApproximate(t *testing.T) {
	var a, b strings.Builder
	for i := range maxEditDistance {
		fmt.Fprintf(&a, "a%d\n", i)
		fmt.Fprintf(&b, "b%d\n", i)
	}
	b.WriteString("a7\n") // one line in common
	got := DiffText([]byte(a.String()), []byte(b.String()))
	want := TextDiffStats{LinesA: maxEditDistance, LinesB: maxEditDistance + 1, Removed: maxEditDistance - 1, Added: maxEditDistance, Approximate: true}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if !strings.Contains(got.String(), "order ignored") {
		t.Errorf("String() = %q", got)
	}
}

// lcs is the textbook dynamic program, to check editDistance against.
func lcs(x, y []int) int {
	dp := make([][]int, len(x)+1)
	for i := range dp {
		dp[i] = make([]int, len(y)+1)
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			if x[i-1] == y[j-1] {
				dp[i][j] = dp[i-1][j-1] + 1
			} else {
				dp[i][j] = max(dp[i-1][j], dp[i][j-1])
			}
		}
	}
	return dp[len(x)][len(y)]
}

func TestEditDistanceMatchesLCS(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for range 500 {
		x := make([]int, r.IntN(12))
		y := make([]int, r.IntN(12))
		for i := range x {
			x[i] = r.IntN(4)
		}
		for i := range y {
			y[i] = r.IntN(4)
		}
		d, ok := editDistance(x, y, 100)
		if want := len(x) + len(y) - 2*lcs(x, y); !ok || d != want {
			t.Fatalf("editDistance(%v, %v) = %d, %v; want %d", x, y, d, ok, want)
		}
	}
	if _, ok := editDistance([]int{1, 2, 3}, []int{4, 5, 6}, 5); ok {
		t.Errorf("distance 6 within bound 5")
	}
}

func TestDiffTextFiles(t *testing.T) {
	dir := t.TempDir()
	pa, pb := filepath.Join(dir, "a.svg"), filepath.Join(dir, "b.svg")
	if err := os.WriteFile(pa, []byte("<svg>\n<a/>\n</svg>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pb, []byte("<svg>\n<b/>\n</svg>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := DiffTextFiles(pa, pb)
	if err != nil {
		t.Fatal(err)
	}
	if st.Removed != 1 || st.Added != 1 {
		t.Errorf("stats %+v", st)
	}
	if _, err := DiffTextFiles(pa, filepath.Join(dir, "none.svg")); err == nil {
		t.Errorf("missing file: no error")
	}
}

// TestDiffOfRenderedFigures diffs two real figures that differ in one
// data point: few pixels change, inside the data area.
func TestDiffOfRenderedFigures(t *testing.T) {
	s1 := []Series{{X: []float64{0, 1, 2, 3}, Y: []float64{0, 1, 4, 9}}}
	s2 := []Series{{X: []float64{0, 1, 2, 3}, Y: []float64{0, 1, 4.5, 9}}}
	p1, err := Scatter(s1, ScatterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := Scatter(s2, ScatterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	png1, svg1, err := Render(p1, 150, 100)
	if err != nil {
		t.Fatal(err)
	}
	png2, svg2, err := Render(p2, 150, 100)
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := DiffPNG(bytes.NewReader(png1), bytes.NewReader(png2))
	if err != nil {
		t.Fatal(err)
	}
	if st.Identical() || st.Fraction > 0.02 {
		t.Errorf("stats %v: want a few differing pixels", st)
	}
	if ts := DiffText(svg1, svg2); ts.Equal || ts.Removed != 1 || ts.Added != 1 {
		t.Errorf("SVG diff %v: want the one moved marker", ts)
	}
}
