package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatmapOptions configure Heatmap.
type HeatmapOptions struct {
	Title, XLabel, YLabel string
	// RowLabels and ColLabels, if not nil, name every row (column); ticks
	// show the index otherwise. With more than 30 rows (columns), only
	// some are labelled.
	RowLabels, ColLabels []string
	// Diverging maps values with a blue–white–red scale symmetric around
	// zero (signed similarities, correlations); otherwise viridis.
	Diverging bool
	// Range fixes the colour range; values outside it saturate. The zero
	// value spans the finite data (symmetrically around 0 if Diverging).
	Range Limits
	// ColorBarLabel names the colour bar ("Similarity (r)").
	ColorBarLabel string
}

// Heatmap draws matrix m (m[i][j] is row i, column j; row 0 at the top)
// as square cells with a colour bar at the right, e.g. a similarity matrix
// between models. NaN marks a missing cell and is drawn in LightGrey;
// ±Inf is rejected.
func Heatmap(m [][]float64, opt HeatmapOptions) (Drawer, error) {
	h, err := newHeatmap(m, opt)
	if err != nil {
		return nil, fmt.Errorf("heatmap: %w", err)
	}
	return h, nil
}

func newHeatmap(m [][]float64, opt HeatmapOptions) (*heatmap, error) {
	rows := len(m)
	if rows == 0 || len(m[0]) == 0 {
		return nil, errNoData
	}
	cols := len(m[0])
	if rows*cols > maxPixels {
		return nil, fmt.Errorf("%d×%d matrix is too large", rows, cols)
	}
	var vr dataRange
	for i, row := range m {
		if len(row) != cols {
			return nil, fmt.Errorf("row %d has %d columns, row 0 has %d", i, len(row), cols)
		}
		for j, v := range row {
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("m[%d][%d] is %g: ±Inf is rejected (NaN marks a missing cell)", i, j, v)
			}
			if math.Abs(v) > maxAbsValue {
				return nil, fmt.Errorf("m[%d][%d] is %g: magnitude above %g cannot be plotted", i, j, v, maxAbsValue)
			}
			if !math.IsNaN(v) {
				vr.add(v)
			}
		}
	}
	if err := checkLabels("row labels", opt.RowLabels, rows); err != nil {
		return nil, err
	}
	if err := checkLabels("column labels", opt.ColLabels, cols); err != nil {
		return nil, err
	}
	if err := opt.Range.check("colour", false); err != nil {
		return nil, err
	}
	if !vr.ok && opt.Range.auto() {
		return nil, fmt.Errorf("every cell is NaN: give Range to draw an empty matrix")
	}
	lo, hi := opt.Range.Min, opt.Range.Max
	if opt.Range.auto() {
		if opt.Diverging {
			a := math.Max(math.Abs(vr.min), math.Abs(vr.max))
			vr = dataRange{}
			vr.add(-a, a)
		}
		lo, hi = vr.span(Limits{}, false)
	}
	cmap := viridis
	if opt.Diverging {
		cmap = blueRed
	}
	img := image.NewNRGBA(image.Rect(0, 0, cols, rows))
	for i, row := range m {
		for j, v := range row {
			c := LightGrey
			if !math.IsNaN(v) {
				c = cmap((v - lo) / (hi - lo))
			}
			img.SetNRGBA(j, i, c)
		}
	}

	p := NewPlot()
	p.Title.Text = opt.Title
	p.X.Label.Text = opt.XLabel
	p.Y.Label.Text = opt.YLabel
	p.Add(&rasterPlotter{img: img})
	p.X.Min, p.X.Max = -0.5, float64(cols)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	p.Y.Scale = plot.InvertedScale{Normalizer: plot.LinearScale{}}
	p.X.Tick.Marker = indexTicks{n: cols, labels: opt.ColLabels}
	p.Y.Tick.Marker = indexTicks{n: rows, labels: opt.RowLabels}
	p.X.Padding, p.Y.Padding = 0, 0
	if opt.ColLabels != nil && cols <= maxAllLabels {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YCenter
	}
	return &heatmap{p: p, cells: img, lo: lo, hi: hi, cmap: cmap, label: opt.ColorBarLabel, aspect: float64(rows) / float64(cols)}, nil
}

// maxAllLabels is the most rows (columns) whose every label is shown.
const maxAllLabels = 30

// indexTicks ticks matrix indices 0..n-1: every index when labelled and
// n ≤ maxAllLabels, else indices at a 1–2–5 step giving at most 6 labels.
type indexTicks struct {
	n      int
	labels []string
}

