package teacherfit

import (
	"bytes"
	"context"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/ensemble"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/teacherrows"
	"compactv4/internal/treetest"
	"compactv4/internal/v4data"
)

// narrowNets is the teacher's networks with random weights, as internal/teacherrows' tests make
// them: ResNet50 and VGG19 narrowed 64-fold (Keras' initialisation from a seed) and two members
// read from the narrowed member archive of internal/ensemble's tests, the second with its weights
// scaled.
func narrowNets(t *testing.T) teacherrows.Nets {
	t.Helper()
	random := func(build func(string, int) (*model.Network, error), upto string, seed uint64) *nn.GraphNet {
		net, err := build(upto, 64)
		if err != nil {
			t.Fatal(err)
		}
		if err := nn.InitKeras(net, seed); err != nil {
			t.Fatal(err)
		}
		g, err := nn.CompileGraph(net)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	trunk := random(model.NewResNet50, model.ResNet50Output, 3)
	tc := &ensemblefit.Teacher{Trunk: trunk, Batch: 16}
	for i := range 2 {
		net, _, err := ensemble.ReadMember(filepath.Join("..", "..", "internal", "ensemble", "testdata", "member_narrow.keras"), model.Shape{H: 14, W: 14, C: 16})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range net.Weights() {
			for j := range w.Data {
				w.Data[j] *= 1 + 0.1*float32(i*(j%3))
			}
		}
		g, err := nn.CompileGraph(net)
		if err != nil {
			t.Fatal(err)
		}
		tc.Members = append(tc.Members, g)
	}
	return teacherrows.Nets{Teacher: tc, Task: []teacherrows.TaskNet{
		{Name: "ResNet50", Net: trunk, Trunk: true},
		{Name: "VGG19", Net: random(model.NewVGG19, model.VGG19Output, 4)},
	}}
}

// TestRunTeacher runs the experiment end to end on the quick session of the data (its first 120
// images) with a narrowed random-weight teacher in place of the files: the teacher's ridge and
// factorized rows, C3's and C4's comparisons, its tables and figures are produced; a second run
// on the same cache computes nothing and writes the same bytes, as do two shards and the run
// that assembles them; -mappings ridge leaves the factorized rows out. The real files being
// absent here, openTeacher leaves the teacher not runnable, naming them.
func TestRunTeacher(t *testing.T) {
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Log: io.Discard}
	if testing.Verbose() {
		env.Log = testWriter{t}
	}
	res0 := &harness.Result{}
	tc0, st, err := openTeacher(env, eval.New(env, res0), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.MissingMembers) == 0 {
		t.Skip("the member files are present: the real teacher runs in the golden run")
	}
	if tc0 != nil || len(res0.NotRunnable) != len(st.MissingMembers) || !strings.Contains(st.notRunnableRows(), memberPattern) {
		t.Fatalf("members missing: teacher %v, not runnable %d of %d", tc0, len(res0.NotRunnable), len(st.MissingMembers))
	}
	for _, m := range res0.NotRunnable {
		if !strings.HasPrefix(m.Path, "data_ensemble_model/ensemble_model_member") || m.SHA1 == "" {
			t.Errorf("not runnable %+v, want a member file with its SHA-1", m)
		}
	}

	tc := narrowNets(t)
	src := teacherSource{Images: 120, Open: func(env *harness.Env, d *eval.Data, _ string) (*openedTeacher, teacherStatus, error) {
		return &openedTeacher{Nets: tc, Key: "narrowNets"}, teacherStatus{Members: 2}, nil
	}}
	// No shared models: their line is TestCompareSurrogates' and the golden run's. The factorized
	// fits run for two upstream epochs of one pass each.
	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	p.Teachers, p.Ks = nil, nil
	for _, o := range []*mapping.FactorizedOptions{&p.Factorized.Ensemble, &p.Factorized.TaskDriven} {
		o.Epochs, o.KerasEpochs = 2, 1
	}
	var log strings.Builder
	newCache := func() *harness.Cache {
		t.Helper()
		c, err := harness.NewCache(t.TempDir(), &log)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	runPlan := func(p plan, cache *harness.Cache) (string, *harness.Result) {
		t.Helper()
		log.Reset()
		e := *env
		e.Out, e.Cache = t.TempDir(), cache
		res, err := runWith(context.Background(), &e, p, src)
		if err != nil {
			t.Fatal(err)
		}
		return e.Out, res
	}
	computed := func() int { return strings.Count(log.String(), "run   teacher") }
	cache := newCache()
	out, res := runPlan(p, cache)
	// Units: the ridge rows, 2 members and 2 task-driven networks' factorized fits.
	if n := computed(); n != 5 {
		t.Errorf("the run computed %d units of the teacher, want 5:\n%s", n, log.String())
	}
	ts := v4data.QuickSession
	for _, key := range []string{"teacher/halves/ensemble/r/median", "teacher/halves/ResNet50/r2/median", "teacher/halves/VGG19/r/median",
		"teacher/script2/ensemble/r/median", "teacher/script2/ResNet50/r/median", "teacher/script2/VGG19/r2/median", "teacher/halves/compact/r/median",
		"teacher/halves/ensemble/factorized/r/median", "teacher/halves/ResNet50/factorized/r2/median", "teacher/halves/VGG19/factorized/r2/median",
		"C3/teacher/percent", "C4/teacher/halves/percent", "C4/teacher/script2/percent", "C4/teacher/halves/factorized/percent",
		"teacher/halves/alpha/190923/VGG19/median", "teacher/halves/factorized_epoch/190923/ensemble"} {
		v, ok := res.Values.Get(key)
		if !ok || math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			t.Errorf("%s: %+v (present %v), want a finite value", key, v, ok)
		}
	}
	for _, key := range []string{"teacher/halves/ensemble/r/n", "teacher/halves/VGG19/factorized/r2/n"} {
		if v, _ := res.Values.Get(key); v.Num != float64(ts.Neurons) {
			t.Errorf("%s: %v neurons, want %d", key, v.Num, ts.Neurons)
		}
	}
	for _, c := range res.Claims {
		t.Logf("%s (%s): %s", c.ID, c.Status, c.Value)
		if c.Status == harness.NotImplemented || c.Status == harness.NotRunnable {
			t.Errorf("%s: %s with the teacher present", c.ID, c.Status)
		}
	}
	want := treetest.Read(t, out)
	for _, f := range []string{"teacher.csv", "teacher_neurons.csv", figVsTaskDriven + ".png", figMedians + ".svg", figRidgeVsFactorize + ".png"} {
		if _, ok := want[f]; !ok {
			t.Errorf("the run wrote no %s", f)
		}
	}
	// teacher.csv: 3 models × (ridge halves, ridge script2, factorized halves) and the compact
	// models; teacher_neurons.csv the same rows per neuron.
	for f, rows := range map[string]int{"teacher.csv": 3*3 + 1, "teacher_neurons.csv": (3*3 + 1) * ts.Neurons} {
		lines := strings.Split(strings.TrimSpace(string(want[f])), "\n")
		if len(lines) != rows+1 || strings.Count(string(want[f]), ",factorized,halves,") != rows/10*3 {
			t.Errorf("%s: %d rows (%d factorized), want %d", f, len(lines)-1, strings.Count(string(want[f]), ",factorized,halves,"), rows)
		}
	}

	same := func(what, dir string) {
		t.Helper()
		got := treetest.Read(t, dir)
		if len(got) != len(want) {
			t.Errorf("%s wrote %d files, the first run %d", what, len(got), len(want))
		}
		for f, b := range want {
			if !bytes.Equal(got[f], b) {
				t.Errorf("%s: %s differs from the first run's", what, f)
			}
		}
	}
	t.Run("resume", func(t *testing.T) {
		out, _ := runPlan(p, cache)
		if n := computed(); n != 0 {
			t.Errorf("a second run computed %d units:\n%s", n, log.String())
		}
		same("the second run", out)
	})
	t.Run("shards", func(t *testing.T) {
		shared := newCache()
		for _, sh := range []string{"1/2", "2/2"} {
			sp := p
			if err := configure(&sp, map[string]string{"shard": sh}); err != nil {
				t.Fatal(err)
			}
			out, res := runPlan(sp, shared)
			if got := treetest.Read(t, out); len(got) != 0 || len(res.Values.List()) != 0 || len(res.Tables) != 0 || len(res.Figures) != 0 {
				t.Errorf("shard %s wrote files %v, values, tables or figures", sh, got)
			}
			if len(res.Claims) != 2 || res.Claims[0].Status != harness.NotRun || !strings.Contains(res.Claims[0].Detail, "shard "+sh+": ") {
				t.Errorf("shard %s reports %+v", sh, res.Claims)
			}
			if n, w := computed(), map[string]int{"1/2": 3, "2/2": 2}[sh]; n != w {
				t.Errorf("shard %s computed %d units, want %d:\n%s", sh, n, w, log.String())
			}
		}
		out, _ := runPlan(p, shared)
		if n := computed(); n != 0 {
			t.Errorf("assembling the shards computed %d units:\n%s", n, log.String())
		}
		same("the shards' assembly", out)
	})
	for _, tc := range []struct {
		mapping, has, lacks string
	}{
		{ridge, "teacher/halves/ensemble/r/median", "teacher/halves/ensemble/factorized/r/median"},
		{factorized, "teacher/halves/ensemble/factorized/r/median", "teacher/halves/ensemble/r/median"},
	} {
		t.Run(tc.mapping+" only", func(t *testing.T) {
			mp := p
			if err := configure(&mp, map[string]string{"mappings": tc.mapping}); err != nil {
				t.Fatal(err)
			}
			out, res := runPlan(mp, cache)
			if n := computed(); n != 0 {
				t.Errorf("-mappings %s computed %d units:\n%s", tc.mapping, n, log.String())
			}
			if _, ok := res.Values.Get(tc.has); !ok {
				t.Errorf("-mappings %s: no %s", tc.mapping, tc.has)
			}
			if _, ok := res.Values.Get(tc.lacks); ok {
				t.Errorf("-mappings %s: %s recorded", tc.mapping, tc.lacks)
			}
			if _, ok := res.Values.Get("C3/teacher/percent"); !ok {
				t.Errorf("-mappings %s: no C3 comparison", tc.mapping)
			}
			for _, c := range res.Claims {
				if !strings.Contains(c.Value, "session(s) "+v4data.QuickSession.ID) {
					t.Errorf("-mappings %s: %s %q does not name the session", tc.mapping, c.ID, c.Value)
				}
			}
			got := treetest.Read(t, out)
			if _, ok := got[figMedians+".png"]; !ok {
				t.Errorf("-mappings %s: no %s", tc.mapping, figMedians)
			}
			if _, ok := got[figRidgeVsFactorize+".png"]; ok {
				t.Errorf("-mappings %s drew %s", tc.mapping, figRidgeVsFactorize)
			}
		})
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// TestFitRoundTrip checks that a session's fit read back from the cache is the one stored, with
// its evaluation responses cut again from the input.
func TestFitRoundTrip(t *testing.T) {
	raw := metrics.Raw{N: 1, M: 4, R: 2, Data: []float64{1, 2, 3, math.NaN(), 5, 6, 7, 8}}
	in := teacherrows.SessionInput{Session: "s", N: 4, Resp: &eval.Responses{Session: "s", Lo: 0, Hi: 4, Averaged: raw.Means(), Raw: &raw}}
	sf := &teacherrows.SessionFit{Session: "s", Models: []*teacherrows.RowFit{
		{Model: teacherrows.Ensemble, Alphas: []float64{1, 2}, Rule: teacherrows.RuleDefault,
			Halves: eval.Scores{R: []float64{0.5, math.NaN()}, R2: []float64{0.25, 0.1}}, Script2: eval.Scores{R: []float64{0.1}, R2: []float64{0.01}, R2ER: []float64{-0.2}}},
	}}
	b, err := encodeFit(sf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeFit(b, in)
	if err != nil {
		t.Fatal(err)
	}
	m, w := got.Models[0], sf.Models[0]
	if got.Session != "s" || m.Model != w.Model || m.Rule != w.Rule || !slices.Equal(m.Alphas, w.Alphas) || m.Halves.R2ER != nil ||
		!slices.Equal(m.Script2.R2ER, w.Script2.R2ER) || m.Halves.R[0] != 0.5 || !math.IsNaN(m.Halves.R[1]) {
		t.Errorf("read back %+v, stored %+v", m, w)
	}
	if got.Eval == nil || got.Eval.Lo != 2 || got.Eval.Hi != 4 || got.Eval.Raw == nil {
		t.Errorf("evaluation responses %+v, want images 2-3 with raw repeats", got.Eval)
	}
	if _, err := decodeFit(b, teacherrows.SessionInput{Session: "other", N: 4, Resp: in.Resp}); err == nil {
		t.Error("a fit of another session read back without error")
	}
}
