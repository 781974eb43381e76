package nn

// Kernels names the numerical kernels this process runs: "avx2+fma" (the assembly kernels) or
// "go" (the pure-Go kernels of the purego build, or of a CPU without AVX2 and FMA). Results are
// the same bytes wherever the same kernels run, and differ in their last bits between kernels.
func Kernels() string {
	if haveAsm {
		return "avx2+fma"
	}
	return "go"
}
