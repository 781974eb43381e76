package plots

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
)

// DiffStats summarise how two images of the same size differ. Pixels are
// compared as 8-bit non-premultiplied RGBA.
type DiffStats struct {
	// Width and Height are the size of both images.
	Width, Height int
	// Differing is the number of pixels with any channel different, and
	// Fraction is Differing / (Width·Height).
	Differing int
	Fraction  float64
	// MaxDelta is the largest absolute difference of any channel of any
	// pixel, 0–255.
	MaxDelta int
	// Bounds is the smallest rectangle holding every differing pixel, in
	// coordinates with the images' top-left pixel at (0, 0); it is empty
	// when the images are identical.
	Bounds image.Rectangle
}

// Identical reports whether no pixel differs.
func (s DiffStats) Identical() bool { return s.Differing == 0 }

// String formats the statistics for people.
func (s DiffStats) String() string {
	if s.Identical() {
		return fmt.Sprintf("%d×%d pixels, identical", s.Width, s.Height)
	}
	return fmt.Sprintf("%d×%d pixels, %d differ (%.4f%%), max channel |Δ| %d, in x %d–%d, y %d–%d",
		s.Width, s.Height, s.Differing, 100*s.Fraction, s.MaxDelta,
		s.Bounds.Min.X, s.Bounds.Max.X-1, s.Bounds.Min.Y, s.Bounds.Max.Y-1)
}

// Colours of the diff image.
var (
	// DiffColor marks differing pixels in the diff image (magenta).
	DiffColor = color.NRGBA{R: 0xFF, G: 0x00, B: 0xFF, A: 0xFF}
	// DiffBoxColor outlines, two pixels out, the bounding box of the
	// differences (so that a single differing pixel can be found).
	DiffBoxColor = color.NRGBA{R: 0x00, G: 0x9E, B: 0x73, A: 0xFF}
)

// dimKeep is how much of A's contrast the diff image keeps.
const dimKeep = 0.3

// Diff compares a and b pixel by pixel. It returns the statistics and a
// diff image: a dimmed copy of a (composited over white, with 30% of its
// contrast) with every differing pixel in DiffColor and the bounding box of
// the differences outlined in DiffBoxColor. Images of different sizes are
// an error.
func Diff(a, b image.Image) (DiffStats, image.Image, error) {
	if a == nil || b == nil {
		return DiffStats{}, nil, errors.New("diff: nil image")
	}
	ab, bb := a.Bounds(), b.Bounds()
	if ab.Dx() != bb.Dx() || ab.Dy() != bb.Dy() {
		return DiffStats{}, nil, fmt.Errorf("diff: sizes differ: %d×%d and %d×%d pixels", ab.Dx(), ab.Dy(), bb.Dx(), bb.Dy())
	}
	if ab.Dx()*ab.Dy() > 1<<28 {
		return DiffStats{}, nil, fmt.Errorf("diff: %d×%d pixels is too large", ab.Dx(), ab.Dy())
	}
	na, nb := toNRGBA(a), toNRGBA(b)
	w, h := ab.Dx(), ab.Dy()
	st := DiffStats{Width: w, Height: h}
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		pa := na.Pix[y*na.Stride : y*na.Stride+4*w]
		pb := nb.Pix[y*nb.Stride : y*nb.Stride+4*w]
		po := out.Pix[y*out.Stride : y*out.Stride+4*w]
		for x := range w {
			i := 4 * x
			differs := false
			for ch := range 4 {
				d := int(pa[i+ch]) - int(pb[i+ch])
				if d < 0 {
					d = -d
				}
				if d > 0 {
					differs = true
					st.MaxDelta = max(st.MaxDelta, d)
				}
			}
			if differs {
				st.Differing++
				st.Bounds = st.Bounds.Union(image.Rect(x, y, x+1, y+1))
				po[i], po[i+1], po[i+2], po[i+3] = DiffColor.R, DiffColor.G, DiffColor.B, 0xFF
				continue
			}
			alpha := float64(pa[i+3]) / 255
			for ch := range 3 {
				over := float64(pa[i+ch])*alpha + 255*(1-alpha) // over white
				po[i+ch] = uint8(255 - (255-over)*dimKeep + 0.5)
			}
			po[i+3] = 0xFF
		}
	}
	if w > 0 && h > 0 {
		st.Fraction = float64(st.Differing) / float64(w*h)
	}
	if !st.Bounds.Empty() {
		outline(out, st.Bounds.Inset(-2), DiffBoxColor, DiffColor)
	}
	return st, out, nil
}

