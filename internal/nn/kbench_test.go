package nn

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkGemmTile is the micro-kernel alone on L1-resident packed panels (the upper bound of
// every GEMM here).
func BenchmarkGemmTile(b *testing.B) {
	const k, np = 128, 4 // A and four panels of B: 34 KiB, in L1
	rng := rand.New(rand.NewPCG(1, 1))
	a, p, c := randSlice(rng, k*mr), randSlice(rng, np*k*nr), make([]float32, mr*np*nr)
	for b.Loop() {
		gemmTile(a, 1, mr, 1, k, 0, p, c, np*nr, nil, 0, np)
	}
	b.ReportMetric(2*mr*np*nr*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
