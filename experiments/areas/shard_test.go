package areas

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"compactv4/harness"
	"compactv4/internal/areasim"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/treetest"
	"compactv4/internal/v4data"
)

func TestConfigure(t *testing.T) {
	full, err := planFor(harness.Full)
	if err != nil {
		t.Fatal(err)
	}
	// 8 V4 shared models, then 3 seeds × 3 populations × 4 students, then V1's and IT's teacher
	// and 5 students each.
	if n := units(full); n != 8+3*3*4+2*6 {
		t.Errorf("the full plan has %d units of work, want 56", n)
	}
	for _, tt := range []struct{ name, dir, weights string }{{"areadata", "/a", ""}, {"weights", "", "/w"}} {
		p := full
		if err := configure(&p, map[string]string{tt.name: "/" + tt.name[:1]}); err != nil || p.Real.Dir != tt.dir || p.Real.Weights != tt.weights {
			t.Errorf("-%s: plan %q %q, %v", tt.name, p.Real.Dir, p.Real.Weights, err)
		}
		if err := configure(&p, map[string]string{tt.name: ""}); err == nil {
			t.Errorf("-%s with no directory accepted", tt.name)
		}
	}
	p := full
	if err := configure(&p, map[string]string{"shard": "2/4"}); err != nil || p.Shard != (harness.Shard{I: 2, N: 4}) {
		t.Errorf("-shard 2/4: %v, %v", p.Shard, err)
	}
	for _, s := range []string{"3/2", "0/2", "x", "1/0"} {
		p := full
		if err := configure(&p, map[string]string{"shard": s}); err == nil || !strings.Contains(err.Error(), "want i/n with 1 ≤ i ≤ n") {
			t.Errorf("-shard %s: %v", s, err)
		}
	}
}

// Two shards run one after the other against a shared cache, then a run without -shard that
// assembles them from the cache, write the same bytes and values as one run of the whole plan
// with its own cache. The plan is tiny: two V4 shared models on the quick session and one
// population's two students, fitted for one epoch, so four units of work (no real area).
func TestShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("fits two students and predicts with two shared models, four times")
	}
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	p.Ks, p.FullK = []int{5}, 10
	p.Sim.Kinds, p.Sim.Units, p.Sim.Ks, p.Sim.FullK, p.Sim.Epochs = []areasim.Kind{areasim.V1}, 8, []int{2}, 4, 1
	p.Real.Areas = nil
	runPlan := func(p plan, cache *harness.Cache) (string, *harness.Result) {
		t.Helper()
		env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Cache: cache, Log: io.Discard}
		res, err := run(context.Background(), env, p)
		if err != nil {
			t.Fatal(err)
		}
		return env.Out, res
	}
	newCache := func(log io.Writer) *harness.Cache {
		t.Helper()
		c, err := harness.NewCache(t.TempDir(), log)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	outcome := func(res *harness.Result) string {
		t.Helper()
		b, err := json.Marshal(struct {
			Claims      []harness.ClaimResult
			NotRunnable []harness.Missing
			Values      []harness.Value
		}{res.Claims, res.NotRunnable, res.Values.List()})
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	whole, wholeRes := runPlan(p, newCache(io.Discard))
	want := treetest.Read(t, whole)
	for _, f := range []string{"accuracy_vs_k.csv", "accuracy_vs_k.png", "accuracy_vs_k.svg"} {
		if _, ok := want[f]; !ok {
			t.Errorf("the run wrote no %s", f)
		}
	}
	for _, k := range []string{"V4/K5/median", "sim/seed1/V1-like/K2/median"} {
		if _, ok := wholeRes.Values.Get(k); !ok {
			t.Errorf("the run has no value %s", k)
		}
	}

	var log bytes.Buffer
	shared := newCache(&log)
	for _, s := range []string{"1/2", "2/2"} {
		sp := p
		if err := configure(&sp, map[string]string{"shard": s}); err != nil {
			t.Fatal(err)
		}
		log.Reset()
		out, res := runPlan(sp, shared)
		if got := treetest.Read(t, out); len(got) != 0 || len(res.Values.List()) != 0 || len(res.Tables) != 0 || len(res.Figures) != 0 {
			t.Errorf("shard %s wrote files %v, values, tables or figures", s, got)
		}
		if len(res.Claims) != 1 || res.Claims[0].Status != harness.NotRun || !strings.Contains(res.Claims[0].Detail, "shard "+s+": 2 of the plan's 4 units") {
			t.Errorf("shard %s reports %+v", s, res.Claims)
		}
		if n := strings.Count(log.String(), "run "); n != 2 {
			t.Errorf("shard %s computed %d steps, want its 2 units:\n%s", s, n, log.String())
		}
	}
	log.Reset()
	merged, mergedRes := runPlan(p, shared)
	if strings.Contains(log.String(), "run ") {
		t.Errorf("assembling the shards computed steps again:\n%s", log.String())
	}
	got := treetest.Read(t, merged)
	if len(got) != len(want) {
		t.Errorf("merged run wrote %d files, the one-process run %d", len(got), len(want))
	}
	for f, b := range want {
		if !bytes.Equal(got[f], b) {
			t.Errorf("%s: merged shards differ from the one-process run", f)
		}
	}
	if a, b := outcome(mergedRes), outcome(wholeRes); a != b {
		t.Errorf("merged shards' result differs from the one-process run's:\n%s\n%s", a, b)
	}
}