// outline draws the border of r (clipped to img) in c, leaving pixels of
// colour keep untouched.
func outline(img *image.NRGBA, r image.Rectangle, c, keep color.NRGBA) {
	set := func(x, y int) {
		if !(image.Point{X: x, Y: y}.In(img.Bounds())) || img.NRGBAAt(x, y) == keep {
			return
		}
		img.SetNRGBA(x, y, c)
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		set(x, r.Min.Y)
		set(x, r.Max.Y-1)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		set(r.Min.X, y)
		set(r.Max.X-1, y)
	}
}

// toNRGBA returns img as non-premultiplied 8-bit RGBA with origin (0, 0).
func toNRGBA(img image.Image) *image.NRGBA {
	b := img.Bounds()
	if n, ok := img.(*image.NRGBA); ok && b.Min == (image.Point{}) {
		return n
	}
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	switch src := img.(type) {
	case *image.RGBA:
		for y := range b.Dy() {
			for x := range b.Dx() {
				i := src.PixOffset(b.Min.X+x, b.Min.Y+y)
				r, g, bl, a := src.Pix[i], src.Pix[i+1], src.Pix[i+2], src.Pix[i+3]
				if a != 0xFF {
					c := color.NRGBAModel.Convert(color.RGBA{R: r, G: g, B: bl, A: a}).(color.NRGBA)
					r, g, bl, a = c.R, c.G, c.B, c.A
				}
				copy(out.Pix[out.PixOffset(x, y):], []uint8{r, g, bl, a})
			}
		}
	default:
		for y := range b.Dy() {
			for x := range b.Dx() {
				out.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA))
			}
		}
	}
	return out
}

// maxDiffPixels bounds the decoded size of a PNG given to DiffPNG, checked
// from its header before its pixels are decoded.
const maxDiffPixels = 1 << 26

// DiffPNG decodes two PNG streams and compares them with Diff.
func DiffPNG(a, b io.Reader) (DiffStats, image.Image, error) {
	ia, err := decodePNG(a)
	if err != nil {
		return DiffStats{}, nil, fmt.Errorf("diff: first image: %w", err)
	}
	ib, err := decodePNG(b)
	if err != nil {
		return DiffStats{}, nil, fmt.Errorf("diff: second image: %w", err)
	}
	return Diff(ia, ib)
}

// decodePNG decodes a PNG, refusing images larger than maxDiffPixels
// before allocating them.
func decodePNG(r io.Reader) (image.Image, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read png: %w", err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode png: %w", err)
	}
	if cfg.Width*cfg.Height > maxDiffPixels {
		return nil, fmt.Errorf("decode png: %d×%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("decode png: %w", err)
	}
	return img, nil
}

// DiffFiles compares the PNG files at pathA and pathB with Diff. If
// outPath is not empty, the diff image is written there as a PNG
// (atomically), whether or not the images differ.
func DiffFiles(pathA, pathB, outPath string) (DiffStats, error) {
	open := func(path string) (image.Image, error) {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		img, err := decodePNG(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return img, nil
	}
	a, err := open(pathA)
	if err != nil {
		return DiffStats{}, fmt.Errorf("diff: %w", err)
	}
	b, err := open(pathB)
	if err != nil {
		return DiffStats{}, fmt.Errorf("diff: %w", err)
	}
	st, d, err := Diff(a, b)
	if err != nil {
		return DiffStats{}, fmt.Errorf("diff %s %s: %w", pathA, pathB, err)
	}
	if outPath != "" {
		var buf bytes.Buffer
		if err := png.Encode(&buf, d); err != nil {
			return st, fmt.Errorf("diff: encode %s: %w", outPath, err)
		}
		if err := writeAtomic(outPath, buf.Bytes()); err != nil {
			return st, fmt.Errorf("diff: %w", err)
		}
	}
	return st, nil
}
