package jpeg

// The accurate integer ("ISLOW") inverse DCT of libjpeg-turbo, with
// dequantisation, in the two variants that a libjpeg-turbo build runs:
//
//   - idctSIMD reproduces the arithmetic of jsimd_idct_islow_avx2 (and
//     jsimd_idct_islow_sse2, which computes the same values): 16-bit
//     dequantisation products, 16-bit sums where the assembly forms them
//     with vpaddw, 32-bit pmaddwd products and sums, signed saturation of
//     each pass's output to int16 and of the final value to int8 before
//     adding 128. This is what PIL gets from libjpeg-turbo on x86-64 with
//     SIMD (the default), so it is the reference for this package.
//   - idctC reproduces jidctint.c's jpeg_idct_islow, which libjpeg-turbo
//     runs when SIMD is unavailable or disabled (JSIMD_FORCENONE=1): 64-bit
//     JLONG arithmetic, an int workspace, and the range-limit table of
//     jdmaster.c prepare_range_limit_table indexed with the 10-bit
//     RANGE_MASK, which wraps rather than saturates far out-of-range values.
//
// The two agree whenever every descaled output lies in [-512, 511] and no
// 16-bit intermediate overflows, which holds for every block of the V4 image
// set; they differ only on blocks with extreme coefficients (see
// TestIDCTVariantsAgainstLibjpeg).

// FIX(x) constants of jidctint.c with CONST_BITS = 13.
const (
	fix0298631336 = 2446
	fix0390180644 = 3196
	fix0541196100 = 4433
	fix0765366865 = 6270
	fix0899976223 = 7373
	fix1175875602 = 9633
	fix1501321110 = 12299
	fix1847759065 = 15137
	fix1961570560 = 16069
	fix2053119869 = 16819
	fix2562915447 = 20995
	fix3072711026 = 25172

	constBits = 13
	pass1Bits = 2
)

// sat16 saturates like vpackssdw.
func sat16(x int32) int16 {
	return int16(min(max(x, -32768), 32767))
}

// simd1D is the dodct macro of jidctint-avx2.asm on one column or row;
// shift is DESCALE_P1 or DESCALE_P2.
func simd1D(in0, in1, in2, in3, in4, in5, in6, in7 int16, shift uint) (o [8]int16) {
	// Even part.
	tmp3 := int32(in2)*(fix0541196100+fix0765366865) + int32(in6)*fix0541196100
	tmp2 := int32(in2)*fix0541196100 + int32(in6)*(fix0541196100-fix1847759065)
	tmp0 := int32(in0+in4) << constBits // vpaddw: a 16-bit sum
	tmp1 := int32(in0-in4) << constBits
	tmp10 := tmp0 + tmp3
	tmp13 := tmp0 - tmp3
	tmp11 := tmp1 + tmp2
	tmp12 := tmp1 - tmp2

	// Odd part.
	z3 := in7 + in3 // vpaddw
	z4 := in5 + in1
	z3p := int32(z3)*(fix1175875602-fix1961570560) + int32(z4)*fix1175875602
	z4p := int32(z3)*fix1175875602 + int32(z4)*(fix1175875602-fix0390180644)
	t0 := int32(in7)*(fix0298631336-fix0899976223) + int32(in1)*(-fix0899976223) + z3p
	t1 := int32(in5)*(fix2053119869-fix2562915447) + int32(in3)*(-fix2562915447) + z4p
	t3 := int32(in7)*(-fix0899976223) + int32(in1)*(fix1501321110-fix0899976223) + z4p
	t2 := int32(in5)*(-fix2562915447) + int32(in3)*(fix3072711026-fix2562915447) + z3p

	round := int32(1) << (shift - 1)
	o[0] = sat16((tmp10 + t3 + round) >> shift)
	o[7] = sat16((tmp10 - t3 + round) >> shift)
	o[1] = sat16((tmp11 + t2 + round) >> shift)
	o[6] = sat16((tmp11 - t2 + round) >> shift)
	o[2] = sat16((tmp12 + t1 + round) >> shift)
	o[5] = sat16((tmp12 - t1 + round) >> shift)
	o[3] = sat16((tmp13 + t0 + round) >> shift)
	o[4] = sat16((tmp13 - t0 + round) >> shift)
	return o
}

