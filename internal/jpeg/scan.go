// Copyright 2012 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.
//
// Forked from the Go standard library's image/jpeg (Go 1.26) for compactv4.
// Changes: block traversal for arbitrary sampling factors, with the
// non-interleaved extent and restart counting of libjpeg (one block per MCU in
// a non-interleaved scan); coefficient decoding that mirrors libjpeg-turbo's
// jdhuff.c and jdphuff.c in the cases where Go's decoder differed (JCOEF int16
// storage, run lengths that overshoot the band, AC refinement of already-set
// bits, sequential EOB handling); the libjpeg-turbo IDCT of idct.go.

package jpeg

import "fmt"

// scanComp is one component of a scan.
type scanComp struct {
	compIndex int
	td        uint8 // DC table selector.
	ta        uint8 // AC table selector.
}

// Specified in section B.2.3.
func (d *decoder) processSOS(n int) error {
	if d.nComp == 0 {
		return FormatError("missing SOF marker")
	}
	if n < 6 || 4+2*d.nComp < n || n%2 != 0 {
		return FormatError("SOS has wrong length")
	}
	d.nScans++
	if d.nScans > MaxScans {
		return UnsupportedError(fmt.Sprintf("more than %d scans", MaxScans))
	}
	if err := d.readFull(d.tmp[:n]); err != nil {
		return err
	}
	nComp := int(d.tmp[0])
	if n != 4+2*nComp {
		return FormatError("SOS length inconsistent with number of components")
	}
	var scan [maxComponents]scanComp
	totalHV := 0
	for i := 0; i < nComp; i++ {
		cs := d.tmp[1+2*i] // Component selector.
		compIndex := -1
		for j, comp := range d.comp[:d.nComp] {
			if cs == comp.c {
				compIndex = j
			}
		}
		if compIndex < 0 {
			return FormatError("unknown component selector")
		}
		scan[i].compIndex = compIndex
		// Section B.2.3 states that "the value of Cs_j shall be different from
		// the values of Cs_1 through Cs_(j-1)". Since we have previously
		// verified that a frame's component identifiers (C_i values in section
		// B.2.2) are unique, it suffices to check that the implicit indexes
		// into d.comp are unique.
		for j := 0; j < i; j++ {
			if scan[i].compIndex == scan[j].compIndex {
				return FormatError("repeated component selector")
			}
		}
		totalHV += d.comp[compIndex].h * d.comp[compIndex].v

		// The baseline t <= 1 restriction is specified in table B.3.
		scan[i].td = d.tmp[2+2*i] >> 4
		if t := scan[i].td; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Td value")
		}
		scan[i].ta = d.tmp[2+2*i] & 0x0f
		if t := scan[i].ta; t > maxTh || (d.baseline && t > 1) {
			return FormatError("bad Ta value")
		}
	}
	// Section B.2.3 states that if there is more than one component then the
	// total H*V values in a scan must be <= 10 (libjpeg: JERR_BAD_MCU_SIZE).
	if nComp > 1 && totalHV > 10 {
		return FormatError("total sampling factors too large")
	}

	// zigStart and zigEnd are the spectral selection bounds.
	// ah and al are the successive approximation high and low values.
	// The spec calls these values Ss, Se, Ah and Al.
	//
	// For sequential JPEGs, these parameters are hard-coded to 0/63/0/0, as
	// per table B.3.
	zigStart, zigEnd, ah, al := int32(0), int32(blockSize-1), uint32(0), uint32(0)
	if d.progressive {
		zigStart = int32(d.tmp[1+2*nComp])
		zigEnd = int32(d.tmp[2+2*nComp])
		ah = uint32(d.tmp[3+2*nComp] >> 4)
		al = uint32(d.tmp[3+2*nComp] & 0x0f)
		if (zigStart == 0 && zigEnd != 0) || zigStart > zigEnd || blockSize <= zigEnd {
			return FormatError("bad spectral selection bounds")
		}
		if zigStart != 0 && nComp != 1 {
			return FormatError("progressive AC coefficients for more than one component")
		}
		if ah != 0 && ah != al+1 {
			return FormatError("bad successive approximation values")
		}
		if al > 13 { // jdphuff.c start_pass_phuff_decoder
			return FormatError("bad successive approximation values")
		}
	}

	if d.planes[0] == nil {
		d.setup()
	}
	for i := 0; i < nComp; i++ {
		ci := scan[i].compIndex
		if err := d.latchQuant(ci); err != nil {
			return err
		}
		if d.progressive {
			if d.progCoeffs[ci] == nil {
				d.progCoeffs[ci] = make([]block, d.comp[ci].bw*d.comp[ci].bh)
			}
			for z := zigStart; z <= zigEnd && z < savedCoefs; z++ {
				d.coefBits[ci][z] = int8(al)
			}
		}
	}

	d.bits = bits{}
	d.eobRun = 0
	var (
		dc          [maxComponents]int32
		mcu         int
		expectedRST = uint8(rst0Marker)
	)
	// afterMCU handles the restart marker that follows every d.ri MCUs,
	// except after the last MCU of the scan.
	afterMCU := func(total int) error {
		mcu++
		if d.ri == 0 || mcu%d.ri != 0 || mcu >= total {
			return nil
		}
		// For well-formed input, the RST[0-7] restart marker follows
		// immediately. For corrupt input, call findRST to try to
		// resynchronize.
		if err := d.readFull(d.tmp[:2]); err != nil {
			return err
		} else if d.tmp[0] != 0xff || d.tmp[1] != expectedRST {
			if err := d.findRST(expectedRST); err != nil {
				return err
			}
		}
		expectedRST++
		if expectedRST == rst7Marker+1 {
			expectedRST = rst0Marker
		}
		// Reset the Huffman decoder.
		d.bits = bits{}
		// Reset the DC components, as per section F.2.1.3.1.
		dc = [maxComponents]int32{}
		// Reset the progressive decoder state, as per section G.1.2.2.
		d.eobRun = 0
		return nil
	}
	// doBlock decodes the block at (bx, by) of scan component s.
	var seq block
	doBlock := func(s *scanComp, bx, by int) error {
		ci := s.compIndex
		c := &d.comp[ci]
		if !d.progressive {
			seq = block{}
			if err := d.decodeSequential(&seq, s, &dc[ci]); err != nil {
				return err
			}
			if bx < c.wib && by < c.hib { // skip the IDCT of dummy blocks, whose samples are never used
				stride := 8 * c.bw
				d.idct(&seq, &c.qt, d.planes[ci][8*(by*stride+bx):], stride)
			}
			return nil
		}
		b := &d.progCoeffs[ci][by*c.bw+bx]
		switch {
		case zigStart == 0 && ah == 0:
			return d.decodeDCFirst(b, s, &dc[ci], al)
		case zigStart == 0:
			return d.refineDC(b, al)
		case ah == 0:
			return d.decodeACFirst(b, s, zigStart, zigEnd, al)
		default:
			return d.refineAC(b, &d.huff[acTable][s.ta], zigStart, zigEnd, al)
		}
	}

	if nComp == 1 {
		// A non-interleaved scan: one block per MCU, covering only the
		// component's own blocks (not the MCU padding), left to right and
		// top to bottom (section A.2.2).
		s := &scan[0]
		c := &d.comp[s.compIndex]
		total := c.wib * c.hib
		for by := 0; by < c.hib; by++ {
			for bx := 0; bx < c.wib; bx++ {
				if err := doBlock(s, bx, by); err != nil {
					return err
				}
				if err := afterMCU(total); err != nil {
					return err
				}
			}
		}
		return nil
	}
	total := d.mxx * d.myy
	for my := 0; my < d.myy; my++ {
		for mx := 0; mx < d.mxx; mx++ {
			for i := 0; i < nComp; i++ {
				s := &scan[i]
				c := &d.comp[s.compIndex]
				for j := 0; j < c.h*c.v; j++ {
					if err := doBlock(s, c.h*mx+j%c.h, c.v*my+j/c.h); err != nil {
						return err
					}
				}
			}
			if err := afterMCU(total); err != nil {
				return err
			}
		}
	}
	return nil
}

