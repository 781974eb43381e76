package nn

import (
	"fmt"
	"sync"
)

// Blocking of Sgemm: a 6×kc tile of A (6 KiB) stays in L1 while it meets every panel of a
// kc×nc block of packed B (256 KiB, in L2: AMD's Zen 3 and later cores have 32 KiB or more of
// L1D and 512 KiB or more of L2). kc is also the summation block (see Sgemm): changing it changes
// the results' last bits.
const (
	gemmKC = 256
	gemmNC = 256 // a multiple of nr
)

var packPool = sync.Pool{New: func() any { return new(packBuf) }}

type packBuf struct {
	a, b []float32 // a partial tile of A rows; a block of packed B
	tile [mr * nr]float32
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices, where op(X) is X or its
// transpose: op(A) is m×k, op(B) is k×n and C is m×n with leading dimensions lda, ldb, ldc (the
// row strides of A, B and C as stored). With beta = 0, C is overwritten (NaNs in C do not
// propagate). Like gonum's BLAS it panics when a dimension or leading dimension is negative or
// too small or a slice is too short, since those are programming errors.
//
// It runs on the calling goroutine. Each element of C is computed in the same order whatever the
// sizes of the other dimensions: k in blocks of 256, each block summed from zero in k order with
// fused multiply-adds (with the assembly kernel sets; see the package doc) and then added to C.
// alpha scales B as it is packed.
//
// It is used rather than gonum's pure-Go blas/gonum Sgemm, which is several times slower
// (BenchmarkSgemmVsGonumCPU runs both alternately on 256³, 3136×64×48 and 12544×48×75;
// BenchmarkSgemm and BenchmarkSgemmGonum give wall-clock figures).
func Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	scaleC(m, n, beta, c, ldc)
	if k == 0 || alpha == 0 {
		return
	}
	buf := packPool.Get().(*packBuf)
	defer packPool.Put(buf)
	sgemm(buf, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta != 0, c, ldc)
}

// ParallelSgemm is Sgemm split over up to workers goroutines (rows of C, or columns when C has
// fewer rows than 6·workers). The result is bit-for-bit that of Sgemm, whatever workers is.
func ParallelSgemm(workers int, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkGemm(transA, transB, m, n, k, a, lda, b, ldb, c, ldc)
	if workers < 1 {
		workers = 1
	}
	// Each worker needs at least a few tiles' worth of work.
	if w := max(m/(4*mr), n/(4*nr)); workers > w {
		workers = max(w, 1)
	}
	if workers == 1 || m == 0 || n == 0 {
		Sgemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	var wg sync.WaitGroup
	byRows := (m+mr-1)/mr >= (n+nr-1)/nr
	for w := 0; w < workers; w++ {
		var lo, hi int
		if byRows {
			lo, hi = m*w/workers, m*(w+1)/workers
		} else {
			lo, hi = n*w/workers, n*(w+1)/workers
		}
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if byRows {
				aoff := lo * lda
				if transA {
					aoff = lo
				}
				Sgemm(transA, transB, hi-lo, n, k, alpha, a[aoff:], lda, b, ldb, beta, c[lo*ldc:], ldc)
			} else {
				boff := lo
				if transB {
					boff = lo * ldb
				}
				Sgemm(transA, transB, m, hi-lo, k, alpha, a, lda, b[boff:], ldb, beta, c[lo:], ldc)
			}
		}()
	}
	wg.Wait()
}

func checkGemm(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("nn: Sgemm with negative dimension m=%d n=%d k=%d", m, n, k))
	}
	ar, ac := m, k
	if transA {
		ar, ac = k, m
	}
	br, bc := k, n
	if transB {
		br, bc = n, k
	}
	check := func(name string, s []float32, rows, cols, ld int) {
		if ld < max(cols, 1) {
			panic(fmt.Sprintf("nn: Sgemm: leading dimension of %s is %d < %d", name, ld, cols))
		}
		if rows > 0 && cols > 0 && len(s) < (rows-1)*ld+cols {
			panic(fmt.Sprintf("nn: Sgemm: %s has %d elements, needs %d (%d×%d, ld %d)", name, len(s), (rows-1)*ld+cols, rows, cols, ld))
		}
	}
	check("A", a, ar, ac, lda)
	check("B", b, br, bc, ldb)
	check("C", c, m, n, ldc)
}

