package plots

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/font/liberation"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// DPI is the resolution of every PNG figure, in dots per inch.
const DPI = 150

// Figure widths of Nature's layout.
const (
	// SingleColumn is the width of a one-column figure (89 mm).
	SingleColumn = 89 * vg.Millimeter
	// DoubleColumn is the width of a two-column figure (183 mm).
	DoubleColumn = 183 * vg.Millimeter
)

// Type sizes (vg.Length is in points).
const (
	// LabelSize is the size of axis labels, legends and panel titles.
	LabelSize vg.Length = 7
	// TickSize is the size of tick labels and small annotations.
	TickSize vg.Length = 6
	// LetterSize is the size of the bold panel letters (a, b, c...).
	LetterSize vg.Length = 8
)

// Line widths and marker sizes (vg.Length is in points).
const (
	// AxisWidth is the width of axis lines and ticks.
	AxisWidth vg.Length = 0.5
	// LineWidth is the width of data lines.
	LineWidth vg.Length = 1
	// RefWidth is the width of reference lines (unity, chance, ceilings).
	RefWidth vg.Length = 0.6
	// MarkerRadius is the radius of data markers.
	MarkerRadius vg.Length = 1.6
	// TickLength is the length of major ticks (minor ticks are half).
	TickLength vg.Length = 2.5
)

// NumColors is the number of colours of the palette (see Color).
const NumColors = len(palette)

// palette is the Okabe–Ito colour-blind-safe palette in the fixed order in
// which series take their colours. It is unexported so that no package can
// change everyone's figures by assigning to it.
var palette = [...]color.NRGBA{
	{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF}, // blue
	{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF}, // vermillion
	{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}, // bluish green
	{R: 0xE6, G: 0x9F, B: 0x00, A: 0xFF}, // orange
	{R: 0xCC, G: 0x79, B: 0xA7, A: 0xFF}, // reddish purple
	{R: 0x56, G: 0xB4, B: 0xE9, A: 0xFF}, // sky blue
	{R: 0xF0, G: 0xE4, B: 0x42, A: 0xFF}, // yellow
	{R: 0x00, G: 0x00, B: 0x00, A: 0xFF}, // black
}

// Neutral colours for text, reference lines and null distributions.
var (
	// Black is the colour of text and axes.
	Black = color.NRGBA{A: 0xFF}
	// Grey is the colour of reference lines and null distributions.
	Grey = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xFF}
	// LightGrey fills null distributions and missing heatmap cells.
	LightGrey = color.NRGBA{R: 0xD0, G: 0xD0, B: 0xD0, A: 0xFF}
)

// Color returns the colour of series i from the Okabe–Ito colour-blind-safe
// palette, in a fixed order that repeats every NumColors: blue #0072B2,
// vermillion #D55E00, bluish green #009E73, orange #E69F00, reddish purple
// #CC79A7, sky blue #56B4E9, yellow #F0E442, black #000000.
func Color(i int) color.NRGBA {
	n := len(palette)
	return palette[((i%n)+n)%n]
}

// withAlpha returns c with opacity a in [0, 1] (never fully transparent:
// gonum/plot's SVG writer divides by alpha).
func withAlpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(math.Max(1, math.Min(255, math.Round(a*255))))
	return c
}

// Marker returns the marker shape of series i; shapes repeat every 6
// series and change in the same order as colours, so that series stay
// distinguishable in greyscale.
func Marker(i int) draw.GlyphDrawer {
	shapes := [...]draw.GlyphDrawer{
		draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{},
		diamondGlyph{}, draw.RingGlyph{}, draw.SquareGlyph{},
	}
	n := len(shapes)
	return shapes[((i%n)+n)%n]
}

// diamondGlyph is a filled diamond (a square turned by 45°) of the same
// area as a BoxGlyph.
type diamondGlyph struct{}

