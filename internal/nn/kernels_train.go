package nn

// Float32 kernels of the training engine. Each has an AVX2+FMA version (kernels_train_amd64.s),
// the GEMM and depthwise ones an AVX-512 version too (kernels_avx512_amd64.s; the batchnorm and
// column-sum kernels are bound by memory bandwidth and use the AVX2 code in the avx512 set), and
// a pure-Go version with the same summation order (only the rounding of fused multiply-adds
// differs). The drivers check index ranges before calling them; the assembly reads and writes
// through raw pointers.

// gemmSB adds to a 6×16·np tile of C the product of 6 rows of A and k steps of B, where B is read
// in place with arbitrary strides ("strided B"): for r < 6 and panel p < np,
//
//	C[r·ldc + 16p + j] += Σ_{t<k} a[r·rs + t·ks] · b[p·bp + t·bs + j],  j < 16,
//
// each sum taken from zero in t order, then added to C. It computes the weight gradients of
// convolutions without packing: A is an activation or gradient with rows = channels (rs = 1) and
// steps = pixels, B the other one, 16 channels or a 16-float window of a pixel row per step.
func gemmSB(a []float32, rs, ks, k int, b []float32, bs, bp int, c []float32, ldc, np int) {
	switch kern {
	case kernelsAVX512:
		gemmSB512(a, rs, ks, k, b, bs, bp, c, ldc, np)
		return
	case kernelsAVX2:
		gemmSBAsm(a, rs, ks, k, b, bs, bp, c, ldc, np)
		return
	}
	gemmSBGo(a, rs, ks, k, b, bs, bp, c, ldc, np)
}

func gemmSBGo(a []float32, rs, ks, k int, b []float32, bs, bp int, c []float32, ldc, np int) {
	for p := 0; p < np; p++ {
		var acc [mr][nr]float32
		for t := 0; t < k; t++ {
			bv := (*[nr]float32)(b[p*bp+t*bs:])
			for r := 0; r < mr; r++ {
				av := a[r*rs+t*ks]
				ar := &acc[r]
				for j := range ar {
					ar[j] += av * bv[j]
				}
			}
		}
		for r := 0; r < mr; r++ {
			cr := (*[nr]float32)(c[r*ldc+p*nr:])
			for j := range cr {
				cr[j] += acc[r][j]
			}
		}
	}
}

// dwWgrad adds the depthwise kernel gradient of n output pixels to acc: for tap (i,j) and
// channel c of nblk blocks of 16,
//
//	acc[(i·kw+j)·tap + c] += Σ_{p<n} src[p·sx + i·row + j·tap + c] · dz[p·dzs + c],
//
// accumulating onto acc in p order. The assembly handles kw = 5 (every depthwise kernel of the
// trunk); other widths run the Go version.
func dwWgrad(acc, src []float32, sx, row, tap int, dz []float32, dzs, n, kh, kw, nblk int) {
	if kw == 5 {
		switch kern {
		case kernelsAVX512:
			dwWgrad5512(acc, src, sx, row, tap, dz, dzs, n, kh, nblk)
			return
		case kernelsAVX2:
			dwWgrad5Asm(acc, src, sx, row, tap, dz, dzs, n, kh, nblk)
			return
		}
	}
	dwWgradGo(acc, src, sx, row, tap, dz, dzs, n, kh, kw, nblk)
}

func dwWgradGo(acc, src []float32, sx, row, tap int, dz []float32, dzs, n, kh, kw, nblk int) {
	for blk := 0; blk < nblk; blk++ {
		o := blk * nr
		for i := 0; i < kh; i++ {
			for j := 0; j < kw; j++ {
				a := (*[nr]float32)(acc[(i*kw+j)*tap+o:])
				for p := 0; p < n; p++ {
					s := (*[nr]float32)(src[p*sx+i*row+j*tap+o:])
					g := (*[nr]float32)(dz[p*dzs+o:])
					for c := range a {
						a[c] += s[c] * g[c]
					}
				}
			}
		}
	}
}

// colMoments computes, for each of the 16·nblk channels of n pixels (pitch floats apart), the
// mean (Σ_p y, in p order, times inv = 1/n) and the sum of squared deviations from it.
func colMoments(y []float32, n, pitch, nblk int, inv float32, mean, m2 []float32) {
	if n <= 0 {
		return
	}
	if kern != kernelsGo {
		colMomentsAsm(y, n, pitch, nblk, inv, mean, m2)
		return
	}
	colMomentsGo(y, n, pitch, nblk, inv, mean, m2)
}

