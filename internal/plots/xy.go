package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one set of x–y points: a scatter cloud or a line. Series i
// takes Color(i) and Marker(i).
type Series struct {
	// Label names the series in the legend; unlabelled series get no entry.
	Label string
	// X and Y are the coordinates; they must have the same length.
	X, Y []float64
	// YErr, if not nil, draws symmetric error bars Y[i] ± YErr[i]
	// (e.g. s.e.m.); YErr[i] must be ≥ 0.
	YErr []float64
	// ErrLo and ErrHi, if not nil, draw error bars from ErrLo[i] to ErrHi[i]
	// (e.g. a bootstrap interval around a median), ErrLo[i] ≤ Y[i] ≤
	// ErrHi[i]; not with YErr.
	ErrLo, ErrHi []float64
	// Lo and Hi, if not nil, shade a band from Lo[i] to Hi[i] behind the
	// series (e.g. a 95% confidence interval); Lo[i] ≤ Hi[i].
	Lo, Hi []float64
}

// plotSeries is a validated Series in plot coordinates (see coord).
type plotSeries struct {
	x, y           []float64
	errLo, errHi   []float64 // distances below and above y; nil without YErr or ErrLo
	bandLo, bandHi []float64 // nil without a band
}

// check validates series i for the given axes, maps it to plot
// coordinates, and adds its extent to xr and yr.
func (s Series) check(i int, a Axes, xr, yr *dataRange) (plotSeries, error) {
	if err := s.validate(i, a); err != nil {
		return plotSeries{}, err
	}
	var ps plotSeries
	cx, cy := coord(a.LogX), coord(a.LogY)
	ps.x, ps.y = cx.all(s.X), cy.all(s.Y)
	xr.add(ps.x...)
	yr.add(ps.y...)
	if s.YErr != nil {
		ps.errLo = make([]float64, len(s.Y))
		ps.errHi = make([]float64, len(s.Y))
		for j, e := range s.YErr {
			lo, hi := cy.of(s.Y[j]-e), cy.of(s.Y[j]+e)
			ps.errLo[j], ps.errHi[j] = ps.y[j]-lo, hi-ps.y[j]
			yr.add(lo, hi)
		}
	}
	if s.ErrLo != nil {
		lo, hi := cy.all(s.ErrLo), cy.all(s.ErrHi)
		ps.errLo = make([]float64, len(s.Y))
		ps.errHi = make([]float64, len(s.Y))
		for j := range s.Y {
			ps.errLo[j], ps.errHi[j] = ps.y[j]-lo[j], hi[j]-ps.y[j]
		}
		yr.add(lo...)
		yr.add(hi...)
	}
	if s.Lo != nil {
		ps.bandLo, ps.bandHi = cy.all(s.Lo), cy.all(s.Hi)
		yr.add(ps.bandLo...)
		yr.add(ps.bandHi...)
	}
	return ps, nil
}