// decodeDC decodes a DC difference and updates the predictor, as jdhuff.c
// and jdphuff.c do (the predictor is an int; the stored coefficient a JCOEF).
func (d *decoder) decodeDC(s *scanComp, pred *int32) error {
	value, err := d.decodeHuffman(&d.huff[dcTable][s.td])
	if err != nil {
		return err
	}
	if value > 15 {
		// libjpeg rejects DC tables with symbols above 15 (JERR_BAD_HUFF_TABLE).
		return FormatError("bad DC Huffman symbol")
	}
	delta, err := d.receiveExtend(value)
	if err != nil {
		return err
	}
	*pred += delta
	return nil
}

// decodeSequential decodes one block of a sequential scan (jdhuff.c
// decode_mcu_slow).
func (d *decoder) decodeSequential(b *block, s *scanComp, pred *int32) error {
	if err := d.decodeDC(s, pred); err != nil {
		return err
	}
	b[0] = int16(*pred)
	huff := &d.huff[acTable][s.ta]
	for zig := 1; zig < blockSize; zig++ {
		value, err := d.decodeHuffman(huff)
		if err != nil {
			return err
		}
		r, size := int(value>>4), value&0x0f
		if size != 0 {
			zig += r
			ac, err := d.receiveExtend(size)
			if err != nil {
				return err
			}
			// zig may overshoot 63 in corrupt data; unzig's extra entries
			// send it to coefficient 63 as libjpeg's jpeg_natural_order does.
			b[unzig[zig]] = int16(ac)
		} else {
			if r != 15 {
				break
			}
			zig += 15
		}
	}
	return nil
}

