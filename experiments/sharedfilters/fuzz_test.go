package sharedfilters

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/metrics"
)

// dataFile reads a file of the data directory for a fuzz seed (see datadirtest.Lookup); without
// data the fuzz targets run on their synthetic seeds only.
func dataFile(rel string) ([]byte, bool) {
	dir := datadirtest.Lookup()
	if dir == "" {
		return nil, false
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	return b, err == nil
}

// FuzzDecodeCached feeds arbitrary bytes to the decoder of cached arrays (a cache directory is
// a file the experiment reads back): it must return an error or an array of the asked shape with
// finite values, never panic.
func FuzzDecodeCached(f *testing.F) {
	ok, _ := encodeFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(ok)
	f.Add(ok[:len(ok)-3])
	f.Add([]byte{})
	f.Add([]byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
	// Real .npy files of the data (other dtypes and shapes: errors).
	for _, p := range []string{
		"data_compact_models/nums_filters/compact_model_190923_neuron0.npy",
		"data_V4_responses/responses_repeat_averaged/responses_190923.npy",
	} {
		if b, ok := dataFile(p); ok {
			if len(b) > 4096 {
				b = b[:4096]
			}
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decodeCached("fuzz", b, 2, 3)
		if err != nil {
			return
		}
		if len(got) != 6 {
			t.Fatalf("%d values for shape (2,3)", len(got))
		}
		for _, x := range got {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("non-finite value %v", x)
			}
		}
	})
}

// fuzzSet builds a small filter set from fuzz bytes: dimension, models, vectors per model and
// values all come from b; degenerate vectors are dropped.
func fuzzSet(b []byte) *FilterSet {
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
	fs, err := NewFilterSet(dim, per)
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
	f.Fuzz(func(t *testing.T, b []byte) {
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
			if auc, err := AUC(vals, []float64{0.5}); err != nil || auc < 0 || auc > 1 {
				t.Fatalf("AUC %v, %v", auc, err)
			}
		}
		k := 1 + fs.Len()%3
		if k > fs.Len() {
			return
		}
		c, err := AxialKMeans(fs, k, 2, rand.New(metrics.NewSource(uint64(len(b)))))
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
			s, err := Silhouette(fs, c.Assign, k, idx)
			if err != nil || s < -1-1e-9 || s > 1+1e-9 {
				t.Fatalf("silhouette %v, %v", s, err)
			}
		}
	})
}

// FuzzParticipationRatio checks that the participation ratio of any covariance matrix built from
// arbitrary rows lies in [1, F] (or is 0 when nothing varies).
func FuzzParticipationRatio(f *testing.F) {
	f.Add([]byte{2, 1, 0, 0, 1, 3, 3})
	f.Add([]byte{5, 255, 1, 7, 19, 4, 4, 4, 4, 4, 9, 8, 7, 6, 5, 1, 2, 3, 4, 5})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		fc := 1 + int(b[0])%6
		b = b[1:]
		rows := len(b) / fc
		if rows < 2 {
			return
		}
		x := make([]float32, rows*fc)
		for i := range x {
			x[i] = float32(int8(b[i]))
		}
		a := newCovAccum(fc)
		if err := a.add(x); err != nil {
			t.Fatal(err)
		}
		cov, err := a.cov()
		if err != nil {
			t.Fatal(err)
		}
		// Symmetrise: the float32 Gram is exactly symmetric, but be explicit about the contract.
		for i := 0; i < fc; i++ {
			for j := 0; j < i; j++ {
				cov[j*fc+i] = cov[i*fc+j]
			}
		}
		pr, err := ParticipationRatio(cov, fc)
		if err != nil {
			t.Fatal(err)
		}
		var tr float64
		for i := 0; i < fc; i++ {
			tr += cov[i*fc+i]
		}
		if tr <= 1e-9 {
			return // (almost) nothing varies: rounding decides
		}
		if pr < 1-1e-6 || pr > float64(fc)+1e-6 {
			t.Fatalf("PR %v for %d channels (trace %v)", pr, fc, tr)
		}
	})
}
