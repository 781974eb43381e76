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

// gramChunk is how many features one pass of gram takes (doubles per row): 600 rows of it fit
// in a 2 MB L2 cache.
const gramChunk = 384

// gram returns the n×n matrix G[i][j] = Σ_k x[i·ld+k]·x[j·ld+k], for x holding n rows of ld
// values (ld a multiple of 4, n a multiple of 4; padding rows and columns are zero). Rows are
// split among workers in pairs; the features are taken in chunks of gramChunk so that the rows
// stay in cache.
func gram(x []float64, n, ld int) []float64 {
	g := make([]float64, n*n)
	workers := min(runtime.GOMAXPROCS(0), n/2)
	npairs := n / 2
	for k0 := 0; k0 < ld; k0 += gramChunk {
		k := min(gramChunk, ld-k0)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var acc [8]float64
				// Pairs are dealt out round-robin: pair i has about n−2i columns to do.
				for p := w; p < npairs; p += workers {
					i := 2 * p
					for j := i &^ 3; j < n; j += 4 {
						acc = [8]float64{}
						block2x4(x[i*ld+k0:], ld, x[j*ld+k0:], ld, k, &acc)
						for r := range 2 {
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
