//go:build !amd64 || purego

package mapping

func block2x4(a []float64, lda int, b []float64, ldb, k int, acc *[8]float64) {
	block2x4Go(a, lda, b, ldb, k, acc)
}
