package areas

import (
	"strings"
	"testing"

	"compactv4/internal/areasim"
	"compactv4/internal/filtercurve"
	"compactv4/internal/metrics"
)

func curve(smallest int, ks ...int) *filtercurve.Curve {
	c := &filtercurve.Curve{Smallest: smallest, Full: metrics.MedianCI{Median: 0.5, Lo: 0.4, Hi: 0.6, N: 3}}
	for _, k := range ks {
		c.Points = append(c.Points, filtercurve.Point{K: k, Acc: metrics.MedianCI{Median: 0.45, Lo: 0.3, Hi: 0.5, N: 3}})
	}
	return c
}

func TestInOrder(t *testing.T) {
	res := func(smallest ...int) []areasim.Result {
		var out []areasim.Result
		for _, s := range smallest {
			out = append(out, areasim.Result{Curve: curve(s, 2, 4)})
		}
		return out
	}
	tests := []struct {
		name     string
		smallest []int
		want     bool
	}{
		{"strict", []int{2, 4}, true},
		{"none last", []int{4, 0}, true},
		{"three, tie in the middle", []int{2, 2, 0}, true},
		{"equal", []int{4, 4}, false},
		{"reversed", []int{0, 4}, false},
		{"middle out of order", []int{2, 0, 4}, false},
		{"one population", []int{2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := inOrder(res(tt.smallest...)); got != tt.want {
				t.Errorf("inOrder(%v) = %v, want %v", tt.smallest, got, tt.want)
			}
		})
	}
}

func TestCurveRows(t *testing.T) {
	rows := curveRows("V4", "", "r²", curve(4, 2, 4), 16)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3", len(rows))
	}
	if got := strings.Join(rows[1], ","); got != "V4,,4,compressed,r²,0.45,0.3,0.5,3,true" {
		t.Errorf("row K=4: %s", got)
	}
	if got := strings.Join(rows[2], ","); got != "V4,,16,full,r²,0.5,0.4,0.6,3,false" {
		t.Errorf("full row: %s", got)
	}
	if s := smallestText(curve(0, 2, 4), 16); !strings.Contains(s, "none of K ≤ 4") {
		t.Errorf("smallestText: %s", s)
	}
}
