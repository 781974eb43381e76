package nn

// Element-wise float32 kernels of the backward passes, with AVX2 versions in
// kernels_grad_amd64.s and pure-Go versions (same results bit for bit: no multiply-adds).

// reluMask writes dst[i] = g[i] where act[i] > 0, else 0 (the gradient through a ReLU whose
// output is act; TF's rule: zero where the input was ≤ 0), for i < n.
func reluMask(dst, g, act []float32, n int) {
	m := n &^ 7
	if kern != kernelsGo && m > 0 {
		reluMaskAsm(dst[:m], g[:m], act[:m], m)
	} else {
		m = 0
	}
	reluMaskGo(dst[m:n], g[m:n], act[m:n])
}

func reluMaskGo(dst, g, act []float32) {
	g, act = g[:len(dst)], act[:len(dst)]
	for i := range dst {
		if act[i] > 0 {
			dst[i] = g[i]
		} else {
			dst[i] = 0
		}
	}
}

// addRows16 adds n rows of 16 floats: dst[k·ds : k·ds+16] += src[k·ss : k·ss+16] for k < n, in
// order of k (rows may overlap in dst).
func addRows16(dst []float32, ds int, src []float32, ss int, n int) {
	if n <= 0 {
		return
	}
	_ = dst[(n-1)*ds+15]
	_ = src[(n-1)*ss+15]
	if kern != kernelsGo {
		addRows16Asm(dst, ds, src, ss, n)
		return
	}
	addRows16Go(dst, ds, src, ss, n)
}

func addRows16Go(dst []float32, ds int, src []float32, ss int, n int) {
	for k := 0; k < n; k++ {
		d := (*[nr]float32)(dst[k*ds:])
		s := (*[nr]float32)(src[k*ss:])
		for j := range d {
			d[j] += s[j]
		}
	}
}
