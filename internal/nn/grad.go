package nn

import (
	"fmt"
	"math"

	"compactv4/internal/model"
)

// GradNet evaluates a network and the gradient of a weighted sum of its outputs with respect
// to its input, with batchnorm in inference mode (moving statistics).
//
// It is built on the inference engine: batchnorm is folded into the preceding convolution as
// Compile folds it (inference mode makes batchnorm an affine map per channel), the forward pass
// is Net's, with every stage's output kept, and the backward pass runs stage by stage on the same
// packed float32 layout:
//
//   - ReLU: the incoming gradient is masked where the stage's output is 0 (TF's rule: the
//     gradient of max(x,0) is 1 where x > 0, else 0);
//   - pointwise and 1×1 convolutions: a GEMM with the transposed (folded) kernel;
//   - depthwise convolutions: a correlation of the output gradient with the flipped kernel,
//     split by stride phase (for stride 2, each of the four output-pixel parities uses its own
//     2×2..3×3 sub-kernel, so no multiply hits an inserted zero), run by the depthwise kernel of
//     the forward pass; a 'valid' depthwise layer whose window covers most of its input (the
//     shared model's 28×28 spatial pool) scatters instead;
//   - full convolutions (layer 0): a GEMM of the output gradient with the transposed kernel
//     gives the gradient of every input patch (col), added back onto the image (col2im);
//   - Flatten and Dense: a reshape and a transposed product.
//
// Images are spread over the workers, each image computed by one goroutine from start to end,
// so the bytes of out and dx do not depend on the number of workers or on the batch an image is
// part of.
type GradNet struct {
	net   *Net
	bops  []gradOp
	work  freeList[*gradWork]
	nout  int
	label string
}

// gradWork is one goroutine's memory: forward activations, their gradients (same geometry as
// the activations), and the scratch of the backward stages.
type gradWork struct {
	bufs, grads [][]float32
	sc          *scratch
	dpre, dz    []float32
	dcol        []float32
}

// gradOp is the backward of one compiled stage.
type gradOp interface {
	// backward computes the gradient din of the stage input from the stage's input in, its output
	// out and the gradient dout of its output (all in the geometry of the forward buffers).
	backward(w *gradWork, in, out, dout, din []float32)
}

// NewGradNet compiles n for the evaluation of input gradients (batchnorm in inference mode). It
// accepts what Compile accepts.
func NewGradNet(n *model.Network) (*GradNet, error) {
	net, err := Compile(n)
	if err != nil {
		return nil, fmt.Errorf("gradient network: %w", err)
	}
	g := &GradNet{net: net, nout: net.nout, label: net.name}
	var dpre, dz, dcol int
	for k, o := range net.ops {
		p := net.protos[k]
		in, out := net.vals[k], net.vals[k+1]
		dpre = max(dpre, out.h*out.w*out.pitch)
		switch o := o.(type) {
		case *convOp:
			b := newConvBack(o, p)
			dcol = max(dcol, out.w*b.g.np*nr)
			g.bops = append(g.bops, b)
		case *sepOp:
			d := newDWBack(p.w, in, out, p.layer, false)
			dz = max(dz, d.size())
			g.bops = append(g.bops, &sepBack{op: o, d: d, pwT: transposedPointwise(p.pw, in, out)})
		case *dwOp:
			d := newDWBack(p.w, in, out, p.layer, true)
			if !d.scatter {
				dz = max(dz, d.size())
			}
			g.bops = append(g.bops, &dwBack{op: o, d: d})
		case *denseOp:
			g.bops = append(g.bops, &denseBack{op: o})
		case *flattenOp:
			g.bops = append(g.bops, &flattenBack{op: o})
		case *affineOp:
			g.bops = append(g.bops, &affineBack{op: o})
		default:
			return nil, fmt.Errorf("gradient network %q: stage %d (%T) has no backward pass", n.Name, k, o)
		}
	}
	nops := len(net.ops)
	g.work.New = func() *gradWork {
		w := &gradWork{
			bufs:  make([][]float32, len(net.vals)),
			grads: make([][]float32, len(net.vals)),
			sc:    &scratch{done: make([]int, nops)},
			dpre:  make([]float32, dpre),
			dz:    make([]float32, dz),
			dcol:  make([]float32, dcol),
		}
		for i, v := range net.vals {
			w.bufs[i] = make([]float32, v.size())
			w.grads[i] = make([]float32, v.size()+nr) // col2im's 16-float rows may end past the last pixel
		}
		return w
	}
	return g, nil
}

