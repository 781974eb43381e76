package sharedfilters

import (
	"math/rand/v2"
	"runtime"
	"testing"

	"compactv4/internal/metrics"
)

// benchSet is a full-profile-sized layer-0 population: 219 models of 47 random unit kernels
// (10,293 vectors of 75 values; the published models have 10,201).
func benchSet(b *testing.B) *filterSet {
	b.Helper()
	src := rand.New(metrics.NewSource(1))
	per := make([][][]float64, 219)
	for m := range per {
		for i := 0; i < 47; i++ {
			v := make([]float64, 75)
			for j := range v {
				v[j] = src.NormFloat64()
			}
			u, err := unitCentred(v)
			if err != nil {
				b.Fatal(err)
			}
			per[m] = append(per[m], u)
		}
	}
	fs, err := newFilterSet(75, per)
	if err != nil {
		b.Fatal(err)
	}
	return fs
}

// BenchmarkBestMatches measures the all-pairs best-match computation of one full-profile
// population (one panel of the similarity figure).
func BenchmarkBestMatches(b *testing.B) {
	fs := benchSet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bestMatches(fs, runtime.GOMAXPROCS(0))
	}
	b.ReportMetric(float64(fs.Len())*float64(fs.Len())*75*2/1e9*float64(b.N)/b.Elapsed().Seconds(), "GFLOP/s")
}

// BenchmarkAxialKMeans measures one k-means fit (k = 9, 3 restarts) of a full-profile population.
func BenchmarkAxialKMeans(b *testing.B) {
	fs := benchSet(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := metrics.AxialKMeans(fs.Vectors, 9, clusterRestarts, rand.New(metrics.NewSource(uint64(i)))); err != nil {
			b.Fatal(err)
		}
	}
}
