package sharedfilters

import (
	"math"
	"slices"
	"testing"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

func TestSessionRows(t *testing.T) {
	const images, outputs = 3, v4data.SharedOutputs
	pred := make([]float32, images*outputs)
	for i := 0; i < images; i++ {
		for o := 0; o < outputs; o++ {
			pred[i*outputs+o] = float32(1000*i + o)
		}
	}
	// Spec §4.6: 190923 → 0-32, 201025 → 33-121, 210225 → 122-176, 211022 → 177-218.
	wantFirst := map[string]int{"190923": 0, "201025": 33, "210225": 122, "211022": 177}
	wantLast := map[string]int{"190923": 32, "201025": 121, "210225": 176, "211022": 218}
	for _, ts := range v4data.TestSessions {
		rows, err := SessionRows(pred, images, outputs, ts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != ts.Neurons {
			t.Fatalf("%s: %d rows", ts.ID, len(rows))
		}
		if got := int(rows[0][0]); got != wantFirst[ts.ID] {
			t.Errorf("%s neuron 0 is output %d, want %d", ts.ID, got, wantFirst[ts.ID])
		}
		last := rows[len(rows)-1]
		if got := int(last[2]) - 2000; got != wantLast[ts.ID] {
			t.Errorf("%s last neuron is output %d, want %d", ts.ID, got, wantLast[ts.ID])
		}
	}
	if _, err := SessionRows(pred[:10], images, outputs, v4data.TestSessions[0]); err == nil {
		t.Error("short predictions accepted")
	}
	bad := v4data.TestSession{ID: "x", Neurons: 50, Offset: 200}
	if _, err := SessionRows(pred, images, outputs, bad); err == nil {
		t.Error("rows beyond the outputs accepted")
	}
}

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
		r, _ := pearson32(compact[0][i], compact[0][(i+1)%3])
		want = append(want, r)
	}
	if !near(sh, metrics.Median(want), 1e-12) {
		t.Errorf("shifted median %v, want %v", sh, metrics.Median(want))
	}
	if _, _, err := mappingCheck(compact, nil); err == nil {
		t.Error("session count mismatch accepted")
	}
}

func TestScore(t *testing.T) {
	ev := &EvalSession{Session: v4data.TestSession{ID: "s"}, Recorded: [][]float64{{1, 2, 3, 4}, {1, 0, 1, 0}}}
	pred := [][][]float32{{{2, 4, 6, 8}, {0, 1, 0, 1}}}
	s, err := score([]*EvalSession{ev}, pred)
	if err != nil {
		t.Fatal(err)
	}
	if !near(s.R[0], 1, 1e-12) || !near(s.R[1], -1, 1e-12) || !near(s.R2[1], 1, 1e-12) || s.R2ER != nil {
		t.Errorf("scores %+v", s)
	}
	pred[0][0][1] = float32(math.NaN())
	if _, err := score([]*EvalSession{ev}, pred); err == nil {
		t.Error("NaN prediction accepted")
	}
}

func TestPlanFor(t *testing.T) {
	q := PlanFor(harness.Quick)
	if !slices.Equal(q.ModelSessions, []string{"190923"}) || !slices.Equal(q.EvalSessions, []string{"190923"}) ||
		!slices.Equal(q.Ks, []int{5, 50, 200}) || len(q.Teachers) != 7 {
		t.Errorf("quick plan %+v", q)
	}
	f := PlanFor(harness.Full)
	if len(f.ModelSessions) != 4 || len(f.EvalSessions) != 4 || len(f.Ks) != 8 || len(f.Teachers) != 7 {
		t.Errorf("full plan %+v", f)
	}
}

func TestDecodeCached(t *testing.T) {
	b, err := encodeFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeCached("x", b, 2, 3)
	if err != nil || !slices.Equal(got, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("decode %v, %v", got, err)
	}
	for _, shape := range [][]int{{3, 2}, {6}, {2, 3, 1}} {
		if _, err := decodeCached("x", b, shape...); err == nil {
			t.Errorf("shape %v accepted", shape)
		}
	}
	nan, _ := encodeFloat32([]int{1}, []float32{float32(math.NaN())})
	if _, err := decodeCached("x", nan, 1); err == nil {
		t.Error("NaN accepted")
	}
	if _, err := decodeCached("x", b[:len(b)-1], 2, 3); err == nil {
		t.Error("truncated entry accepted")
	}
}
