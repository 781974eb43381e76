package sharedfilters

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"testing"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// axesData returns n noisy copies (random sign, small noise) of each of the given axes in dim
// dimensions, as unit vectors, grouped in one model per axis, and the true axis of each vector.
func axesData(t *testing.T, axes [][]float64, n int, noise float64, seed uint64) (*FilterSet, []int) {
	t.Helper()
	src := rand.New(metrics.NewSource(seed))
	var per [][][]float64
	var truth []int
	for a, ax := range axes {
		var vs [][]float64
		for i := 0; i < n; i++ {
			v := make([]float64, len(ax))
			sign := 1.0
			if src.IntN(2) == 0 {
				sign = -1
			}
			for j := range v {
				v[j] = sign*ax[j] + noise*src.NormFloat64()
			}
			u, err := unit(v)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, u)
			truth = append(truth, a)
		}
		per = append(per, vs)
	}
	fs, err := NewFilterSet(len(axes[0]), per)
	if err != nil {
		t.Fatal(err)
	}
	return fs, truth
}

func samePartition(a, b []int) bool {
	ab, ba := map[int]int{}, map[int]int{}
	for i := range a {
		if x, ok := ab[a[i]]; ok && x != b[i] {
			return false
		}
		if x, ok := ba[b[i]]; ok && x != a[i] {
			return false
		}
		ab[a[i]], ba[b[i]] = b[i], a[i]
	}
	return true
}

func TestAxialKMeansRecoversAxes(t *testing.T) {
	axes := [][]float64{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 1}}
	fs, truth := axesData(t, axes, 40, 0.05, 3)
	c, err := AxialKMeans(fs, 3, 3, rand.New(metrics.NewSource(1)))
	if err != nil {
		t.Fatal(err)
	}
	if !samePartition(c.Assign, truth) {
		t.Errorf("partition %v does not match the axes", c.Assign)
	}
	if c.Fit < 0.98 {
		t.Errorf("fit %v for tight clusters", c.Fit)
	}
	// The centres are the axes up to sign.
	for _, ctr := range c.Centres {
		best := 0.0
		for _, ax := range axes {
			u, _ := unit(ax)
			best = math.Max(best, math.Abs(dot(ctr, u)))
		}
		if best < 0.99 {
			t.Errorf("centre %v is no axis", ctr)
		}
	}
	// Same seed, same result.
	c2, _ := AxialKMeans(fs, 3, 3, rand.New(metrics.NewSource(1)))
	for i := range c.Assign {
		if c.Assign[i] != c2.Assign[i] {
			t.Fatal("same seed, different assignment")
		}
	}
	// The silhouette prefers the true k.
	idx := sampleIndices(fs.Len(), 1000, 1)
	sil := map[int]float64{}
	for _, k := range []int{2, 3, 4, 5} {
		c, err := AxialKMeans(fs, k, 3, rand.New(metrics.NewSource(uint64(k))))
		if err != nil {
			t.Fatal(err)
		}
		if sil[k], err = Silhouette(fs, c.Assign, k, idx); err != nil {
			t.Fatal(err)
		}
	}
	for k, s := range sil {
		if k != 3 && s >= sil[3] {
			t.Errorf("silhouette k=%d %v ≥ k=3 %v", k, s, sil[3])
		}
	}
	if sil[3] < 0.9 {
		t.Errorf("silhouette at the true k %v", sil[3])
	}
	if _, err := AxialKMeans(fs, 0, 1, rand.New(metrics.NewSource(1))); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, err := AxialKMeans(fs, fs.Len()+1, 1, rand.New(metrics.NewSource(1))); err == nil {
		t.Error("k > n accepted")
	}
}

func TestSilhouetteByHand(t *testing.T) {
	// Two clusters {e1, −e1} and {e2, e2}: distance 0 within (sign-invariant), 1 between → s = 1.
	fs, err := NewFilterSet(2, [][][]float64{{{1, 0}, {-1, 0}, {0, 1}, {0, 1}}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Silhouette(fs, []int{0, 0, 1, 1}, 2, []int{0, 1, 2, 3})
	if err != nil || s != 1 {
		t.Errorf("silhouette %v, %v; want 1", s, err)
	}
	// Clusters {e1} (a singleton, s = 0) and {e2, e2, d} with d = (e1+e2)/√2.
	h := 1 / math.Sqrt2
	fs, _ = NewFilterSet(2, [][][]float64{{{1, 0}, {0, 1}, {0, 1}, {h, h}}})
	s, err = Silhouette(fs, []int{0, 1, 1, 1}, 2, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	// Point 1 (e2): a = mean(0, 1−h) , b = 1 → s = 1 − a. Same for point 2. Point 3 (d): a = 1−h,
	// b = 1−h → 0. Point 0: singleton → 0.
	a := (1 - h) / 2
	want := (2 * (1 - a)) / 4
	if !near(s, want, 1e-12) {
		t.Errorf("silhouette %v, want %v", s, want)
	}
	if _, err := Silhouette(fs, []int{0, 1, 1, 7}, 2, []int{0, 1, 2, 3}); err == nil {
		t.Error("cluster label out of range accepted")
	}
}

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
func syntheticModels(t *testing.T, n, f0 int, patterns [][]float64, seed uint64) []Compact {
	t.Helper()
	src := rand.New(metrics.NewSource(seed))
	var out []Compact
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
		out = append(out, Compact{ID: v4data.CompactID{Session: "000000", Neuron: i}, Index: i, Filters: [model.NumLayers]int{f0, 4, 3, 3, 3}, Net: net})
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
