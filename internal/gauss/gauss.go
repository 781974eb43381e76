// Package gauss is scipy.ndimage's Gaussian filter, bit for bit: the 1-D weights of
// gaussian_filter (scipy 1.10 _gaussian_kernel1d, summed as numpy sums), its 'reflect' boundary
// and its symmetric-kernel summation order, for float64 images (FilterHW, the preferred-stimulus
// synthesis of reference/upstream.md §9) and float32 arrays (Filter2D, the weight smoothing of reference/upstream.md §8). The
// references are scipy's own outputs (testdata/, with the scripts that wrote them).
package gauss

import (
	"fmt"
	"math"
	"math/big"
)

// Kernel returns the normalised weights of scipy.ndimage's 1-D Gaussian filter of order 0
// (scipy 1.10 _gaussian_kernel1d): radius = int(truncate·sigma + 0.5), weights
// exp(−0.5/sigma²·x²) for x = −radius…radius, divided by their sum. The sum is taken in the
// order of numpy's pairwise summation, so the weights are the bytes scipy uses.
func Kernel(sigma, truncate float64) ([]float64, error) {
	if !(sigma > 0) || math.IsInf(sigma, 0) || !(truncate >= 0) || math.IsInf(truncate, 0) {
		return nil, fmt.Errorf("gaussian kernel: sigma %v and truncate %v must be finite, sigma > 0, truncate >= 0", sigma, truncate)
	}
	rf := truncate*sigma + 0.5 // checked before the conversion, which overflows silently
	if rf > 1<<16 {
		return nil, fmt.Errorf("gaussian kernel: radius %.6g too large", rf)
	}
	r := int(rf)
	sigma2 := sigma * sigma
	phi := make([]float64, 2*r+1)
	for i := range phi {
		x := float64(i - r)
		phi[i] = expRounded(-0.5 / sigma2 * (x * x))
	}
	s := NumpySum(phi)
	for i := range phi {
		phi[i] /= s
	}
	return phi, nil
}

// expRounded returns e^x correctly rounded to float64, as glibc's exp (which numpy calls)
// returns it for the arguments tried here; Go's math.Exp is off by one unit in the last place for
// some of them (e.g. e^−8). It sums the Taylor series of e^|x| in 256-bit arithmetic.
func expRounded(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) || math.Abs(x) > 700 {
		return math.Exp(x)
	}
	const prec = 256
	ax := new(big.Float).SetPrec(prec).SetFloat64(math.Abs(x))
	sum := new(big.Float).SetPrec(prec).SetInt64(1)
	term := new(big.Float).SetPrec(prec).SetInt64(1)
	eps := new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), -prec)
	for k := int64(1); k < 10000; k++ {
		term.Mul(term, ax)
		term.Quo(term, new(big.Float).SetPrec(prec).SetInt64(k))
		sum.Add(sum, term)
		if new(big.Float).Quo(term, sum).Cmp(eps) < 0 {
			break
		}
	}
	if x < 0 {
		sum.Quo(new(big.Float).SetPrec(prec).SetInt64(1), sum)
	}
	f, _ := sum.Float64()
	return f
}

// NumpySum is numpy's sum of a contiguous float64 array (np.add.reduce, numpy 1.24): the
// reduction's iterator hands the inner loop blocks of at most 8192 elements (NPY_BUFSIZE),
// each added pairwise to the running sum, which starts at zero.
func NumpySum(xs []float64) float64 {
	const block = 8192
	s := 0.0
	for len(xs) > 0 {
		n := min(len(xs), block)
		s += pairwiseSum(xs[:n])
		xs = xs[n:]
	}
	return s
}