// validate checks series i for the given axes.
func (s Series) validate(i int, a Axes) error {
	name := fmt.Sprintf("series %d", i)
	if s.Label != "" {
		name = fmt.Sprintf("series %d (%q)", i, s.Label)
	}
	if len(s.X) != len(s.Y) {
		return fmt.Errorf("%s: %d x values and %d y values", name, len(s.X), len(s.Y))
	}
	if err := checkValues(name+": x", s.X, a.LogX); err != nil {
		return err
	}
	if err := checkValues(name+": y", s.Y, a.LogY); err != nil {
		return err
	}
	if s.YErr != nil {
		if len(s.YErr) != len(s.Y) {
			return fmt.Errorf("%s: %d error values for %d points", name, len(s.YErr), len(s.Y))
		}
		if err := checkValues(name+": yerr", s.YErr, false); err != nil {
			return err
		}
		for j, e := range s.YErr {
			if e < 0 {
				return fmt.Errorf("%s: yerr[%d] is %g: errors must be ≥ 0", name, j, e)
			}
			if a.LogY && !(s.Y[j]-e > 0) {
				return fmt.Errorf("%s: y[%d]−yerr[%d] is %g: a log axis needs values > 0", name, j, j, s.Y[j]-e)
			}
		}
	}
	if (s.ErrLo == nil) != (s.ErrHi == nil) || (s.ErrLo != nil && s.YErr != nil) {
		return fmt.Errorf("%s: error bars need both ErrLo and ErrHi, and not YErr", name)
	}
	if s.ErrLo != nil {
		if len(s.ErrLo) != len(s.Y) || len(s.ErrHi) != len(s.Y) {
			return fmt.Errorf("%s: error bars of %d/%d values for %d points", name, len(s.ErrLo), len(s.ErrHi), len(s.Y))
		}
		if err := checkValues(name+": errlo", s.ErrLo, a.LogY); err != nil {
			return err
		}
		if err := checkValues(name+": errhi", s.ErrHi, a.LogY); err != nil {
			return err
		}
		for j := range s.Y {
			if !(s.ErrLo[j] <= s.Y[j] && s.Y[j] <= s.ErrHi[j]) {
				return fmt.Errorf("%s: point %d: y %g outside its error bar %g to %g", name, j, s.Y[j], s.ErrLo[j], s.ErrHi[j])
			}
		}
	}
	if (s.Lo == nil) != (s.Hi == nil) {
		return fmt.Errorf("%s: a band needs both Lo and Hi", name)
	}
	if s.Lo != nil {
		if len(s.Lo) != len(s.Y) || len(s.Hi) != len(s.Y) {
			return fmt.Errorf("%s: band of %d/%d values for %d points", name, len(s.Lo), len(s.Hi), len(s.Y))
		}
		if err := checkValues(name+": lo", s.Lo, a.LogY); err != nil {
			return err
		}
		if err := checkValues(name+": hi", s.Hi, a.LogY); err != nil {
			return err
		}
		for j := range s.Lo {
			if s.Lo[j] > s.Hi[j] {
				return fmt.Errorf("%s: lo[%d] = %g > hi[%d] = %g", name, j, s.Lo[j], j, s.Hi[j])
			}
		}
	}
	return nil
}

// xys pairs two equal-length slices as plotter.XYer.
type xys struct{ x, y []float64 }

func (p xys) Len() int                    { return len(p.x) }
func (p xys) XY(i int) (float64, float64) { return p.x[i], p.y[i] }

// yerrs adds y errors (distances below and above) to xys for
// plotter.YErrorBars.
type yerrs struct {
	xys
	lo, hi []float64
}

func (p yerrs) YError(i int) (float64, float64) { return p.lo[i], p.hi[i] }

// RefLine is a horizontal or vertical reference line: a chance level, a
// noise ceiling, the teacher's accuracy. It is drawn dashed in Grey, with
// its label (if any) at its end.
type RefLine struct {
	Value float64
	Label string
}

// checkRefs validates reference lines on an axis, adds them to r, and
// returns them in plot coordinates.
func checkRefs(what string, refs []RefLine, log bool, r *dataRange) ([]RefLine, error) {
	out := make([]RefLine, len(refs))
	for i, l := range refs {
		if err := checkValues(fmt.Sprintf("%s line %d", what, i), []float64{l.Value}, log); err != nil {
			return nil, err
		}
		out[i] = RefLine{Value: coord(log).of(l.Value), Label: l.Label}
		r.add(out[i].Value)
	}
	return out, nil
}

// ScatterOptions configure Scatter.
type ScatterOptions struct {
	Axes
	// Unity draws the line y = x and gives both axes the same range.
	Unity bool
	// HLines and VLines are horizontal and vertical reference lines.
	HLines, VLines []RefLine
	// Legend places the legend (the zero value is TopLeft).
	Legend Corner
}

