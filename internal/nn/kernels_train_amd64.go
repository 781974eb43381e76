//go:build amd64 && !purego

package nn

import "math"

// Assembly kernels of the training engine (kernels_train_amd64.s); the contracts are those of the
// Go functions in kernels_train.go, with strides in bytes.

//go:noescape
func sgemmSB(a *float32, rs, ks uintptr, k int, b *float32, bs, bp uintptr, c *float32, ldc uintptr, np int)

//go:noescape
func dwWgrad5x16(acc, src *float32, sx, row, tap uintptr, dz *float32, dzs uintptr, n, kh, nblk int)

//go:noescape
func colMoments16(y *float32, n int, pitch uintptr, nblk int, inv uint32, mean, m2 *float32)

//go:noescape
func bnApply16(dst, y *float32, n int, pitch uintptr, nblk int, a, b *float32, relu int)

//go:noescape
func bnReduce16(dz, y *float32, n int, pitch uintptr, nblk int, mu, s1, s2 *float32)

//go:noescape
func bnBackward16(dst, dz, y *float32, n int, pitch uintptr, nblk int, mu, ca, cb, cc *float32)

//go:noescape
func colSum16(x *float32, n int, pitch uintptr, nblk int, s *float32)

func gemmSBAsm(a []float32, rs, ks, k int, b []float32, bs, bp int, c []float32, ldc, np int) {
	sgemmSB(ptr(a), uintptr(rs)*f32, uintptr(ks)*f32, k, ptr(b), uintptr(bs)*f32, uintptr(bp)*f32, ptr(c), uintptr(ldc)*f32, np)
}

func dwWgrad5Asm(acc, src []float32, sx, row, tap int, dz []float32, dzs, n, kh, nblk int) {
	dwWgrad5x16(ptr(acc), ptr(src), uintptr(sx)*f32, uintptr(row)*f32, uintptr(tap)*f32, ptr(dz), uintptr(dzs)*f32, n, kh, nblk)
}

func colMomentsAsm(y []float32, n, pitch, nblk int, inv float32, mean, m2 []float32) {
	colMoments16(ptr(y), n, uintptr(pitch)*f32, nblk, math.Float32bits(inv), ptr(mean), ptr(m2))
}

func bnApplyAsm(dst, y []float32, n, pitch, nblk int, a, b []float32, relu bool) {
	r := 0
	if relu {
		r = 1
	}
	bnApply16(ptr(dst), ptr(y), n, uintptr(pitch)*f32, nblk, ptr(a), ptr(b), r)
}

func bnReduceAsm(dz, y []float32, n, pitch, nblk int, mu, s1, s2 []float32) {
	bnReduce16(ptr(dz), ptr(y), n, uintptr(pitch)*f32, nblk, ptr(mu), ptr(s1), ptr(s2))
}

func bnBackwardAsm(dst, dz, y []float32, n, pitch, nblk int, mu, ca, cb, cc []float32) {
	bnBackward16(ptr(dst), ptr(dz), ptr(y), n, uintptr(pitch)*f32, nblk, ptr(mu), ptr(ca), ptr(cb), ptr(cc))
}

func colSumAsm(x []float32, n, pitch, nblk int, s []float32) {
	colSum16(ptr(x), n, uintptr(pitch)*f32, nblk, ptr(s))
}
