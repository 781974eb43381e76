package plots

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// GridOptions configure Grid.
type GridOptions struct {
	// Cols is the number of columns; 0 means ⌈√n⌉.
	Cols int
	// Title is drawn centred above the grid; may be empty.
	Title string
	// Letters labels the panels a, b, c... in bold at their top-left
	// corners, in reading order (empty cells are skipped).
	Letters bool
	// ShareX and ShareY give every panel the same x (y) range: the union
	// of the panels' ranges. All panels must then be *plot.Plot.
	ShareX, ShareY bool
}

// Grid lays out panels row by row: small multiples (predicted versus
// recorded responses of a few neurons, each with its panel title) or a
// multi-panel figure. A nil panel leaves its cell empty. When every panel
// is a *plot.Plot, their data areas are aligned to equal sizes (gonum's
// plot.Align); otherwise each panel fills its cell.
func Grid(panels []Drawer, opt GridOptions) (Drawer, error) {
	g, err := newGrid(panels, opt)
	if err != nil {
		return nil, fmt.Errorf("grid: %w", err)
	}
	return g, nil
}

func newGrid(panels []Drawer, opt GridOptions) (*grid, error) {
	n := len(panels)
	if n == 0 {
		return nil, errNoData
	}
	cols := opt.Cols
	if cols == 0 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	if cols < 0 || cols > n {
		return nil, fmt.Errorf("%d columns for %d panels", cols, n)
	}
	g := &grid{opt: opt, cols: cols, rows: (n + cols - 1) / cols, panels: panels, aligned: true}
	var plots []*plot.Plot
	for i, d := range panels {
		if d == nil {
			continue
		}
		p, ok := d.(*plot.Plot)
		if !ok {
			g.aligned = false
			if opt.ShareX || opt.ShareY {
				return nil, fmt.Errorf("panel %d is a %T: ShareX and ShareY need *plot.Plot panels", i, d)
			}
			continue
		}
		if p == nil {
			return nil, fmt.Errorf("panel %d is a nil *plot.Plot", i)
		}
		plots = append(plots, p)
	}
	if len(plots) == 0 && g.aligned {
		return nil, fmt.Errorf("all %d panels are nil", n)
	}
	share := func(ax func(*plot.Plot) *plot.Axis) {
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, p := range plots {
			lo, hi = math.Min(lo, ax(p).Min), math.Max(hi, ax(p).Max)
		}
		for _, p := range plots {
			ax(p).Min, ax(p).Max = lo, hi
		}
	}
	if opt.ShareX {
		share(func(p *plot.Plot) *plot.Axis { return &p.X })
	}
	if opt.ShareY {
		share(func(p *plot.Plot) *plot.Axis { return &p.Y })
	}
	return g, nil
}

// grid is the Drawer returned by Grid.
type grid struct {
	opt        GridOptions
	rows, cols int
	panels     []Drawer
	aligned    bool
}

// Draw implements Drawer.
func (g *grid) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if g.opt.Title != "" {
		sty := TextStyle(LabelSize, false)
		sty.YAlign = draw.YTop
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y}, g.opt.Title)
		c.Max.Y -= sty.Height(g.opt.Title) + vg.Points(2)
	}
	tiles := draw.Tiles{Rows: g.rows, Cols: g.cols, PadX: vg.Points(6), PadY: vg.Points(4)}
	if g.opt.Letters {
		tiles.PadTop = LetterSize
		tiles.PadY += LetterSize
	}
	cells := make([][]draw.Canvas, g.rows)
	if g.aligned {
		plots := make([][]*plot.Plot, g.rows)
		for r := range plots {
			plots[r] = make([]*plot.Plot, g.cols)
			for col := range g.cols {
				if i := r*g.cols + col; i < len(g.panels) && g.panels[i] != nil {
					plots[r][col] = g.panels[i].(*plot.Plot)
				}
			}
		}
		cells = plot.Align(plots, tiles, c)
	} else {
		for r := range cells {
			cells[r] = make([]draw.Canvas, g.cols)
			for col := range g.cols {
				cells[r][col] = tiles.At(c, col, r)
			}
		}
	}
	letter := 0
	for i, d := range g.panels {
		if d == nil {
			continue
		}
		cell := cells[i/g.cols][i%g.cols]
		d.Draw(cell)
		if g.opt.Letters {
			sty := TextStyle(LetterSize, true)
			sty.XAlign, sty.YAlign = draw.XLeft, draw.YBottom
			// Letters sit in the padding above the cell's top-left corner.
			tile := tiles.At(c, i%g.cols, i/g.cols)
			c.FillText(sty, vg.Point{X: tile.Min.X, Y: tile.Max.Y}, panelLetter(letter))
			letter++
		}
	}
}

// panelLetter returns a, b, ..., z, aa, ab...
func panelLetter(i int) string {
	s := ""
	for {
		s = string(rune('a'+i%26)) + s
		i = i/26 - 1
		if i < 0 {
			return s
		}
	}
}
