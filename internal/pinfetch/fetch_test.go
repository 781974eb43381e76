package pinfetch

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	f := newFetcher(Options{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, Seed: 3}, 1)
	g := newFetcher(Options{Backoff: 100 * time.Millisecond, MaxBackoff: time.Second, Seed: 3}, 1)
	for attempt, full := range []time.Duration{100, 200, 400, 800, 1000, 1000} {
		full *= time.Millisecond
		if attempt >= 4 {
			full = time.Second
		}
		d := f.delay(attempt, 0)
		if d < full/2 || d > full {
			t.Errorf("attempt %d: delay %v outside [%v, %v]", attempt, d, full/2, full)
		}
		if d2 := g.delay(attempt, 0); d2 != d {
			t.Errorf("attempt %d: same seed gave %v and %v", attempt, d, d2)
		}
	}
	if d := f.delay(0, 700*time.Millisecond); d != 700*time.Millisecond {
		t.Errorf("Retry-After 700ms: delay %v", d)
	}
	if d := f.delay(0, time.Hour); d != time.Second {
		t.Errorf("Retry-After 1h: delay %v, want the 1s cap", d)
	}
	for _, tt := range []struct {
		h    string
		want time.Duration
	}{{"3", 3 * time.Second}, {" 0 ", 0}, {"-1", 0}, {"Wed, 21 Oct 2015 07:28:00 GMT", 0}, {"", 0}} {
		if got := retryAfter(tt.h); got != tt.want {
			t.Errorf("retryAfter(%q) = %v, want %v", tt.h, got, tt.want)
		}
	}
}

func TestHashes(t *testing.T) {
	// Known values: `printf 'hello\n' | sha1sum`, `printf 'hello\n' | git hash-object --stdin`,
	// `printf 'hello\n' | md5sum` and `printf 'hello\n' | sha256sum`.
	content := []byte("hello\n")
	for _, tt := range []struct {
		h    Hash
		want string
	}{
		{PlainSHA1, "f572d396fae9206628714fb2ce00f72e94f2258f"},
		{GitBlobSHA1, "ce013625030ba8dba906f756967f9e9ca394464a"},
		{MD5, "b1946ac92492d2347c6235b4d2611184"},
		{SHA256, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"},
	} {
		if got := tt.h.Bytes(content); got != tt.want {
			t.Errorf("%v of %q = %s, want %s", tt.h, content, got, tt.want)
		}
		name := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(name, content, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, n, err := tt.h.File(name); err != nil || got != tt.want || n != int64(len(content)) {
			t.Errorf("%v.File = %s, %d, %v; want %s, %d", tt.h, got, n, err, tt.want, len(content))
		}
	}
}

// TestFetchPlainSHA1 fetches files pinned by plain SHA-1s from per-file URLs: a valid body is
// moved into place, a corrupt one never is, and a file already valid is not requested.
func TestFetchPlainSHA1(t *testing.T) {
	good, bad := []byte("good content\n"), []byte("served wrong\n")
	requests := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests[r.URL.Path]++
		switch r.URL.Path {
		case "/a/good.bin":
			w.Write(good)
		case "/b/bad.bin":
			w.Write(bad)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	files := []File{
		{Path: "x/good.bin", URL: srv.URL + "/a/good.bin", SHA1: PlainSHA1.Bytes(good), Hash: PlainSHA1, Size: -1},
		{Path: "bad.bin", URL: srv.URL + "/b/bad.bin", SHA1: PlainSHA1.Bytes(good), Hash: PlainSHA1, Size: int64(len(good))},
	}
	opts := Options{Dir: dir, Source: "test server", Parallel: 1, Retries: -1}
	sum, err := Fetch(context.Background(), files, opts)
	if err == nil || len(sum.Downloaded) != 1 || sum.Downloaded[0] != "x/good.bin" || len(sum.Failed) != 1 {
		t.Fatalf("summary %+v, error %v", sum, err)
	}
	var cerr *CorruptDownloadError
	if !errors.As(sum.Failed[0].Err, &cerr) || cerr.Path != "bad.bin" || cerr.Hash != PlainSHA1 {
		t.Errorf("failure %v, want a CorruptDownloadError for bad.bin", sum.Failed[0].Err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "x", "good.bin")); err != nil || !bytes.Equal(b, good) {
		t.Errorf("good.bin: %q, %v", b, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("data directory holds %d entries, want only x/ (no temporary or corrupt file)", len(ents))
	}
	sum, _ = Fetch(context.Background(), files[:1], opts)
	if sum.AlreadyValid != 1 || requests["/a/good.bin"] != 1 {
		t.Errorf("second fetch: %+v, %d requests", sum, requests["/a/good.bin"])
	}
}
