package main

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/imagezip"
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

// The same for a shared compact model (219 outputs) on a directory holding the first 16 images
// of session 190923, extracted from the archive: the columns are named by the neurons the
// outputs predict, and the values are the evaluation layer's.
func TestPredictSharedMatchesEval(t *testing.T) {
	dir := datadirtest.Dir(t)
	const teacher, k, n = "from_ensemble_model", 10, 16
	zipPath := datadirtest.File(t, v4data.ImagesPath("190923"))
	modelPath := datadirtest.File(t, v4data.SharedPath(teacher, k))
	s, err := v4data.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	net, err := v4data.LoadShared(s, teacher, k)
	if err != nil {
		t.Fatal(err)
	}
	im, err := v4data.LoadImages(s, "190923", n)
	if err != nil {
		t.Fatal(err)
	}
	want, err := eval.NewShared(teacher, k, net).Predict(im.Pix, n)
	if err != nil {
		t.Fatal(err)
	}

	imgDir := t.TempDir()
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for i := 0; i < n; i++ {
		name := imagezip.EntryName(i)
		var found bool
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, "/"+name) || f.Name == name {
				rc, err := f.Open()
				if err != nil {
					t.Fatal(err)
				}
				b, err := io.ReadAll(rc)
				rc.Close()
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(imgDir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("no %s in %s", name, zipPath)
		}
	}

	prefix := filepath.Join(t.TempDir(), "shared")
	if code, _, errs := runCLI(t, "predict", "-o", prefix, modelPath, imgDir); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
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
	if len(shape) != 2 || shape[0] != n || shape[1] != v4data.SharedOutputs {
		t.Fatalf("shape %v", shape)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d (image %d, output %d): replicate predict %v, eval %v", i, i/shape[1], i%shape[1], got[i], want[i])
		}
	}
	b, err := os.ReadFile(prefix + ".csv")
	if err != nil {
		t.Fatal(err)
	}
	header := strings.SplitN(string(b), "\n", 2)[0]
	if !strings.HasPrefix(header, "image,190923_neuron0,190923_neuron1,") || strings.Count(header, ",") != v4data.SharedOutputs {
		t.Errorf("CSV header %.120q...", header)
	}
}
