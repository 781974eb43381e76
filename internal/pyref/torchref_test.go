package pyref

import (
	"math"
	"testing"
)

// recorder is a testing.TB that records failures instead of stopping.
type recorder struct {
	testing.TB
	failed bool
}

func (r *recorder) Errorf(string, ...any) { r.failed = true }
func (r *recorder) Fatalf(string, ...any) { r.failed = true; panic(r) }
func (r *recorder) Logf(string, ...any)   {}
func (r *recorder) Helper()               {}

func compareSD(want []float64, got []float32, cols, stride int, tol float64) (worst float64, failed bool) {
	r := &recorder{}
	defer func() {
		if p := recover(); p != nil && p != any(r) {
			panic(p)
		}
		failed = r.failed
	}()
	worst = math.NaN()
	worst = CompareSD(r, "x", want, got, cols, stride, tol)
	return worst, r.failed
}

func TestCompareSD(t *testing.T) {
	want := []float64{0, 10, 2, 20, 4, 30} // 3 rows × 2 columns; column stds 1.633 and 8.165
	for _, c := range []struct {
		name       string
		got        []float32
		cols       int
		stride     int
		tol        float64
		worst      float64
		shouldFail bool
	}{
		{"exact, per column", []float32{0, 10, 2, 20, 4, 30}, 2, 1, 1e-4, 0, false},
		{"one column off by 0.01 std", []float32{0, 10, 2, 20, 4 + 0.01*1.6329931618554521, 30}, 2, 1, 0.02, 0.01, false},
		{"beyond tolerance", []float32{0, 10, 2, 20, 4.1, 30}, 2, 1, 0.01, 0.1 / 1.6329931618554521, true},
		{"global scale", []float32{0, 10, 2, 20, 4.1, 30}, 1, 1, 0.01, 0.1 / math.Sqrt(694.0/6), false},
		{"strided", []float32{0, 9, 10, 9, 2, 9, 20, 9, 4, 9, 30}, 1, 2, 1e-6, 0, false},
		{"wrong length", []float32{0, 10}, 1, 1, 1, math.NaN(), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			worst, failed := compareSD(want, c.got, c.cols, c.stride, c.tol)
			if failed != c.shouldFail {
				t.Errorf("failed %v, want %v", failed, c.shouldFail)
			}
			if !math.IsNaN(c.worst) && math.Abs(worst-c.worst) > 1e-6 {
				t.Errorf("worst %v, want %v", worst, c.worst)
			}
		})
	}
	if _, failed := compareSD([]float64{1, 1, 1}, []float32{1, 1, 1.1}, 1, 1, 1); !failed {
		t.Error("a constant column off by 0.1 passed")
	}
}