// pairwiseSum adds xs as numpy's pairwise_sum does for contiguous float64 data (numpy 1.24,
// loops_utils.h.src): plainly below 8 elements, with eight interleaved partial sums up to 128,
// and by halves (at a multiple of 8) above.
func pairwiseSum(xs []float64) float64 {
	n := len(xs)
	switch {
	case n < 8:
		s := 0.0 // numpy starts from -0.0 here; the sum of our positive weights is the same.
		for _, x := range xs {
			s += x
		}
		return s
	case n <= 128:
		var r [8]float64
		copy(r[:], xs[:8])
		i := 8
		for ; i < n-n%8; i += 8 {
			for j := range r {
				r[j] += xs[i+j]
			}
		}
		s := (r[0] + r[1]) + (r[2] + r[3]) + ((r[4] + r[5]) + (r[6] + r[7]))
		for ; i < n; i++ {
			s += xs[i]
		}
		return s
	default:
		n2 := n / 2
		n2 -= n2 % 8
		return pairwiseSum(xs[:n2]) + pairwiseSum(xs[n2:])
	}
}

// ReflectIndex maps an index of the extended line to the line of length n as scipy's mode 'reflect'
// (d c b a | a b c d | d c b a, repeated for reaches beyond one length).
func ReflectIndex(i, n int) int {
	p := 2 * n
	m := i % p
	if m < 0 {
		m += p
	}
	if m >= n {
		m = p - 1 - m
	}
	return m
}

// FilterHW smooths an h×w image with c channels (HWC order, as one image of a Keras
// NHWC batch) along its two spatial axes with the symmetric weights of Kernel, exactly
// as scipy.ndimage.gaussian_filter(x, (0, σ, σ, 0), mode='reflect') does for float64 data: first
// along the rows axis (y), then along the columns axis (x), each pass computing
// w[0]·x[i] + Σ_{k=r…1} w[k]·(x[i−k] + x[i+k]) in that order (scipy's NI_Correlate1D, symmetric
// branch). dst and src must both have length h·w·c and may be the same slice.
func FilterHW(dst, src []float64, h, w, c int, weights []float64) error {
	return FilterHWScratch(dst, src, nil, h, w, c, weights)
}

// FilterHWScratch is FilterHW with a scratch slice of h·w·c values, reused across calls
// (allocated when too short).
func FilterHWScratch(dst, src, tmp []float64, h, w, c int, weights []float64) error {
	if h <= 0 || w <= 0 || c <= 0 {
		return fmt.Errorf("gaussian filter: bad image shape %d×%d×%d", h, w, c)
	}
	n := h * w * c
	if len(src) != n || len(dst) != n {
		return fmt.Errorf("gaussian filter: %d×%d×%d image needs %d values, got src %d, dst %d", h, w, c, n, len(src), len(dst))
	}
	if len(weights)%2 != 1 {
		return fmt.Errorf("gaussian filter: %d weights, want an odd number", len(weights))
	}
	r := len(weights) / 2
	for k := 1; k <= r; k++ {
		if weights[r-k] != weights[r+k] {
			return fmt.Errorf("gaussian filter: weights are not symmetric")
		}
	}
	if len(tmp) < n {
		tmp = make([]float64, n)
	}
	tmp = tmp[:n]
	w0 := weights[r]
	// Along y, whole rows at a time: row y of the output is w0·row(y) plus, for k = r…1,
	// w[k]·(row(y−k) + row(y+k)) with reflected row indices. The arithmetic of every element
	// is that of scipy's line loop; only the loop order differs. The conversions forbid fused
	// multiply-adds, which scipy's x86-64 build does not use either.
	rl := w * c
	for y := 0; y < h; y++ {
		out := tmp[y*rl : (y+1)*rl]
		ctr := src[y*rl : (y+1)*rl]
		for i := range out {
			out[i] = float64(ctr[i] * w0)
		}
		for k := r; k >= 1; k-- {
			a := src[ReflectIndex(y-k, h)*rl:][:rl]
			b := src[ReflectIndex(y+k, h)*rl:][:rl]
			wk := weights[r-k]
			for i := range out {
				out[i] += float64((a[i] + b[i]) * wk)
			}
		}
	}
	// Along x, within each row: column x of the output is w0·col(x) plus w[k]·(col(x−k) +
	// col(x+k)), all c channels of a pixel together.
	lo := make([]int, w*(r+1)) // lo[k·w+x] = reflected index of x−k, hi likewise of x+k
	hi := make([]int, w*(r+1))
	for k := 1; k <= r; k++ {
		for x := 0; x < w; x++ {
			lo[k*w+x], hi[k*w+x] = ReflectIndex(x-k, w)*c, ReflectIndex(x+k, w)*c
		}
	}
	for y := 0; y < h; y++ {
		in := tmp[y*rl : (y+1)*rl]
		out := dst[y*rl : (y+1)*rl]
		for i := range out {
			out[i] = float64(in[i] * w0)
		}
		for k := r; k >= 1; k-- {
			wk := weights[r-k]
			// Interior columns (x−k and x+k inside the row): flat slices, no index table.
			if x0, x1 := r, w-r; x0 < x1 {
				kc := k * c
				o := out[x0*c : x1*c]
				a := in[x0*c-kc : x1*c-kc]
				b := in[x0*c+kc : x1*c+kc]
				for i := range o {
					o[i] += float64((a[i] + b[i]) * wk)
				}
			}
			// Border columns through the reflection table.
			los, his := lo[k*w:(k+1)*w], hi[k*w:(k+1)*w]
			for x := 0; x < w; x++ {
				if x >= r && x < w-r {
					continue
				}
				a, b, o := in[los[x]:los[x]+c], in[his[x]:his[x]+c], out[x*c:x*c+c]
				for ch := range o {
					o[ch] += float64((a[ch] + b[ch]) * wk)
				}
			}
		}
	}
	return nil
}

