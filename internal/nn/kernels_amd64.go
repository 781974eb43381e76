//go:build amd64 && !purego

package nn

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// haveAVX2 reports whether this CPU runs the AVX2+FMA kernels (kernels_amd64.s and the other
// *_amd64.s files); haveAVX512 whether it also runs the AVX-512F kernels of
// kernels_avx512_amd64.s (x/sys/cpu checks that the OS saves the ZMM registers).
var (
	haveAVX2   = cpu.X86.HasAVX2 && cpu.X86.HasFMA
	haveAVX512 = haveAVX2 && cpu.X86.HasAVX512F
)

// sgemm6x16 is the GEMM micro-kernel: a 6×16 tile of C in twelve YMM accumulators, for each of
// np consecutive panels. Row r of A at step t of segment s is the float at
// a + r·rs + s·segStride + t·ks (byte offsets); B is np packed panels of 16 floats per step,
// nseg·seglen steps each, one after another. flags: 1 add C, 2 add bias[0:16], 4 ReLU, applied
// in that order. C rows are ldc bytes apart; panel p writes columns 16p..16p+15 and adds
// bias[16p:16p+16].
//
//go:noescape
func sgemm6x16(a *float32, rs, ks uintptr, nseg, seglen int, segStride uintptr, b, c *float32, ldc uintptr, bias *float32, flags uintptr, np int)

// dw4x16 is the depthwise micro-kernel: four output pixels (dstep bytes apart; their input
// windows sx bytes apart) for nblk blocks of 16 channels. Taps run row by row (kh rows, row
// bytes apart, kw taps each, tap bytes apart); the weights hold one tap after another, tap
// bytes apart. flags as for sgemm6x16 (bit 1 is ignored).
//
//go:noescape
func dw4x16(dst *float32, dstep uintptr, src *float32, sx uintptr, w, bias *float32, nblk, kh, kw int, tap, row, flags uintptr)

// dw1x16 is dw4x16 for one output pixel.
//
//go:noescape
func dw1x16(dst, src, w, bias *float32, nblk, kh, kw int, tap, row, flags uintptr)

// sdot returns the dot product of x[:n] and y[:n]; n must be a multiple of 8.
//
//go:noescape
func sdot(x, y *float32, n int) float32

// smax sets m[i] = x[i] where x[i] > m[i], for i < n (a multiple of 8).
//
//go:noescape
func smax(m, x *float32, n int)

const f32 = unsafe.Sizeof(float32(0))

func ptr(s []float32) *float32 {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func gemmTileAsm(a []float32, rs, ks, nseg, seglen, segStride int, b, c []float32, ldc int, bias []float32, flags, np int) {
	sgemm6x16(ptr(a), uintptr(rs)*f32, uintptr(ks)*f32, nseg, seglen, uintptr(segStride)*f32,
		ptr(b), ptr(c), uintptr(ldc)*f32, ptr(bias), uintptr(flags), np)
}

func dw4Asm(dst []float32, dstep int, src []float32, sx int, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	dw4x16(ptr(dst), uintptr(dstep)*f32, ptr(src), uintptr(sx)*f32, ptr(w), ptr(bias), nblk, kh, kw,
		uintptr(tap)*f32, uintptr(row)*f32, uintptr(flags))
}

func dw1Asm(dst, src, w, bias []float32, nblk, kh, kw, tap, row, flags int) {
	dw1x16(ptr(dst), ptr(src), ptr(w), ptr(bias), nblk, kh, kw, uintptr(tap)*f32, uintptr(row)*f32, uintptr(flags))
}

func dotAsm(x, y []float32, n int) float32 { return sdot(ptr(x), ptr(y), n) }

func maxAsm(m, x []float32, n int) { smax(ptr(m), ptr(x), n) }
