package jpeg

import (
	"fmt"
	"io"
	"strings"
)

// Image is a decoded image: 8-bit samples, row-major [y][x][c], with C = 3
// (R, G, B) for colour images and C = 1 for grayscale ones.
type Image struct {
	W, H, C int
	Pix     []uint8
}

// RGB returns m itself when it has three channels, else a copy with the
// gray channel replicated into R, G and B (what PIL's convert("RGB") does
// for mode "L").
func (m *Image) RGB() *Image {
	if m.C == 3 {
		return m
	}
	out := &Image{W: m.W, H: m.H, C: 3, Pix: make([]uint8, 3*len(m.Pix))}
	for i, v := range m.Pix {
		out.Pix[3*i], out.Pix[3*i+1], out.Pix[3*i+2] = v, v, v
	}
	return out
}

// Config describes a JPEG image without decoding its pixels.
type Config struct {
	W, H int
	// C is the number of channels Decode returns: 1 (grayscale) or 3 (RGB).
	C int
	// Progressive reports a progressive (SOF2) image.
	Progressive bool
	// Sampling lists the components' sampling factors in cjpeg's notation,
	// e.g. "2x2,1x1,1x1" for 4:2:0; a grayscale image reports "1x1", since
	// the factors of a single component do not matter.
	Sampling string
}

// Options selects a variant of libjpeg-turbo's decoder. The zero value is
// the default: what PIL returns on x86-64 (and Arm), where libjpeg-turbo
// uses its SIMD code.
type Options struct {
	// PortableIDCT selects the arithmetic of libjpeg-turbo's C IDCT
	// (jidctint.c), which it uses without SIMD (or with JSIMD_FORCENONE=1),
	// instead of that of its SIMD IDCT. The two differ only on blocks with
	// extreme coefficients: where the IDCT output falls outside [-512, 511]
	// before the level shift (the C code wraps such values through its
	// 10-bit range-limit table, the SIMD code saturates them) or a 16-bit
	// intermediate of the SIMD code overflows.
	PortableIDCT bool
}

// Decode reads a baseline, extended-sequential or progressive Huffman-coded
// JPEG from r and returns its pixels exactly as libjpeg-turbo's default
// decompression returns them (see the package documentation).
func Decode(r io.Reader) (*Image, error) {
	return DecodeOptions(r, Options{})
}

// DecodeOptions is Decode with a choice of libjpeg-turbo variant.
func DecodeOptions(r io.Reader, opt Options) (*Image, error) {
	d := &decoder{idct: idctSIMD}
	if opt.PortableIDCT {
		d.idct = idctC
	}
	if err := d.decode(r, false); err != nil {
		return nil, fmt.Errorf("jpeg: %w", err)
	}
	return d.output(), nil
}

// DecodeConfig reads the header of a JPEG from r, up to its frame header.
func DecodeConfig(r io.Reader) (Config, error) {
	var d decoder
	if err := d.decode(r, true); err != nil {
		return Config{}, fmt.Errorf("jpeg: %w", err)
	}
	s := make([]string, d.nComp)
	for i := range s {
		s[i] = fmt.Sprintf("%dx%d", d.comp[i].h, d.comp[i].v)
	}
	return Config{W: d.width, H: d.height, C: d.nComp, Progressive: d.progressive, Sampling: strings.Join(s, ",")}, nil
}
