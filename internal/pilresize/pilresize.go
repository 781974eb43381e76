// Package pilresize resizes 8-bit images exactly as Pillow 9.4's Image.resize does with its
// default filter, BICUBIC (libImaging/Resample.c), byte for byte: the 224×224 inputs of the
// ImageNet networks and the ensemble are the 112×112 stimuli resized this way
// (reference/upstream.md §3.2).
//
// Pillow's algorithm, reproduced step by step:
//
//   - For each axis and output index xx, the source window is centred at
//     center = (xx + 0.5)·scale with scale = in/out; the filter is stretched by
//     filterscale = max(scale, 1) and its support (2 for bicubic) with it. The window runs from
//     xmin = int(center − support + 0.5), at least 0, to xmax = int(center + support + 0.5), at
//     most in (int() truncating towards zero, as C's cast), and tap x weighs
//     bicubic((x + xmin − center + 0.5)/filterscale) with the bicubic kernel of a = −0.5, the
//     weights divided by their sum; all in float64, each operation rounded as C does (no fused
//     multiply-add).
//   - The weights become fixed point with 22 fraction bits: int(0.5 + w·2²²), or int(−0.5 + w·2²²)
//     for negative w.
//   - Horizontal pass first (when the width changes), into an 8-bit image of the rows the
//     vertical pass needs; then the vertical pass (when the height changes). Each output value
//     is (2²¹ + Σ pixel·weight) in 32-bit integers, shifted right by 22 and clamped to 0…255.
//
// Channels are independent.
package pilresize

import (
	"errors"
	"fmt"
	"math"
)

// precisionBits are the fraction bits of Pillow's 8-bit fixed-point weights (32 − 8 − 2).
const precisionBits = 32 - 8 - 2

// bicubicSupport is the support of Pillow's bicubic filter.
const bicubicSupport = 2.0

// bicubic is Pillow's bicubic_filter with a = −0.5. The explicit conversions keep each product
// rounded on its own, as the C code compiled without FMA contraction does.
func bicubic(x float64) float64 {
	const a = -0.5
	if x < 0 {
		x = -x
	}
	if x < 1 {
		return float64(float64(float64((a+2)*x)-(a+3))*x)*x + 1
	}
	if x < 2 {
		return float64(float64(float64(float64(x-5)*x)+8)*x-4) * a
	}
	return 0
}

// coeffs are one axis' windows and fixed-point weights.
type coeffs struct {
	ksize  int
	bounds []int   // xmin, xmax (count) per output index
	kk     []int32 // ksize weights per output index
}

// precompute is Pillow's precompute_coeffs followed by normalize_coeffs_8bpc, for the box
// [0, in) of the input.
func precompute(in, out int) coeffs {
	scale := float64(in) / float64(out)
	filterscale := scale
	if filterscale < 1 {
		filterscale = 1
	}
	support := bicubicSupport * filterscale
	ksize := int(math.Ceil(support))*2 + 1
	c := coeffs{ksize: ksize, bounds: make([]int, 2*out), kk: make([]int32, out*ksize)}
	k := make([]float64, ksize)
	for xx := 0; xx < out; xx++ {
		center := float64(float64(xx)+0.5) * scale
		ss := 1 / filterscale
		xmin := int(center - support + 0.5)
		if xmin < 0 {
			xmin = 0
		}
		xmax := int(center + support + 0.5)
		if xmax > in {
			xmax = in
		}
		xmax -= xmin
		ww := 0.0
		for x := 0; x < xmax; x++ {
			w := bicubic(float64(float64(x+xmin)-center+0.5) * ss)
			k[x] = w
			ww += w
		}
		for x := 0; x < xmax; x++ {
			if ww != 0 {
				k[x] /= ww
			}
		}
		for x := xmax; x < ksize; x++ {
			k[x] = 0
		}
		for x, w := range k {
			if w < 0 {
				c.kk[xx*ksize+x] = int32(-0.5 + w*(1<<precisionBits))
			} else {
				c.kk[xx*ksize+x] = int32(0.5 + w*(1<<precisionBits))
			}
		}
		c.bounds[2*xx], c.bounds[2*xx+1] = xmin, xmax
	}
	return c
}

// clip8 is Pillow's clip8: the rounded sum shifted to 8 bits and clamped.
func clip8(in int32) uint8 {
	if in >= 1<<precisionBits<<8 {
		return 255
	}
	if in <= 0 {
		return 0
	}
	return uint8(in >> precisionBits)
}

// Bicubic resizes one interleaved 8-bit image of w×h pixels and c channels (row-major, as
// image/PIL arrays are laid out) to ow×oh pixels as Pillow 9.4's Image.resize((ow, oh)) with
// the default BICUBIC filter.
func Bicubic(pix []uint8, w, h, c, ow, oh int) ([]uint8, error) {
	if w < 1 || h < 1 || c < 1 || ow < 1 || oh < 1 {
		return nil, fmt.Errorf("pilresize: sizes %d×%d×%d → %d×%d must be positive", w, h, c, ow, oh)
	}
	if len(pix) != w*h*c {
		return nil, fmt.Errorf("pilresize: %d bytes for a %d×%d image of %d channels", len(pix), w, h, c)
	}
	if w > 1<<15 || h > 1<<15 || ow > 1<<15 || oh > 1<<15 {
		return nil, errors.New("pilresize: images larger than 32768 pixels a side are not supported")
	}
	cur, cw := pix, w
	vert := precompute(h, oh)
	if ow != w {
		// Only the rows the vertical pass reads, as Pillow does.
		first, last := 0, h
		if oh != h {
			first = vert.bounds[0]
			last = vert.bounds[2*oh-2] + vert.bounds[2*oh-1]
			for i := 0; i < oh; i++ {
				vert.bounds[2*i] -= first
			}
		}
		hz := precompute(w, ow)
		rows := last - first
		tmp := make([]uint8, ow*rows*c)
		for y := 0; y < rows; y++ {
			src := pix[(y+first)*w*c:][:w*c]
			dst := tmp[y*ow*c:][:ow*c]
			for xx := 0; xx < ow; xx++ {
				xmin, xmax := hz.bounds[2*xx], hz.bounds[2*xx+1]
				k := hz.kk[xx*hz.ksize:][:xmax]
				for q := 0; q < c; q++ {
					ss := int32(1 << (precisionBits - 1))
					for x, kw := range k {
						ss += int32(src[(x+xmin)*c+q]) * kw
					}
					dst[xx*c+q] = clip8(ss)
				}
			}
		}
		cur, cw = tmp, ow
	}
	if oh == h {
		if ow == w {
			return append([]uint8(nil), pix...), nil
		}
		return cur, nil
	}
	out := make([]uint8, ow*oh*c)
	for yy := 0; yy < oh; yy++ {
		ymin, ymax := vert.bounds[2*yy], vert.bounds[2*yy+1]
		k := vert.kk[yy*vert.ksize:][:ymax]
		dst := out[yy*ow*c:][:ow*c]
		for x := 0; x < cw*c; x++ {
			ss := int32(1 << (precisionBits - 1))
			for y, kw := range k {
				ss += int32(cur[(y+ymin)*cw*c+x]) * kw
			}
			dst[x] = clip8(ss)
		}
	}
	return out, nil
}
