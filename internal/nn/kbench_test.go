package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmTile is the micro-kernel alone on L1-resident packed panels (the upper bound of
// every GEMM here).
func BenchmarkGemmTile(b *testing.B) {
	const k = 256
	rng := rand.New(rand.NewPCG(1, 1))
	a, p, c := randSlice(rng, k*mr), randSlice(rng, k*nr), make([]float32, mr*nr)
	for b.Loop() {
		gemmTile(a, 1, mr, 1, k, 0, p, c, nr, nil, 0, 1)
	}
	b.ReportMetric(2*mr*nr*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