// Outputs is the number of outputs per image.
func (g *GradNet) Outputs() int { return g.nout }

// InputShape is the shape of one input image (height, width, channels).
func (g *GradNet) InputShape() model.Shape { return g.net.in }

// SetWorkers sets the number of goroutines InputGrad uses (0: runtime.GOMAXPROCS). The results
// do not depend on it.
func (g *GradNet) SetWorkers(n int) { g.net.SetWorkers(n) }

// InputGrad computes out = f(x) (batch × Outputs()) and dx = ∂(Σ_b Σ_o dOut[b,o]·out[b,o])/∂x
// for recentred NHWC input x (batch × H × W × C); out and dx are caller-provided.
//
// Where a ReLU's input is exactly 0 its gradient is taken as 0, as TensorFlow does. It returns an
// error wrapping ErrInput when a length is wrong or x or dOut holds a NaN or an infinity.
func (g *GradNet) InputGrad(x []float32, batch int, dOut, out, dx []float32) error {
	net := g.net
	if err := net.checkBatch(len(x), batch); err != nil {
		return fmt.Errorf("input gradient: %w", err)
	}
	if len(out) != batch*g.nout || len(dOut) != batch*g.nout {
		return fmt.Errorf("input gradient %s: out has %d and dOut %d values for %d images × %d outputs: %w", g.label, len(out), len(dOut), batch, g.nout, ErrInput)
	}
	if len(dx) != len(x) {
		return fmt.Errorf("input gradient %s: dx has %d values, x has %d: %w", g.label, len(dx), len(x), ErrInput)
	}
	for i, v := range dOut {
		if v != v || math.IsInf(float64(v), 0) {
			return fmt.Errorf("input gradient %s: dOut[%d] is %v: %w", g.label, i, v, ErrInput)
		}
	}
	err := forEachImage(&g.work, batch, net.workerCount(), func(w *gradWork, i int) error {
		return g.image(w, x, i, dOut, out, dx)
	})
	if err != nil {
		return fmt.Errorf("input gradient %s: %w", g.label, err)
	}
	return nil
}

// image runs the forward and backward passes of image i.
func (g *GradNet) image(w *gradWork, x []float32, i int, dOut, out, dx []float32) error {
	net := g.net
	if err := net.load(w.bufs[0], source{f: x}, i); err != nil {
		return err
	}
	nops := len(net.ops)
	net.image(w.bufs, w.sc, nops)
	last := net.vals[nops]
	last.gather(w.bufs[nops], out[i*g.nout:(i+1)*g.nout])
	last.scatter(dOut[i*g.nout:(i+1)*g.nout], w.grads[nops])
	for k := nops - 1; k >= 0; k-- {
		g.bops[k].backward(w, w.bufs[k], w.bufs[k+1], w.grads[k+1], w.grads[k])
	}
	in := net.vals[0]
	per := in.count()
	in.gather(w.grads[0], dx[i*per:(i+1)*per])
	return nil
}

// scatter copies NHWC values src (no padding) into the interior of buffer buf; padding channels
// are not written.
func (v *value) scatter(src, buf []float32) {
	for y := 0; y < v.h; y++ {
		for x := 0; x < v.w; x++ {
			o := v.off(y, x)
			copy(buf[o:o+v.c], src[(y*v.w+x)*v.c:(y*v.w+x+1)*v.c])
		}
	}
}

