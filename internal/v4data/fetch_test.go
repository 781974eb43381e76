package v4data

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// mirror is a synthetic upstream: a manifest computed from generated files, served over HTTP by a
// handler whose behaviour per path and attempt the test chooses.
type mirror struct {
	files    map[string][]byte
	manifest *Manifest
	srv      *httptest.Server

	mu       sync.Mutex
	requests map[string]int
	// behave, when it returns true, has answered the request itself (attempt counts from 1).
	behave func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool
}

// mirrorFiles are the synthetic files; "data_b/big.bin" has an unknown size in the manifest,
// "classes/code.py" is not data and must never be fetched.
func mirrorFiles() map[string][]byte {
	rng := rand.New(rand.NewPCG(7, 7))
	big := make([]byte, 300_000)
	for i := range big {
		big[i] = byte(rng.Uint32())
	}
	return map[string][]byte{
		"README.md":         []byte("synthetic upstream\n"),
		"LICENSE":           []byte("no licence\n"),
		"data_a/readme.txt": []byte("folder a\n"),
		"data_a/x.npy":      bytes.Repeat([]byte("x.npy content "), 5000),
		"data_a/sub/y.zip":  []byte{},
		"data_b/big.bin":    big,
		"classes/code.py":   []byte("print('not data')\n"),
	}
}

func newMirror(t *testing.T) *mirror {
	t.Helper()
	mr := &mirror{files: mirrorFiles(), requests: map[string]int{}}
	var entries []Entry
	for p, b := range mr.files {
		e := Entry{Path: p, SHA1: BlobSHA1Bytes(b), Size: int64(len(b))}
		if p == "data_b/big.bin" {
			e.Size = UnknownSize
		}
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	var err error
	if mr.manifest, err = NewManifest(entries); err != nil {
		t.Fatal(err)
	}
	mr.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := strings.CutPrefix(r.URL.Path, "/repo/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		mr.mu.Lock()
		mr.requests[p]++
		attempt := mr.requests[p]
		behave := mr.behave
		mr.mu.Unlock()
		if behave != nil && behave(w, r, p, attempt) {
			return
		}
		b, ok := mr.files[p]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b)
	}))
	t.Cleanup(mr.srv.Close)
	return mr
}

func (mr *mirror) count(p string) int {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	return mr.requests[p]
}

func (mr *mirror) total() int {
	mr.mu.Lock()
	defer mr.mu.Unlock()
	n := 0
	for _, c := range mr.requests {
		n += c
	}
	return n
}

func (mr *mirror) options(dir string) Options {
	return Options{
		Dir: dir, Profile: ProfileFull, Manifest: mr.manifest, BaseURL: mr.srv.URL + "/repo/",
		Parallel: 3, Retries: 3, Backoff: time.Millisecond, MaxBackoff: 4 * time.Millisecond,
		Seed: 1, Client: mr.srv.Client(),
	}
}

var dataPaths = []string{"LICENSE", "README.md", "data_a/readme.txt", "data_a/sub/y.zip", "data_a/x.npy", "data_b/big.bin"}

// checkDir asserts that dir holds exactly the given manifest files, each valid, and nothing else
// (in particular no temporary file).
func checkDir(t *testing.T, mr *mirror, dir string, want []string) {
	t.Helper()
	var got []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		got = append(got, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if e, ok := mr.manifest.Lookup(rel); !ok || BlobSHA1Bytes(b) != e.SHA1 {
			t.Errorf("%s is in the directory and is not a valid manifest file", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("directory holds %v, want %v", got, want)
	}
}

func without(paths []string, drop string) []string {
	return slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return p == drop })
}

