package nn

// Low-level float32 kernels. Each has an AVX2+FMA assembly version (kernels_amd64.s), the GEMM
// tile and dw4 an AVX-512 version too (kernels_avx512_amd64.s, the same bits as AVX2), and a
// pure-Go version with the same semantics and the same summation order (only the rounding of
// the fused multiply-adds differs); each dispatches on the kernel set in use (kernelset.go). The
// drivers (gemm.go, conv.go, depthwise.go) check the index ranges once per block and call these
// with slices that start at the first element read.

// Epilogue flags of the GEMM and depthwise kernels, applied in this order.
const (
	flagAcc  = 1 << iota // add the tile's previous C values to the sums
	flagBias             // add bias[0:16] (per output column / channel)
	flagReLU             // max(0, x); a NaN stays NaN
)

// Tile sizes of the GEMM micro-kernel.
const (
	mr = 6  // rows of C per tile
	nr = 16 // columns of C per tile (two YMM registers)
)

// gemmTile computes 6 rows of C against np panels of 16 columns. With element strides (not
// bytes): row r of A at step t of segment s is a[r·rs + s·segStride + t·ks]; panel p of b holds
// nseg·seglen packed rows of 16 (the panels one after another); tile row r of panel p is
// c[r·ldc+16p : r·ldc+16p+16], and bias[16p:16p+16] is its bias. Every element is
// Σ_k A[r,k]·B[k,j] accumulated in k order from zero, then the flags apply.
func gemmTile(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags, np int) {
	switch kern {
	case kernelsAVX512:
		gemmTile512(a, rs, ks, nseg, seglen, segStride, b, c, ldc, bias, flags, np)
		return
	case kernelsAVX2:
		gemmTileAsm(a, rs, ks, nseg, seglen, segStride, b, c, ldc, bias, flags, np)
		return
	}
	gemmTileGo(a, rs, ks, nseg, seglen, segStride, b, c, ldc, bias, flags, np)
}

// gemmTileGo is the pure-Go gemmTile.
func gemmTileGo(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags, np int) {
	k := nseg * seglen
	for p := 0; p < np; p++ {
		var pb []float32
		if flags&flagBias != 0 {
			pb = bias[p*nr:]
		}
		gemmPanelGo(a, rs, ks, nseg, seglen, segStride, b[p*k*nr:], c[p*nr:], ldc, pb, flags)
	}
}

func gemmPanelGo(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags int) {
	var acc [mr][nr]float32
	kb := 0
	for s := 0; s < nseg; s++ {
		base := s * segStride
		for t := 0; t < seglen; t++ {
			bp := (*[nr]float32)(b[kb : kb+nr])
			off := base + t*ks
			for r := 0; r < mr; r++ {
				av := a[off+r*rs]
				ar := &acc[r]
				for j := range ar {
					ar[j] += av * bp[j]
				}
			}
			kb += nr
		}
	}
	for r := 0; r < mr; r++ {
		cr := (*[nr]float32)(c[r*ldc : r*ldc+nr])
		epilogue(&acc[r], cr, bias, flags)
		*cr = acc[r]
	}
}

func epilogue(acc, prev *[nr]float32, bias []float32, flags int) {
	if flags&flagAcc != 0 {
		for j := range acc {
			acc[j] += prev[j]
		}
	}
	if flags&flagBias != 0 {
		for j := range acc {
			acc[j] += bias[j]
		}
	}
	if flags&flagReLU != 0 {
		for j, v := range acc {
			if v < 0 {
				acc[j] = 0
			}
		}
	}
}

