//go:build !amd64 || purego

package nn

// This build has no assembly kernels: only the pure-Go set runs, and the functions below,
// which the dispatchers never call here, stand in for the assembly ones.
const (
	haveAVX2   = false
	haveAVX512 = false
)

func gemmTileAsm(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags, np int) {
	gemmTileGo(a, rs, ks, nseg, seglen, segStride, b, c, ldc, bias, flags, np)
}

func dw4Asm(dst []float32, dstep int, src []float32, sx int, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	dw4Go(dst, dstep, src, sx, w, bias, nblk, kh, kw, tap, row, flags)
}

func dw1Asm(dst, src, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	dw1Go(dst, src, w, bias, nblk, kh, kw, tap, row, flags)
}

func dotAsm(x, y []float32, n int) float32 { return dotGo(x, y, n) }

func gemmTile512(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags, np int) {
	gemmTileGo(a, rs, ks, nseg, seglen, segStride, b, c, ldc, bias, flags, np)
}

func dw4512(dst []float32, dstep int, src []float32, sx int, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	dw4Go(dst, dstep, src, sx, w, bias, nblk, kh, kw, tap, row, flags)
}

func maxAsm(m, x []float32, n int) { maxGo(m, x, n) }

func winoIn512(v []float32, vs, vt int, src []float32, row, px, nblk, ntiles int) {
	winoInGo(v, vs, vt, src, row, px, nblk, ntiles)
}

func winoOut512(y []float32, row, px int, m []float32, ms, mt int, bias []float32, nblk, ntiles, flags int) {
	winoOutGo(y, row, px, m, ms, mt, bias, nblk, ntiles, flags)
}
