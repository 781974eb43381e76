package pyref

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// ReadReference reads the committed JSON reference testdata/<name> into v. With update it first
// reruns the generator testdata/<script> with testdata as its output directory (the references
// of the PyTorch-checked networks: weights files written with h5py, outputs of an independent
// PyTorch forward pass); it fails the test when Python lacks modules.
func ReadReference(t *testing.T, script string, modules []string, update bool, name string, v any) {
	t.Helper()
	if update {
		py := Need(t, modules...)
		if out, err := exec.Command(py, filepath.Join("testdata", script), "testdata").CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", script, err, out)
		}
	}
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// CompareSD checks float32 outputs against a float64 reference to a tolerance stated in units of
// the reference's standard deviation: want holds rows × cols values, got[i·stride] is compared
// with want[i], and each column's scale is the (population) standard deviation of its values over
// the rows, so cols = 1 scales by the standard deviation of all the values. A constant column
// must match to 1e-6·(1+|want|) instead. It fails the test when max |Δ|/std exceeds tol, logs
// that maximum, and returns it.
func CompareSD(tb testing.TB, what string, want []float64, got []float32, cols, stride int, tol float64) float64 {
	tb.Helper()
	if cols < 1 || stride < 1 || len(want) == 0 || len(want)%cols != 0 || len(got) <= (len(want)-1)*stride || len(got) > len(want)*stride {
		tb.Fatalf("%s: %d values against %d reference values (%d columns, stride %d)", what, len(got), len(want), cols, stride)
	}
	rows := len(want) / cols
	worst, worstCol := 0.0, 0
	for o := range cols {
		var m, ss float64
		for b := range rows {
			m += want[b*cols+o]
		}
		m /= float64(rows)
		for b := range rows {
			d := want[b*cols+o] - m
			ss += d * d
		}
		std := math.Sqrt(ss / float64(rows))
		for b := range rows {
			i := b*cols + o
			d := math.Abs(float64(got[i*stride]) - want[i])
			if std == 0 {
				if !(d <= 1e-6*(1+math.Abs(want[i]))) {
					tb.Errorf("%s: column %d row %d = %v, want %v (constant column)", what, o, b, got[i*stride], want[i])
				}
				continue
			}
			if r := d / std; r > worst || r != r {
				worst, worstCol = r, o
			}
		}
	}
	if !(worst <= tol) {
		tb.Errorf("%s: max |Δ|/std = %.3g at column %d, tolerance %g", what, worst, worstCol, tol)
	}
	tb.Logf("%s: max |Δ|/std = %.3g over %d values", what, worst, len(want))
	return worst
}