// maskInto writes the gradient of a stage's pre-activation into dst (out.h·out.w pixels of
// out.pitch floats, no padding): dout where the stage's output is positive when relu is set, else
// dout itself.
func maskInto(dst []float32, out *value, outBuf, dout []float32, relu bool) {
	n := out.w * out.pitch
	for y := 0; y < out.h; y++ {
		o := out.off(y, 0)
		if relu {
			reluMask(dst[y*n:(y+1)*n], dout[o:o+n], outBuf[o:o+n], n)
		} else {
			copy(dst[y*n:(y+1)*n], dout[o:o+n])
		}
	}
}

// transposedPointwise packs the transposed pointwise kernel (cout → cin) for rowGemm: the GEMM
// reads one pixel's cout gradient values (out.pitch apart) and writes in.pitch input-channel
// gradients, zeros in the padding channels.
func transposedPointwise(pw []float64, in, out *value) rowGemm {
	cin, cout := in.c, out.c
	wt := make([]float64, cout*in.pitch)
	for c := 0; c < cin; c++ {
		for o := 0; o < cout; o++ {
			wt[o*in.pitch+c] = pw[c*cout+o]
		}
	}
	b, seglen, np := packConv(wt, 1, 1, cout, in.pitch, out.pitch)
	return rowGemm{rs: out.pitch, nseg: 1, seglen: seglen, np: np, b: b, bias: make([]float32, np*nr)}
}

// dwBackData is the backward (input gradient) of a depthwise convolution with depth multiplier 1.
//
// Forward: z[oy,ox,c] = Σ_{i,j} x[s·oy+i−pt, s·ox+j−pl, c]·D[i,j,c]. The input gradient is
// dx[iy,ix,c] = Σ dz[oy,ox,c]·D[i,j,c] over the taps with s·oy+i−pt = iy (and likewise for x).
// For a row iy of phase r = iy mod s, those taps are i ≡ (r+pt) mod s: T of them, and the dz rows
// they meet are consecutive. So each phase (r_y, r_x) is a stride-1 correlation of dz (padded
// with zeros) with a flipped T_y×T_x sub-kernel, over the output pixels of that phase: the forward
// depthwise kernel runs it with an output step of s pixels.
type dwBackData struct {
	in, out        *value
	kh, kw, sh, sw int
	pt, pl         int
	nblk           int
	// dz geometry: out.h×out.w pixels of in.pitch channels with zero borders.
	padT, padL, hp, wp int
	phY, phX           []phase
	sub                [][]float32 // sub-kernel of phase (ry, rx) at ry·sw+rx
	// scatter: no phase decomposition; dx += dz·D pixel by pixel (cheaper when the output is
	// much smaller than the input, as for a 'valid' window as large as the input).
	scatter bool
	w       []float64 // the kernel, (kh,kw,C,1)
}

// phase describes the taps of one stride phase along one axis.
type phase struct {
	t     int // number of taps
	last  int // kernel index of the last tap (the first of the flipped sub-kernel)
	first int // dz index (unpadded) read by the first tap for the first pixel of the phase
}

