// Copyright 2009 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//
// Forked from the Go standard library's image/jpeg (Go 1.26) for compactv4.
// Changes: arbitrary integral sampling factors instead of the fixed set of
// chroma ratios; quantisation tables latched per component at its first scan
// (as libjpeg's jdinput.c does); libjpeg's colour-space rules (jdapimin.c
// default_decompress_parms) and JFIF/Adobe marker lengths (jdmarker.c);
// limits on image size and scan count; decoding into per-component sample
// planes that the output stage (output.go) upsamples and colour-converts the
// way libjpeg-turbo does. The encoder and image.Image plumbing were dropped.

package jpeg

import (
	"fmt"
	"io"
)

// A FormatError reports that the input is not a valid JPEG.
type FormatError string

func (e FormatError) Error() string { return "invalid JPEG format: " + string(e) }

// An UnsupportedError reports that the input uses a valid but unimplemented JPEG feature.
type UnsupportedError string

func (e UnsupportedError) Error() string { return "unsupported JPEG feature: " + string(e) }

// Component specification, specified in section B.2.2.
type component struct {
	h  int   // Horizontal sampling factor.
	v  int   // Vertical sampling factor.
	c  uint8 // Component identifier.
	tq uint8 // Quantization table destination selector.

	// Derived at the first SOS (see decoder.setup).
	bw, bh   int // blocks per row and per column of the MCU-padded plane
	wib, hib int // width and height in blocks of the component proper (libjpeg's width_in_blocks)
	dw, dh   int // sample width and height (libjpeg's downsampled_width/height)

	// qt is the quantisation table latched at the component's first scan,
	// in natural order, with libjpeg-turbo's ISLOW_MULT_TYPE (int16) values.
	qt      [blockSize]int16
	latched bool
}

const (
	dcTable = 0
	acTable = 1
	maxTc   = 1
	maxTh   = 3
	maxTq   = 3

	maxComponents = 4

	blockSize = 64
)

// block holds the 64 coefficients of one 8x8 block in natural order, as
// int16 like libjpeg's JCOEF (whose truncations corrupt data can reach).
type block [blockSize]int16

// Limits that keep corrupt or hostile input from exhausting memory or time.
const (
	// MaxDimension is the largest accepted image width or height.
	MaxDimension = 16384
	// MaxPixels is the largest accepted width×height; it bounds the memory a
	// decode allocates: at most about 12 bytes per pixel (sample planes,
	// progressive coefficients and the output).
	MaxPixels = 1 << 25
	// MaxScans is the largest accepted number of scans (SOS markers).
	MaxScans = 1000
)

const (
	sof0Marker = 0xc0 // Start Of Frame (Baseline Sequential).
	sof1Marker = 0xc1 // Start Of Frame (Extended Sequential).
	sof2Marker = 0xc2 // Start Of Frame (Progressive).
	dhtMarker  = 0xc4 // Define Huffman Table.
	rst0Marker = 0xd0 // ReSTart (0).
	rst7Marker = 0xd7 // ReSTart (7).
	soiMarker  = 0xd8 // Start Of Image.
	eoiMarker  = 0xd9 // End Of Image.
	sosMarker  = 0xda // Start Of Scan.
	dqtMarker  = 0xdb // Define Quantization Table.
	driMarker  = 0xdd // Define Restart Interval.
	comMarker  = 0xfe // COMment.
	// "APPlication specific" markers aren't part of the JPEG spec per se,
	// but in practice, their use is described at
	// https://www.sno.phy.queensu.ca/~phil/exiftool/TagNames/JPEG.html
	app0Marker  = 0xe0
	app14Marker = 0xee
	app15Marker = 0xef
)

// unzig maps from the zig-zag ordering to the natural ordering. For example,
// unzig[3] is the column and row of the fourth element in zig-zag order. The
// value is 16, which means first column (16%8 == 0) and third row (16/8 == 2).
// Like libjpeg's jpeg_natural_order it has 16 extra entries of 63, so that a
// corrupt run length that overshoots the block lands on the last coefficient
// exactly as it does in libjpeg.
var unzig = [blockSize + 16]int{
	0, 1, 8, 16, 9, 2, 3, 10,
	17, 24, 32, 25, 18, 11, 4, 5,
	12, 19, 26, 33, 40, 48, 41, 34,
	27, 20, 13, 6, 7, 14, 21, 28,
	35, 42, 49, 56, 57, 50, 43, 36,
	29, 22, 15, 23, 30, 37, 44, 51,
	58, 59, 52, 45, 38, 31, 39, 46,
	53, 60, 61, 54, 47, 55, 62, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
	63, 63, 63, 63, 63, 63, 63, 63,
}

