package plots

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// maxPixels bounds the images built here (and the upscaled copies drawn),
// so that a wrong shape cannot allocate gigabytes.
const maxPixels = 1 << 24

// checkShape validates an h×w×c image shape against a buffer length.
func checkShape(n, h, w, c int) error {
	if h <= 0 || w <= 0 || c <= 0 || h > maxPixels || w > maxPixels || h*w > maxPixels {
		return fmt.Errorf("shape %d×%d×%d: need 1 to %d pixels", h, w, c, maxPixels)
	}
	if n != h*w*c {
		return fmt.Errorf("shape %d×%d×%d needs %d values, got %d", h, w, c, h*w*c, n)
	}
	return nil
}

// RGB returns the h×w image whose pixels are pix in row-major, channel-last
// (HWC) order, as Keras stores images: e.g. a 112×112×3 preferred stimulus.
func RGB(pix []uint8, h, w int) (*image.NRGBA, error) {
	if err := checkShape(len(pix), h, w, 3); err != nil {
		return nil, fmt.Errorf("rgb image: %w", err)
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range h * w {
		copy(img.Pix[4*i:4*i+3], pix[3*i:3*i+3])
		img.Pix[4*i+3] = 0xFF
	}
	return img, nil
}

// Signed returns the h×w image of signed values in HWC order with c = 1
// (grey) or 3 (RGB) channels, scaled symmetrically around mid-grey: 0 is
// grey (128), −scale black (0) and +scale full intensity (255), per
// channel; values beyond ±scale saturate. Give filter kernels that are
// compared with each other the same scale; scale ≤ 0 uses the largest
// |value| of vals (and grey everywhere when vals are all zero). NaN and
// ±Inf are rejected.
func Signed[T float32 | float64](vals []T, h, w, c int, scale float64) (*image.NRGBA, error) {
	if c != 1 && c != 3 {
		return nil, fmt.Errorf("signed image: %d channels, need 1 or 3", c)
	}
	if err := checkShape(len(vals), h, w, c); err != nil {
		return nil, fmt.Errorf("signed image: %w", err)
	}
	if math.IsNaN(scale) || math.IsInf(scale, 0) {
		return nil, fmt.Errorf("signed image: scale %g", scale)
	}
	var maxAbs float64
	for i, v := range vals {
		f := float64(v)
		if !finite(f) {
			return nil, fmt.Errorf("signed image: value %d is %g", i, f)
		}
		maxAbs = math.Max(maxAbs, math.Abs(f))
	}
	if scale <= 0 {
		scale = maxAbs
	}
	level := func(v T) uint8 {
		if scale == 0 {
			return 128
		}
		return uint8(math.Round(127.5 + 127.5*math.Max(-1, math.Min(1, float64(v)/scale))))
	}
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := range h * w {
		px := img.Pix[4*i : 4*i+4]
		if c == 1 {
			l := level(vals[i])
			px[0], px[1], px[2] = l, l, l
		} else {
			px[0], px[1], px[2] = level(vals[3*i]), level(vals[3*i+1]), level(vals[3*i+2])
		}
		px[3] = 0xFF
	}
	return img, nil
}

// ImageGridOptions configure ImageGrid.
type ImageGridOptions struct {
	// Cols is the number of columns; 0 means ⌈√n⌉.
	Cols int
	// Titles, if not nil, holds one title per image, drawn above it.
	Titles []string
	// Title is drawn centred above the grid; may be empty.
	Title string
}

// ImageGrid lays out images (preferred stimuli, filter kernels) in a grid,
// each scaled to fit its cell with its aspect ratio kept and its pixels
// kept sharp (enlarged by pixel replication, never smoothed).
func ImageGrid(imgs []image.Image, opt ImageGridOptions) (Drawer, error) {
	n := len(imgs)
	if n == 0 {
		return nil, fmt.Errorf("image grid: %w", errNoData)
	}
	if err := checkLabels("titles", opt.Titles, n); err != nil {
		return nil, fmt.Errorf("image grid: %w", err)
	}
	cols := opt.Cols
	if cols == 0 {
		cols = int(math.Ceil(math.Sqrt(float64(n))))
	}
	if cols < 0 || cols > n {
		return nil, fmt.Errorf("image grid: %d columns for %d images", cols, n)
	}
	for i, img := range imgs {
		if img == nil {
			return nil, fmt.Errorf("image grid: image %d is nil", i)
		}
		b := img.Bounds()
		if b.Empty() || b.Dx()*b.Dy() > maxPixels {
			return nil, fmt.Errorf("image grid: image %d is %d×%d pixels", i, b.Dx(), b.Dy())
		}
	}
	return &imageGrid{imgs: imgs, opt: opt, cols: cols, rows: (n + cols - 1) / cols}, nil
}

// imageGrid is the Drawer returned by ImageGrid.
type imageGrid struct {
	imgs       []image.Image
	opt        ImageGridOptions
	rows, cols int
}

// Draw implements Drawer.
func (g *imageGrid) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	if g.opt.Title != "" {
		sty := TextStyle(LabelSize, false)
		sty.YAlign = draw.YTop
		c.FillText(sty, vg.Point{X: c.Center().X, Y: c.Max.Y}, g.opt.Title)
		c.Max.Y -= sty.Height(g.opt.Title) + vg.Points(3)
	}
	tsty := TextStyle(TickSize, false)
	tsty.YAlign = draw.YBottom
	var titleH vg.Length
	if g.opt.Titles != nil {
		for _, t := range g.opt.Titles {
			titleH = max(titleH, tsty.Height(t))
		}
		titleH += vg.Points(1)
	}
	tiles := draw.Tiles{Rows: g.rows, Cols: g.cols, PadX: vg.Points(3), PadY: vg.Points(3)}
	for i, img := range g.imgs {
		cell := tiles.At(c, i%g.cols, i/g.cols)
		area := cell.Rectangle
		area.Max.Y -= titleH
		r := fitRect(area, img.Bounds())
		drawSharp(c, r, img)
		if g.opt.Titles != nil && g.opt.Titles[i] != "" {
			c.FillText(tsty, vg.Point{X: (r.Min.X + r.Max.X) / 2, Y: r.Max.Y + vg.Points(1)}, g.opt.Titles[i])
		}
	}
}