// decodeDCFirst decodes the first scan of a DC coefficient (jdphuff.c
// decode_mcu_DC_first).
func (d *decoder) decodeDCFirst(b *block, s *scanComp, pred *int32, al uint32) error {
	if err := d.decodeDC(s, pred); err != nil {
		return err
	}
	b[0] = int16(*pred << al)
	return nil
}

// refineDC decodes a DC successive-approximation bit (jdphuff.c
// decode_mcu_DC_refine).
func (d *decoder) refineDC(b *block, al uint32) error {
	bit, err := d.decodeBit()
	if err != nil {
		return err
	}
	if bit {
		b[0] |= int16(1 << al)
	}
	return nil
}

// decodeACFirst decodes the first scan of a band of AC coefficients
// (jdphuff.c decode_mcu_AC_first).
func (d *decoder) decodeACFirst(b *block, s *scanComp, zigStart, zigEnd int32, al uint32) error {
	if d.eobRun > 0 {
		d.eobRun--
		return nil
	}
	huff := &d.huff[acTable][s.ta]
	for zig := zigStart; zig <= zigEnd; zig++ {
		value, err := d.decodeHuffman(huff)
		if err != nil {
			return err
		}
		r, size := int32(value>>4), value&0x0f
		if size != 0 {
			zig += r
			ac, err := d.receiveExtend(size)
			if err != nil {
				return err
			}
			b[unzig[zig]] = int16(ac << al)
			continue
		}
		if r == 15 {
			zig += 15
			continue
		}
		d.eobRun = uint16(1) << r
		if r != 0 {
			extra, err := d.decodeBits(r)
			if err != nil {
				return err
			}
			d.eobRun += uint16(extra)
		}
		d.eobRun--
		break
	}
	return nil
}

