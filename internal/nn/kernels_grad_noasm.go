//go:build !amd64 || purego

package nn

func reluMaskAsm(dst, g, act []float32, n int) { reluMaskGo(dst[:n], g, act) }

func addRows16Asm(dst []float32, ds int, src []float32, ss int, n int) {
	addRows16Go(dst, ds, src, ss, n)
}
