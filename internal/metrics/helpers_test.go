package metrics

import (
	"math"
	"testing"
)

var (
	nan = math.NaN()
	inf = math.Inf(1)
)

// sameFloat reports whether got equals want within tol (absolute, or relative to |want| when
// |want| > 1), treating two NaNs as equal and ±Inf as equal only to itself.
func sameFloat(got, want, tol float64) bool {
	switch {
	case math.IsNaN(want) || math.IsNaN(got):
		return math.IsNaN(want) && math.IsNaN(got)
	case math.IsInf(want, 0) || math.IsInf(got, 0):
		return got == want
	}
	return math.Abs(got-want) <= tol*max(1, math.Abs(want))
}

func checkFloats(t *testing.T, name string, got, want []float64, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d values %v, want %d %v", name, len(got), got, len(want), want)
	}
	for i := range want {
		if !sameFloat(got[i], want[i], tol) {
			t.Errorf("%s[%d] = %.17g, want %.17g (tol %g)", name, i, got[i], want[i], tol)
		}
	}
}

// rawOf builds a Raw from z[n][i][r], padding missing trailing slots of each image with NaN
// up to the longest list.
func rawOf(z [][][]float64) Raw {
	n, m, r := len(z), len(z[0]), 0
	for _, nz := range z {
		for _, iz := range nz {
			r = max(r, len(iz))
		}
	}
	out := Raw{N: n, M: m, R: r}
	for _, nz := range z {
		for _, iz := range nz {
			for k := 0; k < r; k++ {
				if k < len(iz) {
					out.Data = append(out.Data, iz[k])
				} else {
					out.Data = append(out.Data, math.NaN())
				}
			}
		}
	}
	return out
}