// bits holds the unprocessed bits that have been taken from the byte-stream.
// The n least significant bits of a form the unread bits, to be read in MSB to
// LSB order.
type bits struct {
	a uint32 // accumulator.
	m uint32 // mask. m==1<<(n-1) when n>0, with m==0 when n==0.
	n int32  // the number of unread bits in a.
}

type decoder struct {
	r    io.Reader
	bits bits
	// bytes is a byte buffer, similar to a bufio.Reader, except that it
	// has to be able to unread more than 1 byte, due to byte stuffing.
	// Byte stuffing is specified in section F.1.2.3.
	bytes struct {
		// buf[i:j] are the buffered bytes read from the underlying
		// io.Reader that haven't yet been passed further on.
		buf  [4096]byte
		i, j int
		// nUnreadable is the number of bytes to back up i after
		// overshooting. It can be 0, 1 or 2.
		nUnreadable int
	}
	width, height int

	ri    int // Restart Interval.
	nComp int

	// As per section 4.5, there are four modes of operation (selected by the
	// SOF? markers): sequential DCT, progressive DCT, lossless and
	// hierarchical, although this implementation does not support the latter
	// two non-DCT modes. Sequential DCT is further split into baseline and
	// extended, as per section 4.11.
	baseline    bool
	progressive bool

	jfif                bool
	adobeTransformValid bool
	adobeTransform      uint8
	eobRun              uint16 // End-of-Band run, specified in section G.1.2.2.

	comp       [maxComponents]component
	hmax, vmax int // largest sampling factors
	mxx, myy   int // MCUs per row and per column of an interleaved scan
	rgb        bool
	nScans     int

	// coefBits is libjpeg's coef_bits for zig-zag positions 0..9: the
	// successive-approximation bit position Al of the last progressive
	// scan that carried the coefficient, or -1 before any scan did.
	coefBits [maxComponents][savedCoefs]int8

	planes     [maxComponents][]uint8 // IDCT output, stride 8*comp.bw
	progCoeffs [maxComponents][]block // Saved state between progressive-mode scans.
	huff       [maxTc + 1][maxTh + 1]huffman
	quant      [maxTq + 1][blockSize]uint16 // Quantization tables, in zig-zag order.
	quantSet   [maxTq + 1]bool
	tmp        [2 * blockSize]byte

	idct func(b *block, qt *[blockSize]int16, dst []uint8, stride int) // idctSIMD or idctC
}

