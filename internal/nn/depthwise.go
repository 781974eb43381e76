package nn

import "fmt"

// rowDW computes one output row of a depthwise convolution (depth multiplier 1), vectorised over
// channels in blocks of 16 (NHWC keeps them contiguous; every buffer it touches has a channel
// pitch that is a multiple of 16, and the weights are laid out tap by tap with that pitch).
type rowDW struct {
	kh, kw, sh, sw int
	nblk           int
	w              []float32 // kh·kw taps × 16·nblk channels
	bias           []float32 // 16·nblk, zero-padded (used with flagBias)
	flags          int
}

// row computes output row y into dst[doff + x·dstep : … + 16·nblk] for x < wo, reading the padded
// input buffer src of geometry in (whose padding is this convolution's). Pixels go four at a
// time; when wo is not a multiple of 4 the last group overlaps the one before it.
func (d *rowDW) row(src []float32, in *value, y int, dst []float32, doff, dstep, wo int) {
	if wo <= 0 {
		return
	}
	tap := in.pitch
	rowp := in.wp * in.pitch
	sx := d.sw * in.pitch
	soff := y * d.sh * rowp
	if last := soff + (wo-1)*sx + (d.kh-1)*rowp + (d.kw-1)*tap + d.nblk*nr; last > len(src) {
		panic(fmt.Sprintf("nn: internal error: depthwise row reads src[%d:%d] of %d", soff, last, len(src)))
	}
	if last := doff + (wo-1)*dstep + d.nblk*nr; last > len(dst) {
		panic(fmt.Sprintf("nn: internal error: depthwise row writes dst[%d:%d] of %d", doff, last, len(dst)))
	}
	if wo >= 4 {
		for x := 0; ; x += 4 {
			if x > wo-4 {
				x = wo - 4
			}
			dw4(dst[doff+x*dstep:], dstep, src[soff+x*sx:], sx, d.w, d.bias, d.nblk, d.kh, d.kw, tap, rowp, d.flags)
			if x == wo-4 {
				return
			}
		}
	}
	for x := 0; x < wo; x++ {
		dw1(dst[doff+x*dstep:], src[soff+x*sx:], d.w, d.bias, d.nblk, d.kh, d.kw, tap, rowp, d.flags)
	}
}

// packDW lays out a Keras depthwise kernel D[i,j,c,0] (kh,kw,C,1), given in float64, tap by tap
// with the given channel pitch.
func packDW(w []float64, kh, kw, c, pitch int) []float32 {
	out := make([]float32, kh*kw*pitch)
	for t := 0; t < kh*kw; t++ {
		for ch := 0; ch < c; ch++ {
			out[t*pitch+ch] = float32(w[t*c+ch])
		}
	}
	return out
}

// dwOp is a DepthwiseConv2D layer (bias, a following batchnorm folded in, ReLU fused), e.g. the
// shared model's 28×28 'valid' spatial pool.
type dwOp struct {
	in, out *value
	dw      rowDW
}

func (o *dwOp) rows() int      { return o.out.h }
func (o *dwOp) need(n int) int { return windowNeed(n, o.dw.sh, o.dw.kh, o.in.pt, o.in.h) }

func (o *dwOp) run(in, out []float32, _ *scratch, y0, y1 int) {
	for y := y0; y < y1; y++ {
		o.dw.row(in, o.in, y, out, o.out.off(y, 0), o.out.pitch, o.out.w)
	}
}