// refineAC decodes a successive-approximation refinement of a band of AC
// coefficients (jdphuff.c decode_mcu_AC_refine, section G.1.2.3).
func (d *decoder) refineAC(b *block, h *huffman, zigStart, zigEnd int32, al uint32) error {
	p1 := int16(1) << al
	zig := zigStart
	if d.eobRun == 0 {
		for ; zig <= zigEnd; zig++ {
			value, err := d.decodeHuffman(h)
			if err != nil {
				return err
			}
			r, size := int32(value>>4), value&0x0f
			var z int16
			if size != 0 {
				// The size of a new coefficient should always be 1; libjpeg
				// warns (JWRN_HUFF_BAD_CODE) and carries on, and so do we.
				bit, err := d.decodeBit()
				if err != nil {
					return err
				}
				if bit {
					z = p1
				} else {
					z = -p1
				}
			} else if r != 15 {
				d.eobRun = uint16(1) << r
				if r != 0 {
					extra, err := d.decodeBits(r)
					if err != nil {
						return err
					}
					d.eobRun += uint16(extra)
				}
				break
			}
			// Advance over already-nonzero coefficients and r still-zero
			// ones, appending correction bits to the nonzeroes.
			for ; zig <= zigEnd; zig++ {
				u := unzig[zig]
				if b[u] != 0 {
					if err := d.refineCoef(&b[u], p1); err != nil {
						return err
					}
				} else {
					r--
					if r < 0 {
						break
					}
				}
			}
			if z != 0 {
				b[unzig[zig]] = z
			}
		}
	}
	if d.eobRun > 0 {
		// Scan any remaining coefficient positions after the end-of-band;
		// only the nonzero ones get correction bits.
		for ; zig <= zigEnd; zig++ {
			u := unzig[zig]
			if b[u] != 0 {
				if err := d.refineCoef(&b[u], p1); err != nil {
					return err
				}
			}
		}
		d.eobRun--
	}
	return nil
}

// refineCoef reads one correction bit for a nonzero coefficient.
func (d *decoder) refineCoef(c *int16, p1 int16) error {
	bit, err := d.decodeBit()
	if err != nil {
		return err
	}
	if bit && *c&p1 == 0 { // do nothing if the bit is already set
		if *c >= 0 {
			*c += p1
		} else {
			*c -= p1
		}
	}
	return nil
}

// reconstructProgressiveImage runs the IDCT over the coefficients that the
// scans of a progressive image accumulated.
func (d *decoder) reconstructProgressiveImage() {
	for i := 0; i < d.nComp; i++ {
		if d.progCoeffs[i] == nil {
			continue
		}
		c := &d.comp[i]
		stride := 8 * c.bw
		for by := 0; by < c.hib; by++ {
			for bx := 0; bx < c.wib; bx++ {
				d.idct(&d.progCoeffs[i][by*c.bw+bx], &c.qt, d.planes[i][8*(by*stride+bx):], stride)
			}
		}
	}
}

// findRST advances past the next RST restart marker that matches expectedRST.
// Other than I/O errors, it is also an error if we encounter an {0xFF, M}
// two-byte marker sequence where M is not 0x00, 0xFF or the expectedRST.
//
// This is similar to libjpeg's jdmarker.c's next_marker function.
//
// Precondition: d.tmp[:2] holds the next two bytes of JPEG-encoded input
// (input in the d.readFull sense).
func (d *decoder) findRST(expectedRST uint8) error {
	for {
		// i is the index such that, at the bottom of the loop, we read 2-i
		// bytes into d.tmp[i:2], maintaining the invariant that d.tmp[:2]
		// holds the next two bytes of JPEG-encoded input. It is either 0 or 1,
		// so that each iteration advances by 1 or 2 bytes (or returns).
		i := 0

		if d.tmp[0] == 0xff {
			if d.tmp[1] == expectedRST {
				return nil
			} else if d.tmp[1] == 0xff {
				i = 1
			} else if d.tmp[1] != 0x00 {
				// libjpeg's jdmarker.c's jpeg_resync_to_restart does something
				// fancy here, treating RST markers within two (modulo 8) of
				// expectedRST differently from RST markers that are 'more
				// distant'. We take a simpler approach: any marker that's not
				// 0x00, 0xff or expectedRST is a fatal FormatError.
				return FormatError("bad RST marker")
			}

		} else if d.tmp[1] == 0xff {
			d.tmp[0] = 0xff
			i = 1
		}

		if err := d.readFull(d.tmp[i:2]); err != nil {
			return err
		}
	}
}