func colMomentsGo(y []float32, n, pitch, nblk int, inv float32, mean, m2 []float32) {
	for blk := 0; blk < nblk; blk++ {
		o := blk * nr
		var s [nr]float32
		for p := 0; p < n; p++ {
			v := (*[nr]float32)(y[p*pitch+o:])
			for c := range s {
				s[c] += v[c]
			}
		}
		mu := (*[nr]float32)(mean[o:])
		for c := range s {
			mu[c] = s[c] * inv
		}
		var q [nr]float32
		for p := 0; p < n; p++ {
			v := (*[nr]float32)(y[p*pitch+o:])
			for c := range q {
				d := v[c] - mu[c]
				q[c] += d * d
			}
		}
		copy(m2[o:o+nr], q[:])
	}
}

// bnApply writes dst[p·pitch+c] = y[p·pitch+c]·a[c] + b[c] (then max(·,0) when relu is set) for
// n pixels of 16·nblk channels.
func bnApply(dst, y []float32, n, pitch, nblk int, a, b []float32, relu bool) {
	if n <= 0 {
		return
	}
	if kern != kernelsGo {
		bnApplyAsm(dst, y, n, pitch, nblk, a, b, relu)
		return
	}
	bnApplyGo(dst, y, n, pitch, nblk, a, b, relu)
}

func bnApplyGo(dst, y []float32, n, pitch, nblk int, a, b []float32, relu bool) {
	for p := 0; p < n; p++ {
		src := y[p*pitch : p*pitch+nblk*nr]
		d := dst[p*pitch : p*pitch+nblk*nr]
		for c, v := range src {
			r := float32(v*a[c]) + b[c]
			if relu && !(r > 0) {
				r = 0
			}
			d[c] = r
		}
	}
}

// bnReduce adds, for each channel of n pixels, Σ_p dz to s1 and Σ_p dz·(y − mu) to s2,
// accumulating onto s1 and s2 in p order.
func bnReduce(dz, y []float32, n, pitch, nblk int, mu, s1, s2 []float32) {
	if n <= 0 {
		return
	}
	if kern != kernelsGo {
		bnReduceAsm(dz, y, n, pitch, nblk, mu, s1, s2)
		return
	}
	bnReduceGo(dz, y, n, pitch, nblk, mu, s1, s2)
}

func bnReduceGo(dz, y []float32, n, pitch, nblk int, mu, s1, s2 []float32) {
	for p := 0; p < n; p++ {
		for c := 0; c < nblk*nr; c++ {
			g := dz[p*pitch+c]
			s1[c] += g
			s2[c] += g * (y[p*pitch+c] - mu[c])
		}
	}
}

// bnBackward writes dst = A·dz + (C·(y − mu) + B) per channel for n pixels (dst may be y).
func bnBackward(dst, dz, y []float32, n, pitch, nblk int, mu, ca, cb, cc []float32) {
	if n <= 0 {
		return
	}
	if kern != kernelsGo {
		bnBackwardAsm(dst, dz, y, n, pitch, nblk, mu, ca, cb, cc)
		return
	}
	bnBackwardGo(dst, dz, y, n, pitch, nblk, mu, ca, cb, cc)
}

func bnBackwardGo(dst, dz, y []float32, n, pitch, nblk int, mu, ca, cb, cc []float32) {
	for p := 0; p < n; p++ {
		for c := 0; c < nblk*nr; c++ {
			i := p*pitch + c
			t := float32(cc[c]*(y[i]-mu[c])) + cb[c]
			dst[i] = float32(ca[c]*dz[i]) + t
		}
	}
}

// colSum adds Σ_p x[p·pitch + c] (from zero in p order) to s[c] for the 16·nblk channels.
func colSum(x []float32, n, pitch, nblk int, s []float32) {
	if n <= 0 {
		return
	}
	if kern != kernelsGo {
		colSumAsm(x, n, pitch, nblk, s)
		return
	}
	colSumGo(x, n, pitch, nblk, s)
}

func colSumGo(x []float32, n, pitch, nblk int, s []float32) {
	for blk := 0; blk < nblk; blk++ {
		o := blk * nr
		var a [nr]float32
		for p := 0; p < n; p++ {
			v := (*[nr]float32)(x[p*pitch+o:])
			for c := range a {
				a[c] += v[c]
			}
		}
		for c := range a {
			s[o+c] += a[c]
		}
	}
}
