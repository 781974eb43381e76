package metrics

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
)

func TestRawValidate(t *testing.T) {
	tests := []struct {
		name    string
		raw     Raw
		wantErr string
	}{
		{"ok with NaN", Raw{N: 1, M: 2, R: 2, Data: []float64{1, nan, 2, 3}}, ""},
		{"short", Raw{N: 1, M: 2, R: 2, Data: []float64{1, 2, 3}}, "need 4 values, have 3"},
		{"zero dim", Raw{N: 0, M: 2, R: 2}, "must be positive"},
		{"negative dim", Raw{N: 2, M: -1, R: 2}, "must be positive"},
		{"overflow", Raw{N: math.MaxInt / 2, M: 4, R: 1}, "too many elements"},
		{"inf", Raw{N: 2, M: 1, R: 2, Data: []float64{1, 2, 3, math.Inf(1)}}, "[1, 0, 1] = +Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.raw.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestRawAccessors(t *testing.T) {
	z := rawOf([][][]float64{
		{{1, 3}, {5}, {nan, nan}},
		{{2, 2}, {4, 6}, {8}},
	})
	if z.N != 2 || z.M != 3 || z.R != 2 {
		t.Fatalf("shape (%d, %d, %d), want (2, 3, 2)", z.N, z.M, z.R)
	}
	if got := z.At(1, 1, 1); got != 6 {
		t.Errorf("At(1,1,1) = %v, want 6", got)
	}
	if got := z.Counts(0); got[0] != 2 || got[1] != 1 || got[2] != 0 {
		t.Errorf("Counts(0) = %v, want [2 1 0]", got)
	}
	means := z.Means()
	checkFloats(t, "Means[0]", means[0], []float64{2, 5, nan}, 0)
	checkFloats(t, "Means[1]", means[1], []float64{2, 5, 8}, 0)

	sub, err := z.Images(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "Images(1,3)", sub.Data, []float64{5, nan, nan, nan, 4, 6, 8, nan}, 0)
	if sub.N != 2 || sub.M != 2 || sub.R != 2 {
		t.Errorf("Images(1,3) shape (%d, %d, %d), want (2, 2, 2)", sub.N, sub.M, sub.R)
	}
	one, err := z.Neurons(1, 2)
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "Neurons(1,2)", one.Data, []float64{2, 2, 4, 6, 8, nan}, 0)
	one.Data[0] = 99
	if z.At(1, 0, 0) != 2 {
		t.Error("Neurons returned a view, want a copy")
	}
	for _, r := range [][2]int{{-1, 1}, {0, 4}, {2, 2}} {
		if _, err := z.Images(r[0], r[1]); !errors.Is(err, ErrShape) {
			t.Errorf("Images(%d, %d): err = %v, want ErrShape", r[0], r[1], err)
		}
	}
	if _, err := z.Neurons(0, 3); !errors.Is(err, ErrShape) {
		t.Errorf("Neurons(0, 3): err = %v, want ErrShape", err)
	}
}

func TestRawSelect(t *testing.T) {
	z := Raw{N: 2, M: 3, R: 2, Data: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}}
	got, err := z.Select([]int{2, 0, 2})
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{5, 6, 1, 2, 5, 6, 11, 12, 7, 8, 11, 12}
	if got.N != 2 || got.M != 3 || got.R != 2 || len(got.Data) != len(want) {
		t.Fatalf("Select: %+v", got)
	}
	for i := range want {
		if got.Data[i] != want[i] {
			t.Fatalf("Select data %v, want %v", got.Data, want)
		}
	}
	for _, bad := range [][]int{nil, {3}, {-1}} {
		if _, err := z.Select(bad); !errors.Is(err, ErrShape) {
			t.Errorf("Select(%v): %v, want ErrShape", bad, err)
		}
	}
}

func TestPermutation(t *testing.T) {
	p, q := Permutation(7, 50), Permutation(7, 50)
	seen := make([]bool, 50)
	for i, v := range p {
		if q[i] != v || seen[v] {
			t.Fatalf("Permutation(7, 50) = %v (second call %v)", p, q)
		}
		seen[v] = true
	}
	if r := Permutation(8, 50); slices.Equal(r, p) {
		t.Errorf("seeds 7 and 8 give the same permutation")
	}
}
