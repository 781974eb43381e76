package compression

import (
	"math"
	"testing"

	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

func TestStatus(t *testing.T) {
	c := &harness.Claim{ID: "CX", Numbers: map[string]float64{"a": 1, "b": 2}}
	tests := []struct {
		got    map[string]float64
		status harness.Status
		err    bool
	}{
		{map[string]float64{"a": 1, "b": 2}, harness.Reproduced, false},
		{map[string]float64{"a": 1, "b": 3}, harness.Differs, false},
		{map[string]float64{"a": 1, "c": 2}, "", true}, // no published number "c"
	}
	for _, tt := range tests {
		st, detail, err := status(c, tt.got)
		if (err != nil) != tt.err || st != tt.status {
			t.Errorf("status(%v) = %q, %q, %v; want %q (error %v)", tt.got, st, detail, err, tt.status, tt.err)
		}
		if st == harness.Differs && detail != "b 3, paper 2" {
			t.Errorf("detail %q", detail)
		}
	}
}

func TestSummarizeSizes(t *testing.T) {
	mk := func(total int) Compact { return Compact{Params: model.Counts{Total: total}} }
	s := summarizeSizes([]Compact{mk(10), mk(40), mk(20), mk(30)}, Teacher{Total: 2500})
	if s.Median != 25 || s.Min != 10 || s.Max != 40 || s.Factor != 100 {
		t.Errorf("sizes %+v", s)
	}
}

// gridNeurons takes the best, worst and 1/3, 2/3 quantile neurons by r, without repeats.
func TestGridNeurons(t *testing.T) {
	ev := &SessionEval{Session: v4data.TestSession{ID: "s"}, R: []float64{0.5, 0.9, 0.1, 0.7, 0.3, 0.6, 0.2}}
	// Sorted by r, descending: 1 (0.9), 3 (0.7), 5 (0.6), 0 (0.5), 4 (0.3), 6 (0.2), 2 (0.1);
	// positions round(q·6) for q = 0, 1/3, 2/3, 1 are 0, 2, 4, 6.
	want := []int{1, 5, 4, 2}
	got := gridNeurons([]*SessionEval{ev})
	if len(got) != len(want) {
		t.Fatalf("got %d neurons", len(got))
	}
	for i, g := range got {
		if g.neuron != want[i] {
			t.Errorf("neuron %d = %d, want %d", i, g.neuron, want[i])
		}
	}
	if got := gridNeurons([]*SessionEval{{R: []float64{0.4, 0.8}}}); len(got) != 2 {
		t.Errorf("two neurons give %d panels", len(got))
	}
	if gridNeurons(nil) != nil {
		t.Error("no session gives panels")
	}
}

func TestSummarizeAccuracy(t *testing.T) {
	a := &SessionEval{Session: v4data.TestSession{ID: "a"}, R: []float64{0.1, 0.2, 0.3}, R2: []float64{0.01, 0.04, 0.09}, R2ER: []float64{0.5, 0.6, 0.7}}
	b := &SessionEval{Session: v4data.TestSession{ID: "b"}, R: []float64{0.4, 0.5}, R2: []float64{0.16, 0.25}}
	acc, err := summarizeAccuracy([]*SessionEval{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if m := acc.Session["a"]["r"]; m.N != 3 || m.Median != 0.2 || m.Lo > m.Median || m.Hi < m.Median {
		t.Errorf("session a r: %+v", m)
	}
	if m := acc.Pooled["r"]; m.N != 5 || m.Median != 0.3 {
		t.Errorf("pooled r: %+v", m)
	}
	// r²_ER exists for session a only: it is summarised per session but never pooled.
	if _, ok := acc.Pooled["r2er"]; ok {
		t.Error("r2er pooled over a subset of sessions")
	}
	if m := acc.Session["a"]["r2er"]; math.Abs(m.Median-0.6) > 1e-12 {
		t.Errorf("session a r2er: %+v", m)
	}
}

func TestSessions(t *testing.T) {
	if got := Sessions(harness.Quick); len(got) != 1 || got[0] != "190923" {
		t.Errorf("quick sessions %v", got)
	}
	full := Sessions(harness.Full)
	if len(full) != len(v4data.TestSessions) {
		t.Errorf("full sessions %v", full)
	}
	for i, ts := range v4data.TestSessions {
		if full[i] != ts.ID {
			t.Errorf("full session %d = %s, want %s", i, full[i], ts.ID)
		}
	}
}
