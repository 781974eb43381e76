package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/keras"
	"compactv4/internal/model"
)

// inspect runs `replicate model inspect args...`, which must succeed, and decodes its JSON.
func inspect(t *testing.T, args ...string) inspectReport {
	t.Helper()
	code, out, errOut := runCLI(t, append([]string{"model", "inspect"}, args...)...)
	if code != 0 {
		t.Fatalf("model inspect %v: exit %d: %s", args, code, errOut)
	}
	var rep inspectReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("model inspect %v: %v\n%s", args, err, out)
	}
	return rep
}

// kerasFixture is a synthetic weights file of internal/keras's tests.
func kerasFixture(name string) string {
	return filepath.Join("..", "..", "..", "internal", "keras", "testdata", name)
}

func countKind(rep inspectReport, kind string) int {
	n := 0
	for _, l := range rep.Layers {
		if l.Kind == kind {
			n++
		}
	}
	return n
}

func TestModelInspectRealFiles(t *testing.T) {
	const stem = "compact_model_211022_neuron27"
	dir := "data_compact_models/"
	sumFile := datadirtest.File(t, dir+"model_summaries/"+stem+".txt")
	f, err := os.Open(sumFile)
	if err != nil {
		t.Fatal(err)
	}
	sums, err := keras.ParseSummaries(f)
	f.Close()
	if err != nil || len(sums) != 1 {
		t.Fatalf("summary: %v (%d)", err, len(sums))
	}
	want := sums[0]

	files := map[string]string{
		"keras":      datadirtest.File(t, dir+"models_keras/"+stem+".keras"),
		"weights.h5": datadirtest.File(t, dir+"model_weights_h5/"+stem+".weights.h5"),
		"npy":        datadirtest.File(t, dir+"model_weights_npy/"+stem+".npy"),
		"pt":         datadirtest.File(t, dir+"models_torch/"+stem+".pt"),
	}
	reps := map[string]inspectReport{}
	for format, path := range files {
		rep := inspect(t, path)
		if rep.File != path || rep.Format != format || rep.Architecture != "compact" {
			t.Errorf("%s: file %q format %q architecture %q", format, rep.File, rep.Format, rep.Architecture)
		}
		if rep.TotalParams != want.Total || rep.TrainableParams != want.Trainable || rep.NonTrainableParams != want.NonTrainable {
			t.Errorf("%s: params %d/%d/%d, summary %d/%d/%d", format, rep.TotalParams, rep.TrainableParams, rep.NonTrainableParams,
				want.Total, want.Trainable, want.NonTrainable)
		}
		// The summary's per-layer counts, in order (its first row is the InputLayer).
		if len(want.Layers) != len(rep.Layers)+1 {
			t.Fatalf("%s: %d layers, summary %d rows", format, len(rep.Layers), len(want.Layers))
		}
		for i, l := range rep.Layers {
			row := want.Layers[i+1]
			if !strings.HasPrefix(row.Name, l.Name+" ("+l.Kind+")") || row.Params != l.Params {
				t.Errorf("%s: layer %s (%s) %d params, summary row %q %d", format, l.Name, l.Kind, l.Params, row.Name, row.Params)
			}
		}
		reps[format] = rep
	}
	if v := reps["keras"].KerasVersion; v != "3.1.1" {
		t.Errorf("keras_version %q", v)
	}
	if !reflect.DeepEqual(reps["keras"].Filters, []int{15, 3, 3, 7, 4}) {
		t.Errorf("filters %v", reps["keras"].Filters)
	}
	if n := reps["pt"].Notes; len(n) != 1 || !strings.Contains(n[0], "shifted back by 0.001") {
		t.Errorf("pt notes %q", n)
	}
	// Every format describes the same layers.
	for format, rep := range reps {
		if !reflect.DeepEqual(rep.Layers, reps["keras"].Layers) || !reflect.DeepEqual(rep.InputShape, []int{112, 112, 3}) {
			t.Errorf("%s: layers or input differ from the .keras file's", format)
		}
	}
	// -filters as a file and as a list give the same report as the file found beside the .npy.
	for _, flag := range []string{datadirtest.File(t, dir+"nums_filters/"+stem+".npy"), "15,3,3,7,4"} {
		rep := inspect(t, "-filters", flag, files["npy"])
		if rep.TotalParams != want.Total || !reflect.DeepEqual(rep.Layers, reps["npy"].Layers) {
			t.Errorf("-filters %s: a different report", flag)
		}
	}
	code, _, errOut := runCLI(t, "model", "inspect", "-filters", "15,3,4,7,4", files["npy"])
	if code != 1 || !strings.Contains(errOut, "do not fit a compact model with filters [15 3 4 7 4]") {
		t.Errorf("wrong -filters: exit %d, %s", code, errOut)
	}
}