// fill fills up the d.bytes.buf buffer from the underlying io.Reader. It
// should only be called when there are no unread bytes in d.bytes.
func (d *decoder) fill() error {
	if d.bytes.i != d.bytes.j {
		return FormatError("internal error: fill called when unread bytes exist")
	}
	// Move the last 2 bytes to the start of the buffer, in case we need
	// to call unreadByteStuffedByte.
	if d.bytes.j > 2 {
		d.bytes.buf[0] = d.bytes.buf[d.bytes.j-2]
		d.bytes.buf[1] = d.bytes.buf[d.bytes.j-1]
		d.bytes.i, d.bytes.j = 2, 2
	}
	// Fill in the rest of the buffer. Like bufio.Reader, give up after 100
	// consecutive empty reads rather than spin on a reader that keeps
	// returning (0, nil).
	for range 100 {
		n, err := d.r.Read(d.bytes.buf[d.bytes.j:])
		d.bytes.j += n
		if n > 0 {
			return nil
		}
		if err == io.EOF {
			return io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	return io.ErrNoProgress
}

// unreadByteStuffedByte undoes the most recent readByteStuffedByte call,
// giving a byte of data back from d.bits to d.bytes. The Huffman look-up table
// requires at least 8 bits for look-up, which means that Huffman decoding can
// sometimes overshoot and read one or two too many bytes. Two-byte overshoot
// can happen when expecting to read a 0xff 0x00 byte-stuffed byte.
func (d *decoder) unreadByteStuffedByte() {
	d.bytes.i -= d.bytes.nUnreadable
	d.bytes.nUnreadable = 0
	if d.bits.n >= 8 {
		d.bits.a >>= 8
		d.bits.n -= 8
		d.bits.m >>= 8
	}
}

// readByte returns the next byte, whether buffered or not buffered. It does
// not care about byte stuffing.
func (d *decoder) readByte() (x byte, err error) {
	for d.bytes.i == d.bytes.j {
		if err = d.fill(); err != nil {
			return 0, err
		}
	}
	x = d.bytes.buf[d.bytes.i]
	d.bytes.i++
	d.bytes.nUnreadable = 0
	return x, nil
}

// errMissingFF00 means that readByteStuffedByte encountered an 0xff byte (a
// marker byte) that wasn't the expected byte-stuffed sequence 0xff, 0x00.
var errMissingFF00 = FormatError("missing 0xff00 sequence")

// readByteStuffedByte is like readByte but is for byte-stuffed Huffman data.
func (d *decoder) readByteStuffedByte() (x byte, err error) {
	// Take the fast path if d.bytes.buf contains at least two bytes.
	if d.bytes.i+2 <= d.bytes.j {
		x = d.bytes.buf[d.bytes.i]
		d.bytes.i++
		d.bytes.nUnreadable = 1
		if x != 0xff {
			return x, err
		}
		if d.bytes.buf[d.bytes.i] != 0x00 {
			return 0, errMissingFF00
		}
		d.bytes.i++
		d.bytes.nUnreadable = 2
		return 0xff, nil
	}

	d.bytes.nUnreadable = 0

	x, err = d.readByte()
	if err != nil {
		return 0, err
	}
	d.bytes.nUnreadable = 1
	if x != 0xff {
		return x, nil
	}

	x, err = d.readByte()
	if err != nil {
		return 0, err
	}
	d.bytes.nUnreadable = 2
	if x != 0x00 {
		return 0, errMissingFF00
	}
	return 0xff, nil
}

// readFull reads exactly len(p) bytes into p. It does not care about byte
// stuffing.
func (d *decoder) readFull(p []byte) error {
	// Unread the overshot bytes, if any.
	if d.bytes.nUnreadable != 0 {
		if d.bits.n >= 8 {
			d.unreadByteStuffedByte()
		}
		d.bytes.nUnreadable = 0
	}

	for {
		n := copy(p, d.bytes.buf[d.bytes.i:d.bytes.j])
		p = p[n:]
		d.bytes.i += n
		if len(p) == 0 {
			break
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
	return nil
}

// ignore ignores the next n bytes.
func (d *decoder) ignore(n int) error {
	// Unread the overshot bytes, if any.
	if d.bytes.nUnreadable != 0 {
		if d.bits.n >= 8 {
			d.unreadByteStuffedByte()
		}
		d.bytes.nUnreadable = 0
	}

	for {
		m := d.bytes.j - d.bytes.i
		if m > n {
			m = n
		}
		d.bytes.i += m
		n -= m
		if n == 0 {
			break
		}
		if err := d.fill(); err != nil {
			return err
		}
	}
	return nil
}

// Specified in section B.2.2.
func (d *decoder) processSOF(n int) error {
	if d.nComp != 0 {
		return FormatError("multiple SOF markers")
	}
	switch n {
	case 6 + 3*1: // Grayscale image.
		d.nComp = 1
	case 6 + 3*3: // YCbCr or RGB image.
		d.nComp = 3
	case 6 + 3*4: // YCbCrK or CMYK image.
		return UnsupportedError("4-component (CMYK/YCCK) images")
	default:
		return UnsupportedError("number of components")
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	// We only support 8-bit precision.
	if d.tmp[0] != 8 {
		return UnsupportedError("precision")
	}
	d.height = int(d.tmp[1])<<8 + int(d.tmp[2])
	d.width = int(d.tmp[3])<<8 + int(d.tmp[4])
	if int(d.tmp[5]) != d.nComp {
		return FormatError("SOF has wrong length")
	}
	if d.width == 0 || d.height == 0 {
		// libjpeg rejects these too (it does not support DNL markers).
		return FormatError("empty image (zero width or height)")
	}
	if d.width > MaxDimension || d.height > MaxDimension || d.width*d.height > MaxPixels {
		return UnsupportedError(fmt.Sprintf("image of %dx%d exceeds the limit of %d pixels per side and %d pixels in all",
			d.width, d.height, MaxDimension, MaxPixels))
	}

	for i := 0; i < d.nComp; i++ {
		d.comp[i].c = d.tmp[6+3*i]
		// Section B.2.2 states that "the value of C_i shall be different from
		// the values of C_1 through C_(i-1)".
		for j := 0; j < i; j++ {
			if d.comp[i].c == d.comp[j].c {
				return FormatError("repeated component identifier")
			}
		}

		d.comp[i].tq = d.tmp[8+3*i]
		if d.comp[i].tq > maxTq {
			return FormatError("bad Tq value")
		}

		hv := d.tmp[7+3*i]
		h, v := int(hv>>4), int(hv&0x0f)
		if h < 1 || 4 < h || v < 1 || 4 < v {
			return FormatError("luma/chroma subsampling ratio")
		}
		if d.nComp == 1 {
			// If a JPEG image has only one component, section A.2 says "this data
			// is non-interleaved by definition" and section A.2.2 says "[in this
			// case...] the order of data units within a scan shall be left-to-right
			// and top-to-bottom... regardless of the values of H_1 and V_1". Section
			// 4.8.2 also says "[for non-interleaved data], the MCU is defined to be
			// one data unit". Similarly, section A.1.1 explains that it is the ratio
			// of H_i to max_j(H_j) that matters, and similarly for V. For grayscale
			// images, H_1 is the maximum H_j for all components j, so that ratio is
			// always 1. The component's (h, v) is effectively always (1, 1).
			h, v = 1, 1
		}
		d.comp[i].h = h
		d.comp[i].v = v
	}
	d.hmax, d.vmax = 1, 1
	for i := 0; i < d.nComp; i++ {
		d.hmax = max(d.hmax, d.comp[i].h)
		d.vmax = max(d.vmax, d.comp[i].v)
	}
	for i := 0; i < d.nComp; i++ {
		// libjpeg's jdsample.c supports integral ratios only
		// (JERR_FRACT_SAMPLE_NOTIMPL).
		if d.hmax%d.comp[i].h != 0 || d.vmax%d.comp[i].v != 0 {
			return UnsupportedError("fractional sampling ratio")
		}
	}
	return nil
}

// setup derives the block geometry and allocates the sample planes; it runs
// at the first SOS marker.
func (d *decoder) setup() {
	d.mxx = (d.width + 8*d.hmax - 1) / (8 * d.hmax)
	d.myy = (d.height + 8*d.vmax - 1) / (8 * d.vmax)
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		c.bw, c.bh = d.mxx*c.h, d.myy*c.v
		// jdinput.c initial_setup: downsampled size = ceil(image size * factor / max factor).
		c.dw = (d.width*c.h + d.hmax - 1) / d.hmax
		c.dh = (d.height*c.v + d.vmax - 1) / d.vmax
		c.wib = (c.dw + 7) / 8
		c.hib = (c.dh + 7) / 8
		d.planes[i] = make([]uint8, 64*c.bw*c.bh)
		for k := range d.coefBits[i] {
			d.coefBits[i][k] = -1
		}
	}
	d.rgb = d.isRGB()
}

// latchQuant copies component i's quantisation table at its first scan, as
// libjpeg's jdinput.c latch_quant_tables does, so that a DQT redefined later
// in a progressive file does not affect earlier components.
func (d *decoder) latchQuant(i int) error {
	c := &d.comp[i]
	if c.latched {
		return nil
	}
	if !d.quantSet[c.tq] {
		return FormatError(fmt.Sprintf("quantization table %d was not defined", c.tq))
	}
	for zig := 0; zig < blockSize; zig++ {
		// jddctmgr.c: ismtbl[i] = (ISLOW_MULT_TYPE)qtbl->quantval[i]; with
		// SIMD builds ISLOW_MULT_TYPE is short.
		c.qt[unzig[zig]] = int16(d.quant[c.tq][zig])
	}
	c.latched = true
	return nil
}

// Specified in section B.2.4.1.
func (d *decoder) processDQT(n int) error {
loop:
	for n > 0 {
		n--
		x, err := d.readByte()
		if err != nil {
			return err
		}
		tq := x & 0x0f
		if tq > maxTq {
			return FormatError("bad Tq value")
		}
		switch x >> 4 {
		default:
			return FormatError("bad Pq value")
		case 0:
			if n < blockSize {
				break loop
			}
			n -= blockSize
			if err := d.readFull(d.tmp[:blockSize]); err != nil {
				return err
			}
			for i := range d.quant[tq] {
				d.quant[tq][i] = uint16(d.tmp[i])
			}
		case 1:
			if n < 2*blockSize {
				break loop
			}
			n -= 2 * blockSize
			if err := d.readFull(d.tmp[:2*blockSize]); err != nil {
				return err
			}
			for i := range d.quant[tq] {
				d.quant[tq][i] = uint16(d.tmp[2*i])<<8 | uint16(d.tmp[2*i+1])
			}
		}
		d.quantSet[tq] = true
	}
	if n != 0 {
		return FormatError("DQT has wrong length")
	}
	return nil
}

// Specified in section B.2.4.4.
func (d *decoder) processDRI(n int) error {
	if n != 2 {
		return FormatError("DRI has wrong length")
	}
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	}
	d.ri = int(d.tmp[0])<<8 + int(d.tmp[1])
	return nil
}

// processApp0Marker recognises a JFIF header the way libjpeg's
// jdmarker.c examine_app0 does: it needs at least 14 bytes of data.
func (d *decoder) processApp0Marker(n int) error {
	if n < 14 {
		return d.ignore(n)
	}
	if err := d.readFull(d.tmp[:5]); err != nil {
		return err
	}
	n -= 5

	if d.tmp[0] == 'J' && d.tmp[1] == 'F' && d.tmp[2] == 'I' && d.tmp[3] == 'F' && d.tmp[4] == '\x00' {
		d.jfif = true
	}

	if n > 0 {
		return d.ignore(n)
	}
	return nil
}

// processApp14Marker recognises an Adobe header the way libjpeg's
// jdmarker.c examine_app14 does.
func (d *decoder) processApp14Marker(n int) error {
	if n < 12 {
		return d.ignore(n)
	}
	if err := d.readFull(d.tmp[:12]); err != nil {
		return err
	}
	n -= 12

	if d.tmp[0] == 'A' && d.tmp[1] == 'd' && d.tmp[2] == 'o' && d.tmp[3] == 'b' && d.tmp[4] == 'e' {
		d.adobeTransformValid = true
		d.adobeTransform = d.tmp[11]
	}

	if n > 0 {
		return d.ignore(n)
	}
	return nil
}

// decode reads a JPEG stream. With configOnly it stops after the SOF marker.
func (d *decoder) decode(r io.Reader, configOnly bool) error {
	d.r = r

	// Check for the Start Of Image marker.
	if err := d.readFull(d.tmp[:2]); err != nil {
		return err
	}
	if d.tmp[0] != 0xff || d.tmp[1] != soiMarker {
		return FormatError("missing SOI marker")
	}

	// Process the remaining segments until the End Of Image marker.
	for {
		err := d.readFull(d.tmp[:2])
		if err != nil {
			return err
		}
		for d.tmp[0] != 0xff {
			// Strictly speaking, this is a format error. However, libjpeg is
			// liberal in what it accepts. As of version 9, next_marker in
			// jdmarker.c treats this as a warning (JWRN_EXTRANEOUS_DATA) and
			// continues to decode the stream. We are therefore also liberal in
			// what we accept. Extraneous data is silently ignored.
			d.tmp[0] = d.tmp[1]
			d.tmp[1], err = d.readByte()
			if err != nil {
				return err
			}
		}
		marker := d.tmp[1]
		if marker == 0 {
			// Treat "\xff\x00" as extraneous data.
			continue
		}
		for marker == 0xff {
			// Section B.1.1.2 says, "Any marker may optionally be preceded by any
			// number of fill bytes, which are bytes assigned code X'FF'".
			marker, err = d.readByte()
			if err != nil {
				return err
			}
		}
		if marker == eoiMarker { // End Of Image.
			break
		}
		if rst0Marker <= marker && marker <= rst7Marker {
			// A stray restart marker after the final entropy-coded segment
			// is ignored as a harmless error.
			continue
		}

		// Read the 16-bit length of the segment. The value includes the 2 bytes for the
		// length itself, so we subtract 2 to get the number of remaining bytes.
		if err = d.readFull(d.tmp[:2]); err != nil {
			return err
		}
		n := int(d.tmp[0])<<8 + int(d.tmp[1]) - 2
		if n < 0 {
			return FormatError("short segment length")
		}

		switch marker {
		case sof0Marker, sof1Marker, sof2Marker:
			d.baseline = marker == sof0Marker
			d.progressive = marker == sof2Marker
			err = d.processSOF(n)
			if configOnly {
				return err
			}
		case dhtMarker:
			err = d.processDHT(n)
		case dqtMarker:
			err = d.processDQT(n)
		case sosMarker:
			err = d.processSOS(n)
		case driMarker:
			err = d.processDRI(n)
		case app0Marker:
			err = d.processApp0Marker(n)
		case app14Marker:
			err = d.processApp14Marker(n)
		default:
			if app0Marker <= marker && marker <= app15Marker || marker == comMarker {
				err = d.ignore(n)
			} else if marker < 0xc0 { // See Table B.1 "Marker code assignments".
				err = FormatError("unknown marker")
			} else if marker == 0xc9 || marker == 0xca || marker == 0xcb || marker == 0xcd || marker == 0xce || marker == 0xcf {
				err = UnsupportedError("arithmetic coding")
			} else if marker == 0xc3 || marker == 0xc7 {
				err = UnsupportedError("lossless JPEG")
			} else if marker == 0xc5 || marker == 0xc6 {
				err = UnsupportedError("hierarchical JPEG")
			} else {
				err = UnsupportedError(fmt.Sprintf("marker 0x%02x", marker))
			}
		}
		if err != nil {
			return err
		}
	}
	if configOnly {
		return FormatError("missing SOF marker")
	}
	if d.nScans == 0 {
		return FormatError("missing SOS marker")
	}
	if d.progressive {
		if d.wouldSmooth() {
			return UnsupportedError("progressive image whose scans leave low-frequency coefficients unrefined " +
				"(libjpeg would apply its block smoothing, which this decoder does not implement)")
		}
		d.reconstructProgressiveImage()
	}
	for i := 0; i < d.nComp; i++ {
		if !d.comp[i].latched {
			// A component that no scan carried has all-zero coefficients,
			// which libjpeg's IDCT turns into mid-grey.
			for j := range d.planes[i] {
				d.planes[i][j] = 128
			}
		}
	}
	return nil
}

// savedCoefs is libjpeg-turbo 2.1's SAVED_COEFS (jdcoefct.h): block
// smoothing looks at zig-zag coefficients 0..9.
const savedCoefs = 10

// wouldSmooth reports whether libjpeg-turbo 2.1 would apply interblock
// smoothing to this progressive image (jdcoefct.c smoothing_ok, with
// do_block_smoothing TRUE by default): when every component has some DC
// bits and nonzero quantisers for zig-zag positions 0..9, and some of those
// AC coefficients of some component are not fully refined. Complete
// progressive files, as encoders write them, refine everything.
func (d *decoder) wouldSmooth() bool {
	useful := false
	for i := 0; i < d.nComp; i++ {
		c := &d.comp[i]
		if !c.latched {
			return false
		}
		for z := 0; z < savedCoefs; z++ {
			if c.qt[unzig[z]] == 0 { // the latched table, as libjpeg checks
				return false
			}
		}
		if d.coefBits[i][0] < 0 {
			return false
		}
		for z := 1; z < savedCoefs; z++ {
			if d.coefBits[i][z] != 0 {
				useful = true
			}
		}
	}
	return useful
}

// isRGB reports whether a 3-component image holds RGB rather than YCbCr,
// following libjpeg-turbo's jdapimin.c default_decompress_parms: a JFIF
// marker means YCbCr; else an Adobe marker's transform decides (0 = RGB);
// else the component identifiers 'R','G','B' mean RGB; everything else is
// YCbCr.
func (d *decoder) isRGB() bool {
	if d.nComp != 3 || d.jfif {
		return false
	}
	if d.adobeTransformValid {
		return d.adobeTransform == 0
	}
	return d.comp[0].c == 'R' && d.comp[1].c == 'G' && d.comp[2].c == 'B'
}