// Ticks implements plot.Ticker.
func (t indexTicks) Ticks(min, max float64) []plot.Tick {
	step := 1
	if t.labels == nil || t.n > maxAllLabels {
	search:
		for mag := 1; mag < math.MaxInt/10; mag *= 10 {
			for _, m := range []int{1, 2, 5} {
				if s := m * mag; (t.n+s-1)/s <= 6 {
					step = s
					break search
				}
			}
		}
	}
	var ts []plot.Tick
	for i := 0; i < t.n; i += step {
		label := strconv.Itoa(i)
		if t.labels != nil {
			label = t.labels[i]
		}
		ts = append(ts, plot.Tick{Value: float64(i), Label: label})
	}
	return ts
}

// rasterPlotter draws img over the data area, one pixel per cell.
type rasterPlotter struct {
	img *image.NRGBA
}

// Plot implements plot.Plotter.
func (r *rasterPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	drawSharp(c, c.Rectangle, r.img)
}

// heatmap is the Drawer returned by Heatmap: the matrix plot and its
// colour bar.
type heatmap struct {
	p      *plot.Plot
	cells  *image.NRGBA // one pixel per cell
	lo, hi float64
	cmap   func(float64) color.NRGBA
	label  string
	aspect float64 // rows / cols: cells are square
}

// Colour-bar geometry.
const (
	barGap   vg.Length = 6
	barWidth vg.Length = 6
)

// Draw implements Drawer.
func (h *heatmap) Draw(c draw.Canvas) {
	ticks := linearTicks{}.Ticks(h.lo, h.hi)
	tsty := TextStyle(TickSize, false)
	tsty.XAlign, tsty.YAlign = draw.XLeft, draw.YCenter
	var labelW vg.Length
	for _, t := range ticks {
		if t.Label != "" {
			labelW = max(labelW, tsty.Width(t.Label))
		}
	}
	lsty := TextStyle(LabelSize, false)
	lsty.Rotation = -math.Pi / 2
	lsty.XAlign, lsty.YAlign = draw.XCenter, draw.YBottom
	barSpace := barGap + barWidth + TickLength + vg.Points(1.5) + labelW
	if h.label != "" {
		barSpace += vg.Points(3) + lsty.Height(h.label)
	}
	pc := draw.Crop(c, 0, -barSpace, 0, 0)
	// Square cells: shrink the plot's canvas until its data area has the
	// matrix's aspect ratio.
	dc := h.p.DataCanvas(pc)
	w, ht := dc.Max.X-dc.Min.X, dc.Max.Y-dc.Min.Y
	if want := w * vg.Length(h.aspect); want < ht {
		pc = draw.Crop(pc, 0, 0, 0, -(ht - want))
	} else if want > ht {
		// Too wide: centre the figure in the width it needs.
		e := w - ht/vg.Length(h.aspect)
		pc = draw.Crop(pc, e/2, -e/2, 0, 0)
	}
	h.p.Draw(pc)
	dc = h.p.DataCanvas(pc)

	// Colour bar beside the data area.
	x0 := dc.Max.X + barGap
	bar := vg.Rectangle{Min: vg.Point{X: x0, Y: dc.Min.Y}, Max: vg.Point{X: x0 + barWidth, Y: dc.Max.Y}}
	const steps = 256
	grad := image.NewNRGBA(image.Rect(0, 0, 1, steps))
	for i := range steps {
		grad.SetNRGBA(0, steps-1-i, h.cmap((float64(i)+0.5)/steps))
	}
	c.DrawImage(bar, grad)
	axis := draw.LineStyle{Color: Black, Width: AxisWidth}
	c.StrokeLines(axis, []vg.Point{bar.Min, {X: bar.Max.X, Y: bar.Min.Y}, bar.Max, {X: bar.Min.X, Y: bar.Max.Y}, bar.Min})
	yOf := func(v float64) vg.Length {
		return bar.Min.Y + vg.Length((v-h.lo)/(h.hi-h.lo))*(bar.Max.Y-bar.Min.Y)
	}
	for _, t := range ticks {
		if t.Value < h.lo || t.Value > h.hi {
			continue
		}
		y := yOf(t.Value)
		l := TickLength
		if t.IsMinor() {
			l /= 2
		}
		c.StrokeLine2(axis, bar.Max.X, y, bar.Max.X+l, y)
		if t.Label != "" {
			c.FillText(tsty, vg.Point{X: bar.Max.X + TickLength + vg.Points(1.5), Y: y}, t.Label)
		}
	}
	if h.label != "" {
		x := bar.Max.X + TickLength + vg.Points(1.5) + labelW + vg.Points(3)
		c.FillText(lsty, vg.Point{X: x, Y: (bar.Min.Y + bar.Max.Y) / 2}, h.label)
	}
}