// DrawGlyph implements draw.GlyphDrawer.
func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(0.5)})
	r := sty.Radius * math.Sqrt2
	var p vg.Path
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	p.Close()
	c.Fill(p)
}

// fonts is a private font cache holding only the Liberation fonts compiled
// into gonum/plot, so that package-level defaults set by other packages
// cannot change our figures.
var (
	fonts   = font.NewCache(liberation.Collection())
	handler = richText{text.Plain{Fonts: fonts}}
)

// sansFont returns Liberation Sans at the given size, bold or regular.
func sansFont(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		// golang.org/x/image/font.WeightBold, not imported so that go.mod
		// needs no direct requirement on x/image.
		f.Weight = 3
	}
	return f
}

// TextStyle returns the house text style at the given size: Liberation Sans,
// black, centred horizontally and vertically on its anchor point. Text in
// this style (and every label of the figures built here) may contain
// superscripts written "^{...}", as in "spikes s^{−1}".
func TextStyle(size vg.Length, bold bool) text.Style {
	return text.Style{
		Color:   Black,
		Font:    sansFont(size, bold),
		XAlign:  draw.XCenter,
		YAlign:  draw.YCenter,
		Handler: handler,
	}
}

// NewPlot returns an empty plot in the house style: Liberation Sans, thin
// axes with outward ticks, house tick labels (true minus signs, no "-0"),
// and a frameless legend in the top-left corner. Builders start from it;
// experiments that need a figure type not offered here should too.
func NewPlot() *plot.Plot {
	p := plot.New()
	p.TextHandler = handler
	p.BackgroundColor = color.White

	p.Title.TextStyle = TextStyle(LabelSize, false)
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = vg.Points(4)

	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle = TextStyle(LabelSize, false)
		ax.Label.TextStyle.YAlign = draw.YBottom
		ax.Label.Padding = vg.Points(2)
		ax.LineStyle = draw.LineStyle{Color: Black, Width: AxisWidth}
		ax.Padding = vg.Points(3)
		ax.Tick.LineStyle = draw.LineStyle{Color: Black, Width: AxisWidth}
		ax.Tick.Length = TickLength
		ax.Tick.Marker = linearTicks{}
		ax.Tick.Label = TextStyle(TickSize, false)
	}
	p.X.Tick.Label.YAlign = draw.YTop
	p.Y.Tick.Label.XAlign = draw.XRight

	p.Legend = plot.NewLegend()
	p.Legend.TextStyle = TextStyle(TickSize, false)
	p.Legend.TextStyle.XAlign = draw.XLeft // gonum's legend aligns from the bottom left
	p.Legend.TextStyle.YAlign = draw.YBottom
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.ThumbnailWidth = vg.Points(10)
	p.Legend.Padding = vg.Points(1)
	p.Legend.XOffs = vg.Points(4)
	return p
}

// linearTicks are gonum's default ticks with typographic labels.
type linearTicks struct{}

// Ticks implements plot.Ticker.
func (linearTicks) Ticks(min, max float64) []plot.Tick {
	// gonum's DefaultTicks panics on an empty range and can loop without
	// end when the tick step underflows; builders never give such ranges,
	// but a caller-modified plot might.
	scale := math.Max(math.Abs(min), math.Abs(max))
	if !(max > min) || math.IsInf(max-min, 0) || max-min <= 1e-12*scale || max-min < 1e-290 {
		return nil
	}
	ts := plot.DefaultTicks{}.Ticks(min, max)
	// gonum formats some tick sets with spare zeros ("0.00, 2.50, 5.00"):
	// use the fewest decimals that still tell every label exactly.
	var vals []float64
	for _, t := range ts {
		if t.Label != "" {
			vals = append(vals, t.Value)
		}
	}
	if d, ok := decimals(vals); ok {
		for i := range ts {
			if ts[i].Label != "" {
				ts[i].Label = strconv.FormatFloat(ts[i].Value, 'f', d, 64)
			}
		}
	}
	for i := range ts {
		ts[i].Label = typoNumber(ts[i].Label)
	}
	return ts
}

