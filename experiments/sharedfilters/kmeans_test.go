package sharedfilters

import (
	"context"
	"io"
	"math/rand/v2"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

func TestSampleIndices(t *testing.T) {
	if got := sampleIndices(5, 10, 1); len(got) != 5 || got[4] != 4 {
		t.Errorf("all indices: %v", got)
	}
	a, b := sampleIndices(1000, 50, 9), sampleIndices(1000, 50, 9)
	if len(a) != 50 {
		t.Fatalf("%d indices", len(a))
	}
	for i := range a {
		if a[i] != b[i] || (i > 0 && a[i] <= a[i-1]) {
			t.Fatalf("not sorted, distinct and reproducible: %v", a)
		}
	}
}

func TestDisplaySign(t *testing.T) {
	got := displaySign([]float64{0.1, -0.9, 0.3})
	if got[1] != 0.9 || got[0] != -0.1 {
		t.Errorf("displaySign = %v", got)
	}
}

// syntheticModels returns compact models whose layer-0 kernels are noisy, randomly signed copies
// of a few shared patterns (and whose other weights are random), indexed from 0.
func syntheticModels(t *testing.T, n, f0 int, patterns [][]float64, seed uint64) []*eval.Compact {
	t.Helper()
	src := rand.New(metrics.NewSource(seed))
	var out []*eval.Compact
	for i := 0; i < n; i++ {
		net, err := model.NewCompact([model.NumLayers]int{f0, 4, 3, 3, 3})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range net.Weights() {
			for j := range w.Data {
				w.Data[j] = float32(src.NormFloat64())
			}
		}
		k := net.Layer("layer0_conv").Weights[0]
		for o := 0; o < f0; o++ {
			p := patterns[src.IntN(len(patterns))]
			sign := float64(1 - 2*src.IntN(2))
			for pc := 0; pc < 75; pc++ {
				k.Data[pc*f0+o] = float32(sign*p[pc] + 0.05*src.NormFloat64())
			}
		}
		id := v4data.CompactID{Session: "000000", Neuron: i}
		out = append(out, &eval.Compact{Network: eval.NewCompact(id, net), ID: id, Index: i, Filters: [model.NumLayers]int{f0, 4, 3, 3, 3}})
	}
	return out
}

func TestAnalyseClusters(t *testing.T) {
	src := rand.New(metrics.NewSource(11))
	var patterns [][]float64
	for p := 0; p < 4; p++ {
		v := make([]float64, 75)
		for i := range v {
			v[i] = src.NormFloat64()
		}
		patterns = append(patterns, v)
	}
	models := syntheticModels(t, 12, 10, patterns, 2)
	env := &harness.Env{Log: io.Discard}
	cr, err := analyseClusters(context.Background(), env, models)
	if err != nil {
		t.Fatal(err)
	}
	if cr.Chosen != 4 {
		t.Errorf("chose k = %d for 4 shared patterns (silhouettes %v)", cr.Chosen, cr.Silhouette)
	}
	if cr.Vectors != 120 || len(cr.Usage) != 12 || len(cr.Assign) != 120 {
		t.Errorf("%d kernels, %d usage rows, %d assignments", cr.Vectors, len(cr.Usage), len(cr.Assign))
	}
	total := 0
	for j := range cr.Centres {
		total += cr.Filters[j]
		if j > 0 && cr.ModelsUsed[j] > cr.ModelsUsed[j-1] {
			t.Errorf("clusters not ordered by models using them: %v", cr.ModelsUsed)
		}
	}
	if total != 120 {
		t.Errorf("cluster sizes sum to %d", total)
	}
	for m, row := range cr.Usage {
		var s float64
		for _, u := range row {
			s += u
		}
		if !near(s, 1, 1e-12) {
			t.Errorf("model %d usage sums to %v", m, s)
		}
	}
	for i, s := range cr.NullSilh {
		if s > 0.1 {
			t.Errorf("initialiser null silhouette %v at k = %d", s, cr.Ks[i])
		}
	}
}
