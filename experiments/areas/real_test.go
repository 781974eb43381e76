package areas

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
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

const (
	areaFixture = "testdata/area"
	itFixture   = "testdata/it"
)

func TestAreaFixturesReproduce(t *testing.T) {
	fuzzseed.Reproduce(t, "numpy", filepath.Join("testdata", "gen_area.py"), areaFixture)
	fuzzseed.Reproduce(t, "numpy,xarray,netCDF4,PIL", filepath.Join("testdata", "gen_it.py"), itFixture)
}

// fixtureAreas reads an area data directory holding fixtures under the pinned names, without
// checking the published hashes (the fixtures are not the published files).
type fixtureAreas struct {
	*areadata.Store
}

func (f fixtureAreas) Path(rel string) (string, error) {
	pf, ok := areadata.Lookup(rel)
	if !ok {
		return "", fmt.Errorf("area data file %q: %w", rel, areadata.ErrUnknownFile)
	}
	p := filepath.Join(f.Dir(), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		return "", &areadata.MissingError{File: pf, Dir: f.Dir()}
	}
	return p, nil
}

func (f fixtureAreas) open(rel string) (*os.File, int64, error) {
	p, err := f.Path(rel)
	if err != nil {
		return nil, 0, err
	}
	fh, err := os.Open(p)
	if err != nil {
		return nil, 0, err
	}
	fi, err := fh.Stat()
	if err != nil {
		fh.Close()
		return nil, 0, err
	}
	return fh, fi.Size(), nil
}

func (f fixtureAreas) Assembly() (*areadata.Assembly, error) {
	fh, n, err := f.open(areadata.AssemblyPath)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return areadata.ReadAssembly(fh, n)
}

func (f fixtureAreas) Stimuli() (*areadata.Stimuli, error) {
	fh, _, err := f.open(areadata.StimulusCSVPath)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return areadata.ReadStimuli(fh)
}

func (f fixtureAreas) StimulusImages(st *areadata.Stimuli, ids []string, side int) ([]uint8, error) {
	fh, n, err := f.open(areadata.StimulusZipPath)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return areadata.ReadStimulusImages(fh, n, st, ids, side)
}

