package compression

import (
	"math"
	"slices"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

func TestSummarizeSizes(t *testing.T) {
	mk := func(total int) *eval.Compact {
		// A network whose only weights hold total numbers.
		n := &model.Network{Layers: []model.Layer{{Weights: []model.Tensor{model.NewTensor(total)}}}}
		return &eval.Compact{Network: eval.NewNetwork("m", nil, n)}
	}
	s := summarizeSizes([]*eval.Compact{mk(10), mk(40), mk(20), mk(30)}, teacherSize{Total: 2500})
	if s.Median != 25 || s.Min != 10 || s.Max != 40 || s.Factor != 100 {
		t.Errorf("sizes %+v", s)
	}
}

// gridNeurons takes the best, worst and 1/3, 2/3 quantile neurons by r, without repeats.
func TestGridNeurons(t *testing.T) {
	ev := &sessionEval{session: v4data.TestSession{ID: "s"}, Scores: eval.Scores{R: []float64{0.5, 0.9, 0.1, 0.7, 0.3, 0.6, 0.2}}}
	// Sorted by r, descending: 1 (0.9), 3 (0.7), 5 (0.6), 0 (0.5), 4 (0.3), 6 (0.2), 2 (0.1);
	// positions round(q·6) for q = 0, 1/3, 2/3, 1 are 0, 2, 4, 6.
	want := []int{1, 5, 4, 2}
	got := gridNeurons([]*sessionEval{ev})
	if len(got) != len(want) {
		t.Fatalf("got %d neurons", len(got))
	}
	for i, g := range got {
		if g.neuron != want[i] {
			t.Errorf("neuron %d = %d, want %d", i, g.neuron, want[i])
		}
	}
	if got := gridNeurons([]*sessionEval{{Scores: eval.Scores{R: []float64{0.4, 0.8}}}}); len(got) != 2 {
		t.Errorf("two neurons give %d panels", len(got))
	}
	if gridNeurons(nil) != nil {
		t.Error("no session gives panels")
	}
}

func TestSummarizeAccuracy(t *testing.T) {
	a := &sessionEval{session: v4data.TestSession{ID: "a"}, Scores: eval.Scores{R: []float64{0.1, 0.2, 0.3}, R2: []float64{0.01, 0.04, 0.09}, R2ER: []float64{0.5, 0.6, 0.7}}}
	b := &sessionEval{session: v4data.TestSession{ID: "b"}, Scores: eval.Scores{R: []float64{0.4, 0.5}, R2: []float64{0.16, 0.25}}}
	acc, err := summarizeAccuracy([]*sessionEval{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if m := acc.session[0].R; m.N != 3 || m.Median != 0.2 || m.Lo > m.Median || m.Hi < m.Median {
		t.Errorf("session a r: %+v", m)
	}
	if m := acc.pooled.R; m.N != 5 || m.Median != 0.3 {
		t.Errorf("pooled r: %+v", m)
	}
	// r²_ER exists for session a only: it is summarised per session but never pooled.
	if acc.pooled.R2ER != nil {
		t.Error("r2er pooled over a subset of sessions")
	}
	if m := acc.session[0].R2ER; m == nil || math.Abs(m.Median-0.6) > 1e-12 {
		t.Errorf("session a r2er: %+v", m)
	}
}

func TestPlan(t *testing.T) {
	q, err := planFor(harness.Quick)
	if err != nil || !slices.Equal(q.Sessions, []string{v4data.QuickSession.ID}) {
		t.Errorf("quick plan %+v, %v", q, err)
	}
	f, err := planFor(harness.Full)
	if err != nil || !slices.Equal(f.Sessions, v4data.TestSessionIDs()) {
		t.Errorf("full plan %+v, %v", f, err)
	}
}
