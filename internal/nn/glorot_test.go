package nn

import (
	"math"
	"testing"
)

func TestGlorotLimit(t *testing.T) {
	cases := []struct {
		shape []int
		want  float64
	}{
		{[]int{5, 5, 3, 100}, math.Sqrt(6.0 / (75 + 2500))},
		{[]int{5, 5, 100, 1}, math.Sqrt(6.0 / (2500 + 25))},
		{[]int{1, 1, 100, 219}, math.Sqrt(6.0 / (100 + 219))},
		{[]int{3, 4}, math.Sqrt(6.0 / 7)},
		{[]int{8}, math.Sqrt(6.0 / 16)},
		{nil, math.Sqrt(6.0 / 2)},
	}
	for _, c := range cases {
		got, err := GlorotLimit(c.shape)
		if err != nil || got != c.want {
			t.Errorf("GlorotLimit(%v) = %v, %v; want %v", c.shape, got, err, c.want)
		}
	}
	if _, err := GlorotLimit([]int{5, 0, 3, 1}); err == nil {
		t.Error("zero dimension accepted")
	}
}
