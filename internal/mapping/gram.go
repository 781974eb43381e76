package mapping

import (
	"runtime"
	"sync"
)

// block2x4Go is block2x4 in Go, with the assembly kernel's order of additions: four lanes, each
// summing the elements at its positions modulo 4, added pairwise.
func block2x4Go(a []float64, lda int, b []float64, ldb, k int, acc *[8]float64) {
	for r := range 2 {
		ar := a[r*lda : r*lda+k]
		for c := range 4 {
			bc := b[c*ldb : c*ldb+k]
			var l0, l1, l2, l3 float64
			for i := 0; i < k; i += 4 {
				l0 += ar[i] * bc[i]
				l1 += ar[i+1] * bc[i+1]
				l2 += ar[i+2] * bc[i+2]
				l3 += ar[i+3] * bc[i+3]
			}
			acc[r*4+c] += (l0 + l1) + (l2 + l3)
		}
	}
}

// block4x4By2 is block4x4 as two calls of block2x4 (for CPUs without AVX-512).
func block4x4By2(a []float64, lda int, b []float64, ldb, k int, acc *[16]float64) {
	for h := range 2 {
		var part [8]float64
		block2x4(a[2*h*lda:], lda, b, ldb, k, &part)
		for i, v := range part {
			acc[8*h+i] += v
		}
	}
}

// gramChunk is how many features one pass of gram takes (doubles per row): 600 rows of it fit
// in a 2 MB L2 cache.
const gramChunk = 384

// gram returns the n×n matrix G[i][j] = Σ_k x[i·ld+k]·x[j·ld+k], for x holding n rows of ld
// values (ld a multiple of 8, n a multiple of 4; padding rows and columns are zero). Rows are
// split among workers in quads, each computing its 4×4 blocks on and above the diagonal; the
// features are taken in chunks of gramChunk so that the rows stay in cache. Every entry is
// summed in the same order whatever the number of workers.
func gram(x []float64, n, ld int) []float64 {
	g := make([]float64, n*n)
	nq := n / 4
	workers := max(1, min(runtime.GOMAXPROCS(0), nq))
	for k0 := 0; k0 < ld; k0 += gramChunk {
		k := min(gramChunk, ld-k0)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var acc [16]float64
				// Quads are dealt out round-robin: quad q has n/4−q blocks to do.
				for q := w; q < nq; q += workers {
					i := 4 * q
					for j := i; j < n; j += 4 {
						acc = [16]float64{}
						block4x4(x[i*ld+k0:], ld, x[j*ld+k0:], ld, k, &acc)
						for r := range 4 {
							for c := range 4 {
								g[(i+r)*n+j+c] += acc[r*4+c]
							}
						}
					}
				}
			}()
		}
		wg.Wait()
	}
	// Mirror the upper triangle (every entry with j ≥ i was computed; some below too).
	for i := range n {
		for j := range i {
			g[i*n+j] = g[j*n+i]
		}
	}
	return g
}