// idctSIMD dequantises b with qt and writes the 8x8 samples to dst (row
// stride stride), with the arithmetic of jsimd_idct_islow_avx2.
func idctSIMD(b *block, qt *[blockSize]int16, dst []uint8, stride int) {
	_ = dst[7*stride+7]
	var ws [blockSize]int16 // ws[row*8+col]

	// Pass 1: columns. The assembly's shortcut for blocks whose rows 1..7
	// are all zero (tested on the coefficients, before dequantisation)
	// shifts the 16-bit dequantised first row left by PASS1_BITS.
	acZero := true
	for _, v := range b[8:] {
		if v != 0 {
			acZero = false
			break
		}
	}
	if acZero {
		for col := 0; col < 8; col++ {
			v := (b[col] * qt[col]) << pass1Bits // vpmullw, vpsllw
			for row := 0; row < 8; row++ {
				ws[row*8+col] = v
			}
		}
	} else {
		var dq [blockSize]int16
		for i := range dq {
			dq[i] = b[i] * qt[i] // vpmullw keeps the low 16 bits
		}
		for col := 0; col < 8; col++ {
			if dq[8+col] == 0 && dq[16+col] == 0 && dq[24+col] == 0 && dq[32+col] == 0 &&
				dq[40+col] == 0 && dq[48+col] == 0 && dq[56+col] == 0 {
				// What simd1D computes when only in0 is nonzero: the
				// 32-bit value in0<<13 descaled by 11 bits, saturated.
				v := sat16(int32(dq[col]) << pass1Bits)
				for row := 0; row < 8; row++ {
					ws[row*8+col] = v
				}
				continue
			}
			o := simd1D(dq[col], dq[8+col], dq[16+col], dq[24+col], dq[32+col], dq[40+col], dq[48+col], dq[56+col],
				constBits-pass1Bits)
			for row := 0; row < 8; row++ {
				ws[row*8+col] = o[row]
			}
		}
	}

	// Pass 2: rows; vpacksswb then adding CENTERJSAMPLE.
	for row := 0; row < 8; row++ {
		out := dst[row*stride : row*stride+8]
		if acZero && row > 0 {
			// All rows of the workspace are equal.
			copy(out, dst[:8])
			continue
		}
		w := ws[row*8 : row*8+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			// What simd1D computes when only in0 is nonzero: no 32-bit
			// overflow is possible, so it is DESCALE(in0, 5) throughout.
			v := (int32(w[0]) + 16) >> 5
			v = min(max(v, -128), 127)
			for i := range out {
				out[i] = uint8(v + 128)
			}
			continue
		}
		o := simd1D(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], constBits+pass1Bits+3)
		for i, v := range o {
			if v > 127 {
				v = 127
			} else if v < -128 {
				v = -128
			}
			out[i] = uint8(v + 128)
		}
	}
}

// rangeLimitC is libjpeg's IDCT range-limit table (sample_range_limit +
// CENTERJSAMPLE), indexed by the descaled output & RANGE_MASK (1023).
var rangeLimitC = func() (t [1024]uint8) {
	for i := range t {
		switch {
		case i < 128:
			t[i] = uint8(i + 128)
		case i < 512:
			t[i] = 255
		case i < 896:
			t[i] = 0
		default:
			t[i] = uint8(i - 896)
		}
	}
	return t
}()