func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// sgemm is the blocked product; acc tells whether C already holds values to add to. Full 6-row
// tiles read A in place (the micro-kernel takes any row and k strides, so op(A) = Aᵀ costs
// nothing); only a last partial tile of rows is copied, zero-padded. B is packed in blocks of
// kc rows × nc columns.
func sgemm(buf *packBuf, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, acc bool, c []float32, ldc int) {
	for pc := 0; pc < k; pc += gemmKC {
		kb := min(gemmKC, k-pc)
		flags := 0
		if acc || pc > 0 {
			flags = flagAcc
		}
		for jc := 0; jc < n; jc += gemmNC {
			nb := min(gemmNC, n-jc)
			npan := (nb + nr - 1) / nr
			full := nb / nr // panels of 16 whole columns
			buf.b = grow(buf.b, npan*kb*nr)
			packB(buf.b, transB, pc, kb, jc, nb, alpha, b, ldb)
			for ic := 0; ic < m; ic += mr {
				rows := min(mr, m-ic)
				var ap []float32
				rs, ks := 1, mr
				switch {
				case rows < mr:
					buf.a = grow(buf.a, kb*mr)
					packA(buf.a, transA, ic, rows, pc, kb, a, lda)
					ap = buf.a
				case transA:
					ap, rs, ks = a[pc*lda+ic:], 1, lda
				default:
					ap, rs, ks = a[ic*lda+pc:], lda, 1
				}
				coff := ic*ldc + jc
				if rows == mr && full > 0 {
					gemmTile(ap, rs, ks, 1, kb, 0, buf.b, c[coff:], ldc, nil, flags, full)
				}
				first := full
				if rows < mr {
					first = 0
				}
				// Edge tiles: through a 6×16 buffer, with the same arithmetic.
				for p := first; p < npan; p++ {
					cols := min(nr, nb-p*nr)
					t := buf.tile[:]
					co := coff + p*nr
					if flags&flagAcc != 0 {
						for r := 0; r < rows; r++ {
							copy(t[r*nr:r*nr+cols], c[co+r*ldc:co+r*ldc+cols])
						}
					}
					gemmTile(ap, rs, ks, 1, kb, 0, buf.b[p*kb*nr:], t, nr, nil, flags, 1)
					for r := 0; r < rows; r++ {
						copy(c[co+r*ldc:co+r*ldc+cols], t[r*nr:r*nr+cols])
					}
				}
			}
		}
	}
}

// packA copies rows ic..ic+rows (fewer than 6) and columns pc..pc+kb of op(A) into a k-major
// panel of 6 rows (6 consecutive floats per k), zero-padding the missing rows.
func packA(dst []float32, trans bool, ic, rows, pc, kb int, a []float32, lda int) {
	clear(dst[:kb*mr])
	for r := 0; r < rows; r++ {
		i := ic + r
		for t := 0; t < kb; t++ {
			if trans {
				dst[t*mr+r] = a[(pc+t)*lda+i]
			} else {
				dst[t*mr+r] = a[i*lda+pc+t]
			}
		}
	}
}

// packB packs rows pc..pc+kb and columns jc..jc+nb of op(B), times alpha, into panels of 16
// columns, each panel k-major (16 consecutive floats per k), zero-padding the last panel.
func packB(dst []float32, trans bool, pc, kb, jc, nb int, alpha float32, b []float32, ldb int) {
	npan := (nb + nr - 1) / nr
	for p := 0; p < npan; p++ {
		cols := min(nr, nb-p*nr)
		pp := dst[p*kb*nr : (p+1)*kb*nr]
		for t := 0; t < kb; t++ {
			row := pp[t*nr : t*nr+nr]
			if !trans {
				copy(row[:cols], b[(pc+t)*ldb+jc+p*nr:])
			} else {
				for j := 0; j < cols; j++ {
					row[j] = b[(jc+p*nr+j)*ldb+pc+t]
				}
			}
			clear(row[cols:])
			if alpha != 1 {
				for j := range row[:cols] {
					row[j] *= alpha
				}
			}
		}
	}
}
