package filtercurve

import (
	"strings"
	"testing"

	"compactv4/internal/metrics"
)

func TestSmallestK(t *testing.T) {
	full := metrics.MedianCI{Median: 0.6, Lo: 0.55, Hi: 0.65}
	pt := func(k int, m float64) Point { return Point{K: k, Acc: metrics.MedianCI{Median: m}} }
	tests := []struct {
		name   string
		points []Point
		want   int
	}{
		{"first inside", []Point{pt(5, 0.4), pt(10, 0.56), pt(20, 0.7)}, 10},
		{"above counts", []Point{pt(5, 0.4), pt(10, 0.7)}, 10},
		{"lower end counts", []Point{pt(5, 0.55)}, 5},
		{"none", []Point{pt(5, 0.4), pt(10, 0.5)}, 0},
		{"unsorted", []Point{pt(20, 0.6), pt(5, 0.6), pt(10, 0.3)}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := SmallestK(tt.points, full); got != tt.want {
				t.Errorf("SmallestK = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestNew: medians and intervals are metrics.MedianWithCI's with the stated seeds, NaN neurons
// dropped, points sorted by K.
func TestNew(t *testing.T) {
	nan := 0.0
	nan = nan / nan
	acc := [][]float64{{0.9, 0.8, 0.85, nan}, {0.1, 0.2, 0.3, 0.2}}
	full := []float64{0.88, 0.86, 0.9, 0.84}
	c, err := New([]int{8, 2}, acc, full, 100)
	if err != nil {
		t.Fatal(err)
	}
	want8, _ := metrics.MedianWithCI([]float64{0.9, 0.8, 0.85}, 100)
	want2, _ := metrics.MedianWithCI(acc[1], 101)
	wantFull, _ := metrics.MedianWithCI(full, 102)
	if c.Points[0].K != 2 || c.Points[0].Acc != want2 || c.Points[1].K != 8 || c.Points[1].Acc != want8 || c.Full != wantFull {
		t.Fatalf("curve %+v", c)
	}
	if c.Smallest != 8 {
		t.Errorf("smallest K %d, want 8", c.Smallest)
	}
	for _, bad := range []struct {
		ks  []int
		acc [][]float64
		msg string
	}{
		{[]int{1}, nil, "accuracy lists"},
		{[]int{0}, [][]float64{{1}}, "K = 0"},
		{[]int{3, 3}, [][]float64{{1}, {1}}, "twice"},
		{[]int{3}, [][]float64{{nan}}, "K = 3"},
	} {
		if _, err := New(bad.ks, bad.acc, full, 1); err == nil || !strings.Contains(err.Error(), bad.msg) {
			t.Errorf("New(%v): %v, want %q", bad.ks, err, bad.msg)
		}
	}
}
