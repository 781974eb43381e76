//go:build amd64 && !purego

package nn

//go:generate python3 gen_avx512.py

// AVX-512F kernels (kernels_avx512_amd64.s, written by gen_avx512.py). Each computes every
// output element with the same instructions in the same order as the AVX2 kernel it stands for
// (one fused multiply-add per term, in the same term order), only sixteen lanes at a time instead
// of eight: their results are the AVX2 kernels' bit for bit. Strides are in bytes.

// sgemm6xN is the GEMM micro-kernel of both gemmTile and gemmSB: 6 rows of C against np panels of
// 16 columns, up to four panels at a time (a 6×64 tile in 24 ZMM accumulators). Row r of A at
// step t of segment s is at a + r·rs + s·(seglen·ks + segJump) + t·ks; panel p of B at step t
// (counting across segments) is at b + p·bp + t·bs. flags as for sgemm6x16; C rows are ldc apart,
// panel p writes columns 16p..16p+15 and adds bias[16p:16p+16].
//
//go:noescape
func sgemm6xN(a *float32, rs, ks uintptr, nseg, seglen int, segJump uintptr, b *float32, bs, bp uintptr, c *float32, ldc uintptr, bias *float32, flags uintptr, np int)

// dw4xN is dw4x16 with up to four 16-channel blocks at a time (16 ZMM accumulators).
//
//go:noescape
func dw4xN(dst *float32, dstep uintptr, src *float32, sx uintptr, w, bias *float32, nblk, kh, kw int, tap, row, flags uintptr)

// dwWgrad5xN is dwWgrad5x16 with up to four 16-channel blocks at a time (20 accumulators).
//
//go:noescape
func dwWgrad5xN(acc, src *float32, sx, row, tap uintptr, dz *float32, dzs uintptr, n, kh, nblk int)

// winoIn16 is winoIn (the Winograd input transform) on blocks of 16 channels, with the
// additions and subtractions of winoInGo in its order.
//
//go:noescape
func winoIn16(v *float32, vs, vt uintptr, src *float32, row, px uintptr, nblk, ntiles int)

// winoOut16 is winoOut (the Winograd output transform and its epilogue) on blocks of 16
// channels, with the additions and subtractions of winoOutGo in its order.
//
//go:noescape
func winoOut16(y *float32, row, px uintptr, m *float32, ms, mt uintptr, bias *float32, nblk, ntiles int, flags uintptr)

func gemmTile512(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags, np int) {
	k := nseg * seglen
	sgemm6xN(ptr(a), uintptr(rs)*f32, uintptr(ks)*f32, nseg, seglen, uintptr(segStride-seglen*ks)*f32,
		ptr(b), nr*f32, uintptr(k*nr)*f32, ptr(c), uintptr(ldc)*f32, ptr(bias), uintptr(flags), np)
}

func gemmSB512(a []float32, rs, ks, k int, b []float32, bs, bp int, c []float32, ldc, np int) {
	sgemm6xN(ptr(a), uintptr(rs)*f32, uintptr(ks)*f32, 1, k, 0, ptr(b), uintptr(bs)*f32, uintptr(bp)*f32,
		ptr(c), uintptr(ldc)*f32, nil, flagAcc, np)
}

func dw4512(dst []float32, dstep int, src []float32, sx int, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	dw4xN(ptr(dst), uintptr(dstep)*f32, ptr(src), uintptr(sx)*f32, ptr(w), ptr(bias), nblk, kh, kw,
		uintptr(tap)*f32, uintptr(row)*f32, uintptr(flags))
}

func dwWgrad5512(acc, src []float32, sx, row, tap int, dz []float32, dzs, n, kh, nblk int) {
	dwWgrad5xN(ptr(acc), ptr(src), uintptr(sx)*f32, uintptr(row)*f32, uintptr(tap)*f32, ptr(dz), uintptr(dzs)*f32, n, kh, nblk)
}

func winoIn512(v []float32, vs, vt int, src []float32, row, px, nblk, ntiles int) {
	winoIn16(ptr(v), uintptr(vs)*f32, uintptr(vt)*f32, ptr(src), uintptr(row)*f32, uintptr(px)*f32, nblk, ntiles)
}

func winoOut512(y []float32, row, px int, m []float32, ms, mt int, bias []float32, nblk, ntiles, flags int) {
	winoOut16(ptr(y), uintptr(row)*f32, uintptr(px)*f32, ptr(m), uintptr(ms)*f32, uintptr(mt)*f32, ptr(bias), nblk, ntiles, uintptr(flags))
}
