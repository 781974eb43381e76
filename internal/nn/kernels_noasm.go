//go:build !amd64 || purego

package nn

// haveAsm is false: this build has no assembly kernels, and the pure-Go kernels run instead.
var haveAsm = false

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