func TestModelInspectShared(t *testing.T) {
	path := datadirtest.File(t, "data_shared_compact_models/linear_from_ensemble_model/shared_compact_model_5filters.keras")
	rep := inspect(t, path)
	if rep.Architecture != "shared" || rep.TotalParams != 208909 || !reflect.DeepEqual(rep.Filters, []int{5, 5, 5, 100, 100}) {
		t.Errorf("architecture %q, total %d, filters %v", rep.Architecture, rep.TotalParams, rep.Filters)
	}
	if n := countKind(rep, "Activation"); n != 0 {
		t.Errorf("%d activation layers in the linear model", n)
	}
	if last := rep.Layers[len(rep.Layers)-1]; !reflect.DeepEqual(last.OutputShape, []int{219}) {
		t.Errorf("output shape %v", last.OutputShape)
	}
}

// TestModelInspectSynthetic runs on the synthetic files of internal/keras (no data needed).
func TestModelInspectSynthetic(t *testing.T) {
	rep := inspect(t, kerasFixture("compact_tiny.weights.h5"))
	if rep.Architecture != "compact" || rep.TotalParams != model.CompactParams([5]int{2, 3, 2, 2, 1}) {
		t.Errorf("compact: architecture %q total %d", rep.Architecture, rep.TotalParams)
	}
	if rep.NonTrainableParams != 2*(2+3+2+2+1) || rep.TrainableParams+rep.NonTrainableParams != rep.TotalParams {
		t.Errorf("compact: trainable %d non-trainable %d", rep.TrainableParams, rep.NonTrainableParams)
	}
	for _, tc := range []struct {
		args []string
		acts int
	}{
		{[]string{kerasFixture("shared_linear.weights.h5")}, 0},
		{[]string{kerasFixture("shared_relu.weights.h5")}, 5},
		{[]string{"-activation", "relu", kerasFixture("shared_linear.weights.h5")}, 5},
		{[]string{"-activation", "linear", kerasFixture("shared_bare.weights.h5")}, 0},
	} {
		rep := inspect(t, tc.args...)
		if rep.Architecture != "shared" || countKind(rep, "Activation") != tc.acts || !reflect.DeepEqual(rep.Filters, []int{2, 2, 2, 100, 100}) {
			t.Errorf("%v: architecture %q, %d activations, filters %v", tc.args, rep.Architecture, countKind(rep, "Activation"), rep.Filters)
		}
	}
	// Content sniffing: an HDF5 file without the extension.
	b, err := os.ReadFile(kerasFixture("compact_tiny.weights.h5"))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "model.bin")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if rep := inspect(t, p); rep.Format != "weights.h5" || rep.TotalParams != model.CompactParams([5]int{2, 3, 2, 2, 1}) {
		t.Errorf("sniffed: format %q total %d", rep.Format, rep.TotalParams)
	}
}

func TestModelInspectErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bad := write("bad.keras", "this is not a zip archive")
	npyNoFilters := write("lonely.npy", "\x93NUMPY")
	unknown := write("model.dat", "hello")
	tests := []struct {
		args []string
		code int
		errs []string
	}{
		{[]string{bad}, 1, []string{"read " + bad + " (keras): keras archive: not a readable zip"}},
		{[]string{"-format", "weights.h5", bad}, 1, []string{"(weights.h5): weights file: hdf5"}},
		{[]string{filepath.Join(dir, "missing.keras")}, 1, []string{"no such file"}},
		{[]string{dir}, 1, []string{"is a directory"}},
		{[]string{npyNoFilters}, 1, []string{"needs the filter counts", "-filters"}},
		{[]string{"-filters", "1,2,3", npyNoFilters}, 2, []string{"want 5 comma-separated counts"}},
		{[]string{"-filters", filepath.Join(dir, "none.npy"), npyNoFilters}, 1, []string{"filter counts: open"}},
		{[]string{unknown}, 1, []string{"cannot tell the model format", "-format"}},
		{[]string{"-format", "onnx", unknown}, 2, []string{`unknown model format "onnx"`}},
		{[]string{"-activation", "tanh", bad}, 2, []string{`-activation "tanh"`}},
		{nil, 2, []string{"want one model file"}},
		{[]string{bad, bad}, 2, []string{"unexpected arguments"}},
		{[]string{"-h"}, 0, []string{"usage: replicate model inspect", "-filters", ".weights.h5"}},
		{[]string{"-nope"}, 2, []string{"flag provided but not defined"}},
	}
	for _, tc := range tests {
		code, out, errOut := runCLI(t, append([]string{"model", "inspect"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d (stderr %q)", tc.args, code, tc.code, errOut)
		}
		if code != 0 && out != "" {
			t.Errorf("%v: stdout %q on failure", tc.args, out)
		}
		for _, s := range tc.errs {
			if !strings.Contains(errOut, s) {
				t.Errorf("%v: stderr %q lacks %q", tc.args, errOut, s)
			}
		}
	}
	code, out, _ := runCLI(t, "model", "-h")
	if code != 0 || !strings.Contains(out, "inspect") {
		t.Errorf("model -h: exit %d, %q", code, out)
	}
}

func TestModelVerbTable(t *testing.T) {
	if len(modelVerbs) == 0 {
		t.Fatal("no model sub-verbs")
	}
	for n, v := range modelVerbs {
		if v.name != n || v.summary == "" || v.run == nil || strings.HasSuffix(v.summary, ".") {
			t.Errorf("model %s: bad entry %+v", n, v)
		}
	}
}
