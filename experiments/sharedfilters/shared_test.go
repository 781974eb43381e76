package sharedfilters

import (
	"slices"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

func TestMappingCheck(t *testing.T) {
	// Three neurons with different response patterns; the shared rows equal the compact models'.
	compact := [][][]float32{{{1, 2, 3, 4}, {4, 1, 3, 2}, {2, 2, 1, 5}}}
	al, sh, err := mappingCheck(compact, compact)
	if err != nil {
		t.Fatal(err)
	}
	if !near(al, 1, 1e-12) {
		t.Errorf("aligned median %v, want 1", al)
	}
	var want []float64
	for i := 0; i < 3; i++ {
		x, y := eval.Float64s(compact[0]), eval.Float64s(compact[0])
		r, _ := metrics.Pearson(x[i], y[(i+1)%3])
		want = append(want, r)
	}
	if !near(sh, metrics.Median(want), 1e-12) {
		t.Errorf("shifted median %v, want %v", sh, metrics.Median(want))
	}
	if _, _, err := mappingCheck(compact, nil); err == nil {
		t.Error("session count mismatch accepted")
	}
}

func TestPlanFor(t *testing.T) {
	q, _ := planFor(harness.Quick)
	if !slices.Equal(q.ModelSessions, []string{v4data.QuickSession.ID}) || !slices.Equal(q.EvalSessions, []string{v4data.QuickSession.ID}) ||
		!slices.Equal(q.Ks, []int{5, 50, 200}) || len(q.Teachers) != 7 {
		t.Errorf("quick plan %+v", q)
	}
	f, _ := planFor(harness.Full)
	if len(f.ModelSessions) != 4 || len(f.EvalSessions) != 4 || len(f.Ks) != 8 || len(f.Teachers) != 7 {
		t.Errorf("full plan %+v", f)
	}
}
