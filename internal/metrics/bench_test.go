package metrics

import (
	"math/rand/v2"
	"testing"
)

// benchSession is a (100, 600, 10) session like the real ones: Poisson-like counts, 5–10 valid
// repeats per image (trailing NaN), and a noisy prediction.
func benchSession() (Raw, [][]float64) {
	const n, m = 100, 600
	rng := rand.New(rand.NewPCG(1, 1))
	signal := make([][]float64, n)
	pred := make([][]float64, n)
	for k := range signal {
		signal[k] = make([]float64, m)
		pred[k] = make([]float64, m)
		for i := range signal[k] {
			signal[k][i] = 3 + 2*rng.NormFloat64()
			pred[k][i] = signal[k][i] + rng.NormFloat64()
		}
	}
	raw := simSession(rng, signal, 10, 5, 2)
	return raw, pred
}

func BenchmarkR2ER(b *testing.B) {
	raw, pred := benchSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := R2ER(raw, pred, R2EROptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSNR(b *testing.B) {
	raw, _ := benchSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := SNR(raw, SNROptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBrainScore(b *testing.B) {
	raw, pred := benchSession()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := BrainScore(raw, pred, NewSource(1)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkBootstrapMedianCI(b *testing.B) {
	rng := rand.New(rand.NewPCG(2, 2))
	x := make([]float64, 219)
	for i := range x {
		x[i] = rng.NormFloat64()
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, _, err := BootstrapMedianCI(x, DefaultCILevel, DefaultBootstraps, 1); err != nil {
			b.Fatal(err)
		}
	}
}
