//go:build amd64 && !purego

package mapping

import (
	"golang.org/x/sys/cpu"
)

// haveFMA reports whether this CPU runs dot2x4 (AVX2 with FMA), haveAVX512 whether it also
// runs dot4x4 (AVX-512F; x/sys/cpu checks that the OS saves the ZMM registers).
var (
	haveFMA    = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512 = haveFMA && cpu.X86.HasAVX512F
)

//go:noescape
func dot4x4(a *float64, lda uintptr, b *float64, ldb uintptr, k int, out *[128]float64)

//go:noescape
func dot2x4(a *float64, lda uintptr, b *float64, ldb uintptr, k int, out *[32]float64)

// block2x4 adds to acc[r·4+c] the dot product of rows a[r·lda:] and b[c·ldb:] over their
// first k elements (k a multiple of 4).
func block2x4(a []float64, lda int, b []float64, ldb, k int, acc *[8]float64) {
	if !haveFMA {
		block2x4Go(a, lda, b, ldb, k, acc)
		return
	}
	_ = a[lda+k-1]
	_ = b[3*ldb+k-1]
	var out [32]float64
	dot2x4(&a[0], uintptr(lda)*8, &b[0], uintptr(ldb)*8, k, &out)
	for i := range acc {
		o := out[4*i : 4*i+4]
		acc[i] += (o[0] + o[1]) + (o[2] + o[3])
	}
}

// block4x4 adds to acc[r·4+c] the dot product of rows a[r·lda:] and b[c·ldb:] (r, c < 4) over
// their first k elements (k a multiple of 8).
func block4x4(a []float64, lda int, b []float64, ldb, k int, acc *[16]float64) {
	if !haveAVX512 {
		block4x4By2(a, lda, b, ldb, k, acc)
		return
	}
	_ = a[3*lda+k-1]
	_ = b[3*ldb+k-1]
	var out [128]float64
	dot4x4(&a[0], uintptr(lda)*8, &b[0], uintptr(ldb)*8, k, &out)
	for i := range acc {
		o := out[8*i : 8*i+8]
		acc[i] += ((o[0] + o[1]) + (o[2] + o[3])) + ((o[4] + o[5]) + (o[6] + o[7]))
	}
}
