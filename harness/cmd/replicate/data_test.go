package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/internal/datadir"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/v4data"
)

// fakeUpstream replaces the pinned manifest by a synthetic one (30 files in data_a/, 3 in
// data_b/, README.md, one code file) served by a test server; it returns the server's URL and
// the files.
func fakeUpstream(t *testing.T) (url string, files map[string][]byte) {
	t.Helper()
	files = map[string][]byte{"README.md": []byte("readme\n"), "code/x.py": []byte("pass\n")}
	for i := range 30 {
		files[fmt.Sprintf("data_a/f%02d.npy", i)] = []byte(strings.Repeat(fmt.Sprint(i), 100+i))
	}
	for i := range 3 {
		files[fmt.Sprintf("data_b/g%d.txt", i)] = []byte(fmt.Sprintf("g%d\n", i))
	}
	var entries []v4data.Entry
	for p, b := range files {
		entries = append(entries, v4data.Entry{Path: p, SHA1: v4data.BlobSHA1Bytes(b), Size: int64(len(b))})
	}
	slices.SortFunc(entries, func(a, b v4data.Entry) int { return strings.Compare(a.Path, b.Path) })
	m, err := v4data.NewManifest(entries)
	if err != nil {
		t.Fatal(err)
	}
	old := pinnedManifest
	pinnedManifest = func() (*v4data.Manifest, error) { return m, nil }
	t.Cleanup(func() { pinnedManifest = old })
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, "/")
		if b, ok := files[p]; ok && p != "data_b/g2.txt" { // g2 is "lost" upstream
			w.Write(b)
			return
		}
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, files
}

func TestDataFetchAndVerify(t *testing.T) {
	url, files := fakeUpstream(t)
	dir := filepath.Join(t.TempDir(), "new", "data")

	// g2.txt is 404 upstream: the fetch fails, naming it, but keeps the rest.
	code, out, errs := runCLI(t, "data", "fetch", "-profile", "full", "-data", dir, "-base-url", url, "-q")
	if code != 1 || !strings.Contains(out, "34 files, 33 downloaded") || !strings.Contains(errs, "data_b/g2.txt: GET "+url+"/data_b/g2.txt: 404") {
		t.Fatalf("fetch: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "code", "x.py")); err == nil {
		t.Error("fetched a code file")
	}

	// Verify: 33 valid, one missing (listed with its hash), exit 0.
	code, out, errs = runCLI(t, "data", "verify", "-data", dir)
	if code != 0 {
		t.Fatalf("verify: exit %d\n%s%s", code, out, errs)
	}
	g2 := v4data.BlobSHA1Bytes(files["data_b/g2.txt"])
	for _, w := range []string{"profile full (34 files)", "valid    33\n", "corrupt  0\n", "missing  1\n", "extra    0\n",
		"missing, needed by profile full (1)", "data fetch -profile full -data " + dir, "data_b/g2.txt  (git blob " + g2 + ", 3 bytes)"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q:\n%s", w, out)
		}
	}

	// Damage one file, delete 25, add a stray one.
	bad := filepath.Join(dir, "data_a", "f07.npy")
	if err := os.WriteFile(bad, []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 10; i < 30; i++ {
		os.Remove(filepath.Join(dir, "data_a", fmt.Sprintf("f%02d.npy", i)))
	}
	if err := os.WriteFile(filepath.Join(dir, "data_b", "stray"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runCLI(t, "data", "verify", "-data", dir)
	if code != 1 {
		t.Errorf("verify with a corrupt file: exit %d", code)
	}
	for _, w := range []string{"valid    12\n", "corrupt  1\n", "missing  21\n", "extra    1\n",
		"data_a/f07.npy: git blob SHA-1 " + v4data.BlobSHA1Bytes([]byte("damaged")) + ", want " + v4data.BlobSHA1Bytes(files["data_a/f07.npy"]),
		"data_a/   ", "20 files", "data_b/   ", "1 files", "(-v lists every file)", "data_b/stray"} {
		if !strings.Contains(out, w) {
			t.Errorf("verify output lacks %q:\n%s", w, out)
		}
	}
	if !strings.Contains(errs, "replicate: 1 corrupt file(s) in "+dir) {
		t.Errorf("stderr: %s", errs)
	}
	_, out, _ = runCLI(t, "data", "verify", "-data", dir, "-v")
	if !strings.Contains(out, "data_a/f29.npy  (git blob") || strings.Contains(out, "-v lists") {
		t.Errorf("verify -v does not list every file:\n%s", out)
	}

	// Fetch again: the corrupt file is replaced, the deleted ones come back, valid ones stay.
	code, out, _ = runCLI(t, "data", "fetch", "-profile", "full", "-data", dir, "-base-url", url, "-q", "-retries", "0")
	if code != 1 || !strings.Contains(out, "21 downloaded") || !strings.Contains(out, "1 replacing corrupt") || !strings.Contains(out, "12 already valid") {
		t.Errorf("second fetch: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "data", "verify", "-data", dir, "-profile", "full")
	if code != 0 || !strings.Contains(out, "valid    33\n") || !strings.Contains(out, "corrupt  0\n") {
		t.Errorf("verify after re-fetch: exit %d\n%s", code, out)
	}
}

// Without -data, fetch uses $V4DATA, else the project's default, and creates it.
func TestFetchDir(t *testing.T) {
	t.Setenv(datadir.EnvVar, "")
	root, err := datadir.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fetchDir(""), filepath.Join(root, datadir.Default); got != want {
		t.Errorf("fetchDir() = %q, want %q", got, want)
	}
	t.Setenv(datadir.EnvVar, "/from/env")
	if got := fetchDir(""); got != "/from/env" {
		t.Errorf("fetchDir() with $V4DATA = %q", got)
	}
	if got := fetchDir("/flag"); got != "/flag" {
		t.Errorf("fetchDir(/flag) = %q", got)
	}

	url, _ := fakeUpstream(t)
	dir := filepath.Join(t.TempDir(), "env")
	t.Setenv(datadir.EnvVar, dir)
	if code, out, errs := runCLI(t, "data", "fetch", "-profile", "full", "-base-url", url, "-q"); code != 1 || !strings.Contains(out, "into "+dir) {
		t.Errorf("fetch into $V4DATA: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := runCLI(t, "data", "verify"); code != 0 || !strings.Contains(out, "data directory "+dir) {
		t.Errorf("verify of $V4DATA: exit %d\n%s", code, out)
	}
}

// The real data directory, read only.
func TestDataVerifyRealData(t *testing.T) {
	dir := datadirtest.Dir(t)
	code, out, errs := runCLI(t, "data", "verify", "-data", dir, "-profile", "quick")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if !strings.Contains(out, "profile quick (1352 files)") || !strings.Contains(out, "corrupt  0\n") {
		t.Errorf("output:\n%s", out)
	}
	t.Logf("\n%s", out)
}
