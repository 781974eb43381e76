//go:build !amd64 || purego

package nn

func gemmSBAsm(a []float32, rs, ks, k int, b []float32, bs, bp int, c []float32, ldc, np int) {
	gemmSBGo(a, rs, ks, k, b, bs, bp, c, ldc, np)
}

func dwWgrad5Asm(acc, src []float32, sx, row, tap int, dz []float32, dzs, n, kh, nblk int) {
	dwWgradGo(acc, src, sx, row, tap, dz, dzs, n, kh, 5, nblk)
}

func colMomentsAsm(y []float32, n, pitch, nblk int, inv float32, mean, m2 []float32) {
	colMomentsGo(y, n, pitch, nblk, inv, mean, m2)
}

func bnApplyAsm(dst, y []float32, n, pitch, nblk int, a, b []float32, relu bool) {
	bnApplyGo(dst, y, n, pitch, nblk, a, b, relu)
}

func bnReduceAsm(dz, y []float32, n, pitch, nblk int, mu, s1, s2 []float32) {
	bnReduceGo(dz, y, n, pitch, nblk, mu, s1, s2)
}

func bnBackwardAsm(dst, dz, y []float32, n, pitch, nblk int, mu, ca, cb, cc []float32) {
	bnBackwardGo(dst, dz, y, n, pitch, nblk, mu, ca, cb, cc)
}

func colSumAsm(x []float32, n, pitch, nblk int, s []float32) { colSumGo(x, n, pitch, nblk, s) }

func gemmSB512(a []float32, rs, ks, k int, b []float32, bs, bp int, c []float32, ldc, np int) {
	gemmSBGo(a, rs, ks, k, b, bs, bp, c, ldc, np)
}

func dwWgrad5512(acc, src []float32, sx, row, tap int, dz []float32, dzs, n, kh, nblk int) {
	dwWgradGo(acc, src, sx, row, tap, dz, dzs, n, kh, 5, nblk)
}
