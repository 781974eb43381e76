package plots

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/plot"
)

// Limits fixes the range of an axis. The zero value means "fit the data".
type Limits struct {
	Min, Max float64
}

// auto reports whether l is the zero value.
func (l Limits) auto() bool { return l.Min == 0 && l.Max == 0 }

// check validates fixed limits.
func (l Limits) check(what string, log bool) error {
	if l.auto() {
		return nil
	}
	if !finite(l.Min) || !finite(l.Max) || !(l.Min < l.Max) {
		return fmt.Errorf("%s limits [%g, %g]: need finite Min < Max", what, l.Min, l.Max)
	}
	if math.Abs(l.Min) > maxAbsValue || math.Abs(l.Max) > maxAbsValue {
		return fmt.Errorf("%s limits [%g, %g]: magnitude above %g cannot be plotted", what, l.Min, l.Max, maxAbsValue)
	}
	if scale := math.Max(math.Abs(l.Min), math.Abs(l.Max)); l.Max-l.Min <= 1e-9*scale {
		return fmt.Errorf("%s limits [%g, %g]: too narrow to draw", what, l.Min, l.Max)
	}
	if log && !(l.Min > 0) {
		return fmt.Errorf("%s limits [%g, %g]: a log axis needs Min > 0", what, l.Min, l.Max)
	}
	return nil
}

// Axes are the options every x–y figure shares.
type Axes struct {
	// Title is drawn above the plot (e.g. a panel title); may be empty.
	Title string
	// XLabel and YLabel name the axes, with units: "Parameters (count)".
	XLabel, YLabel string
	// LogX and LogY make an axis logarithmic; every value on it must be > 0.
	LogX, LogY bool
	// XLim and YLim fix an axis range; the zero value fits the data.
	XLim, YLim Limits
}

// check validates the axis options.
func (a Axes) check() error {
	if err := a.XLim.check("x", a.LogX); err != nil {
		return err
	}
	return a.YLim.check("y", a.LogY)
}

// Corner places a legend inside the plot.
type Corner int

// Legend corners. The zero value is TopLeft.
const (
	TopLeft Corner = iota
	TopRight
	BottomLeft
	BottomRight
	// NoLegend hides the legend.
	NoLegend
)

// finite reports whether v is neither NaN nor ±Inf.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkValues rejects empty data and non-finite values, and non-positive
// values when log is set. what names the data in the error.
func checkValues(what string, vs []float64, log bool) error {
	if len(vs) == 0 {
		return fmt.Errorf("%s: no values", what)
	}
	for i, v := range vs {
		if !finite(v) {
			return fmt.Errorf("%s[%d] is %g: non-finite values are rejected; filter them (and report how many) before plotting", what, i, v)
		}
		if log && !(v > 0) {
			return fmt.Errorf("%s[%d] is %g: a log axis needs values > 0", what, i, v)
		}
		if math.Abs(v) > maxAbsValue {
			return fmt.Errorf("%s[%d] is %g: magnitude above %g cannot be plotted", what, i, v, maxAbsValue)
		}
	}
	return nil
}

// maxAbsValue bounds plotted magnitudes so that axis spans and tick
// arithmetic cannot overflow.
const maxAbsValue = 1e150

// dataRange is a running min/max.
type dataRange struct {
	min, max float64
	ok       bool
}

// add extends r by vs.
func (r *dataRange) add(vs ...float64) {
	for _, v := range vs {
		if !r.ok {
			r.min, r.max, r.ok = v, v, true
			continue
		}
		r.min = math.Min(r.min, v)
		r.max = math.Max(r.max, v)
	}
}

// span returns the axis range for r, in plot coordinates (log10 of the
// data on a log axis): lim when fixed, else the data range, widened when
// it is empty or too narrow to place ticks in.
func (r dataRange) span(lim Limits, log bool) (lo, hi float64) {
	if !lim.auto() {
		return coord(log).of(lim.Min), coord(log).of(lim.Max)
	}
	if !r.ok {
		return 0, 1
	}
	lo, hi = r.min, r.max
	if log {
		if hi-lo < 1e-6 {
			return lo - 0.3, hi + 0.3 // a factor of two each way
		}
		return lo, hi
	}
	scale := math.Max(math.Abs(lo), math.Abs(hi))
	if hi-lo <= 1e-9*scale || hi-lo < 1e-300 {
		pad := math.Max(0.1*scale, 1e-9)
		if scale == 0 {
			pad = 1
		}
		return lo - pad, hi + pad
	}
	return lo, hi
}

// coord maps data values to plot coordinates on an axis: log10 on a log
// axis (true), the identity otherwise.
//
// Log axes are drawn as linear axes over log10 of the data, with ticks
// labelled in data units, rather than with gonum's plot.LogScale: gonum
// reserves room for an axis label around the arithmetic midpoint of the
// range, which on a log scale lies near the top (right) end, and so leaves
// a wide empty band beside the data. Plotters added to a plot with a log
// axis must therefore use log10 coordinates on it.
type coord bool

// of maps one value.
func (log coord) of(v float64) float64 {
	if log {
		return math.Log10(v)
	}
	return v
}

// all maps a slice (nil stays nil).
func (log coord) all(vs []float64) []float64 {
	if vs == nil || !log {
		return vs
	}
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = math.Log10(v)
	}
	return out
}

// setAxis sets a plot axis's range (in plot coordinates) and ticks.
func setAxis(ax *plot.Axis, lo, hi float64, log bool) {
	ax.Min, ax.Max = lo, hi
	if log {
		ax.Tick.Marker = log10Ticks{}
	}
}

// applyAxes sets labels, title, ticks and ranges of p; xr and yr hold
// plot coordinates.
func applyAxes(p *plot.Plot, a Axes, xr, yr dataRange) {
	p.Title.Text = a.Title
	p.X.Label.Text = a.XLabel
	p.Y.Label.Text = a.YLabel
	xlo, xhi := xr.span(a.XLim, a.LogX)
	ylo, yhi := yr.span(a.YLim, a.LogY)
	setAxis(&p.X, xlo, xhi, a.LogX)
	setAxis(&p.Y, ylo, yhi, a.LogY)
}

// placeLegend puts p's legend in corner c, or hides it.
func placeLegend(p *plot.Plot, c Corner) {
	switch c {
	case TopRight:
		p.Legend.Top, p.Legend.Left = true, false
		p.Legend.XOffs = 0
	case BottomLeft:
		p.Legend.Top, p.Legend.Left = false, true
	case BottomRight:
		p.Legend.Top, p.Legend.Left = false, false
		p.Legend.XOffs = 0
	}
}

// checkLabels rejects a label slice whose length differs from n; a nil
// slice means "no labels".
func checkLabels(what string, labels []string, n int) error {
	if labels != nil && len(labels) != n {
		return fmt.Errorf("%d %s for %d items", len(labels), what, n)
	}
	return nil
}

// errNoData is returned by builders given no series.
var errNoData = errors.New("no data")
