package areas

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/harness"
	"compactv4/internal/areadata"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzseed"
	"compactv4/internal/imagenet"
	"compactv4/internal/kerasweights"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

const areaFixture = "testdata/area"

func TestAreaFixtureReproduces(t *testing.T) {
	fuzzseed.Reproduce(t, "numpy", filepath.Join("testdata", "gen_area.py"), areaFixture)
}

// TestRealArea runs the real-area path end to end on the generated V1 fixture (60 images, 4
// complete neurons) with ResNet50 narrowed 16-fold (internal/imagenet's random-weight test file)
// as the trunk and tiny schedules: the V1 curve has a finite median per K and for the teacher,
// the table has its rows, IT is listed as not runnable, every unit is a step of the cache, and a
// second run computes nothing.
func TestRealArea(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a teacher with a narrowed ResNet50 and distils two students")
	}
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	b, err := os.ReadFile(filepath.Join(areaFixture, "cadena_ploscb_data.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.FromSlash(areadata.CadenaPath))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	saved := openTrunk
	t.Cleanup(func() { openTrunk = saved })
	openTrunk = func(_, layer string) (*nn.GraphNet, error) {
		_, g, err := imagenet.LoadResNet50File(filepath.Join("..", "..", "internal", "imagenet", "testdata", "resnet50_narrow.h5"), layer, 16)
		return g, err
	}

	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	p.Sessions, p.Sim.Seeds = nil, nil // the V4 and simulated parts have tests of their own
	p.Real.Areas, p.Real.Dir = []string{areaV1, areaIT}, dir
	p.Real.Ks, p.Real.Stream, p.Real.Epochs, p.Real.Batch = []int{1, 2}, 24, 2, 16
	p.Real.MappingEpochs, p.Real.MappingKerasEpochs = 3, 1
	if p.Real.Layer != model.ResNet50Output {
		t.Fatalf("the plan maps layer %s", p.Real.Layer)
	}
	if n := units(p) - realUnit(p, 0, 0); n != 2*(1+len(p.Real.Ks)) {
		t.Fatalf("%d units of work, want a teacher and two students for each of V1 and IT", n)
	}
	cacheDir := t.TempDir()
	var log bytes.Buffer
	runOnce := func() *harness.Result {
		t.Helper()
		log.Reset()
		cache, err := harness.NewCache(cacheDir, &log)
		if err != nil {
			t.Fatal(err)
		}
		env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Cache: cache, Log: io.Discard}
		res, err := run(context.Background(), env, p)
		if err != nil {
			t.Fatal(err)
		}
		rows := readCSV(t, filepath.Join(env.Out, "accuracy_vs_k.csv"))
		if len(rows) != 1+len(p.Real.Ks)+1 {
			t.Fatalf("table of %d rows, want the header, %d students and the teacher:\n%v", len(rows), len(p.Real.Ks), rows)
		}
		if last := rows[len(rows)-1]; last[3] != "full (teacher)" || !strings.HasPrefix(last[0], "V1 (Cadena2019") {
			t.Errorf("teacher row %v", last)
		}
		return res
	}
	res := runOnce()
	t.Logf("C9: %s", res.Claims[0].Value)
	if got := strings.Count(log.String(), "\nrun ") + strings.Count(log.String()[:4], "run "); got != 1+len(p.Real.Ks) {
		t.Errorf("the first run computed %d V1 steps, want %d:\n%s", got, 1+len(p.Real.Ks), log.String())
	}
	for _, k := range []string{"V1/K1/median", "V1/K2/median", "V1/full/median", "V1/full/ci_lo"} {
		v, ok := res.Values.Get(k)
		if !ok || math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			t.Errorf("value %s = %+v (present %v), want a finite number", k, v, ok)
		}
	}
	if v, ok := res.Values.Get("V1/teacher_epoch"); !ok || v.Num < 1 || v.Num > float64(p.Real.MappingEpochs) {
		t.Errorf("teacher epoch %+v", v)
	}
	if _, ok := res.Values.Get("IT/full/median"); ok {
		t.Error("IT has a curve without its data")
	}
	it := 0
	for _, m := range res.NotRunnable {
		if strings.HasPrefix(m.Path, "$"+areadata.EnvVar+"/"+areadata.MajajHong2015+"/") && strings.Contains(m.Reason, "accuracy versus K for IT") {
			it++
		}
		if strings.Contains(m.Path, "Cadena") {
			t.Errorf("V1's file listed as not runnable: %+v", m)
		}
	}
	if want := len(areadata.Dataset(areadata.MajajHong2015)); it != want {
		t.Errorf("%d of IT's %d files listed as not runnable: %+v", it, want, res.NotRunnable)
	}
	if len(res.Claims) != 1 || !strings.Contains(res.Claims[0].Value, "V1 (Cadena2019, 4 neurons") || !strings.Contains(res.Claims[0].Value, "IT: not computed") {
		t.Errorf("claim %+v", res.Claims)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "read without a published hash (its publisher records none): "+areadata.CadenaPath) {
		t.Errorf("no note says the V1 pickle was read unverified: %q", res.Notes)
	}
	again := runOnce()
	if strings.HasPrefix(log.String(), "run ") || strings.Contains(log.String(), "\nrun ") {
		t.Errorf("the second run computed steps:\n%s", log.String())
	}
	if a, b := again.Values.List(), res.Values.List(); len(a) != len(b) {
		t.Errorf("second run: %d values, first %d", len(a), len(b))
	}

	// Without the weight file (an empty -weights directory), V1 is not runnable and names it.
	openTrunk = saved
	p.Real.Weights = t.TempDir()
	env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Log: io.Discard}
	res, err = run(context.Background(), env, p)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Values.Get("V1/full/median"); ok {
		t.Error("V1 has a curve without the weight file")
	}
	found := false
	for _, m := range res.NotRunnable {
		found = found || m.Path == filepath.Join(p.Real.Weights, kerasweights.ResNet50.Name) && strings.Contains(m.Reason, "the V1 teacher and students are not computed") && strings.Contains(m.Reason, kerasweights.ResNet50.MD5)
	}
	if !found {
		t.Errorf("the weight file is not listed as not runnable: %+v", res.NotRunnable)
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