// copyFile copies a fixture to dir/rel.
func copyFile(t *testing.T, src, dir, rel string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRealArea runs the real-area path end to end on the generated fixtures, V1 (60 images, 4
// complete neurons) and IT (40 images of 4 objects, 3 sites), with ResNet50 narrowed 16-fold
// (internal/imagenet's random-weight test file) as the trunk, tiny schedules and students narrowed
// to 4 filters in layers 3-4: each curve has a finite median per K and for the teacher, the table and figure are written, every unit is a
// step of the cache, and a second run computes nothing and gives the same values, as does the
// assembly of two shards. Without IT's files, or without the weight file, the area is listed as
// not runnable.
func TestRealArea(t *testing.T) {
	if testing.Short() {
		t.Skip("fits a teacher with a narrowed ResNet50 and distils two students")
	}
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyFile(t, filepath.Join(areaFixture, "cadena_ploscb_data.pkl"), dir, areadata.CadenaPath)
	for src, rel := range map[string]string{"assembly.nc": areadata.AssemblyPath, "stimuli.csv": areadata.StimulusCSVPath, "images.zip": areadata.StimulusZipPath} {
		copyFile(t, filepath.Join(itFixture, src), dir, rel)
	}
	savedAreas := openAreas
	t.Cleanup(func() { openAreas = savedAreas })
	openAreas = func(dir string) (areaSource, error) {
		st, err := areadata.Open(dir)
		return fixtureAreas{st}, err
	}
	saved := openTrunk
	t.Cleanup(func() { openTrunk = saved })
	openTrunk = func(_, layer string, _ io.Writer) (*nn.GraphNet, error) {
		_, g, err := imagenet.LoadResNet50File(filepath.Join("..", "..", "internal", "imagenet", "testdata", "resnet50_narrow.h5"), layer, 16)
		return g, err
	}

	p, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	p.Sessions, p.Sim.Seeds = nil, nil // the V4 and simulated parts have tests of their own
	p.Real.Areas, p.Real.Dir = []string{areaV1, areaIT}, dir
	p.Real.Ks, p.Real.Width, p.Real.Stream, p.Real.Epochs, p.Real.Batch = []int{1, 2}, 4, 24, 2, 16
	p.Real.MappingEpochs, p.Real.MappingKerasEpochs = 3, 1
	if p.Real.Layer != model.ResNet50Output {
		t.Fatalf("the plan maps layer %s", p.Real.Layer)
	}
	if n := units(p) - realUnit(p, 0, 0); n != 2*(1+len(p.Real.Ks)) {
		t.Fatalf("%d units of work, want a teacher and two students for each of V1 and IT", n)
	}
	cacheDir := t.TempDir()
	var log bytes.Buffer
	both := []string{"V1 (Cadena2019", "IT (MajajHong2015"}
	runOnce := func(areas []string) *harness.Result {
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
		per := len(p.Real.Ks) + 1
		if len(rows) != 1+len(areas)*per {
			t.Fatalf("table of %d rows, want the header and, for each of %q, %d students and the teacher:\n%v", len(rows), areas, len(p.Real.Ks), rows)
		}
		for i, prefix := range areas {
			if last := rows[(i+1)*per]; last[3] != "full (teacher)" || !strings.HasPrefix(last[0], prefix) {
				t.Errorf("teacher row %v", last)
			}
		}
		for _, f := range []string{"accuracy_vs_k.png", "accuracy_vs_k.svg"} {
			if _, err := os.Stat(filepath.Join(env.Out, f)); err != nil {
				t.Errorf("no figure: %v", err)
			}
		}
		return res
	}
	steps := func() int {
		s := log.String()
		return strings.Count(s, "\nrun ") + strings.Count(s[:min(4, len(s))], "run ")
	}
	res := runOnce(both)
	if got, want := steps(), 2*(1+len(p.Real.Ks)); got != want {
		t.Errorf("the first run computed %d steps, want %d:\n%s", got, want, log.String())
	}
	for _, area := range []string{"V1", "IT"} {
		for _, k := range []string{"K1/median", "K2/median", "full/median", "full/ci_lo"} {
			v, ok := res.Values.Get(area + "/" + k)
			if !ok || math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
				t.Errorf("value %s/%s = %+v (present %v), want a finite number", area, k, v, ok)
			}
		}
		if v, ok := res.Values.Get(area + "/teacher_epoch"); !ok || v.Num < 1 || v.Num > float64(p.Real.MappingEpochs) {
			t.Errorf("%s teacher epoch %+v", area, v)
		}
	}
	if len(res.NotRunnable) != 0 {
		t.Errorf("not runnable with every file present: %+v", res.NotRunnable)
	}
	if len(res.Claims) != 1 || !strings.Contains(res.Claims[0].Value, "V1 (Cadena2019, 4 neurons") || !strings.Contains(res.Claims[0].Value, "IT (MajajHong2015, 3 neurons") {
		t.Errorf("claim %+v", res.Claims)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "read without a published hash (its publisher records none): "+areadata.CadenaPath) {
		t.Errorf("no note says the V1 pickle was read unverified: %q", res.Notes)
	}
	again := runOnce(both)
	if steps() != 0 {
		t.Errorf("the second run computed steps:\n%s", log.String())
	}
	if a, b := again.Values.List(), res.Values.List(); !reflect.DeepEqual(a, b) {
		t.Errorf("second run's values differ from the first's:\n%v\n%v", a, b)
	}

	// Two shards on a cache of their own compute every unit once between them; the run that
	// assembles them computes nothing and gives the one-process run's values.
	shardCache := t.TempDir()
	for _, sh := range []string{"1/2", "2/2"} {
		sp := p
		if err := configure(&sp, map[string]string{"shard": sh}); err != nil {
			t.Fatal(err)
		}
		cache, err := harness.NewCache(shardCache, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Cache: cache, Log: io.Discard}
		sres, err := run(context.Background(), env, sp)
		if err != nil {
			t.Fatal(err)
		}
		if len(sres.Values.List()) != 0 || len(sres.Claims) != 1 || sres.Claims[0].Status != harness.NotRun {
			t.Errorf("shard %s: values %v, claims %+v", sh, sres.Values.List(), sres.Claims)
		}
	}
	saveDir := cacheDir
	cacheDir = shardCache
	merged := runOnce(both)
	if steps() != 0 {
		t.Errorf("assembling the shards computed steps:\n%s", log.String())
	}
	if a, b := merged.Values.List(), res.Values.List(); !reflect.DeepEqual(a, b) {
		t.Errorf("the shards' values differ from the one-process run's:\n%v\n%v", a, b)
	}
	cacheDir = saveDir

	// Without IT's files, IT is listed as not runnable, file by file.
	for _, f := range areadata.Dataset(areadata.MajajHong2015) {
		if err := os.Remove(filepath.Join(dir, filepath.FromSlash(f.Path))); err != nil {
			t.Fatal(err)
		}
	}
	res = runOnce(both[:1])
	if steps() != 0 {
		t.Errorf("the run without IT computed steps:\n%s", log.String())
	}
	if _, ok := res.Values.Get("IT/full/median"); ok {
		t.Error("IT has a curve without its data")
	}
	it := 0
	for _, m := range res.NotRunnable {
		if strings.HasPrefix(m.Path, "$"+areadata.EnvVar+"/"+areadata.MajajHong2015+"/") && strings.Contains(m.Reason, "accuracy versus K for IT") {
			it++
		}
	}
	if want := len(areadata.Dataset(areadata.MajajHong2015)); it != want || len(res.NotRunnable) != want {
		t.Errorf("%d of IT's %d files listed as not runnable: %+v", it, want, res.NotRunnable)
	}
	if !strings.Contains(res.Claims[0].Value, "IT: not computed") {
		t.Errorf("claim %+v", res.Claims)
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

// The real areas' student is the shared compact model with K filters in layers 0-2, one output
// per neuron and Keras' initial weights, the same for the same seed.
func TestRealStudent(t *testing.T) {
	for _, k := range []int{2, 32} {
		net, err := realStudent(k, model.SharedWidth, 115, 7)
		if err != nil {
			t.Fatal(err)
		}
		if f, ok := model.SharedFilters(net); !ok || f != [model.NumLayers]int{k, k, k, model.SharedWidth, model.SharedWidth} {
			t.Errorf("K = %d: filters %v (shared compact model: %v)", k, f, ok)
		}
		if net.Input != [3]int{model.ImageSize, model.ImageSize, 3} || net.Layer("mixing_stage").Filters != 115 {
			t.Errorf("K = %d: input %v, %d outputs", k, net.Input, net.Layer("mixing_stage").Filters)
		}
		if w := net.Layer("layer0_conv").Weights[0].Data; slices.Max(w) == 0 && slices.Min(w) == 0 {
			t.Errorf("K = %d: layer 0's kernel is not initialised", k)
		}
		again, err := realStudent(k, model.SharedWidth, 115, 7)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(net, again) {
			t.Errorf("K = %d: two students of the same seed differ", k)
		}
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
