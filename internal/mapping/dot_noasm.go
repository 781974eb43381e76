//go:build !amd64 || purego

package mapping

func block2x4(a []float64, lda int, b []float64, ldb, k int, acc *[8]float64) {
	block2x4Go(a, lda, b, ldb, k, acc)
}

func block4x4(a []float64, lda int, b []float64, ldb, k int, acc *[16]float64) {
	block4x4By2(a, lda, b, ldb, k, acc)
}

// The kernel flags exist so that the tests can switch kernels; this build has only Go's.
var haveFMA, haveAVX512 = false, false