// decimals returns the fewest decimals (at most 6) with which every value
// in vs prints exactly, to 1e-9 relative; false when there is none or
// the values are so large or small that gonum's exponent format is better.
func decimals(vs []float64) (int, bool) {
	var scale float64
	for _, v := range vs {
		scale = math.Max(scale, math.Abs(v))
	}
	if len(vs) == 0 || scale >= 1e6 || scale < 1e-4 {
		return 0, false
	}
	for d := 0; d <= 6; d++ {
		ok := true
		for _, v := range vs {
			r, err := strconv.ParseFloat(strconv.FormatFloat(v, 'f', d, 64), 64)
			if err != nil || math.Abs(r-v) > 1e-9*scale {
				ok = false
				break
			}
		}
		if ok {
			return d, true
		}
	}
	return 0, false
}

// typoNumber rewrites a formatted number for print: "-0"-like labels become
// "0" and a leading hyphen becomes a true minus sign.
func typoNumber(s string) string {
	if s == "" {
		return s
	}
	if strings.HasPrefix(s, "-") {
		if v, err := strconv.ParseFloat(s, 64); err == nil && v == 0 {
			return s[1:]
		}
		return "\u2212" + s[1:]
	}
	return s
}

// logTicks labels the powers of ten of a log axis, with minor ticks at 2–9
// times each power when the axis spans few decades. When fewer than two
// powers of ten fall inside the range, 1–2–5 multiples are labelled too.
type logTicks struct{}

// Ticks implements plot.Ticker.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max > min) || math.IsInf(max, 0) {
		return nil
	}
	lo := int(math.Floor(math.Log10(min)))
	hi := int(math.Ceil(math.Log10(max)))
	decades := hi - lo
	step := 1 // label every step-th power of ten
	for decades/step > 6 {
		step++
	}
	in := func(v float64) bool { return v >= min*(1-1e-9) && v <= max*(1+1e-9) }
	labelled := 0
	for e := lo; e <= hi; e++ {
		if in(math.Pow10(e)) && e%step == 0 {
			labelled++
		}
	}
	plain := lo >= -3 && hi <= 5
	var ts []plot.Tick
	for e := lo; e <= hi; e++ {
		dec := math.Pow10(e)
		for m := 1; m <= 9; m++ {
			v := float64(m) * dec
			if !in(v) {
				continue
			}
			t := plot.Tick{Value: v}
			switch {
			case m == 1 && e%step == 0:
				t.Label = logLabel(e, plain)
			case labelled < 2 && (m == 2 || m == 5):
				t.Label = plainNumber(v)
			case decades > 4 && m != 1:
				continue // too dense: no minor ticks
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// log10Ticks are logTicks for an axis whose coordinates are log10 of the
// data (see coord).
type log10Ticks struct{}

// Ticks implements plot.Ticker.
func (log10Ticks) Ticks(min, max float64) []plot.Tick {
	ts := logTicks{}.Ticks(math.Pow(10, min), math.Pow(10, max))
	for i := range ts {
		ts[i].Value = math.Log10(ts[i].Value)
	}
	return ts
}

// logLabel formats 10^e as a plain number when plain, else as "10" with a
// superscript exponent.
func logLabel(e int, plain bool) string {
	if plain {
		return plainNumber(math.Pow10(e))
	}
	return "10^{" + typoNumber(strconv.Itoa(e)) + "}"
}

// plainNumber formats v with thousands separators ("10,000", "0.01").
func plainNumber(v float64) string {
	s := strconv.FormatFloat(v, 'f', -1, 64)
	intPart, frac, _ := strings.Cut(s, ".")
	if len(intPart) > 4 {
		var b strings.Builder
		for i, r := range intPart {
			if i > 0 && (len(intPart)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(r)
		}
		intPart = b.String()
	}
	if frac != "" {
		return intPart + "." + frac
	}
	return intPart
}
