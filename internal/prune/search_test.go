package prune

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

// step returns a fraction of variance that is 1 below count x and 0.5 from x on: the smallest
// count that breaks a threshold of 0.9 is x (x ≥ c: none breaks it).
func step(x int) func(int) (float64, error) {
	return func(k int) (float64, error) {
		if k < x {
			return 1, nil
		}
		return 0.5, nil
	}
}

// TestSearchCountEveryCrossing runs the binary search for every number of filters below 120 and
// every crossing point: upstream removes the smallest count that breaks the threshold (C−1 when
// none does), the exact rule one fewer.
func TestSearchCountEveryCrossing(t *testing.T) {
	for c := 1; c < 120; c++ {
		for x := 1; x <= c; x++ {
			for _, exact := range []bool{false, true} {
				want := min(x, c-1)
				if exact && x < c {
					want = x - 1
				}
				got, stop, tested, err := searchCount(c, 0.9, exact, step(x))
				if err != nil {
					t.Fatalf("c=%d x=%d exact=%v: %v", c, x, exact, err)
				}
				if got != want {
					t.Fatalf("c=%d x=%d exact=%v: count %d (%s), want %d", c, x, exact, got, stop, want)
				}
				seen := map[int]bool{}
				for _, tt := range tested {
					if seen[tt.Removed] || tt.Removed < 0 || tt.Removed >= c {
						t.Fatalf("c=%d x=%d: tested %v", c, x, tested)
					}
					seen[tt.Removed] = true
				}
				if len(tested) > 2*(int(math.Log2(float64(c)))+2) {
					t.Fatalf("c=%d x=%d: %d probes", c, x, len(tested))
				}
			}
		}
	}
}

func TestSearchCountCases(t *testing.T) {
	tests := []struct {
		name  string
		c     int
		fv    []float64 // by count
		exact bool
		want  int
		stop  string
		probe []int
	}{
		{"one filter", 1, []float64{1}, false, 0, stopAllButOne, []int{0}},
		{"nothing removable", 4, []float64{0.5, 0.5, 0.5, 0.5}, false, 0, stopNoneRemovable, []int{2, 1, 0}},
		{"crossing at one", 4, []float64{0.95, 0.5, 0.5, 0.5}, false, 1, stopCrossing, []int{2, 1, 0}},
		{"all but one", 6, []float64{1, 1, 1, 1, 1, 0.95}, false, 5, stopAllButOne, []int{3, 2, 5}},
		{"crossing", 10, []float64{1, 1, 0.99, 0.97, 0.93, 0.91, 0.85, 0.6, 0.3, 0.1}, false, 6, stopCrossing, []int{5, 4, 8, 7, 6}},
		{"crossing exact", 10, []float64{1, 1, 0.99, 0.97, 0.93, 0.91, 0.85, 0.6, 0.3, 0.1}, true, 5, stopCrossing, []int{5, 4, 8, 7, 6}},
		// Not monotone: the search stops at the first crossing it meets.
		{"non-monotone", 8, []float64{1, 0.95, 0.5, 0.95, 0.95, 0.5, 0.5, 0.5}, false, 5, stopCrossing, []int{4, 3, 6, 5}},
		{"threshold reached exactly", 4, []float64{1, 0.9, 0.9, 0.89}, false, 3, stopCrossing, []int{2, 1, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, stop, tested, err := searchCount(tt.c, 0.9, tt.exact, func(k int) (float64, error) { return tt.fv[k], nil })
			if err != nil {
				t.Fatal(err)
			}
			var probes []int
			for _, p := range tested {
				probes = append(probes, p.Removed)
				if p.FV != tt.fv[p.Removed] {
					t.Errorf("probe %d recorded fv %v, want %v", p.Removed, p.FV, tt.fv[p.Removed])
				}
			}
			if got != tt.want || stop != tt.stop || !slices.Equal(probes, tt.probe) {
				t.Errorf("count %d (%s), probes %v; want %d (%s), probes %v", got, stop, probes, tt.want, tt.stop, tt.probe)
			}
		})
	}
}

func TestSearchCountErrors(t *testing.T) {
	nan := func(k int) (float64, error) {
		if k == 2 {
			return math.NaN(), nil
		}
		return 1, nil
	}
	if _, _, _, err := searchCount(5, 0.9, false, nan); err == nil || !strings.Contains(err.Error(), "2 filters removed is NaN") {
		t.Errorf("NaN fv: err = %v", err)
	}
	if _, _, _, err := searchCount(0, 0.9, false, step(1)); err == nil {
		t.Error("no filters: no error")
	}
	boom := fmt.Errorf("boom")
	if _, _, _, err := searchCount(5, 0.9, false, func(int) (float64, error) { return 0, boom }); err != boom {
		t.Errorf("fv error: err = %v", err)
	}
}

func TestWalkLast(t *testing.T) {
	tests := []struct {
		name   string
		fv     []float64 // by j
		full   float64
		exact  bool
		want   int
		probes int
	}{
		{"second fails", []float64{0.5, 0.3, 0.3}, 0.5, false, 1, 2}, // fv(0) = full passes (0.5 > 0.45)
		{"second fails exact", []float64{0.5, 0.3, 0.3}, 0.5, true, 0, 2},
		{"crossing", []float64{0.8, 0.8, 0.79, 0.71, 0.7, 0.7}, 0.8, false, 3, 4},
		{"crossing exact", []float64{0.8, 0.8, 0.79, 0.71, 0.7, 0.7}, 0.8, true, 2, 4},
		{"none fails", []float64{0.8, 0.8, 0.8}, 0.8, false, 3, 3},
		{"none fails exact", []float64{0.8, 0.8, 0.8}, 0.8, true, 2, 3},
		{"threshold is strict", []float64{0.5, 0.45}, 0.5, false, 1, 2},
		{"zero full", []float64{0, 0}, 0, false, 0, 1},
		{"NaN never passes", []float64{math.NaN(), 1}, math.NaN(), false, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, tested, err := walkLast(len(tt.fv), 0.9, tt.full, tt.exact, func(j int) (float64, error) { return tt.fv[j], nil })
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want || len(tested) != tt.probes {
				t.Errorf("count %d after %d probes, want %d after %d", got, len(tested), tt.want, tt.probes)
			}
			for j, p := range tested {
				if p.Removed != j {
					t.Errorf("probe %d is count %d", j, p.Removed)
				}
			}
		})
	}
}

func TestAscendingKeepsTiesInIndexOrder(t *testing.T) {
	got := ascending([]float64{3, 0, 2, 0, 2, 1})
	if want := []int{1, 3, 5, 2, 4, 0}; !slices.Equal(got, want) {
		t.Errorf("ascending = %v, want %v", got, want)
	}
}

func TestFloorHalf(t *testing.T) {
	for x := -9; x <= 9; x++ {
		if got, want := floorHalf(x), int(math.Floor(float64(x)/2)); got != want {
			t.Errorf("floorHalf(%d) = %d, want %d", x, got, want)
		}
	}
}
