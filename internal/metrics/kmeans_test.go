package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// axesData returns n noisy copies (random sign, small noise) of each of the given axes in dim
// dimensions, as unit vectors, grouped in one model per axis, and the true axis of each vector.
func axesData(t *testing.T, axes [][]float64, n int, noise float64, seed uint64) (Vectors, []int) {
	t.Helper()
	src := rand.New(NewSource(seed))
	vs := Vectors{Dim: len(axes[0])}
	var truth []int
	for a, ax := range axes {
		for i := 0; i < n; i++ {
			v := make([]float64, len(ax))
			sign := 1.0
			if src.IntN(2) == 0 {
				sign = -1
			}
			for j := range v {
				v[j] = sign*ax[j] + noise*src.NormFloat64()
			}
			u, err := Unit(v)
			if err != nil {
				t.Fatal(err)
			}
			vs.Data = append(vs.Data, u...)
			truth = append(truth, a)
		}
	}
	return vs, truth
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
	c, err := AxialKMeans(fs, 3, 3, rand.New(NewSource(1)))
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
			u, _ := Unit(ax)
			best = math.Max(best, math.Abs(Dot(ctr, u)))
		}
		if best < 0.99 {
			t.Errorf("centre %v is no axis", ctr)
		}
	}
	// Same seed, same result.
	c2, _ := AxialKMeans(fs, 3, 3, rand.New(NewSource(1)))
	for i := range c.Assign {
		if c.Assign[i] != c2.Assign[i] {
			t.Fatal("same seed, different assignment")
		}
	}
	// The silhouette prefers the true k.
	idx := make([]int, fs.Len())
	for i := range idx {
		idx[i] = i
	}
	sil := map[int]float64{}
	for _, k := range []int{2, 3, 4, 5} {
		c, err := AxialKMeans(fs, k, 3, rand.New(NewSource(uint64(k))))
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
	if _, err := AxialKMeans(fs, 0, 1, rand.New(NewSource(1))); err == nil {
		t.Error("k = 0 accepted")
	}
	if _, err := AxialKMeans(fs, fs.Len()+1, 1, rand.New(NewSource(1))); err == nil {
		t.Error("k > n accepted")
	}
}

func TestSilhouetteByHand(t *testing.T) {
	// Two clusters {e1, −e1} and {e2, e2}: distance 0 within (sign-invariant), 1 between → s = 1.
	fs := Vectors{Dim: 2, Data: []float64{1, 0, -1, 0, 0, 1, 0, 1}}
	s, err := Silhouette(fs, []int{0, 0, 1, 1}, 2, []int{0, 1, 2, 3})
	if err != nil || s != 1 {
		t.Errorf("silhouette %v, %v; want 1", s, err)
	}
	// Clusters {e1} (a singleton, s = 0) and {e2, e2, d} with d = (e1+e2)/√2.
	h := 1 / math.Sqrt2
	fs = Vectors{Dim: 2, Data: []float64{1, 0, 0, 1, 0, 1, h, h}}
	s, err = Silhouette(fs, []int{0, 1, 1, 1}, 2, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	// Point 1 (e2): a = mean(0, 1−h) , b = 1 → s = 1 − a. Same for point 2. Point 3 (d): a = 1−h,
	// b = 1−h → 0. Point 0: singleton → 0.
	a := (1 - h) / 2
	want := (2 * (1 - a)) / 4
	if math.Abs(s-want) > 1e-12 {
		t.Errorf("silhouette %v, want %v", s, want)
	}
	if _, err := Silhouette(fs, []int{0, 1, 1, 7}, 2, []int{0, 1, 2, 3}); err == nil {
		t.Error("cluster label out of range accepted")
	}
}
