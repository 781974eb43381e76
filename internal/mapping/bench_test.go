package mapping

import (
	"math/rand/v2"
	"testing"

	"compactv4/internal/metrics"
)

// BenchmarkEnsembleCV is the size of the teacher's ridge mapping: the 8-fold cross-validation of
// 25 members with 7×7×512 = 25,088 features on 600 images, 50 neurons, default alpha per fold.
// Run it with -benchtime=1x.
func BenchmarkEnsembleCV(b *testing.B) {
	const members, m, p, n, r = 25, 600, 7 * 7 * 512, 50, 5
	rng := rand.New(rand.NewPCG(1, 2))
	raw := metrics.Raw{N: n, M: m, R: r, Data: make([]float64, n*m*r)}
	for i := range raw.Data {
		raw.Data[i] = rng.NormFloat64()
	}
	// One random feature matrix stands for every member: the cost does not depend on the values.
	x := make([]float32, m*p)
	for k := range x {
		x[k] = float32(rng.NormFloat64())
	}
	member := func(int) (Features, error) { return Features{N: m, P: p, X: x, Name: "random"}, nil }
	for b.Loop() {
		if _, err := CrossValidate(members, member, raw, Auto); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGram is one member's Gram matrix at the teacher's size.
func BenchmarkGram(b *testing.B) {
	const m, p = 600, 7 * 7 * 512
	x := make([]float64, m*p)
	rng := rand.New(rand.NewPCG(1, 2))
	for k := range x {
		x[k] = rng.NormFloat64()
	}
	for b.Loop() {
		gram(x, m, p)
	}
}
