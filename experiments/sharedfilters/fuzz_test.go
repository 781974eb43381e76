package sharedfilters

import (
	"math"
	"math/rand/v2"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/metrics"
)

// fuzzSet builds a small filter set from fuzz bytes: dimension, models, vectors per model and
// values all come from b; degenerate vectors are dropped.
func fuzzSet(b []byte) *filterSet {
	if len(b) < 3 {
		return nil
	}
	dim := 1 + int(b[0])%8
	models := 1 + int(b[1])%5
	b = b[2:]
	per := make([][][]float64, models)
	for m := range per {
		if len(b) == 0 {
			break
		}
		n := int(b[0]) % 6
		b = b[1:]
		for i := 0; i < n && len(b) >= dim; i++ {
			v := make([]float64, dim)
			for j := range v {
				v[j] = float64(int8(b[j]))
			}
			b = b[dim:]
			if u, err := unitCentred(v); err == nil {
				per[m] = append(per[m], u)
			}
		}
	}
	fs, err := newFilterSet(dim, per)
	if err != nil {
		return nil
	}
	return fs
}

// FuzzSimilarity checks the invariants of the kernel comparison and the clustering on small
// arbitrary filter sets: best matches in [0, 1] (NaN exactly for the own model and empty
// models) and independent of the number of workers, symmetric pair similarities, AUC in [0, 1],
// valid cluster assignments and silhouettes in [−1, 1].
func FuzzSimilarity(f *testing.F) {
	f.Add([]byte{3, 2, 2, 1, 0, 0, 0, 1, 0, 2, 0, 0, 1, 1, 1, 0})
	f.Add([]byte{7, 4, 5, 9, 200, 3, 17, 88, 1, 0, 255, 3, 3, 3, 3, 3, 3, 3, 3, 3, 2, 1, 4, 1, 7, 7, 0, 1, 2, 3, 4, 5, 6, 7})
	f.Add([]byte{0, 0, 0})
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		fs := fuzzSet(b)
		if fs == nil || fs.Len() == 0 {
			return
		}
		b1, b3 := bestMatches(fs, 1), bestMatches(fs, 3)
		nm := fs.Models()
		for i := 0; i < fs.Len(); i++ {
			for m := 0; m < nm; m++ {
				x := b1.Best[i*nm+m]
				y := b3.Best[i*nm+m]
				if !(x == y || math.IsNaN(x) && math.IsNaN(y)) {
					t.Fatalf("workers change best[%d][%d]: %v vs %v", i, m, x, y)
				}
				wantNaN := m == fs.Owner(i) || fs.Start[m] == fs.Start[m+1]
				if math.IsNaN(x) != wantNaN || (!wantNaN && (x < 0 || x > 1)) {
					t.Fatalf("best[%d][%d] = %v (own %d)", i, m, x, fs.Owner(i))
				}
			}
		}
		pair := b1.PairSimilarity()
		for a := range pair {
			for c := range pair {
				if x, y := pair[a][c], pair[c][a]; !(x == y || math.IsNaN(x) && math.IsNaN(y)) {
					t.Fatalf("pair similarity not symmetric at (%d,%d)", a, c)
				}
			}
		}
		vals := upperTriangle(pair)
		if len(vals) > 0 {
			if auc, err := metrics.AUC(vals, []float64{0.5}); err != nil || auc < 0 || auc > 1 {
				t.Fatalf("AUC %v, %v", auc, err)
			}
		}
		k := 1 + fs.Len()%3
		if k > fs.Len() {
			return
		}
		c, err := metrics.AxialKMeans(fs.Vectors, k, 2, rand.New(metrics.NewSource(uint64(len(b)))))
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range c.Assign {
			if a < 0 || a >= k {
				t.Fatalf("assignment %d of %d clusters", a, k)
			}
		}
		if c.Fit < 0 || c.Fit > 1+1e-9 {
			t.Fatalf("fit %v", c.Fit)
		}
		if fs.Len() >= 2 {
			idx := sampleIndices(fs.Len(), 100, 1)
			s, err := metrics.Silhouette(fs.Vectors, c.Assign, k, idx)
			if err != nil || s < -1-1e-9 || s > 1+1e-9 {
				t.Fatalf("silhouette %v, %v", s, err)
			}
		}
	})
}
