package experiments

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/metrics"
	"compactv4/internal/plots"
	"compactv4/internal/v4data"
)

// A minimal experiment written by following the package doc: a plan per profile, one value,
// one table, one figure. It is not registered (that would make it part of the suite); the test
// builds it with harness.New and takes it through the same run and golden check as the others.

// templatePlan is what a profile runs.
type templatePlan struct {
	Sessions []string `json:"sessions"`
}

func templatePlanFor(p harness.Profile) (templatePlan, error) {
	if p == harness.Quick {
		return templatePlan{Sessions: []string{v4data.QuickSession.ID}}, nil
	}
	return templatePlan{Sessions: v4data.TestSessionIDs()}, nil
}

// templateRun computes, per session, the median over neurons of the mean repeat-averaged
// response to the evaluation half.
func templateRun(ctx context.Context, env *harness.Env, p templatePlan) (*harness.Result, error) {
	res := &harness.Result{}
	d := eval.New(env, res)
	var dists []plots.Distribution
	var rows [][]string
	for _, s := range p.Sessions {
		r, err := d.EvalHalf(s, eval.Lost{Images: "its mean responses are not computed", Raw: "nothing is lost"})
		if err != nil {
			return nil, err
		}
		if r == nil {
			continue
		}
		means := make([]float64, r.Neurons())
		for n, row := range r.Averaged {
			means[n] = metrics.Mean(row)
			rows = append(rows, []string{s, strconv.Itoa(n), harness.FormatFloat(means[n])})
		}
		res.Values.Num("mean_response/"+s+"/median", metrics.Median(means), 1e-12, 0) // float64 sums: exact but for the last bits
		dists = append(dists, plots.Distribution{Label: s, Values: means})
	}
	if err := res.AddTable(env.WriteCSV("neurons.csv", []string{"session", "neuron", "mean_response"}, rows)); err != nil {
		return nil, err
	}
	fig, err := plots.Histogram(dists, plots.HistOptions{Axes: plots.Axes{Title: "Mean response per neuron", XLabel: "Spikes / 100 ms", YLabel: "Neurons"}})
	if err != nil {
		return nil, err
	}
	return res, res.AddFigure(env.SaveFigure(fig, "mean_responses", plots.SingleColumn, plots.SingleColumn))
}

// TestTemplateExperiment runs the minimal experiment, records its golden, and checks that the
// golden check passes on a second run and fails when a value moves.
func TestTemplateExperiment(t *testing.T) {
	e, err := harness.New(harness.Definition[templatePlan]{
		Name: "template", Title: "Median mean response per session", Paper: "—",
		Plan: templatePlanFor, Run: templateRun,
	})
	if err != nil {
		t.Fatal(err)
	}
	dir := datadirtest.Dir(t)
	root, out := t.TempDir(), t.TempDir()
	opts := harness.RunOptions{Profile: harness.Quick, DataDir: dir, Out: out, FiguresDir: filepath.Join(root, "figures"), Log: io.Discard}
	rec, err := harness.RunExperiment(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	key := "mean_response/" + v4data.QuickSession.ID + "/median"
	if len(rec.Values) != 1 || rec.Values[0].Key != key || !(rec.Values[0].Num > 0) {
		t.Fatalf("values %+v", rec.Values)
	}
	if !slices.Equal(rec.Figures, []string{"mean_responses"}) || !slices.Equal(rec.Tables, []string{"neurons.csv"}) {
		t.Errorf("figures %v, tables %v", rec.Figures, rec.Tables)
	}
	for _, f := range []string{"mean_responses.png", "mean_responses.svg"} {
		if _, err := os.Stat(filepath.Join(root, "figures", "template", f)); err != nil {
			t.Error(err)
		}
	}
	if err := harness.WriteGolden(harness.GoldenPath(root, "template", harness.Quick), harness.GoldenOf(rec, "template test")); err != nil {
		t.Fatal(err)
	}
	rec2, err := harness.RunExperiment(context.Background(), e, opts)
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := harness.CheckGolden(root, rec2); err != nil || len(ms) != 0 {
		t.Fatalf("second run against the golden: %v %v", ms, err)
	}
	// A value outside its tolerance fails the check.
	rec2.Values[0].Num *= 1 + 1e-9
	ms, err := harness.CheckGolden(root, rec2)
	if err != nil || len(ms) != 1 || !strings.Contains(ms[0].String(), key) {
		t.Errorf("moved value: %v %v", ms, err)
	}
	if _, err := harness.New(harness.Definition[templatePlan]{Name: "bad", Claims: []string{"C42"}, Plan: templatePlanFor, Run: templateRun}); err == nil {
		t.Error("an unknown claim was accepted")
	}
}

// The harness holds an experiment to the claims it declares: one result for each, none other.
func TestDeclaredClaims(t *testing.T) {
	dir := datadirtest.Dir(t)
	for _, tt := range []struct {
		declared []string
		reported []string
		err      string
	}{
		{[]string{"C1"}, nil, "declares claim C1 but reports on it 0 times"},
		{[]string{"C1"}, []string{"C1", "C1"}, "reports on it 2 times"},
		{nil, []string{"C2"}, "reports on claim C2, which it does not declare"},
		{[]string{"C1", "C2"}, []string{"C2", "C1"}, ""},
	} {
		e, err := harness.New(harness.Definition[templatePlan]{
			Name: "claims", Claims: tt.declared, Plan: templatePlanFor,
			Run: func(_ context.Context, env *harness.Env, _ templatePlan) (*harness.Result, error) {
				res := &harness.Result{}
				for _, id := range tt.reported {
					if _, err := env.Claim(id); err != nil && slices.Contains(tt.declared, id) {
						return nil, err
					}
					res.Claims = append(res.Claims, harness.ClaimResult{ID: id, Status: harness.Computed})
				}
				if _, err := env.Claim("C9"); err == nil {
					return nil, fmt.Errorf("env.Claim gave an undeclared claim")
				}
				return res, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = harness.RunExperiment(context.Background(), e, harness.RunOptions{Profile: harness.Quick, DataDir: dir, Out: t.TempDir()})
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("declared %v, reported %v: error %v, want %q", tt.declared, tt.reported, err, tt.err)
		}
	}
}
