package plots

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Distribution is one sample to histogram: observed values, or a null
// distribution (shuffled, permuted, untrained...).
type Distribution struct {
	Label  string
	Values []float64
	// Null draws the distribution in greys, behind the observed ones.
	Null bool
}

// HistOptions configure Histogram. LogX and LogY are not supported.
type HistOptions struct {
	Axes
	// Bins is the number of equal-width bins (default 20).
	Bins int
	// Range fixes the binned interval; every value must lie inside it. The
	// zero value bins the range of all values.
	Range Limits
	// Density scales each histogram to unit area (so that samples of
	// different sizes compare); otherwise bars are counts.
	Density bool
	// VLines are vertical reference lines (an observed statistic, zero).
	VLines []RefLine
	// Legend places the legend (the zero value is TopLeft).
	Legend Corner
}

// Histogram draws the distributions as overlaid step histograms with
// shared bins: null distributions in grey first, then the others in
// Color(0), Color(1)... with translucent fills.
func Histogram(dists []Distribution, opt HistOptions) (*plot.Plot, error) {
	p, err := histPlot(dists, opt)
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	return p, nil
}

func histPlot(dists []Distribution, opt HistOptions) (*plot.Plot, error) {
	if len(dists) == 0 {
		return nil, errNoData
	}
	if opt.LogX || opt.LogY {
		return nil, fmt.Errorf("log axes are not supported")
	}
	if err := opt.Axes.check(); err != nil {
		return nil, err
	}
	if err := opt.Range.check("bin", false); err != nil {
		return nil, err
	}
	bins := opt.Bins
	if bins == 0 {
		bins = 20
	}
	if bins < 1 || bins > 10000 {
		return nil, fmt.Errorf("%d bins: need 1 to 10000", bins)
	}
	var vr dataRange
	for i, d := range dists {
		if err := checkValues(fmt.Sprintf("distribution %d (%q)", i, d.Label), d.Values, false); err != nil {
			return nil, err
		}
		vr.add(d.Values...)
	}
	lo, hi := vr.span(opt.Range, false)
	if !opt.Range.auto() && (vr.min < lo || vr.max > hi) {
		return nil, fmt.Errorf("values span [%g, %g], outside the bin range [%g, %g]", vr.min, vr.max, lo, hi)
	}
	var xr, yr dataRange
	xr.add(lo, hi)
	yr.add(0)
	vlines, err := checkRefs("vertical", opt.VLines, false, &xr)
	if err != nil {
		return nil, err
	}

	p := NewPlot()
	var hists []*histPlotter
	k := 0
	for pass := range 2 { // nulls first, so that observed data lie on top
		nulls := 0
		for _, d := range dists {
			if d.Null != (pass == 0) {
				continue
			}
			width := (hi - lo) / float64(bins)
			h := &histPlotter{lo: lo, width: width, counts: binCounts(d.Values, lo, width, bins, opt.Density)}
			for _, c := range h.counts {
				yr.add(c)
			}
			if d.Null {
				h.line = draw.LineStyle{Color: Grey, Width: AxisWidth}
				if nulls > 0 {
					h.line.Dashes = []vg.Length{vg.Points(2), vg.Points(1.5 * float64(nulls))}
				} else {
					h.fill = LightGrey
				}
				nulls++
			} else {
				h.line = draw.LineStyle{Color: Color(k), Width: LineWidth}
				h.fill = withAlpha(Color(k), 0.3)
				k++
			}
			h.label = d.Label
			hists = append(hists, h)
			p.Add(h)
		}
	}
	for _, l := range vlines {
		p.Add(&refLine{RefLine: l})
	}
	// Legend entries in the order given.
	entries := 0
	if opt.Legend != NoLegend {
		for _, d := range dists {
			for _, h := range hists {
				if h.label == d.Label && d.Label != "" && !h.inLegend {
					p.Legend.Add(d.Label, h)
					h.inLegend = true
					entries++
					break
				}
			}
		}
	}
	placeLegend(p, opt.Legend)
	if entries > 0 {
		// Headroom for the legend, whose 6 pt lines are about 6% of the
		// height of a typical panel each.
		yr.add(yr.max * (1 + 0.07*float64(entries+1)))
	}
	applyAxes(p, opt.Axes, xr, yr)
	p.Y.Min = 0
	p.Y.Padding = 0
	return p, nil
}

// binCounts counts vs in bins of the given width from lo (the top edge
// falls in the last bin), scaled to unit area when density is set.
func binCounts(vs []float64, lo, width float64, bins int, density bool) []float64 {
	counts := make([]float64, bins)
	for _, v := range vs {
		b := int((v - lo) / width)
		counts[min(max(b, 0), bins-1)]++
	}
	if density {
		for b := range counts {
			counts[b] /= float64(len(vs)) * width
		}
	}
	return counts
}

// histPlotter draws one step histogram.
type histPlotter struct {
	lo, width float64
	counts    []float64
	line      draw.LineStyle
	fill      color.Color
	label     string
	inLegend  bool
}

// outline returns the step outline from the baseline to the baseline.
func (h *histPlotter) outline(trX, trY func(float64) vg.Length) []vg.Point {
	pts := make([]vg.Point, 0, 2*len(h.counts)+2)
	pts = append(pts, vg.Point{X: trX(h.lo), Y: trY(0)})
	for b, c := range h.counts {
		x0 := h.lo + float64(b)*h.width
		pts = append(pts, vg.Point{X: trX(x0), Y: trY(c)}, vg.Point{X: trX(x0 + h.width), Y: trY(c)})
	}
	pts = append(pts, vg.Point{X: trX(h.lo + float64(len(h.counts))*h.width), Y: trY(0)})
	return pts
}

// Plot implements plot.Plotter.
func (h *histPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	pts := h.outline(trX, trY)
	if h.fill != nil {
		c.FillPolygon(h.fill, c.ClipPolygonXY(pts))
	}
	c.StrokeLines(h.line, c.ClipLinesXY(pts)...)
}

// Thumbnail implements plot.Thumbnailer.
func (h *histPlotter) Thumbnail(c *draw.Canvas) {
	r := c.Rectangle
	pts := []vg.Point{r.Min, {X: r.Min.X, Y: r.Max.Y}, r.Max, {X: r.Max.X, Y: r.Min.Y}, r.Min}
	if h.fill != nil {
		c.FillPolygon(h.fill, pts)
	}
	c.StrokeLines(h.line, pts)
}
