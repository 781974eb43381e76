package jpeg

// The output stage of libjpeg-turbo's decompressor with its default settings
// (do_fancy_upsampling = TRUE, out_color_space = JCS_RGB or JCS_GRAYSCALE):
// per-component upsampling chosen as jdsample.c's jinit_upsampler chooses it,
// with the edge context rows that jdmainct.c provides, then jdcolor.c's
// colour conversion.

// upsampleKind selects a jdsample.c method.
type upsampleKind int

const (
	upFull           upsampleKind = iota // fullsize_upsample
	upH2V1Fancy                          // h2v1_fancy_upsample
	upH1V2Fancy                          // h1v2_fancy_upsample
	upH2V2Fancy                          // h2v2_fancy_upsample
	upReplicate                          // h2v1_upsample, h2v2_upsample, int_upsample
	numUpsampleKinds                     // for tests
)

// upsampler produces full-resolution rows of one component.
type upsampler struct {
	kind       upsampleKind
	hexp, vexp int    // expansion factors max_samp/samp
	plane      []byte // IDCT output
	stride     int
	dw, dh     int    // downsampled width and height
	buf        []byte // output row for the non-full kinds
	colsum     []int32
}

func newUpsampler(d *decoder, i int) *upsampler {
	c := &d.comp[i]
	u := &upsampler{
		hexp: d.hmax / c.h, vexp: d.vmax / c.v,
		plane: d.planes[i], stride: 8 * c.bw,
		dw: c.dw, dh: c.dh,
	}
	// jinit_upsampler; do_fancy is TRUE (min_DCT_scaled_size is 8).
	switch {
	case u.hexp == 1 && u.vexp == 1:
		u.kind = upFull
	case u.hexp == 2 && u.vexp == 1 && u.dw > 2:
		u.kind = upH2V1Fancy
	case u.hexp == 1 && u.vexp == 2:
		u.kind = upH1V2Fancy
	case u.hexp == 2 && u.vexp == 2 && u.dw > 2:
		u.kind = upH2V2Fancy
	default:
		u.kind = upReplicate
	}
	// The fancy methods write 2*dw samples, which may exceed the image
	// width by one; the replicating ones write whole groups of hexp.
	u.buf = make([]byte, max(u.hexp*u.dw, d.width)+u.hexp)
	u.colsum = make([]int32, u.dw)
	return u
}

// row returns the samples of output row y (0 <= y < image height); at least
// image-width samples are valid.
func (u *upsampler) row(y int) []byte {
	switch u.kind {
	case upFull:
		return u.plane[y*u.stride:]
	case upH2V1Fancy:
		u.h2v1(u.plane[y*u.stride : y*u.stride+u.dw])
	case upH1V2Fancy, upH2V2Fancy:
		// Input row r = y/2 and its nearest neighbour: the row above for
		// even y, below for odd y. jdmainct.c supplies the first row as
		// the row above the image and replicates the last real row
		// (downsampled_height-1) below it.
		r := y / 2
		bias := int32(1) // h1v2: 1 above, 2 below
		nb := r - 1
		if y%2 == 1 {
			nb = r + 1
			bias = 2
		}
		nb = min(max(nb, 0), u.dh-1)
		in0 := u.plane[r*u.stride : r*u.stride+u.dw]
		in1 := u.plane[nb*u.stride : nb*u.stride+u.dw]
		if u.kind == upH1V2Fancy {
			out := u.buf[:u.dw]
			for x := range out {
				out[x] = uint8((3*int32(in0[x]) + int32(in1[x]) + bias) >> 2)
			}
		} else {
			u.h2v2(in0, in1)
		}
	case upReplicate:
		in := u.plane[(y/u.vexp)*u.stride:]
		out := u.buf
		n := (len(out) - u.hexp) / u.hexp
		for x := 0; x < n; x++ {
			v := in[x]
			for k := 0; k < u.hexp; k++ {
				out[x*u.hexp+k] = v
			}
		}
	}
	return u.buf
}