// idctC dequantises b with qt and writes the 8x8 samples to dst (row stride
// stride), with the arithmetic of jidctint.c's jpeg_idct_islow.
func idctC(b *block, qt *[blockSize]int16, dst []uint8, stride int) {
	_ = dst[7*stride+7]
	var ws [blockSize]int32 // int workspace, ws[row*8+col]

	// Pass 1: columns.
	for col := 0; col < 8; col++ {
		dq := func(row int) int64 { return int64(int32(b[row*8+col]) * int32(qt[row*8+col])) }
		if b[8+col] == 0 && b[16+col] == 0 && b[24+col] == 0 && b[32+col] == 0 &&
			b[40+col] == 0 && b[48+col] == 0 && b[56+col] == 0 {
			dcval := int32(dq(0) << pass1Bits)
			for row := 0; row < 8; row++ {
				ws[row*8+col] = dcval
			}
			continue
		}
		o := c1D(dq(0), dq(1), dq(2), dq(3), dq(4), dq(5), dq(6), dq(7), constBits-pass1Bits)
		for row := 0; row < 8; row++ {
			ws[row*8+col] = int32(o[row])
		}
	}

	// Pass 2: rows.
	for row := 0; row < 8; row++ {
		w := ws[row*8 : row*8+8]
		out := dst[row*stride : row*stride+8]
		if w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0 && w[6] == 0 && w[7] == 0 {
			v := rangeLimitC[descale(int64(w[0]), pass1Bits+3)&1023]
			for i := range out {
				out[i] = v
			}
			continue
		}
		o := c1D(int64(w[0]), int64(w[1]), int64(w[2]), int64(w[3]), int64(w[4]), int64(w[5]), int64(w[6]), int64(w[7]),
			constBits+pass1Bits+3)
		for i, v := range o {
			out[i] = rangeLimitC[v&1023]
		}
	}
}

// descale is jdct.h's DESCALE: a rounding arithmetic right shift.
func descale(x int64, n uint) int64 { return (x + 1<<(n-1)) >> n }

// c1D is one column or row of jpeg_idct_islow in JLONG arithmetic; the
// results are the descaled values, truncated to int as the C code does.
func c1D(in0, in1, in2, in3, in4, in5, in6, in7 int64, shift uint) (o [8]int64) {
	// Even part: reverse the even part of the forward DCT.
	z2, z3 := in2, in6
	z1 := (z2 + z3) * fix0541196100
	tmp2 := z1 + z3*(-fix1847759065)
	tmp3 := z1 + z2*fix0765366865
	tmp0 := (in0 + in4) << constBits
	tmp1 := (in0 - in4) << constBits
	tmp10 := tmp0 + tmp3
	tmp13 := tmp0 - tmp3
	tmp11 := tmp1 + tmp2
	tmp12 := tmp1 - tmp2

	// Odd part.
	tmp0, tmp1, tmp2, tmp3 = in7, in5, in3, in1
	z1 = tmp0 + tmp3
	z2 = tmp1 + tmp2
	z3 = tmp0 + tmp2
	z4 := tmp1 + tmp3
	z5 := (z3 + z4) * fix1175875602
	tmp0 *= fix0298631336
	tmp1 *= fix2053119869
	tmp2 *= fix3072711026
	tmp3 *= fix1501321110
	z1 *= -fix0899976223
	z2 *= -fix2562915447
	z3 = z3*(-fix1961570560) + z5
	z4 = z4*(-fix0390180644) + z5
	tmp0 += z1 + z3
	tmp1 += z2 + z4
	tmp2 += z2 + z3
	tmp3 += z1 + z4

	o[0] = int64(int32(descale(tmp10+tmp3, shift)))
	o[7] = int64(int32(descale(tmp10-tmp3, shift)))
	o[1] = int64(int32(descale(tmp11+tmp2, shift)))
	o[6] = int64(int32(descale(tmp11-tmp2, shift)))
	o[2] = int64(int32(descale(tmp12+tmp1, shift)))
	o[5] = int64(int32(descale(tmp12-tmp1, shift)))
	o[3] = int64(int32(descale(tmp13+tmp0, shift)))
	o[4] = int64(int32(descale(tmp13-tmp0, shift)))
	return o
}
