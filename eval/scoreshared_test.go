package eval

import (
	"context"
	"io"
	"slices"
	"testing"

	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// ScoreShared gives the scores of the session's output rows of a shared model's own
// predictions, and rejects a model that is not a shared one.
func TestScoreShared(t *testing.T) {
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	const teacher, k = "from_ensemble_model", 5
	if !store.Has(v4data.SharedPath(teacher, k)) {
		t.Skipf("%s is not in the data directory", v4data.SharedPath(teacher, k))
	}
	net, err := v4data.LoadShared(store, teacher, k)
	if err != nil {
		t.Fatal(err)
	}
	m := NewShared(teacher, k, net)
	d := New(&harness.Env{Data: store, Log: io.Discard}, &harness.Result{})
	ts := v4data.QuickSession
	resp, err := d.EvalHalf(ts.ID, Lost{Images: "not scored", Raw: "no r²_ER"})
	if err != nil || resp == nil {
		t.Skipf("evaluation half of %s: %v", ts.ID, err)
	}
	// Score the first 20 evaluation images only: enough to compare the two paths.
	resp.Hi = resp.Lo + 20
	for n := range resp.Averaged {
		resp.Averaged[n] = resp.Averaged[n][:20]
	}
	if resp.Raw != nil {
		raw, err := resp.Raw.Images(0, 20)
		if err != nil {
			t.Fatal(err)
		}
		resp.Raw = &raw
	}
	got, rows, err := d.ScoreShared(context.Background(), m, []*Responses{resp})
	if err != nil {
		t.Fatal(err)
	}
	pix, err := d.Pixels(ts.ID, resp.Lo, resp.Hi)
	if err != nil {
		t.Fatal(err)
	}
	pred, err := m.Predict(pix, resp.Images())
	if err != nil {
		t.Fatal(err)
	}
	want, err := SessionRows(pred, resp.Images(), v4data.SharedOutputs, ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0]) != len(want) {
		t.Fatalf("%d sessions of rows, want 1 with %d neurons", len(rows), len(want))
	}
	for n := range want {
		if !slices.Equal(rows[0][n], want[n]) {
			t.Fatalf("neuron %d: rows differ from the model's own predictions", n)
		}
	}
	s, err := Score32(resp, want)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.R, s.R) || !slices.Equal(got.R2, s.R2) {
		t.Errorf("scores %v, want %v", got.R, s.R)
	}
	t.Logf("median r over %d neurons on 20 images: %.3f", len(got.R), metrics.Median(got.R))
	c, err := model.NewCompact([model.NumLayers]int{2, 2, 2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.ScoreShared(context.Background(), NewNetwork("compact", nil, c), []*Responses{resp}); err == nil {
		t.Error("a single-output model was scored as a shared model")
	}
}
