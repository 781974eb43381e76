//go:build amd64 && !purego

package nn

// reluMask8 is reluMask for n a multiple of 8.
//
//go:noescape
func reluMask8(dst, grad, act *float32, n int)

// addRows16x is addRows16 with byte strides.
//
//go:noescape
func addRows16x(dst *float32, ds uintptr, src *float32, ss uintptr, n int)

func reluMaskAsm(dst, g, act []float32, n int) { reluMask8(ptr(dst), ptr(g), ptr(act), n) }

func addRows16Asm(dst []float32, ds int, src []float32, ss int, n int) {
	addRows16x(ptr(dst), uintptr(ds)*f32, ptr(src), uintptr(ss)*f32, n)
}