// Filter2D filters src, a float32 array of shape (h, w, rest) in row-major order, along
// its first two axes into dst (which may be src) as scipy.ndimage.gaussian_filter(a,
// sigma=[σ, σ, 0, …], mode='reflect', truncate=truncate) filters a float32 array: axis 0 then
// axis 1, each pass correlate1d in float64 with scipy's symmetric-kernel summation order
// (w₀·x₀ + Σ_{k=r..1} w_k·(x₋ₖ + xₖ)) and rounded to float32 in between. The results equal
// scipy's bit for bit (TestFilter2DScipy).
func Filter2D(dst, src []float32, h, w, rest int, sigma, truncate float64) error {
	if h < 1 || w < 1 || rest < 1 || len(src) != h*w*rest || len(dst) != len(src) {
		return fmt.Errorf("gaussian filter: shape (%d,%d,%d) for %d values into %d", h, w, rest, len(src), len(dst))
	}
	k, err := Kernel(sigma, truncate)
	if err != nil {
		return fmt.Errorf("gaussian filter: %w", err)
	}
	tmp := make([]float32, len(src))
	filterAxis(tmp, src, h, w*rest, k) // axis 0: lines of h values, w·rest apart
	for y := 0; y < h; y++ {           // axis 1: per row, lines of w values, rest apart
		row := y * w * rest
		filterAxis(dst[row:row+w*rest], tmp[row:row+w*rest], w, rest, k)
	}
	return nil
}

// filterAxis correlates every line (n values, stride apart; stride lines) of src with the
// symmetric kernel k, reflect boundary, into dst.
func filterAxis(dst, src []float32, n, stride int, k []float64) {
	r := len(k) / 2
	line := make([]float64, n+2*r)
	for l := 0; l < stride; l++ {
		for i := range line {
			line[i] = float64(src[ReflectIndex(i-r, n)*stride+l])
		}
		for i := 0; i < n; i++ {
			c := i + r
			v := line[c] * k[r]
			for j := -r; j < 0; j++ {
				v += (line[c+j] + line[c-j]) * k[r+j]
			}
			dst[i*stride+l] = float32(v)
		}
	}
}
