package nn

// value is the geometry of an activation buffer of one image: h×w pixels of c channels (a flat
// vector is 1×1×c), pixels pitch floats apart, surrounded by pt/pl zero rows/columns before and
// enough after that the consumer's padded window stays inside (hp×wp pixels in all). The padding
// is the consuming layer's, so convolutions read their padded input directly. Padding pixels and
// padding channels are zero when the buffer is allocated and no kernel ever writes them.
type value struct {
	h, w, c int
	flat    bool
	pitch   int
	pt, pl  int
	hp, wp  int
}

func roundUp(n, m int) int { return (n + m - 1) / m * m }

func (v *value) size() int             { return v.hp * v.wp * v.pitch }
func (v *value) off(y, x int) int      { return ((y+v.pt)*v.wp + x + v.pl) * v.pitch }
func (v *value) count() int            { return v.h * v.w * v.c }
func (v *value) setPad(t, b, l, r int) { v.pt, v.pl, v.hp, v.wp = t, l, v.h+t+b, v.w+l+r }

// gather copies the logical contents (NHWC, no padding) of buffer buf into dst.
func (v *value) gather(buf, dst []float32) {
	for y := 0; y < v.h; y++ {
		for x := 0; x < v.w; x++ {
			o := v.off(y, x)
			copy(dst[(y*v.w+x)*v.c:(y*v.w+x+1)*v.c], buf[o:o+v.c])
		}
	}
}

// op is one compiled stage: it computes rows y0..y1 of its output buffer from its input buffer.
// Rows are independent, so any split of the rows over goroutines gives the same bytes.
type op interface {
	rows() int
	// need is the number of input rows (from the top) that output rows 0..n-1 read.
	need(n int) int
	run(in, out []float32, s *scratch, y0, y1 int)
}

// windowNeed is need for a convolution window of kh rows at stride sh over an input with pt zero
// rows of padding on top.
func windowNeed(n, sh, kh, pt, h int) int {
	return min(h, max((n-1)*sh+kh-pt, 0))
}

// scratch is one goroutine's temporary memory.
type scratch struct {
	dwrow  []float32
	gather []float32
	done   []int // rows computed per stage (row pipelining)
	tile   [mr * nr]float32
}

// flattenOp copies an image-shaped buffer into a flat one in NHWC order (Keras Flatten).
type flattenOp struct{ in, out *value }

func (o *flattenOp) rows() int    { return 1 }
func (o *flattenOp) need(int) int { return o.in.h }

func (o *flattenOp) run(in, out []float32, _ *scratch, _, _ int) {
	o.in.gather(in, out[:o.out.c])
}

// denseOp is a Dense layer on a flat buffer: out[j] = bias[j] + Σ_q in[q]·W[q,j] (weights stored
// transposed, one zero-padded row of pitch floats per output), batchnorm folded, ReLU fused.
type denseOp struct {
	in, out *value
	wt      []float32
	bias    []float32
	relu    bool
}

func (o *denseOp) rows() int    { return 1 }
func (o *denseOp) need(int) int { return o.in.h }

func (o *denseOp) run(in, out []float32, _ *scratch, _, _ int) {
	k := o.in.pitch
	for j := 0; j < o.out.c; j++ {
		v := dot(in[:k], o.wt[j*k:(j+1)*k], k) + o.bias[j]
		if o.relu && v < 0 {
			v = 0
		}
		out[j] = v
	}
}

// affineOp is a batchnorm that could not be folded into a preceding layer: y = x·scale + shift
// per channel, then ReLU when relu is set.
type affineOp struct {
	in, out      *value
	scale, shift []float32
	relu         bool
}

func (o *affineOp) rows() int      { return o.in.h }
func (o *affineOp) need(n int) int { return n }

func (o *affineOp) run(in, out []float32, _ *scratch, y0, y1 int) {
	for y := y0; y < y1; y++ {
		for x := 0; x < o.in.w; x++ {
			src := in[o.in.off(y, x):][:o.in.c]
			dst := out[o.out.off(y, x):][:o.in.c]
			for c, v := range src {
				if o.scale != nil {
					v = v*o.scale[c] + o.shift[c]
				}
				if o.relu && v < 0 {
					v = 0
				}
				dst[c] = v
			}
		}
	}
}
