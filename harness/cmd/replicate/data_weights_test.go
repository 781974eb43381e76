package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/kerasweights"
	"compactv4/internal/pinfetch"
)

// data fetch -weights downloads the pinned weight files into -weights DIR (or -weights=DIR),
// verified by MD5, and prints the SHA-256 of a file whose SHA-256 is not pinned; a file served
// corrupt is named and not kept.
func TestDataFetchWeights(t *testing.T) {
	good, bad := []byte("weights of a good file"), []byte("weights of a bad file")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/good_notop.h5":
			w.Write(good)
		case "/bad_notop.h5":
			w.Write(bad)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	files := []kerasweights.File{
		{Network: "Good", Name: "good_notop.h5", URL: srv.URL + "/good_notop.h5", MD5: pinfetch.MD5.Bytes(good)},
		{Network: "Bad", Name: "bad_notop.h5", URL: srv.URL + "/bad_notop.h5", MD5: pinfetch.MD5.Bytes(good)},
	}
	defer func(old func() []kerasweights.File) { weightFiles = old }(weightFiles)

	weightFiles = func() []kerasweights.File { return files[:1] }
	for _, form := range [][]string{{"-weights", "DIR"}, {"-weights=DIR"}} {
		dir := filepath.Join(t.TempDir(), "models")
		args := []string{"data", "fetch", "-retries", "0"}
		for _, a := range form {
			args = append(args, strings.ReplaceAll(a, "DIR", dir))
		}
		code, out, errs := runCLI(t, args...)
		if code != 0 || !strings.Contains(out, "1 downloaded") || !strings.Contains(out, dir) {
			t.Fatalf("%q: exit %d\n%s%s", args, code, out, errs)
		}
		if b, err := os.ReadFile(filepath.Join(dir, "good_notop.h5")); err != nil || string(b) != string(good) {
			t.Errorf("%q: %q, %v", args, b, err)
		}
		// Its SHA-256 is not pinned: the one computed is printed, to be recorded.
		if want := "sha256 of " + filepath.Join(dir, "good_notop.h5") + ": " + pinfetch.SHA256.Bytes(good); !strings.Contains(out, want) {
			t.Errorf("%q: output lacks %q:\n%s", args, want, out)
		}
	}

	weightFiles = func() []kerasweights.File { return files }
	dir := t.TempDir()
	code, out, errs := runCLI(t, "data", "fetch", "-retries", "0", "-weights", dir)
	if code != 1 || !strings.Contains(out, "1 failed") || !strings.Contains(errs, "corrupt download of bad_notop.h5") {
		t.Errorf("corrupt: exit %d\n%s%s", code, out, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad_notop.h5")); err == nil {
		t.Error("corrupt file kept")
	}

	for _, args := range [][]string{
		{"data", "fetch", "-weights", "a", "b"},
		{"data", "fetch", "somewhere"},
		{"data", "fetch", "-weights=a", "b"},
		{"data", "fetch", "-weights", "-profile", "full"},
	} {
		if code, _, errs := runCLI(t, args...); code != 2 || !(strings.Contains(errs, "unexpected argument") || strings.Contains(errs, "cannot be combined with -profile")) {
			t.Errorf("%q: exit %d, %s", args, code, errs)
		}
	}
}
