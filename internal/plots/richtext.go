package plots

import (
	"math"
	"strings"

	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// richText is the text handler of every figure: gonum's plain text plus
// superscripts written "^{...}" ("10^{−3}", "spikes s^{−1}"), set at
// supScale of the size and raised by supRise of the size. (Liberation Sans
// lacks the Unicode superscripts ⁰ and ⁹, and gonum's LaTeX handler has
// no superscripts.) Text without "^{" is drawn exactly as text.Plain
// draws it.
type richText struct {
	text.Plain
}

const (
	supScale = 0.7
	supRise  = 0.38
)

// segment is a run of text, superscript or not.
type segment struct {
	s   string
	sup bool
}

// segments splits a line at "^{...}"; an unclosed "^{" is literal text.
func segments(line string) []segment {
	var out []segment
	for {
		i := strings.Index(line, "^{")
		if i < 0 {
			break
		}
		j := strings.IndexByte(line[i+2:], '}')
		if j < 0 {
			break
		}
		if i > 0 {
			out = append(out, segment{s: line[:i]})
		}
		out = append(out, segment{s: line[i+2 : i+2+j], sup: true})
		line = line[i+2+j+1:]
	}
	if line != "" {
		out = append(out, segment{s: line})
	}
	return out
}

// supFont returns the superscript font for fnt.
func supFont(fnt font.Font) font.Font {
	fnt.Size *= supScale
	return fnt
}

// width returns the width of a line.
func (h richText) width(line string, fnt font.Font) vg.Length {
	var w vg.Length
	for _, s := range segments(line) {
		f := fnt
		if s.sup {
			f = supFont(fnt)
		}
		face := h.Fonts.Lookup(f, f.Size)
		w += face.Width(s.s)
	}
	return w
}

// Box implements text.Handler.
func (h richText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	if !strings.Contains(txt, "^{") {
		return h.Plain.Box(txt, fnt)
	}
	_, height, depth = h.Plain.Box("", fnt)
	return h.width(txt, fnt), height, depth
}

// Draw implements text.Handler, following text.Plain.Draw.
func (h richText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	if !strings.Contains(txt, "^{") {
		h.Plain.Draw(c, txt, sty, pt)
		return
	}
	txt = strings.TrimRight(txt, "\n")
	if len(txt) == 0 {
		return
	}
	fnt := h.Fonts.Lookup(sty.Font, sty.Font.Size)
	sf := supFont(sty.Font)
	sup := h.Fonts.Lookup(sf, sf.Size)
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
	}
	sin64, cos64 := math.Sincos(sty.Rotation)
	cos, sin := vg.Length(cos64), vg.Length(sin64)
	pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin

	lines := h.Lines(txt)
	ht := sty.Height(txt)
	pt.Y += ht*vg.Length(sty.YAlign) - fnt.Extents().Ascent
	for i, line := range lines {
		x := vg.Length(sty.XAlign) * h.width(line, sty.Font)
		n := vg.Length(len(lines) - i)
		base := pt.Add(vg.Point{X: x, Y: n * sty.Font.Size})
		for _, s := range segments(line) {
			if s.sup {
				c.FillString(sup, base.Add(vg.Point{Y: sty.Font.Size * supRise}), s.s)
				base.X += sup.Width(s.s)
				continue
			}
			c.FillString(fnt, base, s.s)
			base.X += fnt.Width(s.s)
		}
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}