func axisPhases(n, k, s, pad int) []phase {
	ph := make([]phase, s)
	for r := 0; r < s; r++ {
		i0 := ((r+pad)%s + s) % s
		if i0 > k-1 {
			continue
		}
		t := (k-1-i0)/s + 1
		last := i0 + s*(t-1)
		ph[r] = phase{t: t, last: last, first: floorDiv(r+pad-last, s)}
	}
	return ph
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// newDWBack prepares the input gradient of a depthwise convolution with kernel w (kh,kw,C,1) from
// in to out. With allowScatter, a layer whose output is much smaller than its input (a 'valid'
// window nearly as large as the input) is done in scatter mode.
func newDWBack(w []float64, in, out *value, l *model.Layer, allowScatter bool) *dwBackData {
	d := &dwBackData{in: in, out: out, kh: l.Kernel[0], kw: l.Kernel[1], sh: l.Strides[0], sw: l.Strides[1],
		pt: in.pt, pl: in.pl, nblk: in.pitch / nr, w: w}
	gatherCost := float64(in.h*in.w) * float64((d.kh+d.sh-1)/d.sh*((d.kw+d.sw-1)/d.sw))
	scatterCost := float64(out.h*out.w) * float64(d.kh*d.kw)
	if allowScatter && scatterCost*2 < gatherCost {
		d.scatter = true
		return d
	}
	d.phY = axisPhases(in.h, d.kh, d.sh, d.pt)
	d.phX = axisPhases(in.w, d.kw, d.sw, d.pl)
	// Padding of dz: the rows read by every phase and pixel.
	span := func(n, s int, ph []phase, outN int) (before, after int) {
		for r := 0; r < s && r < n; r++ {
			p := ph[r]
			if p.t == 0 {
				continue
			}
			cnt := (n - r + s - 1) / s
			lo := p.first
			hi := p.first + cnt - 1 + p.t - 1
			before = max(before, -lo)
			after = max(after, hi-(outN-1))
		}
		return before, after
	}
	var padB, padR int
	d.padT, padB = span(in.h, d.sh, d.phY, out.h)
	d.padL, padR = span(in.w, d.sw, d.phX, out.w)
	d.hp, d.wp = out.h+d.padT+padB, out.w+d.padL+padR
	c := in.c
	d.sub = make([][]float32, d.sh*d.sw)
	for ry, py := range d.phY {
		for rx, px := range d.phX {
			sub := make([]float32, py.t*px.t*in.pitch)
			for ty := 0; ty < py.t; ty++ {
				for tx := 0; tx < px.t; tx++ {
					i, j := py.last-d.sh*ty, px.last-d.sw*tx
					for ch := 0; ch < c; ch++ {
						sub[(ty*px.t+tx)*in.pitch+ch] = float32(w[(i*d.kw+j)*c+ch])
					}
				}
			}
			d.sub[ry*d.sw+rx] = sub
		}
	}
	return d
}

// size is the length of the padded dz buffer.
func (d *dwBackData) size() int { return d.hp * d.wp * d.in.pitch }

// dzOff is the offset of dz pixel (oy, ox) (unpadded coordinates) in the padded dz buffer.
func (d *dwBackData) dzOff(oy, ox int) int {
	return ((oy+d.padT)*d.wp + ox + d.padL) * d.in.pitch
}

// input computes the input gradient din (geometry d.in) from dz (padded, d.dzOff) in gather
// mode, rows y0..y1 of din.
func (d *dwBackData) input(dz, din []float32, y0, y1 int) {
	for iy := y0; iy < y1; iy++ {
		d.inputRow(dz, din, d.in.off(iy, 0), iy)
	}
}

// inputRow computes row iy of the input gradient into dst, pixel ix at dst[doff + ix·pitch].
func (d *dwBackData) inputRow(dz, dst []float32, doff, iy int) {
	in := d.in
	p := in.pitch
	row := d.wp * p
	py := d.phY[iy%d.sh]
	for rx := 0; rx < d.sw && rx < in.w; rx++ {
		px := d.phX[rx]
		n := (in.w - rx + d.sw - 1) / d.sw
		off := doff + rx*p
		dstep := d.sw * p
		if last := off + (n-1)*dstep + p; off < 0 || last > len(dst) {
			panic(fmt.Sprintf("nn: internal error: depthwise backward writes dst[%d:%d] of %d", off, last, len(dst)))
		}
		if py.t == 0 || px.t == 0 {
			for x := 0; x < n; x++ {
				clear(dst[off+x*dstep : off+x*dstep+p])
			}
			continue
		}
		oy := py.first + (iy-iy%d.sh)/d.sh
		soff := d.dzOff(oy, px.first)
		w := d.sub[(iy%d.sh)*d.sw+rx]
		if last := soff + (n-1)*p + (py.t-1)*row + (px.t-1)*p + p; soff < 0 || last > len(dz) {
			panic(fmt.Sprintf("nn: internal error: depthwise backward reads dz[%d:%d] of %d", soff, last, len(dz)))
		}
		if n >= 4 {
			for x := 0; ; x += 4 {
				if x > n-4 {
					x = n - 4
				}
				dw4(dst[off+x*dstep:], dstep, dz[soff+x*p:], p, w, nil, d.nblk, py.t, px.t, p, row, 0)
				if x == n-4 {
					break
				}
			}
			continue
		}
		for x := 0; x < n; x++ {
			dw1(dst[off+x*dstep:], dz[soff+x*p:], w, nil, d.nblk, py.t, px.t, p, row, 0)
		}
	}
}

// scatterInput computes din from dz (out.h×out.w pixels of in.pitch floats, no padding) by
// adding each output pixel's contribution, taps in order.
func (d *dwBackData) scatterInput(dz, din []float32) {
	in, out := d.in, d.out
	for y := 0; y < in.h; y++ {
		clear(din[in.off(y, 0) : in.off(y, 0)+in.w*in.pitch])
	}
	c := in.c
	for oy := 0; oy < out.h; oy++ {
		for ox := 0; ox < out.w; ox++ {
			g := dz[(oy*out.w+ox)*in.pitch:][:c]
			for i := 0; i < d.kh; i++ {
				iy := d.sh*oy + i - d.pt
				if iy < 0 || iy >= in.h {
					continue
				}
				for j := 0; j < d.kw; j++ {
					ix := d.sw*ox + j - d.pl
					if ix < 0 || ix >= in.w {
						continue
					}
					dst := din[in.off(iy, ix):][:c]
					wk := d.w[(i*d.kw+j)*c:][:c]
					for ch, v := range g {
						dst[ch] += v * float32(wk[ch])
					}
				}
			}
		}
	}
}

// sepBack is the backward of a SeparableConv2D stage (batchnorm folded, optional ReLU).
type sepBack struct {
	op  *sepOp
	d   *dwBackData
	pwT rowGemm
}

func (b *sepBack) backward(w *gradWork, in, out, dout, din []float32) {
	o := b.op
	ov := o.out
	maskInto(w.dpre, ov, out, dout, o.pw.flags&flagReLU != 0)
	dz := w.dz[:b.d.size()]
	clear(dz) // borders must be zero; the interior is overwritten
	n := ov.w * ov.pitch
	for y := 0; y < ov.h; y++ {
		b.pwT.row(w.dpre, y*n, dz, b.d.dzOff(y, 0), o.in.pitch, ov.w, w.sc)
	}
	b.d.input(dz, din, 0, o.in.h)
}

// dwBack is the backward of a DepthwiseConv2D stage.
type dwBack struct {
	op *dwOp
	d  *dwBackData
}

func (b *dwBack) backward(w *gradWork, in, out, dout, din []float32) {
	o := b.op
	ov := o.out
	relu := o.dw.flags&flagReLU != 0
	maskInto(w.dpre, ov, out, dout, relu)
	if b.d.scatter {
		b.d.scatterInput(w.dpre, din)
		return
	}
	dz := w.dz[:b.d.size()]
	clear(dz)
	n := ov.w * ov.pitch
	for y := 0; y < ov.h; y++ {
		copy(dz[b.d.dzOff(y, 0):][:n], w.dpre[y*n:(y+1)*n])
	}
	b.d.input(dz, din, 0, o.in.h)
}

// convBack is the backward of a Conv2D stage: col = dpre·Wᵀ per output pixel (kh·kw·cin values,
// the gradient of its input patch), then col2im adds every patch onto the padded input gradient.
//
// When a kernel row of a patch (kw pixels × cin channels) fits in 15 floats and the input has no
// padding channels (layer 0: 5×3), each kernel row gets 16 columns of col, the last one zero, so
// that col2im adds rows of 16 floats (the zero lands on the next pixel), in an order where
// consecutive rows never overlap.
type convBack struct {
	op         *convOp
	g          rowGemm
	kh, kw, sw int
	cin        int
	row16      bool // kernel rows padded to 16 columns of col
}

func newConvBack(o *convOp, p *proto) *convBack {
	l := p.layer
	kh, kw := l.Kernel[0], l.Kernel[1]
	cin, cout := o.in.c, o.out.c
	b := &convBack{op: o, kh: kh, kw: kw, sw: l.Strides[1], cin: cin, row16: kw*cin < nr && o.in.pitch == cin}
	seg := kw * cin
	ncol := kh * seg
	if b.row16 {
		ncol = kh * nr
	}
	wt := make([]float64, cout*ncol)
	for i := 0; i < kh; i++ {
		for q := 0; q < seg; q++ {
			col := i*seg + q
			if b.row16 {
				col = i*nr + q
			}
			for oc := 0; oc < cout; oc++ {
				wt[oc*ncol+col] = p.w[(i*seg+q)*cout+oc]
			}
		}
	}
	pk, seglen, np := packConv(wt, 1, 1, cout, ncol, o.out.pitch)
	b.g = rowGemm{rs: o.out.pitch, nseg: 1, seglen: seglen, np: np, b: pk, bias: make([]float32, np*nr)}
	return b
}

func (b *convBack) backward(w *gradWork, in, out, dout, din []float32) {
	o := b.op
	iv, ov := o.in, o.out
	maskInto(w.dpre, ov, out, dout, b.op.g.flags&flagReLU != 0)
	clear(din)
	ldc := b.g.np * nr
	col := w.dcol[:ov.w*ldc]
	n := ov.w * ov.pitch
	seg := b.kw * b.cin // one kernel row of a patch
	// Pixels per col2im pass such that the 16-float rows of one pass do not overlap.
	step := (nr + b.sw*b.cin - 1) / (b.sw * b.cin)
	for y := 0; y < ov.h; y++ {
		b.g.row(w.dpre, y*n, col, 0, ldc, ov.w, w.sc)
		for i := 0; i < b.kh; i++ {
			rowBase := (o.stride*y + i) * iv.wp * iv.pitch // padded input row o.stride·y+i
			if b.row16 {
				for ph := 0; ph < step && ph < ov.w; ph++ {
					cnt := (ov.w - ph + step - 1) / step
					addRows16(din[rowBase+ph*b.sw*iv.pitch:], step*b.sw*iv.pitch, col[ph*ldc+i*nr:], step*ldc, cnt)
				}
				continue
			}
			for x := 0; x < ov.w; x++ {
				src := col[x*ldc+i*seg : x*ldc+(i+1)*seg]
				base := rowBase + b.sw*x*iv.pitch
				for j := 0; j < b.kw; j++ {
					addTo(din[base+j*iv.pitch:base+j*iv.pitch+b.cin], src[j*b.cin:(j+1)*b.cin])
				}
			}
		}
	}
}

// denseBack is the backward of a Dense stage: dflat[q] = Σ_j dpre[j]·W[q,j].
type denseBack struct{ op *denseOp }

func (b *denseBack) backward(w *gradWork, in, out, dout, din []float32) {
	o := b.op
	k := o.in.pitch
	clear(din[:k])
	for j := 0; j < o.out.c; j++ {
		g := dout[j]
		if o.relu && !(out[j] > 0) {
			g = 0
		}
		wr := o.wt[j*k : (j+1)*k]
		for q := range din[:k] {
			din[q] += g * wr[q]
		}
	}
}

// flattenBack reshapes the flat gradient back to the image-shaped input.
type flattenBack struct{ op *flattenOp }

func (b *flattenBack) backward(_ *gradWork, in, out, dout, din []float32) {
	b.op.in.scatter(dout[:b.op.out.c], din)
}

// affineBack is the backward of a standalone (unfolded) batchnorm or ReLU.
type affineBack struct{ op *affineOp }

func (b *affineBack) backward(_ *gradWork, in, out, dout, din []float32) {
	o := b.op
	for y := 0; y < o.in.h; y++ {
		for x := 0; x < o.in.w; x++ {
			g := dout[o.out.off(y, x):][:o.in.c]
			a := out[o.out.off(y, x):][:o.in.c]
			dst := din[o.in.off(y, x):][:o.in.c]
			for c, v := range g {
				if o.relu && !(a[c] > 0) {
					v = 0
				}
				if o.scale != nil {
					v *= o.scale[c]
				}
				dst[c] = v
			}
		}
	}
}

func addTo(dst, src []float32) {
	dst = dst[:len(src)]
	for i, v := range src {
		dst[i] += v
	}
}
