package areas

import (
	"strings"
	"testing"

	"compactv4/harness"
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
	if s := smallestText(curve(0, 2, 4), 16); !strings.Contains(s, "none of K ≤ 4 (only the K = 16 reference)") {
		t.Errorf("smallestText: %s", s)
	}
	// A real area's full model is its teacher: no K.
	rows = curveRows("V1", "", "r²_ER", curve(0, 2, 4), 0)
	if got := strings.Join(rows[2], ","); got != "V1,,,full (teacher),r²_ER,0.5,0.4,0.6,3,false" {
		t.Errorf("teacher row: %s", got)
	}
	if s := smallestText(curve(0, 2, 4), 0); s != "none of K ≤ 4" {
		t.Errorf("smallestText against the teacher: %s", s)
	}
}

// TestRecordOrdering: C9's ordering V1 < V4 < IT in the smallest K is assessed only when all
// three curves exist, and recorded as 1 when it holds.
func TestRecordOrdering(t *testing.T) {
	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		v1, v4, it    int // smallest K of each curve; -1: no curve
		want          float64
		assessed      bool
		valueContains string
	}{
		{"holds", 2, 4, 8, 1, true, "holds"},
		{"IT needs none", 2, 4, 0, 1, true, "holds"},
		{"V1 above V4", 8, 4, 8, 0, true, "does not hold"},
		{"tie", 4, 4, 8, 0, true, "does not hold"},
		{"no IT", 2, 4, -1, 0, false, "IT: not computed"},
		{"no V4", 2, -1, 8, 0, false, "V4: not computed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v4 := &v4Curve{Metric: "r2"}
			if tt.v4 >= 0 {
				v4.Curve = curve(tt.v4, 2, 4, 8)
			}
			var real []realCurve
			for _, a := range []struct {
				name     string
				smallest int
			}{{areaV1, tt.v1}, {areaIT, tt.it}} {
				if a.smallest >= 0 {
					real = append(real, realCurve{Area: a.name, Dataset: realAreas[a.name], Neurons: 3, Teacher: "t", Best: 1, Curve: curve(a.smallest, 2, 4, 8)})
				}
			}
			res := &harness.Result{}
			if err := record(res, p, v4, nil, real); err != nil {
				t.Fatal(err)
			}
			v, ok := res.Values.Get("ordering_v1_v4_it")
			if ok != tt.assessed || ok && v.Num != tt.want {
				t.Errorf("ordering value %+v (present %v), want %v (present %v)", v, ok, tt.want, tt.assessed)
			}
			if !strings.Contains(res.Claims[0].Value, tt.valueContains) {
				t.Errorf("claim value %q lacks %q", res.Claims[0].Value, tt.valueContains)
			}
		})
	}
}