func TestFetchGoodMirror(t *testing.T) {
	mr := newMirror(t)
	dir := filepath.Join(t.TempDir(), "created", "by", "fetch")
	var progress bytes.Buffer
	opts := mr.options(dir)
	opts.Progress = &progress
	sum, err := Fetch(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sum.Downloaded, dataPaths) || sum.AlreadyValid != 0 || len(sum.Failed) != 0 || sum.Files != 6 {
		t.Errorf("summary %+v", sum)
	}
	var bytes int64
	for _, p := range dataPaths {
		bytes += int64(len(mr.files[p]))
	}
	if sum.Bytes != bytes {
		t.Errorf("Bytes = %d, want %d", sum.Bytes, bytes)
	}
	checkDir(t, mr, dir, dataPaths)
	if mr.count("classes/code.py") != 0 {
		t.Error("fetched a code file")
	}
	rep, err := Verify(dir, mr.manifest, VerifyOptions{})
	if err != nil || rep.Count(Valid) != 6 || len(rep.Extra) != 0 {
		t.Errorf("Verify after fetch: %d valid, extra %v, %v", rep.Count(Valid), rep.Extra, err)
	}
	for _, want := range []string{"downloaded data_a/x.npy", "6 downloaded", "0 failed"} {
		if !strings.Contains(progress.String(), want) {
			t.Errorf("progress lacks %q:\n%s", want, progress.String())
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, "README.md")); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("README.md mode: %v, %v", fi.Mode(), err)
	}

	// Everything present and valid: nothing is requested again.
	before := mr.total()
	sum, err = Fetch(context.Background(), mr.options(dir))
	if err != nil || sum.AlreadyValid != 6 || len(sum.Downloaded) != 0 {
		t.Errorf("second fetch: %+v, %v", sum, err)
	}
	if mr.total() != before {
		t.Errorf("second fetch made %d requests", mr.total()-before)
	}
}

func TestFetchSkipsValidAndReplacesCorrupt(t *testing.T) {
	mr := newMirror(t)
	dir := t.TempDir()
	writeFile(t, dir, "data_a/x.npy", mr.files["data_a/x.npy"])
	writeFile(t, dir, "README.md", []byte("corrupted readme\n"))
	sum, err := Fetch(context.Background(), mr.options(dir))
	if err != nil {
		t.Fatal(err)
	}
	if mr.count("data_a/x.npy") != 0 {
		t.Error("a valid file was requested again")
	}
	if mr.count("README.md") != 1 || sum.Replaced != 1 || sum.AlreadyValid != 1 || len(sum.Downloaded) != 5 {
		t.Errorf("summary %+v, README requests %d", sum, mr.count("README.md"))
	}
	checkDir(t, mr, dir, dataPaths)
}

// flip returns b with one byte changed.
func flip(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0x20
	return c
}

func TestFetchCorruptServer(t *testing.T) {
	tests := []struct {
		name, path string
		body       func([]byte) []byte
		attempts   int // requests expected
		want       []string
	}{
		// Size known from the manifest: a wrong hash is corruption, never retried.
		{"flipped byte", "data_a/x.npy", flip, 1, []string{"corrupt download of data_a/x.npy", "pinned "}},
		{"too long", "data_a/x.npy", func(b []byte) []byte { return append(b, '!') }, 1, []string{"corrupt download", "longer than"}},
		// Unknown size in the manifest but a Content-Length: still not retried.
		{"flipped, size unknown", "data_b/big.bin", flip, 1, []string{"corrupt download of data_b/big.bin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mr := newMirror(t)
			mr.behave = func(w http.ResponseWriter, r *http.Request, p string, attempt int) bool {
				if p != tt.path {
					return false
				}
				b := tt.body(mr.files[p])
				w.Header().Set("Content-Length", strconv.Itoa(len(b)))
				w.Write(b)
				return true
			}
			dir := t.TempDir()
			sum, err := Fetch(context.Background(), mr.options(dir))
			if err == nil {
				t.Fatal("Fetch succeeded")
			}
			e, _ := mr.manifest.Lookup(tt.path)
			for _, w := range append(tt.want, tt.path, e.SHA1, "1 of 6 files failed") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			var ce *CorruptDownloadError
			if len(sum.Failed) != 1 || !errors.As(sum.Failed[0].Err, &ce) || ce.Want != e.SHA1 {
				t.Errorf("Failed = %v", sum.Failed)
			}
			if got := mr.count(tt.path); got != tt.attempts {
				t.Errorf("%d requests, want %d", got, tt.attempts)
			}
			checkDir(t, mr, dir, without(dataPaths, tt.path))
		})
	}
}

