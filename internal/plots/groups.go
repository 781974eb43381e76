package plots

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Group is one category of values, e.g. the per-neuron accuracies of one
// session, or the filter counts of one layer across the 219 models.
type Group struct {
	Label  string
	Values []float64
}

// GroupStyle chooses how Groups draws each group.
type GroupStyle int

// Group styles. Every style marks the median of each group with a thick
// horizontal bar.
const (
	// BoxAndPoints draws a box plot over the jittered points (the default).
	BoxAndPoints GroupStyle = iota
	// Points draws the jittered points and the median only.
	Points
	// Box draws box plots only.
	Box
)

// GroupOptions configure Groups. XLabel names the grouping ("Session").
type GroupOptions struct {
	Axes
	Style GroupStyle
	// ConnectMedians joins the medians of successive groups with a line,
	// e.g. a "consolidation profile" of filter counts across layers.
	ConnectMedians bool
	// Colored gives group i Color(i); by default every group is Color(0).
	Colored bool
	// TiltLabels turns the group labels by 45° (for long or many labels).
	TiltLabels bool
	// Seed seeds the horizontal jitter of the points; the same seed gives
	// the same figure. Zero is a valid seed.
	Seed uint64
}

// Groups draws the values of each group side by side at x = 0, 1, 2...:
// jittered points, a box plot, and the median. The box spans the first to
// third quartile, the whiskers reach the most extreme values within 1.5
// interquartile ranges of the box (Tukey), and quartiles interpolate
// linearly between order statistics (type 7 of Hyndman & Fan, NumPy's
// default). LogX and XLim do not apply and are rejected.
func Groups(groups []Group, opt GroupOptions) (*plot.Plot, error) {
	p, err := groupsPlot(groups, opt)
	if err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	return p, nil
}

func groupsPlot(groups []Group, opt GroupOptions) (*plot.Plot, error) {
	if len(groups) == 0 {
		return nil, errNoData
	}
	if opt.LogX || !opt.XLim.auto() {
		return nil, fmt.Errorf("the x axis of a group plot is categorical: LogX and XLim do not apply")
	}
	if opt.Style < BoxAndPoints || opt.Style > Box {
		return nil, fmt.Errorf("unknown group style %d", opt.Style)
	}
	if err := opt.Axes.check(); err != nil {
		return nil, err
	}
	gp := &groupPlotter{style: opt.Style, connect: opt.ConnectMedians, logY: opt.LogY}
	var yr dataRange
	names := make([]string, len(groups))
	for i, g := range groups {
		if err := checkValues(fmt.Sprintf("group %d (%q)", i, g.Label), g.Values, opt.LogY); err != nil {
			return nil, err
		}
		names[i] = g.Label
		yr.add(coord(opt.LogY).all(g.Values)...)
		c := Color(0)
		if opt.Colored {
			c = Color(i)
		}
		gp.groups = append(gp.groups, newGroupStats(g.Values, c, opt.Seed, uint64(i)))
	}

	p := NewPlot()
	p.Add(gp)
	applyAxes(p, opt.Axes, dataRange{}, yr)
	p.X.Min, p.X.Max = -0.5, float64(len(groups))-0.5
	ticks := make([]plot.Tick, len(groups))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(i), Label: n}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Padding = 0
	if opt.TiltLabels {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
	}
	return p, nil
}

// groupStats are the summary statistics and jittered points of one group.
type groupStats struct {
	values           []float64
	jitter           []float64 // in [-1, 1], times half the strip width
	q1, median, q3   float64
	whiskLo, whiskHi float64
	color            color.NRGBA
}

// newGroupStats computes the statistics of vs (already validated) and the
// jitter of its points from (seed, index).
func newGroupStats(vs []float64, c color.NRGBA, seed, index uint64) groupStats {
	sorted := slices.Clone(vs)
	slices.Sort(sorted)
	g := groupStats{
		values: vs,
		q1:     quantile(sorted, 0.25),
		median: quantile(sorted, 0.5),
		q3:     quantile(sorted, 0.75),
		color:  c,
	}
	iqr := g.q3 - g.q1
	g.whiskLo, g.whiskHi = g.q1, g.q3
	for _, v := range sorted {
		if v >= g.q1-1.5*iqr {
			g.whiskLo = min(v, g.q1)
			break
		}
	}
	for i := len(sorted) - 1; i >= 0; i-- {
		if v := sorted[i]; v <= g.q3+1.5*iqr {
			g.whiskHi = max(v, g.q3)
			break
		}
	}
	r := rand.New(rand.NewPCG(seed, index))
	g.jitter = make([]float64, len(vs))
	for i := range g.jitter {
		g.jitter[i] = 2*r.Float64() - 1
	}
	return g
}