// fitRect returns the largest rectangle with the aspect ratio of b that
// fits in area, centred horizontally and at the top of area.
func fitRect(area vg.Rectangle, b image.Rectangle) vg.Rectangle {
	w, h := area.Max.X-area.Min.X, area.Max.Y-area.Min.Y
	if w <= 0 || h <= 0 {
		return vg.Rectangle{Min: area.Min, Max: area.Min}
	}
	aspect := vg.Length(b.Dy()) / vg.Length(b.Dx())
	if h > w*aspect {
		h = w * aspect
	} else {
		w = h / aspect
	}
	x0 := area.Min.X + (area.Max.X-area.Min.X-w)/2
	return vg.Rectangle{Min: vg.Point{X: x0, Y: area.Max.Y - h}, Max: vg.Point{X: x0 + w, Y: area.Max.Y}}
}

// drawSharp draws img into r, first enlarging it by pixel replication to
// at least the number of PNG dots r covers, so that neither the PNG
// back end's bilinear resampling nor an SVG viewer blurs its pixels.
func drawSharp(c draw.Canvas, r vg.Rectangle, img image.Image) {
	b := img.Bounds()
	w := float64(r.Max.X-r.Min.X) / vg.Inch.Points() * DPI
	h := float64(r.Max.Y-r.Min.Y) / vg.Inch.Points() * DPI
	if !(w > 0) || !(h > 0) {
		return
	}
	k := int(math.Ceil(math.Max(w/float64(b.Dx()), h/float64(b.Dy()))))
	k = max(1, min(k, int(math.Sqrt(maxPixels/float64(b.Dx()*b.Dy())))))
	c.DrawImage(r, replicate(img, k))
}

// replicate enlarges img k times by pixel replication into an NRGBA image
// with origin (0, 0).
func replicate(img image.Image, k int) *image.NRGBA {
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx()*k, b.Dy()*k))
	for y := range b.Dy() {
		for x := range b.Dx() {
			px := color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			for dy := range k {
				row := out.Pix[(y*k+dy)*out.Stride:]
				for dx := range k {
					o := 4 * (x*k + dx)
					row[o], row[o+1], row[o+2], row[o+3] = px.R, px.G, px.B, px.A
				}
			}
		}
	}
	return out
}