// A body without any length to check (chunked, size unknown) that hashes wrong may be a silent
// truncation: it is retried, a bounded number of times.
func TestFetchCorruptUnknownLengthRetriesBounded(t *testing.T) {
	mr := newMirror(t)
	const p = "data_b/big.bin"
	mr.behave = func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool {
		if path != p {
			return false
		}
		w.Write(flip(mr.files[p])) // no Content-Length: chunked
		return true
	}
	dir := t.TempDir()
	opts := mr.options(dir)
	opts.Retries = 2
	_, err := Fetch(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "corrupt download of "+p) || !strings.Contains(err.Error(), "gave up after 3 attempts") {
		t.Fatalf("Fetch: %v", err)
	}
	if got := mr.count(p); got != 3 {
		t.Errorf("%d requests, want 3", got)
	}
	checkDir(t, mr, dir, without(dataPaths, p))
}

// hijackHalf writes the headers announcing the whole body, then half of it, and drops the
// connection.
func hijackHalf(t *testing.T, w http.ResponseWriter, b []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		t.Error("cannot hijack")
		return
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		t.Error(err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nContent-Type: application/octet-stream\r\n\r\n", len(b))
	buf.Write(b[:len(b)/2])
	buf.Flush()
}

func TestFetchDroppedConnection(t *testing.T) {
	for _, p := range []string{"data_a/x.npy", "data_b/big.bin"} {
		t.Run(p+"/recovers", func(t *testing.T) {
			mr := newMirror(t)
			mr.behave = func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool {
				if path != p || attempt > 1 {
					return false
				}
				hijackHalf(t, w, mr.files[p])
				return true
			}
			dir := t.TempDir()
			var progress bytes.Buffer
			opts := mr.options(dir)
			opts.Progress = &progress
			if _, err := Fetch(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
			if got := mr.count(p); got != 2 {
				t.Errorf("%d requests, want 2", got)
			}
			if !strings.Contains(progress.String(), "retry "+p) {
				t.Errorf("progress does not show the retry:\n%s", progress.String())
			}
			checkDir(t, mr, dir, dataPaths)
		})
		t.Run(p+"/keeps dropping", func(t *testing.T) {
			mr := newMirror(t)
			mr.behave = func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool {
				if path != p {
					return false
				}
				hijackHalf(t, w, mr.files[p])
				return true
			}
			dir := t.TempDir()
			sum, err := Fetch(context.Background(), mr.options(dir))
			if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "gave up after 4 attempts") || !strings.Contains(err.Error(), "unexpected EOF") {
				t.Fatalf("Fetch: %v", err)
			}
			if got := mr.count(p); got != 4 || len(sum.Failed) != 1 || len(sum.Downloaded) != 5 {
				t.Errorf("%d requests, summary %+v", got, sum)
			}
			checkDir(t, mr, dir, without(dataPaths, p))
		})
	}
}

func TestFetchHTTPStatus(t *testing.T) {
	tests := []struct {
		name     string
		codes    []int // answers of the first attempts, then the file
		retries  int
		requests int
		wantErr  string // "" for success
	}{
		{"404 is not retried", []int{404}, 3, 1, "404 Not Found"},
		{"403 is not retried", []int{403}, 3, 1, "403 Forbidden"},
		{"503 then success", []int{503}, 3, 2, ""},
		{"429 then success", []int{429}, 3, 2, ""},
		{"500 502 504 then success", []int{500, 502, 504}, 3, 4, ""},
		{"503 forever", []int{503, 503, 503, 503, 503}, 3, 4, "gave up after 4 attempts"},
		{"no retries", []int{503}, -1, 1, "503 Service Unavailable"},
	}
	const p = "data_a/readme.txt"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mr := newMirror(t)
			mr.behave = func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool {
				if path != p || attempt > len(tt.codes) {
					return false
				}
				w.Header().Set("Retry-After", "0")
				http.Error(w, "synthetic failure", tt.codes[attempt-1])
				return true
			}
			dir := t.TempDir()
			opts := mr.options(dir)
			opts.Retries = tt.retries
			_, err := Fetch(context.Background(), opts)
			if got := mr.count(p); got != tt.requests {
				t.Errorf("%d requests, want %d", got, tt.requests)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				checkDir(t, mr, dir, dataPaths)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), p) {
				t.Fatalf("error %v, want one naming %s and %q", err, p, tt.wantErr)
			}
			checkDir(t, mr, dir, without(dataPaths, p))
		})
	}
}

