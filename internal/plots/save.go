package plots

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Drawer is a figure: anything that draws itself onto a canvas.
// *plot.Plot is a Drawer, and so is every figure built here.
type Drawer interface {
	Draw(c draw.Canvas)
}

// maxSide bounds figure sides so that a unit mix-up cannot allocate a
// gigantic raster (1 m is 5,906 pixels at DPI).
const maxSide = 1000 * vg.Millimeter

// minSide is the smallest figure side: room for the margins and a mark.
const minSide = 4 * Margin

// checkSize validates a figure size.
func checkSize(width, height vg.Length) error {
	for _, s := range []vg.Length{width, height} {
		if !(s >= minSide) || s > maxSide {
			return fmt.Errorf("figure size %.4gx%.4g pt: sides must be in [%g, %g] pt", float64(width), float64(height), float64(minSide), float64(maxSide))
		}
	}
	return nil
}

// Render draws d at the given size and returns its PNG (at DPI dots per
// inch, with a pHYs chunk saying so) and SVG encodings. A panic inside
// gonum/plot while drawing (it panics on some bad input) is returned as an
// error.
func Render(d Drawer, width, height vg.Length) (pngData, svgData []byte, err error) {
	if d == nil {
		return nil, nil, errors.New("render: nil figure")
	}
	if err := checkSize(width, height); err != nil {
		return nil, nil, fmt.Errorf("render: %w", err)
	}
	pngData, err = RenderPNG(d, width, height)
	if err != nil {
		return nil, nil, err
	}
	svgData, err = RenderSVG(d, width, height)
	if err != nil {
		return nil, nil, err
	}
	return pngData, svgData, nil
}

// Margin is the white border left around every figure.
const Margin vg.Length = 2

// safeDraw paints c white and draws d onto it inside a Margin, turning a
// panic into an error.
func safeDraw(d Drawer, c draw.Canvas) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("draw: %v", r)
		}
	}()
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	d.Draw(draw.Crop(c, Margin, -Margin, Margin, -Margin))
	return nil
}

// RenderPNG draws d at the given size into a PNG at DPI dots per inch.
func RenderPNG(d Drawer, width, height vg.Length) ([]byte, error) {
	if d == nil {
		return nil, errors.New("render png: nil figure")
	}
	if err := checkSize(width, height); err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	c := vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))
	if err := safeDraw(d, draw.New(c)); err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.DefaultCompression}
	if err := enc.Encode(&buf, c.Image()); err != nil {
		return nil, fmt.Errorf("render png: encode: %w", err)
	}
	out, err := withPHYs(buf.Bytes(), DPI)
	if err != nil {
		return nil, fmt.Errorf("render png: %w", err)
	}
	return out, nil
}

// RenderSVG draws d at the given size into an SVG document (sizes in
// points). Fonts are not embedded; text names Liberation Sans with the
// metric-compatible Arial and Helvetica as fall-backs. Raster images
// (image grids, heatmaps) are embedded as PNG data URIs.
func RenderSVG(d Drawer, width, height vg.Length) ([]byte, error) {
	if d == nil {
		return nil, errors.New("render svg: nil figure")
	}
	if err := checkSize(width, height); err != nil {
		return nil, fmt.Errorf("render svg: %w", err)
	}
	c := vgsvg.New(width, height)
	if err := safeDraw(d, draw.New(c)); err != nil {
		return nil, fmt.Errorf("render svg: %w", err)
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("render svg: %w", err)
	}
	out := bytes.ReplaceAll(buf.Bytes(),
		[]byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	// vgsvg embeds images as PNG but labels them image/jpg, which strict
	// renderers (librsvg) refuse to draw.
	out = bytes.ReplaceAll(out, []byte(`xlink:href="data:image/jpg;base64,`), []byte(`xlink:href="data:image/png;base64,`))
	// gonum's DrawImage stretches an image to its rectangle (as the PNG
	// back end does); SVG's default keeps the aspect ratio instead.
	out = bytes.ReplaceAll(out, []byte("<image x="), []byte(`<image preserveAspectRatio="none" x=`))
	return out, nil
}

// withPHYs inserts a pHYs chunk (physical pixel size) right after the IHDR
// chunk of a PNG produced by image/png, so that viewers and word processors
// size the figure as intended.
func withPHYs(data []byte, dpi int) ([]byte, error) {
	const sigLen, ihdrLen = 8, 8 + 13 + 4 // signature; length+type, data, crc
	if len(data) < sigLen+ihdrLen || string(data[sigLen+4:sigLen+8]) != "IHDR" {
		return nil, errors.New("png without a leading IHDR chunk")
	}
	ppm := uint32(math.Round(float64(dpi) / 0.0254)) // pixels per metre
	var chunk [4 + 4 + 9 + 4]byte
	binary.BigEndian.PutUint32(chunk[0:], 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], ppm)
	binary.BigEndian.PutUint32(chunk[12:], ppm)
	chunk[16] = 1 // unit: metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(data)+len(chunk))
	out = append(out, data[:sigLen+ihdrLen]...)
	out = append(out, chunk[:]...)
	out = append(out, data[sigLen+ihdrLen:]...)
	return out, nil
}

// Save renders d at the given size and writes dir/name.png and
// dir/name.svg. Each file is written to a temporary file in dir and renamed
// into place, so a reader never sees a half-written figure; both are
// rendered before either is written. name must be a plain file name without
// an extension.
func Save(d Drawer, dir, name string, width, height vg.Length) error {
	if name == "" || name != filepath.Base(name) || strings.ContainsAny(name, `/\`) || name == "." || name == ".." {
		return fmt.Errorf("save figure %q: name must be a plain file name", name)
	}
	if ext := filepath.Ext(name); ext == ".png" || ext == ".svg" {
		return fmt.Errorf("save figure %q: give the name without %s", name, ext)
	}
	pngData, svgData, err := Render(d, width, height)
	if err != nil {
		return fmt.Errorf("save figure %s: %w", name, err)
	}
	if err := writeAtomic(filepath.Join(dir, name+".png"), pngData); err != nil {
		return fmt.Errorf("save figure %s: %w", name, err)
	}
	if err := writeAtomic(filepath.Join(dir, name+".svg"), svgData); err != nil {
		return fmt.Errorf("save figure %s: %w", name, err)
	}
	return nil
}

// writeAtomic writes data to path through a temporary file in the same
// directory and a rename; the file is world-readable (0644).
func writeAtomic(path string, data []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
