package metrics

import (
	"math"
	"testing"
)

// exactMedianP enumerates every split of x ∪ y into len(x) and len(y) values and returns the
// fraction whose difference of medians is at least the observed one: the exact p-value that
// the permutation test estimates.
func exactMedianP(x, y []float64) float64 {
	pool := append(append([]float64(nil), x...), y...)
	n, k := len(pool), len(x)
	d := medianDiff(pool, k, nil)
	ge, all := 0, 0
	for mask := 0; mask < 1<<n; mask++ {
		var a, b []float64
		for i, v := range pool {
			if mask&(1<<i) != 0 {
				a = append(a, v)
			} else {
				b = append(b, v)
			}
		}
		if len(a) != k {
			continue
		}
		all++
		if medianDiff(append(a, b...), k, nil) >= d {
			ge++
		}
	}
	return float64(ge) / float64(all)
}

func TestMedianPermutationTest(t *testing.T) {
	cases := []struct {
		name  string
		x, y  []float64
		wantD float64
		exact float64 // the exact p-value, by enumeration in the comments
	}{
		// The 3 largest of 8 values in x, d = 7 − 3: of the C(8,3) = 56 splits, {6,7,8}, {5,7,8}
		// and {4,7,8} reach it (x's median 7, y's 3).
		{"separated", []float64{6, 7, 8}, []float64{1, 2, 3, 4, 5}, 4, 3.0 / 56},
		// Ties everywhere: every split gives d = 0, p = 1.
		{"constant", []float64{2, 2}, []float64{2, 2, 2}, 0, 1},
		// x below y: the observed d is the smallest possible, every split reaches it.
		{"reversed", []float64{1, 2}, []float64{5, 6, 7}, 1.5 - 6, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if e := exactMedianP(c.x, c.y); math.Abs(e-c.exact) > 1e-12 {
				t.Fatalf("enumeration gives %v, want %v", e, c.exact)
			}
			d, p, err := MedianPermutationTest(c.x, c.y, 20000, 7)
			if err != nil {
				t.Fatal(err)
			}
			if d != c.wantD {
				t.Errorf("d = %v, want %v", d, c.wantD)
			}
			// The estimate's standard error is at most sqrt(0.25/20000) ≈ 0.0035.
			if math.Abs(p-c.exact) > 0.015 {
				t.Errorf("p = %v, exact %v", p, c.exact)
			}
		})
	}
}

// TestMedianPermutationTestEnumerated compares the estimate with the exact enumeration on a
// small unordered sample with ties.
func TestMedianPermutationTestEnumerated(t *testing.T) {
	x := []float64{3, 5, 5, 9}
	y := []float64{1, 4, 5, 2, 6, 3, 0}
	exact := exactMedianP(x, y)
	_, p, err := MedianPermutationTest(x, y, 40000, 11)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p-exact) > 0.01 {
		t.Errorf("p = %v, exact %v", p, exact)
	}
}

// TestMedianPermutationTestFloor: when no permutation reaches the observed difference, p is
// 1/(perms+1), never 0.
func TestMedianPermutationTestFloor(t *testing.T) {
	x := make([]float64, 10)
	y := make([]float64, 200)
	for i := range x {
		x[i] = 100 + float64(i)
	}
	for i := range y {
		y[i] = float64(i % 17)
	}
	_, p, err := MedianPermutationTest(x, y, 999, 3)
	if err != nil || p != 1.0/1000 {
		t.Errorf("p = %v, %v; want 1/1000", p, err)
	}
}

func TestMedianPermutationTestSeeded(t *testing.T) {
	x := []float64{3, 4, 5, 1}
	y := []float64{1, 2, 3, 4, 2, 1}
	_, p1, _ := MedianPermutationTest(x, y, 500, 1)
	_, p2, _ := MedianPermutationTest(x, y, 500, 1)
	if p1 != p2 {
		t.Errorf("same seed, p %v and %v", p1, p2)
	}
	// x and y are not modified.
	if x[0] != 3 || x[3] != 1 || y[0] != 1 || y[5] != 1 {
		t.Errorf("inputs modified: %v %v", x, y)
	}
}

func TestMedianPermutationTestErrors(t *testing.T) {
	for _, c := range []struct {
		name  string
		x, y  []float64
		perms int
	}{
		{"empty x", nil, []float64{1}, 10},
		{"empty y", []float64{1}, nil, 10},
		{"NaN", []float64{math.NaN()}, []float64{1}, 10},
		{"Inf", []float64{1}, []float64{math.Inf(1)}, 10},
		{"no permutations", []float64{1}, []float64{2}, 0},
	} {
		if _, _, err := MedianPermutationTest(c.x, c.y, c.perms, 1); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}
