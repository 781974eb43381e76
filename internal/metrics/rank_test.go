package metrics

import (
	"math"
	"testing"
)

func TestAUC(t *testing.T) {
	cases := []struct {
		x, y []float64
		want float64
	}{
		{[]float64{1, 2, 3}, []float64{0, 2}, 0.75}, // 1>0; 2>0, 2=2; 3>0, 3>2 → 4.5/6
		{[]float64{5, 6}, []float64{1, 2, 3}, 1},
		{[]float64{1, 2, 3}, []float64{5, 6}, 0},
		{[]float64{1, 1}, []float64{1}, 0.5},
		{[]float64{3, 1, 2}, []float64{2, 0}, 0.75}, // order does not matter
	}
	for _, c := range cases {
		got, err := AUC(c.x, c.y)
		if err != nil || got != c.want {
			t.Errorf("AUC(%v, %v) = %v, %v; want %v", c.x, c.y, got, err, c.want)
		}
	}
	if _, err := AUC(nil, []float64{1}); err == nil {
		t.Error("empty sample accepted")
	}
	if _, err := AUC([]float64{math.NaN()}, []float64{1}); err == nil {
		t.Error("NaN accepted")
	}
}

func TestSignTest(t *testing.T) {
	cases := []struct {
		x, y      []float64
		win, loss int
		p         float64
	}{
		{[]float64{1}, []float64{0}, 1, 0, 1},
		// 10 of 10: 2 · 2^-10.
		{[]float64{1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, []float64{0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 10, 0, 2.0 / 1024},
		// 8 of 10 (one tie dropped): 2 · (1 + 10 + 45) / 1024.
		{[]float64{1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 5}, []float64{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 5}, 8, 2, 112.0 / 1024},
		{[]float64{0, 1}, []float64{1, 0}, 1, 1, 1},
	}
	for _, c := range cases {
		w, l, p, err := SignTest(c.x, c.y)
		if err != nil || w != c.win || l != c.loss || math.Abs(p-c.p) > 1e-12 {
			t.Errorf("SignTest(%v, %v) = %d, %d, %v, %v; want %d, %d, %v", c.x, c.y, w, l, p, err, c.win, c.loss, c.p)
		}
	}
	// 219 of 219 is representable: 2^-218.
	if p := binomTwoSided(219, 219); math.Abs(math.Log2(p)+218) > 1e-9 {
		t.Errorf("p(219/219) = %v", p)
	}
	if _, _, _, err := SignTest([]float64{1}, []float64{1, 2}); err == nil {
		t.Error("length mismatch accepted")
	}
}