// Scatter plots each series as points (with error bars and bands if the
// series has them), e.g. compact-model versus teacher accuracy per neuron,
// or parameter counts on log axes with a unity line.
func Scatter(series []Series, opt ScatterOptions) (*plot.Plot, error) {
	p, err := xyPlot(series, opt.Axes, opt.Unity, opt.HLines, opt.VLines, opt.Legend, false, true)
	if err != nil {
		return nil, fmt.Errorf("scatter: %w", err)
	}
	return p, nil
}

// LineOptions configure Lines.
type LineOptions struct {
	Axes
	// HLines and VLines are horizontal and vertical reference lines
	// (e.g. the teacher's accuracy).
	HLines, VLines []RefLine
	// NoMarkers draws lines without point markers.
	NoMarkers bool
	// Legend places the legend (the zero value is TopLeft).
	Legend Corner
}

// Lines plots each series as a line through its points in the order
// given, with markers, error bars and bands, e.g. accuracy versus the
// number of filters K on a log x axis, one line per teacher.
func Lines(series []Series, opt LineOptions) (*plot.Plot, error) {
	p, err := xyPlot(series, opt.Axes, false, opt.HLines, opt.VLines, opt.Legend, true, !opt.NoMarkers)
	if err != nil {
		return nil, fmt.Errorf("lines: %w", err)
	}
	return p, nil
}

// xyPlot builds Scatter and Lines.
func xyPlot(series []Series, a Axes, unity bool, hlines, vlines []RefLine, legend Corner, lines, markers bool) (*plot.Plot, error) {
	if len(series) == 0 {
		return nil, errNoData
	}
	if err := a.check(); err != nil {
		return nil, err
	}
	var xr, yr dataRange
	pss := make([]plotSeries, len(series))
	for i, s := range series {
		ps, err := s.check(i, a, &xr, &yr)
		if err != nil {
			return nil, err
		}
		pss[i] = ps
	}
	hlines, err := checkRefs("horizontal", hlines, a.LogY, &yr)
	if err != nil {
		return nil, err
	}
	vlines, err = checkRefs("vertical", vlines, a.LogX, &xr)
	if err != nil {
		return nil, err
	}
	if unity {
		if a.LogX != a.LogY {
			return nil, fmt.Errorf("unity line needs both axes linear or both log")
		}
		if a.XLim != a.YLim {
			return nil, fmt.Errorf("unity line needs equal x and y limits, got %v and %v", a.XLim, a.YLim)
		}
		xr.add(yr.min, yr.max)
		yr = xr
	}

	p := NewPlot()
	// Bands first, so that every line and point lies above every band.
	for i, s := range pss {
		if s.bandLo != nil {
			p.Add(&band{x: s.x, lo: s.bandLo, hi: s.bandHi, color: withAlpha(Color(i), 0.2)})
		}
	}
	for _, l := range hlines {
		p.Add(&refLine{RefLine: l, horizontal: true})
	}
	for _, l := range vlines {
		p.Add(&refLine{RefLine: l})
	}
	if unity {
		p.Add(unityLine{})
	}
	for i, s := range pss {
		c := Color(i)
		data := xys{s.x, s.y}
		var thumbs []plot.Thumbnailer
		if s.errLo != nil {
			eb, err := plotter.NewYErrorBars(yerrs{data, s.errLo, s.errHi})
			if err != nil {
				return nil, fmt.Errorf("series %d: %w", i, err)
			}
			eb.LineStyle = draw.LineStyle{Color: c, Width: AxisWidth}
			eb.CapWidth = 2 * MarkerRadius
			p.Add(eb)
		}
		if lines {
			l, err := plotter.NewLine(data)
			if err != nil {
				return nil, fmt.Errorf("series %d: %w", i, err)
			}
			l.LineStyle = draw.LineStyle{Color: c, Width: LineWidth}
			p.Add(l)
			thumbs = append(thumbs, l)
		}
		if markers {
			sc, err := plotter.NewScatter(data)
			if err != nil {
				return nil, fmt.Errorf("series %d: %w", i, err)
			}
			sc.GlyphStyle = draw.GlyphStyle{Color: c, Radius: MarkerRadius, Shape: Marker(i)}
			if !lines {
				sc.GlyphStyle.Color = withAlpha(c, 0.75)
			}
			p.Add(sc)
			thumbs = append(thumbs, sc)
		}
		if series[i].Label != "" && legend != NoLegend {
			p.Legend.Add(series[i].Label, thumbs...)
		}
	}
	placeLegend(p, legend)
	applyAxes(p, a, xr, yr)
	return p, nil
}

