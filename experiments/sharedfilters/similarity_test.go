package sharedfilters

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
)

// threeModels: A = {e1, e2}; B = {(e1+e2)/√2, −e1}; C has no vectors.
func threeModels(t *testing.T) *filterSet {
	t.Helper()
	s := 1 / math.Sqrt2
	fs, err := newFilterSet(2, [][][]float64{
		{{1, 0}, {0, 1}},
		{{s, s}, {-1, 0}},
		nil,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

func TestFilterSetOwner(t *testing.T) {
	fs, err := newFilterSet(1, [][][]float64{nil, {{1}, {2}}, nil, nil, {{3}}})
	if err != nil {
		t.Fatal(err)
	}
	if fs.Len() != 3 || fs.Models() != 5 {
		t.Fatalf("Len %d Models %d", fs.Len(), fs.Models())
	}
	for i, want := range []int{1, 1, 4} {
		if got := fs.Owner(i); got != want {
			t.Errorf("Owner(%d) = %d, want %d", i, got, want)
		}
	}
	if _, err := newFilterSet(2, [][][]float64{{{1, 2, 3}}}); err == nil {
		t.Error("wrong dimension accepted")
	}
}

func TestBestMatches(t *testing.T) {
	fs := threeModels(t)
	s := 1 / math.Sqrt2
	for _, workers := range []int{1, 2, 5} {
		bm := bestMatches(fs, workers)
		// Rows: A.e1, A.e2, B.d, B.−e1; columns: models A, B, C.
		want := [][]float64{
			{math.NaN(), 1, math.NaN()},
			{math.NaN(), s, math.NaN()},
			{s, math.NaN(), math.NaN()},
			{1, math.NaN(), math.NaN()},
		}
		for i, row := range want {
			for m, w := range row {
				got := bm.Best[i*3+m]
				if math.IsNaN(w) != math.IsNaN(got) || (!math.IsNaN(w) && !near(got, w, 1e-7)) {
					t.Errorf("workers %d: best[%d][%d] = %v, want %v", workers, i, m, got, w)
				}
			}
		}
		pair := bm.PairSimilarity()
		if p := (1 + s) / 2; !near(pair[0][1], p, 1e-7) || !near(pair[1][0], p, 1e-7) {
			t.Errorf("pair A-B = %v, %v; want %v", pair[0][1], pair[1][0], p)
		}
		if !math.IsNaN(pair[0][0]) || !math.IsNaN(pair[0][2]) {
			t.Errorf("diagonal or empty model not NaN: %v", pair)
		}
		if got := upperTriangle(pair); len(got) != 1 {
			t.Errorf("upper triangle %v", got)
		}
		means := rowMeans(pair)
		if !near(means[0], (1+s)/2, 1e-7) || !math.IsNaN(means[2]) {
			t.Errorf("row means %v", means)
		}
		fm := bm.FilterMedians()
		if !near(fm[0], 1, 1e-7) || !near(fm[1], s, 1e-7) {
			t.Errorf("filter medians %v", fm)
		}
	}
}

// TestBestMatchesLarge checks the blocked float32 computation against a direct float64 one on
// more vectors than one block.
func TestBestMatchesLarge(t *testing.T) {
	var per [][][]float64
	x := uint64(1)
	next := func() float64 {
		x = x*6364136223846793005 + 1442695040888963407
		return float64(x>>11)/float64(1<<53) - 0.5
	}
	for m := 0; m < 7; m++ {
		var vs [][]float64
		for i := 0; i < 20+13*m; i++ {
			v := make([]float64, 25)
			for j := range v {
				v[j] = next()
			}
			u, err := unitCentred(v)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, u)
		}
		per = append(per, vs)
	}
	fs, err := newFilterSet(25, per)
	if err != nil {
		t.Fatal(err)
	}
	if fs.Len() <= blockRows {
		t.Fatalf("only %d vectors: test one block only", fs.Len())
	}
	bm := bestMatches(fs, 2)
	for i := 0; i < fs.Len(); i++ {
		for m := 0; m < fs.Models(); m++ {
			want := math.NaN()
			if m != fs.Owner(i) {
				want = 0
				for j := fs.Start[m]; j < fs.Start[m+1]; j++ {
					want = math.Max(want, math.Abs(metrics.Dot(fs.Row(i), fs.Row(j))))
				}
			}
			got := bm.Best[i*fs.Models()+m]
			if math.IsNaN(want) != math.IsNaN(got) || (!math.IsNaN(want) && !near(got, want, 1e-6)) {
				t.Fatalf("best[%d][%d] = %v, want %v", i, m, got, want)
			}
		}
	}
}

func TestNullTest(t *testing.T) {
	obs := &simDist{PairVals: []float64{0.8, 0.9, 0.7}, ModelMean: []float64{0.8, 0.85, math.NaN(), 0.6}}
	null := &simDist{Kind: nullGlorot, PairVals: []float64{0.1, 0.2, 0.3, 0.75}, ModelMean: []float64{0.2, 0.3, 0.1, 0.7}}
	nt, err := nullTest(obs, null)
	if err != nil {
		t.Fatal(err)
	}
	// AUC: 0.8 and 0.9 beat all 4, 0.7 beats 3 → 11/12.
	if !near(nt.AUC, 11.0/12, 1e-15) {
		t.Errorf("AUC %v", nt.AUC)
	}
	// Model 2 is dropped (NaN); models 0, 1 win, 3 loses.
	if nt.Wins != 2 || nt.Losses != 1 || nt.P != 1 {
		t.Errorf("sign test %d/%d p %v", nt.Wins, nt.Losses, nt.P)
	}
	// Null 99th percentile: 0.3 + 0.97·0.45 = 0.7365; 0.8 and 0.9 are above.
	if !near(nt.AboveQ99, 2.0/3, 1e-15) {
		t.Errorf("above q99 %v", nt.AboveQ99)
	}
}

// TestAnalyseSimilarity runs the whole comparison on synthetic models: kernels drawn from a few
// shared patterns must beat both layer-0 nulls; kernels drawn from the initialiser itself must
// not.
func TestAnalyseSimilarity(t *testing.T) {
	src := rand.New(metrics.NewSource(4))
	x := make([]float32, 2*16*16*3)
	for i := range x {
		x[i] = float32(src.NormFloat64())
	}
	cov, n, err := eval.PatchCovariance(x, 2, 16, 16, 3, kernelSize)
	if err != nil {
		t.Fatal(err)
	}
	pm, err := factorPatchCov(cov, 75, n)
	if err != nil {
		t.Fatal(err)
	}
	var patterns [][]float64
	for p := 0; p < 3; p++ {
		v := make([]float64, 75)
		for i := range v {
			v[i] = src.NormFloat64()
		}
		patterns = append(patterns, v)
	}
	env := &harness.Env{Log: io.Discard}

	shared := syntheticModels(t, 8, 6, patterns, 1)
	sim, err := analyseSimilarity(context.Background(), env, shared, pm)
	if err != nil {
		t.Fatal(err)
	}
	if len(sim.Layers) != 6 {
		t.Fatalf("%d comparisons, want layer 0 twice and layers 1-4", len(sim.Layers))
	}
	l0 := findLayer(sim, 0, "kernel")
	if !supported(l0) {
		t.Errorf("shared patterns not above the nulls: %s", describeLayer(l0))
	}
	if got := len(findLayer(sim, 1, "kernel").Tests); got != 4 {
		t.Errorf("layer 1 has %d null tests, want 4", got)
	}

	// Kernels that are themselves initialiser draws: the initialiser null cannot be beaten.
	random := syntheticModels(t, 8, 6, patterns, 1)
	for i := range random {
		k := random[i].Net.Layer("layer0_conv").Weights[0]
		for j := range k.Data {
			k.Data[j] = float32(2*src.Float64() - 1)
		}
	}
	sim, err = analyseSimilarity(context.Background(), env, random, pm)
	if err != nil {
		t.Fatal(err)
	}
	if l0 := findLayer(sim, 0, "kernel"); supported(l0) {
		t.Errorf("random kernels reported as shared: %s", describeLayer(l0))
	}
	c, err := c6Claim(sim)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Value, "NOT supported") {
		t.Errorf("claim for random kernels: %s", c.Value)
	}
}
