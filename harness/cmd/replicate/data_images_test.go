package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/v4data"
)

// The pixels' SHA-256 printed for a session equals the one recorded from PIL (libjpeg-turbo) by
// internal/imagezip/testdata/gen_pil_checksums.py.
func TestDataImages(t *testing.T) {
	dir := datadirtest.Dir(t)
	datadirtest.File(t, v4data.ImagesPath("190923"))
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "internal", "imagezip", "testdata", "pil_checksums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var pil struct {
		Zips map[string]struct {
			N      int    `json:"n"`
			SHA256 string `json:"sha256"`
		} `json:"zips"`
	}
	if err := json.Unmarshal(b, &pil); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "data", "images", "-data", dir, "190923")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var rep imagesReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	want := pil.Zips["images_190923.zip"]
	if rep.Images != want.N || rep.SHA256 != want.SHA256 || rep.Height != 112 || rep.Width != 112 {
		t.Errorf("got %+v, want %d images with SHA-256 %s", rep, want.N, want.SHA256)
	}
}

func TestDataImagesErrors(t *testing.T) {
	dir := datadirtest.Dir(t)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"data", "images", "-data", dir}, 2, "give one SESSION"},
		{[]string{"data", "images", "-data", dir, "999999"}, 2, "no image archive"},
		{[]string{"data", "images", "-data", t.TempDir(), "190923"}, 1, "images_190923.zip"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errs, tt.code, tt.msg)
		}
	}
}
