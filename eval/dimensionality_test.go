package eval

import (
	"math"
	"testing"
)

func TestCovAccum(t *testing.T) {
	// Rows (1,2), (3,4), (5,6): both channels have variance 8/3 and covariance 8/3.
	x := []float32{1, 2, 3, 4, 5, 6}
	a := newCovAccum(2)
	if err := a.add(x); err != nil {
		t.Fatal(err)
	}
	c, err := a.cov()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range c {
		if math.Abs(v-8.0/3) > 1e-12 {
			t.Errorf("cov[%d] = %v, want 8/3", i, v)
		}
	}
	// Split over calls, same result.
	b := newCovAccum(2)
	_ = b.add(x[:2])
	_ = b.add(x[2:])
	cb, _ := b.cov()
	for i := range c {
		if cb[i] != c[i] {
			t.Errorf("split accumulation differs at %d: %v vs %v", i, cb[i], c[i])
		}
	}
	if err := a.add([]float32{1, 2, 3}); err == nil {
		t.Error("partial row accepted")
	}
	if err := a.add([]float32{1, float32(math.Inf(1))}); err == nil {
		t.Error("infinity accepted")
	}
	if _, err := newCovAccum(2).cov(); err == nil {
		t.Error("covariance of no rows")
	}
}