// band shades the area between lo and hi along x.
type band struct {
	x, lo, hi []float64
	color     color.Color
}

// Plot implements plot.Plotter.
func (b *band) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(b.x)
	pts := make([]vg.Point, 0, 2*n)
	for i := range n {
		pts = append(pts, vg.Point{X: trX(b.x[i]), Y: trY(b.hi[i])})
	}
	for i := n - 1; i >= 0; i-- {
		pts = append(pts, vg.Point{X: trX(b.x[i]), Y: trY(b.lo[i])})
	}
	c.FillPolygon(b.color, c.ClipPolygonXY(pts))
}

// refLine draws a dashed grey reference line across the data area.
type refLine struct {
	RefLine
	horizontal bool
}

// refStyle is the style of reference lines.
var refStyle = draw.LineStyle{Color: Grey, Width: RefWidth, Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}

// Plot implements plot.Plotter.
func (r *refLine) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := TextStyle(TickSize, false)
	sty.Color = Grey
	if r.horizontal {
		y := trY(r.Value)
		if y < c.Min.Y || y > c.Max.Y {
			return
		}
		c.StrokeLine2(refStyle, c.Min.X, y, c.Max.X, y)
		if r.Label != "" {
			// Above the line, or below it when there is no room above.
			sty.XAlign, sty.YAlign = draw.XRight, draw.YBottom
			pt := vg.Point{X: c.Max.X, Y: y + vg.Points(1)}
			if pt.Y+sty.Height(r.Label) > c.Max.Y {
				sty.YAlign = draw.YTop
				pt.Y = y - vg.Points(1)
			}
			c.FillText(sty, pt, r.Label)
		}
		return
	}
	x := trX(r.Value)
	if x < c.Min.X || x > c.Max.X {
		return
	}
	c.StrokeLine2(refStyle, x, c.Min.Y, x, c.Max.Y)
	if r.Label != "" {
		sty.XAlign, sty.YAlign = draw.XLeft, draw.YTop
		c.FillText(sty, vg.Point{X: x + vg.Points(1.5), Y: c.Max.Y}, r.Label)
	}
}

// unityLine draws y = x across the part of the data area where both axes
// overlap.
type unityLine struct{}

// Plot implements plot.Plotter.
func (unityLine) Plot(c draw.Canvas, p *plot.Plot) {
	lo := max(p.X.Min, p.Y.Min)
	hi := min(p.X.Max, p.Y.Max)
	if !(lo < hi) {
		return
	}
	trX, trY := p.Transforms(&c)
	c.StrokeLine2(refStyle, trX(lo), trY(lo), trX(hi), trY(hi))
}

// Square returns p drawn with a square data area (so that a unity line
// runs at 45°), centred horizontally and bottom-aligned in the canvas it
// is given.
func Square(p *plot.Plot) Drawer { return square{p} }

type square struct{ p *plot.Plot }

// Draw implements Drawer.
func (s square) Draw(c draw.Canvas) {
	dc := s.p.DataCanvas(c)
	w, h := dc.Max.X-dc.Min.X, dc.Max.Y-dc.Min.Y
	switch {
	case w > h:
		c = draw.Crop(c, (w-h)/2, -(w-h)/2, 0, 0)
	case h > w:
		c = draw.Crop(c, 0, 0, 0, -(h - w))
	}
	s.p.Draw(c)
}