// quantile returns the p-quantile of sorted values, interpolating linearly
// between order statistics (Hyndman & Fan type 7).
func quantile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 1 {
		return sorted[0]
	}
	h := p * float64(n-1)
	lo := int(math.Floor(h))
	if lo >= n-1 {
		return sorted[n-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// groupPlotter draws Groups.
type groupPlotter struct {
	groups  []groupStats
	style   GroupStyle
	connect bool
	logY    bool // statistics are in data units; the y axis in log10 units
}

// Geometry of a group, in units of the distance between groups.
const (
	boxHalfWidth   = 0.22
	stripHalfWidth = 0.28
	medianHalf     = 0.3
)

// GlyphBoxes implements plot.GlyphBoxer, so that the plot leaves room
// for the points at the extremes of each group.
func (gp *groupPlotter) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	if gp.style == Box {
		return nil
	}
	r := MarkerRadius
	box := vg.Rectangle{Min: vg.Point{X: -r, Y: -r}, Max: vg.Point{X: r, Y: r}}
	var out []plot.GlyphBox
	for i, g := range gp.groups {
		x := p.X.Norm(float64(i))
		for _, v := range []float64{slices.Min(g.values), slices.Max(g.values)} {
			out = append(out, plot.GlyphBox{X: x, Y: p.Y.Norm(coord(gp.logY).of(v)), Rectangle: box})
		}
	}
	return out
}

// Plot implements plot.Plotter.
func (gp *groupPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trPlotY := p.Transforms(&c)
	trY := func(v float64) vg.Length { return trPlotY(coord(gp.logY).of(v)) }
	unit := trX(1) - trX(0)
	if gp.connect && len(gp.groups) > 1 {
		pts := make([]vg.Point, len(gp.groups))
		for i, g := range gp.groups {
			pts[i] = vg.Point{X: trX(float64(i)), Y: trY(g.median)}
		}
		c.StrokeLines(draw.LineStyle{Color: Grey, Width: LineWidth}, c.ClipLinesXY(pts)...)
	}
	for i, g := range gp.groups {
		x := trX(float64(i))
		if gp.style != Box {
			radius := MarkerRadius * 0.8
			sty := draw.GlyphStyle{Color: withAlpha(g.color, 0.45), Radius: radius, Shape: draw.CircleGlyph{}}
			for j, v := range g.values {
				c.DrawGlyph(sty, vg.Point{X: x + vg.Length(g.jitter[j]*stripHalfWidth)*unit, Y: trY(v)})
			}
		}
		if gp.style != Points {
			hw := boxHalfWidth * unit
			box := draw.LineStyle{Color: Black, Width: AxisWidth}
			ylo, yhi := trY(g.q1), trY(g.q3)
			c.StrokeLines(box, c.ClipLinesXY([]vg.Point{
				{X: x - hw, Y: ylo}, {X: x + hw, Y: ylo}, {X: x + hw, Y: yhi}, {X: x - hw, Y: yhi}, {X: x - hw, Y: ylo},
			})...)
			c.StrokeLines(box, c.ClipLinesXY(
				[]vg.Point{{X: x, Y: ylo}, {X: x, Y: trY(g.whiskLo)}},
				[]vg.Point{{X: x, Y: yhi}, {X: x, Y: trY(g.whiskHi)}},
				[]vg.Point{{X: x - hw/2, Y: trY(g.whiskLo)}, {X: x + hw/2, Y: trY(g.whiskLo)}},
				[]vg.Point{{X: x - hw/2, Y: trY(g.whiskHi)}, {X: x + hw/2, Y: trY(g.whiskHi)}},
			)...)
		}
		mh := medianHalf * unit
		if gp.style != Points {
			mh = boxHalfWidth * unit
		}
		ym := trY(g.median)
		bar := c.ClipLinesXY([]vg.Point{{X: x - mh, Y: ym}, {X: x + mh, Y: ym}})
		if gp.style == Points {
			// A white halo keeps the bar visible over dark points.
			c.StrokeLines(draw.LineStyle{Color: color.White, Width: 1.5*LineWidth + 2*AxisWidth}, bar...)
		}
		c.StrokeLines(draw.LineStyle{Color: Black, Width: 1.5 * LineWidth}, bar...)
	}
}
