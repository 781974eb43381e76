package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// `replicate predict` on a published compact model and its session's image archive gives, image
// for image, exactly the predictions of the evaluation layer (eval.NewCompact on the images
// v4data.LoadImages decodes), which every experiment uses.
func TestPredictMatchesEval(t *testing.T) {
	dir := datadirtest.Dir(t)
	const session = "190923"
	id := v4data.CompactID{Session: session, Neuron: 3}
	zipPath := datadirtest.File(t, v4data.ImagesPath(session))
	modelPath := datadirtest.File(t, v4data.FormatKeras.CompactPath(id))

	s, err := v4data.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	net, err := v4data.LoadCompact(s, id, v4data.FormatKeras)
	if err != nil {
		t.Fatal(err)
	}
	im, err := v4data.LoadImages(s, session, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := eval.NewCompact(id, net).Predict(im.Pix, im.N)
	if err != nil {
		t.Fatal(err)
	}

	prefix := filepath.Join(t.TempDir(), "pred")
	code, out, errs := runCLI(t, "predict", "-o", prefix, modelPath, zipPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, fmt.Sprintf("predicted %d images × 1 outputs", im.N)) {
		t.Errorf("stdout %q", out)
	}
	f, err := os.Open(prefix + ".npy")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	shape, got, err := npy.ReadFloat32(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(shape) != 2 || shape[0] != im.N || shape[1] != 1 {
		t.Fatalf("shape %v, want [%d 1]", shape, im.N)
	}
	cf, err := os.Open(prefix + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	rows, err := csv.NewReader(cf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != im.N+1 || strings.Join(rows[0], ",") != "image,190923_neuron3" {
		t.Fatalf("CSV: %d rows, header %q", len(rows), rows[0])
	}
	for k := range want {
		// The archive's names sort in image order (image0001.jpg, ...).
		if name := rows[k+1][0]; !strings.Contains(name, fmt.Sprintf("image%04d.jpg", k+1)) {
			t.Fatalf("CSV row %d is %q", k+1, name)
		}
		if got[k] != want[k] {
			t.Fatalf("image %d: replicate predict %v, eval %v", k, got[k], want[k])
		}
	}
	t.Logf("%d images identical to the evaluation layer's predictions", im.N)
}

func TestPredictUsage(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "model.bin")
	if err := os.WriteFile(junk, []byte("junk"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"predict", "-h"}, 0, "sorted by byte value"},
		{[]string{"predict"}, 2, "want a model file and images"},
		{[]string{"predict", "a", "b", "c"}, 2, "unexpected arguments"},
		{[]string{"predict", "-activation", "tanh", "a", "b"}, 2, `-activation "tanh"`},
		{[]string{"predict", junk, dir}, 1, "use -format"},
		{[]string{"predict", "-format", "zz", junk, dir}, 2, "zz"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.want)
		}
	}
}