// dw4 computes four output pixels of a depthwise convolution over nblk blocks of 16 channels:
// output pixel p (at dst[p·dstep:]) is Σ_{i<kh} Σ_{j<kw} src[p·sx + i·row + j·tap + c]·w[(i·kw+j)·tap + c],
// taps in that order, then bias (flagBias) and ReLU (flagReLU).
func dw4(dst []float32, dstep int, src []float32, sx int, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	switch kern {
	case kernelsAVX512:
		dw4512(dst, dstep, src, sx, w, bias, nblk, kh, kw, tap, row, flags)
		return
	case kernelsAVX2:
		dw4Asm(dst, dstep, src, sx, w, bias, nblk, kh, kw, tap, row, flags)
		return
	}
	dw4Go(dst, dstep, src, sx, w, bias, nblk, kh, kw, tap, row, flags)
}

// dw1 is dw4 for a single output pixel.
func dw1(dst, src, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	if kern != kernelsGo {
		dw1Asm(dst, src, w, bias, nblk, kh, kw, tap, row, flags)
		return
	}
	dw1Go(dst, src, w, bias, nblk, kh, kw, tap, row, flags)
}

// dw4Go is the pure-Go dw4.
func dw4Go(dst []float32, dstep int, src []float32, sx int, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	for p := 0; p < 4; p++ {
		dw1Go(dst[p*dstep:], src[p*sx:], w, bias, nblk, kh, kw, tap, row, flags)
	}
}

// dw1Go is the pure-Go dw1.
func dw1Go(dst, src, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	for blk := 0; blk < nblk; blk++ {
		o := blk * nr
		var acc [nr]float32
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				sp := (*[nr]float32)(src[o+i*row+j*tap:])
				wp := (*[nr]float32)(w[o+(i*kw+j)*tap:])
				for c := range acc {
					acc[c] += sp[c] * wp[c]
				}
			}
		}
		var b []float32
		if flags&flagBias != 0 {
			b = bias[o : o+nr]
		}
		epilogue(&acc, nil, b, flags&^flagAcc)
		copy(dst[o:o+nr], acc[:])
	}
}

// dot returns Σ x[i]·y[i] over n elements in a fixed order: eight lanes in four accumulators
// over blocks of 32, the remaining blocks of 8 into the first, a fixed horizontal reduction, and
// the last n mod 8 terms added one by one.
func dot(x, y []float32, n int) float32 {
	m := n &^ 7
	var s float32
	if kern != kernelsGo {
		if m > 0 {
			s = dotAsm(x[:m], y[:m], m)
		}
	} else {
		s = dotGo(x, y, m)
	}
	for i := m; i < n; i++ {
		s += x[i] * y[i]
	}
	return s
}

// dotGo is the pure-Go body of dot for n a multiple of 8, in the assembly's order.
func dotGo(x, y []float32, n int) float32 {
	var acc [4][8]float32
	i := 0
	for ; i+32 <= n; i += 32 {
		for a := range acc {
			for l := range acc[a] {
				acc[a][l] += x[i+8*a+l] * y[i+8*a+l]
			}
		}
	}
	for ; i+8 <= n; i += 8 {
		for l := range acc[0] {
			acc[0][l] += x[i+l] * y[i+l]
		}
	}
	var s [8]float32
	for l := range s {
		s[l] = (acc[0][l] + acc[1][l]) + (acc[2][l] + acc[3][l])
	}
	h0, h1, h2, h3 := s[0]+s[4], s[1]+s[5], s[2]+s[6], s[3]+s[7]
	return (h0 + h2) + (h1 + h3)
}

// maxInto sets m[i] = x[i] wherever x[i] > m[i], for every i < len(m): a NaN in x is skipped and
// one in m stays (as VMAXPS with x first, which the assembly uses).
func maxInto(m, x []float32) {
	x = x[:len(m)]
	n := len(m) &^ 7
	if kern != kernelsGo && n > 0 {
		maxAsm(m, x, n)
	} else {
		maxGo(m, x, n)
	}
	maxGo(m[n:], x[n:], len(m)-n)
}

// maxGo is the pure-Go maxInto of the first n elements.
func maxGo(m, x []float32, n int) {
	for i, v := range x[:n] {
		if v > m[i] {
			m[i] = v
		}
	}
}
