package harness

import (
	"math"
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