// A body that stops arriving is abandoned after StallTimeout and retried.
func TestFetchStall(t *testing.T) {
	mr := newMirror(t)
	const p = "data_a/x.npy"
	release := make(chan struct{})
	defer close(release)
	mr.behave = func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool {
		if path != p || attempt > 1 {
			return false
		}
		b := mr.files[p]
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:100])
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
		return true
	}
	dir := t.TempDir()
	opts := mr.options(dir)
	opts.StallTimeout = 50 * time.Millisecond
	if _, err := Fetch(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if got := mr.count(p); got != 2 {
		t.Errorf("%d requests, want 2", got)
	}
	checkDir(t, mr, dir, dataPaths)
}

// Cancelling the context stops everything and leaves no partial file.
func TestFetchCancel(t *testing.T) {
	mr := newMirror(t)
	started := make(chan struct{})
	var once sync.Once
	mr.behave = func(w http.ResponseWriter, r *http.Request, path string, attempt int) bool {
		if path != "data_a/x.npy" && path != "data_b/big.bin" {
			return false
		}
		b := mr.files[path]
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.Write(b[:len(b)/2])
		w.(http.Flusher).Flush()
		once.Do(func() { close(started) })
		<-r.Context().Done()
		return true
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-started; time.Sleep(20 * time.Millisecond); cancel() }()
	sum, err := Fetch(ctx, mr.options(dir))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Fetch after cancel: %v", err)
	}
	if sum.NotAttempted == 0 || len(sum.Failed) != 0 {
		t.Errorf("summary %+v", sum)
	}
	// Whatever was completed is valid; nothing else is there.
	checkDir(t, mr, dir, sum.Downloaded)
}

func TestFetchBadOptions(t *testing.T) {
	mr := newMirror(t)
	if _, err := Fetch(context.Background(), Options{Manifest: mr.manifest, Profile: ProfileFull}); err == nil {
		t.Error("Fetch without Dir succeeded")
	}
	if _, err := Fetch(context.Background(), Options{Dir: t.TempDir(), Manifest: mr.manifest, Profile: "huge"}); err == nil || !strings.Contains(err.Error(), "unknown profile") {
		t.Errorf("Fetch of an unknown profile: %v", err)
	}
	// The default profile is quick, which this manifest cannot satisfy.
	if _, err := Fetch(context.Background(), Options{Dir: t.TempDir(), Manifest: mr.manifest}); err == nil || !strings.Contains(err.Error(), "quick profile") {
		t.Errorf("Fetch of quick from a synthetic manifest: %v", err)
	}
	// A file in the place of the data directory.
	f := filepath.Join(t.TempDir(), "file")
	writeFile(t, filepath.Dir(f), "file", nil)
	if _, err := Fetch(context.Background(), Options{Dir: f, Manifest: mr.manifest, Profile: ProfileFull}); err == nil {
		t.Error("Fetch into a file succeeded")
	}
}

// With no network (nothing answers at all), Fetch gives up after one file's retries instead of
// retrying every file, and says the mirror is unreachable.
func TestFetchUnreachableMirror(t *testing.T) {
	mr := newMirror(t)
	opts := mr.options(t.TempDir())
	dead := httptest.NewServer(http.NotFoundHandler())
	opts.BaseURL = dead.URL + "/repo/"
	opts.Client = dead.Client()
	dead.Close() // connections are now refused
	opts.Parallel = 1
	sum, err := Fetch(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "cannot reach the mirror") || !strings.Contains(err.Error(), "-base-url") {
		t.Fatalf("Fetch: %v", err)
	}
	if len(sum.Failed) != 1 || sum.NotAttempted != len(dataPaths)-1 || len(sum.Downloaded) != 0 {
		t.Errorf("summary: %d failed, %d not attempted, %d downloaded; want 1, %d, 0", len(sum.Failed), sum.NotAttempted, len(sum.Downloaded), len(dataPaths)-1)
	}
}
