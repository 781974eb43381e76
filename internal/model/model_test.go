package model

import (
	"errors"
	"reflect"
	"testing"
)

func TestCompactParams(t *testing.T) {
	tests := []struct {
		filters [NumLayers]int
	}{
		{[NumLayers]int{48, 60, 3, 3, 3}},
		{[NumLayers]int{100, 100, 100, 100, 100}},
		{[NumLayers]int{15, 3, 3, 3, 3}},
	}
	for _, tt := range tests {
		n, err := NewCompact(tt.filters)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Validate(); err != nil {
			t.Fatal(err)
		}
		c := n.Params()
		if c.Total != CompactParams(tt.filters) {
			t.Errorf("%v: Params().Total = %d, closed form %d", tt.filters, c.Total, CompactParams(tt.filters))
		}
		sum := 0
		for _, f := range tt.filters {
			sum += f
		}
		if c.NonTrainable != 2*sum || c.Trainable != c.Total-2*sum {
			t.Errorf("%v: counts %+v, want non-trainable %d", tt.filters, c, 2*sum)
		}
		got, err := CompactFilters(n)
		if err != nil || got != tt.filters {
			t.Errorf("CompactFilters = %v, %v; want %v", got, err, tt.filters)
		}
	}
}

// The shared-model totals are those of reference/upstream.md §4.6 (claim C7), identical across teachers.
func TestSharedParams(t *testing.T) {
	want := map[int]int{5: 208909, 10: 210384, 25: 215409, 35: 219259, 50: 225784, 75: 238659, 100: 254034, 200: 340534}
	for k, total := range want {
		for _, relu := range []bool{true, false} {
			n, err := NewShared(k, 219, relu)
			if err != nil {
				t.Fatal(err)
			}
			if err := n.Validate(); err != nil {
				t.Fatal(err)
			}
			if got := n.Params().Total; got != total {
				t.Errorf("K=%d relu=%v: total %d, want %d", k, relu, got, total)
			}
			if _, err := CompactFilters(n); !errors.Is(err, ErrNotCompact) {
				t.Errorf("K=%d: CompactFilters err = %v, want ErrNotCompact", k, err)
			}
		}
	}
}

// NewSharedWidth narrows layers 3 and 4 only; with SharedWidth it is NewShared.
func TestSharedWidth(t *testing.T) {
	for _, tt := range []struct{ k, width int }{{2, SharedWidth}, {32, SharedWidth}, {2, 8}, {16, 1}} {
		n, err := NewSharedWidth(tt.k, tt.width, 7, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := n.Validate(); err != nil {
			t.Fatal(err)
		}
		f, ok := SharedFilters(n)
		if want := [NumLayers]int{tt.k, tt.k, tt.k, tt.width, tt.width}; ok != (tt.width == SharedWidth) || ok && f != want {
			t.Errorf("K=%d width %d: SharedFilters = %v, %v", tt.k, tt.width, f, ok)
		}
		for i, l := range []string{"layer3_conv", "layer4_conv"} {
			if got := n.Layer(l).Filters; got != tt.width {
				t.Errorf("K=%d width %d: layer %d has %d filters", tt.k, tt.width, 3+i, got)
			}
		}
		if tt.width == SharedWidth {
			ref, err := NewShared(tt.k, 7, true)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ref, n) {
				t.Errorf("K=%d: NewSharedWidth(K, SharedWidth) differs from NewShared(K)", tt.k)
			}
		}
	}
	if _, err := NewSharedWidth(2, 0, 7, true); err == nil {
		t.Error("width 0 accepted")
	}
}

func TestSamePadding(t *testing.T) {
	tests := []struct{ n, k, s, out, before, after int }{
		{112, 5, 1, 112, 2, 2},
		{112, 5, 2, 56, 1, 2},
		{56, 5, 2, 28, 1, 2},
		{28, 5, 1, 28, 2, 2},
		{28, 1, 1, 28, 0, 0},
	}
	for _, tt := range tests {
		out, b, a := SamePadding(tt.n, tt.k, tt.s)
		if out != tt.out || b != tt.before || a != tt.after {
			t.Errorf("SamePadding(%d,%d,%d) = %d,%d,%d; want %d,%d,%d", tt.n, tt.k, tt.s, out, b, a, tt.out, tt.before, tt.after)
		}
	}
}

func TestValidateRejects(t *testing.T) {
	n, _ := NewCompact([NumLayers]int{4, 4, 3, 3, 3})
	bad := n.Clone()
	bad.Layers[0].Weights[0].Shape = []int{5, 5, 3, 5}
	if err := bad.Validate(); err == nil {
		t.Error("wrong kernel shape accepted")
	}
	bad = n.Clone()
	bad.Layers[1].Weights[3].Data[0] = float32(nan())
	if err := bad.Validate(); err == nil {
		t.Error("NaN weight accepted")
	}
	if err := n.SetWeights(nil); err == nil {
		t.Error("SetWeights(nil) accepted")
	}
}

func nan() float64 { z := 0.0; return z / z }