// h2v1 is jdsample.c's h2v1_fancy_upsample on one row (dw > 2).
func (u *upsampler) h2v1(in []byte) {
	out := u.buf
	n := len(in)
	out[0] = in[0]
	out[1] = uint8((3*int32(in[0]) + int32(in[1]) + 2) >> 2)
	for x := 1; x < n-1; x++ {
		v := 3 * int32(in[x])
		out[2*x] = uint8((v + int32(in[x-1]) + 1) >> 2)
		out[2*x+1] = uint8((v + int32(in[x+1]) + 2) >> 2)
	}
	out[2*n-2] = uint8((3*int32(in[n-1]) + int32(in[n-2]) + 1) >> 2)
	out[2*n-1] = in[n-1]
}

// h2v2 is jdsample.c's h2v2_fancy_upsample for one output row, given the
// nearest input row and the next nearest (dw > 2).
func (u *upsampler) h2v2(in0, in1 []byte) {
	cs := u.colsum
	for x := range cs {
		cs[x] = 3*int32(in0[x]) + int32(in1[x])
	}
	out := u.buf
	n := len(cs)
	out[0] = uint8((4*cs[0] + 8) >> 4)
	out[1] = uint8((3*cs[0] + cs[1] + 7) >> 4)
	for x := 1; x < n-1; x++ {
		t := 3 * cs[x]
		out[2*x] = uint8((t + cs[x-1] + 8) >> 4)
		out[2*x+1] = uint8((t + cs[x+1] + 7) >> 4)
	}
	out[2*n-2] = uint8((3*cs[n-1] + cs[n-2] + 8) >> 4)
	out[2*n-1] = uint8((4*cs[n-1] + 7) >> 4)
}

// jdcolor.c build_ycc_rgb_table, SCALEBITS = 16.
const (
	scaleBits = 16
	oneHalf   = 1 << (scaleBits - 1)
)

var crR, cbB, crG, cbG = func() (crR, cbB, crG, cbG [256]int32) {
	for i := range 256 {
		x := int32(i - 128)
		crR[i] = (91881*x + oneHalf) >> scaleBits  // FIX(1.40200)
		cbB[i] = (116130*x + oneHalf) >> scaleBits // FIX(1.77200)
		crG[i] = -46802 * x                        // -FIX(0.71414)
		cbG[i] = -22554*x + oneHalf                // -FIX(0.34414), with ONE_HALF folded in
	}
	return
}()

func clamp255(v int32) uint8 {
	if v < 0 {
		return 0
	}
	if v > 255 {
		return 255
	}
	return uint8(v)
}

// clampTab[v+clampOff] = clamp255(v) for every v that Y plus a chroma term
// can reach (|term| <= 227), like jdmaster.c's sample_range_limit; the
// power-of-two size lets the index be masked instead of bounds-checked.
const (
	clampOff  = 384
	clampMask = 1023
)

var clampTab = func() (t [clampMask + 1]uint8) {
	for i := range t {
		t[i] = clamp255(int32(i - clampOff))
	}
	return t
}()

// output upsamples and colour-converts the decoded planes into an Image.
func (d *decoder) output() *Image {
	w, h := d.width, d.height
	if d.nComp == 1 {
		m := &Image{W: w, H: h, C: 1, Pix: make([]byte, w*h)}
		stride := 8 * d.comp[0].bw
		for y := 0; y < h; y++ {
			copy(m.Pix[y*w:(y+1)*w], d.planes[0][y*stride:])
		}
		return m
	}
	m := &Image{W: w, H: h, C: 3, Pix: make([]byte, 3*w*h)}
	var ups [3]*upsampler
	for i := range ups {
		ups[i] = newUpsampler(d, i)
	}
	for y := 0; y < h; y++ {
		c0, c1, c2 := ups[0].row(y)[:w], ups[1].row(y)[:w], ups[2].row(y)[:w]
		out := m.Pix[3*w*y : 3*w*(y+1)]
		if d.rgb {
			for x := 0; x < w; x++ {
				out[3*x], out[3*x+1], out[3*x+2] = c0[x], c1[x], c2[x]
			}
			continue
		}
		// ycc_rgb_convert.
		for x := 0; x < w; x++ {
			yy, cb, cr := int32(c0[x])+clampOff, c1[x], c2[x]
			o := out[3*x : 3*x+3 : 3*x+3]
			o[0] = clampTab[uint32(yy+crR[cr])&clampMask]
			o[1] = clampTab[uint32(yy+(cbG[cb]+crG[cr])>>scaleBits)&clampMask]
			o[2] = clampTab[uint32(yy+cbB[cb])&clampMask]
		}
	}
	return m
}
