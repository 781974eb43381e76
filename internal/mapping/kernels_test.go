package mapping

// kernelSet is a choice of Gram kernels for a test: use switches to it and returns the function
// that switches back.
type kernelSet struct {
	name string
	use  func() func()
}

// kernelSets returns the kernel sets this machine runs, fastest first.
func kernelSets() []kernelSet {
	set := func(fma, avx512 bool) func() func() {
		return func() func() {
			f, a := haveFMA, haveAVX512
			haveFMA, haveAVX512 = fma, avx512
			return func() { haveFMA, haveAVX512 = f, a }
		}
	}
	var out []kernelSet
	if haveAVX512 {
		out = append(out, kernelSet{"avx512", set(true, true)})
	}
	if haveFMA {
		out = append(out, kernelSet{"avx2", set(true, false)})
	}
	return append(out, kernelSet{"go", set(false, false)})
}
