package nn

import "fmt"

// rowGemm computes one output row of a convolution as GEMM tiles without materialising im2col:
// output pixel x of the row reads A row x at a[aoff + x·rs + s·segStride + t] for segment s
// (one kernel row) and step t (kw pixels × input channels, contiguous in NHWC), against weights
// packed in np panels of 16 output channels. A pointwise (1×1) convolution is the case of one
// segment. Rows of C are written whole (16·np channels), with bias and optional ReLU fused.
type rowGemm struct {
	rs, nseg, seglen, segStride int
	np                          int
	b                           []float32 // np panels of (nseg·seglen)×16
	bias                        []float32 // 16·np, zero-padded
	flags                       int
}

func (g *rowGemm) k() int { return g.nseg * g.seglen }

// panels is g restricted to the output panels p0..p1-1 (its C columns start at 16·p0). Each
// output element is computed by the same instructions in the same order as by g.
func (g *rowGemm) panels(p0, p1 int) rowGemm {
	k := g.k()
	h := *g
	h.b, h.bias, h.np = g.b[p0*k*nr:p1*k*nr], g.bias[p0*nr:p1*nr], p1-p0
	return h
}

// panelBlock is the number of output panels whose packed weights a GEMM driver keeps in cache
// while it sweeps over all its output pixels: a multiple of 4 (the widest AVX-512 tile) whose
// weights take at most gemmPanelBytes, or all np when they fit.
func (g *rowGemm) panelBlock() int {
	per := g.k() * nr * 4 // bytes of one packed panel
	if per*g.np <= gemmPanelBytes {
		return g.np
	}
	return max(4, gemmPanelBytes/(4*per)*4)
}

// gemmPanelBytes bounds the packed weights one sweep over the output pixels reads (panelBlock):
// with the input image they stay in a core's L2 cache (1 MiB or more on AVX-512 cores) instead
// of being streamed from memory once per tile of six pixels.
const gemmPanelBytes = 512 << 10

// row computes wo output pixels into c[coff + x·ldc : … + 16·np]. Tiles of 6 pixels; when wo is
// not a multiple of 6 the last tile overlaps the one before it and recomputes a few pixels with
// identical arithmetic, so every pixel's value is independent of the tiling.
func (g *rowGemm) row(a []float32, aoff int, c []float32, coff, ldc, wo int, s *scratch) {
	k := g.k()
	if wo <= 0 {
		return
	}
	// One range check per row: the assembly kernel reads and writes through raw pointers.
	if last := aoff + (wo-1)*g.rs + max(g.nseg-1, 0)*g.segStride + g.seglen; aoff < 0 || last > len(a) {
		panic(fmt.Sprintf("nn: internal error: conv row reads a[%d:%d] of %d", aoff, last, len(a)))
	}
	if last := coff + (wo-1)*ldc + g.np*nr; coff < 0 || last > len(c) {
		panic(fmt.Sprintf("nn: internal error: conv row writes c[%d:%d] of %d", coff, last, len(c)))
	}
	if wo >= mr {
		for x := 0; ; x += mr {
			if x > wo-mr {
				x = wo - mr
			}
			gemmTile(a[aoff+x*g.rs:], g.rs, 1, g.nseg, g.seglen, g.segStride, g.b, c[coff+x*ldc:], ldc, g.bias, g.flags, g.np)
			if x == wo-mr {
				return
			}
		}
	}
	// Fewer than 6 pixels: gather the A rows (same k order) and compute through a buffer.
	s.gather = grow(s.gather, mr*k)
	clear(s.gather)
	for r := 0; r < wo; r++ {
		for sg := 0; sg < g.nseg; sg++ {
			src := aoff + r*g.rs + sg*g.segStride
			copy(s.gather[r*k+sg*g.seglen:r*k+(sg+1)*g.seglen], a[src:src+g.seglen])
		}
	}
	t := s.tile[:]
	for p := 0; p < g.np; p++ {
		gemmTile(s.gather, k, 1, 1, k, 0, g.b[p*k*nr:], t, nr, g.bias[p*nr:], g.flags, 1)
		for r := 0; r < wo; r++ {
			copy(c[coff+r*ldc+p*nr:coff+r*ldc+p*nr+nr], t[r*nr:r*nr+nr])
		}
	}
}

// packConv packs a Keras conv kernel W[i,j,c,o] (kh,kw,cin,cout), given in float64, for rowGemm
// reading an input whose pixels are pitch floats apart: step t = j·pitch + c of segment i, with
// zeros for the padding channels between pixels.
func packConv(w []float64, kh, kw, cin, cout, pitch int) (b []float32, seglen, np int) {
	seglen = (kw-1)*pitch + cin
	np = (cout + nr - 1) / nr
	k := kh * seglen
	b = make([]float32, np*k*nr)
	for i := 0; i < kh; i++ {
		for j := 0; j < kw; j++ {
			for c := 0; c < cin; c++ {
				kk := i*seglen + j*pitch + c
				for o := 0; o < cout; o++ {
					p, jj := o/nr, o%nr
					b[p*k*nr+kk*nr+jj] = float32(w[((i*kw+j)*cin+c)*cout+o])
				}
			}
		}
	}
	return b, seglen, np
}

func padBias(bias []float64, n int) []float32 {
	out := make([]float32, n)
	for i, v := range bias {
		out[i] = float32(v)
	}
	return out
}

// convOp is a Conv2D (any kernel, stride and padding; the input buffer carries the padding),
// with a following batchnorm folded in and ReLU fused.
type convOp struct {
	in, out *value
	stride  int
	g       rowGemm
}

func (o *convOp) rows() int { return o.out.h }
func (o *convOp) need(n int) int {
	return windowNeed(n, o.stride, o.g.nseg, o.in.pt, o.in.h)
}

func (o *convOp) run(in, out []float32, s *scratch, y0, y1 int) {
	for y := y0; y < y1; y++ {
		aoff := y * o.stride * o.in.wp * o.in.pitch
		o.g.row(in, aoff, out, o.out.off(y, 0), o.out.pitch, o.out.w, s)
	}
}

// sepOp is a SeparableConv2D: depthwise (no bias) into a one-row scratch buffer, then pointwise
// with bias, a following batchnorm folded into the pointwise weights, and ReLU fused. Rows are
// independent, so a row band needs nothing from other bands.
type sepOp struct {
	in, out *value
	dw      rowDW
	pw      rowGemm
}

func (o *sepOp) rows() int      { return o.out.h }
func (o *sepOp) need(n int) int { return windowNeed(n, o.dw.sh, o.dw.kh, o.in.pt, o.in.h) }

func (o *sepOp) run(in, out []float32, s *scratch, y0, y1 int) {
	wo := o.out.w
	s.dwrow = grow(s.dwrow, wo*o.in.pitch)
	for y := y0; y < y1; y++ {
		o.dw.row(in, o.in, y, s.dwrow, 0, o.in.pitch, wo)
		o.pw.row(s.dwrow, 0, out, o.out.off(y, 0), o.out.pitch, wo, s)
	}
}
