package metrics

import (
	"math"
	"testing"
)

func TestParticipationRatio(t *testing.T) {
	cases := []struct {
		c    []float64
		f    int
		want float64
	}{
		{[]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3}, // isotropic
		{[]float64{1, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 1}, // one direction
		{[]float64{2, 0, 0, 1}, 2, 9.0 / 5},          // (2+1)²/(4+1)
		{[]float64{1, 1, 1, 1}, 2, 1},                // perfectly correlated: rank 1
		{[]float64{0, 0, 0, 0}, 2, 0},                // nothing varies
	}
	for _, c := range cases {
		got, err := ParticipationRatio(c.c, c.f)
		if err != nil || math.Abs(got-c.want) > 1e-15 {
			t.Errorf("PR(%v) = %v, %v; want %v", c.c, got, err, c.want)
		}
	}
	for _, bad := range [][]float64{{1, 2, 3, 1}, {1, math.NaN(), math.NaN(), 1}, {1, 0, 0}} {
		if _, err := ParticipationRatio(bad, 2); err == nil {
			t.Errorf("PR(%v): no error", bad)
		}
	}
}

func TestSharpestNarrowing(t *testing.T) {
	cases := []struct {
		x     []float64
		want  int
		ratio float64
	}{
		{[]float64{47, 57, 3, 7, 3}, 2, 3.0 / 57}, // the published medians narrow at layer 1→2
		{[]float64{10, 5, 5, 5, 5}, 1, 0.5},
		{[]float64{10, 10, 10, 10, 1}, 4, 0.1},
		{[]float64{8, 4, 2, 4, 2}, 1, 0.5}, // ties go to the earlier step
		{[]float64{3, 6}, 1, 2},
	}
	for _, c := range cases {
		got, r, err := SharpestNarrowing(c.x)
		if err != nil || got != c.want || math.Abs(r-c.ratio) > 1e-15 {
			t.Errorf("SharpestNarrowing(%v) = %d, %v, %v; want %d, %v", c.x, got, r, err, c.want, c.ratio)
		}
	}
	for _, bad := range [][]float64{{1}, nil, {1, 0, 1, 1, 1}, {1, math.NaN(), 1, 1, 1}, {1, math.Inf(1)}} {
		if _, _, err := SharpestNarrowing(bad); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}
}
