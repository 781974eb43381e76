package harness

import (
	"math"
	"strconv"
	"testing"
)

func TestComma(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "0"}, {999, "999"}, {1000, "1,000"}, {12469, "12,469"}, {62779800, "62,779,800"},
		{-1234, "-1,234"}, {-999, "-999"}, {340534, "340,534"}, {-1234567, "-1,234,567"},
		{math.MinInt64, "-9,223,372,036,854,775,808"},
	}
	for _, tt := range tests {
		if got := Comma(tt.n); got != tt.want {
			t.Errorf("Comma(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	for _, tt := range []struct {
		x    float64
		want string
	}{
		{0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"}, {-2, "-2"}, {1e21, "1e+21"}, {1e-7, "1e-07"},
		{math.NaN(), "NaN"}, {math.Inf(1), "Inf"}, {math.Inf(-1), "-Inf"},
	} {
		got := FormatFloat(tt.x)
		if got != tt.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tt.x, got, tt.want)
		}
		if back, err := strconv.ParseFloat(got, 64); err != nil || !(back == tt.x || math.IsNaN(back) && math.IsNaN(tt.x)) {
			t.Errorf("FormatFloat(%v) = %q reads back as %v, %v", tt.x, got, back, err)
		}
	}
}
