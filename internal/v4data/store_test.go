package v4data

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"compactv4/internal/datadir/datadirtest"
)

func TestStoreReadFile(t *testing.T) {
	files := map[string][]byte{
		"README.md":      []byte("readme\n"),
		"data_a/x.npy":   []byte("0123456789"),
		"data_a/gone":    []byte("never written"),
		"data_b/bad.txt": []byte("good content"),
		"code/a.py":      []byte("print()"),
	}
	m, dir := synthetic(t, files)
	for _, p := range []string{"README.md", "data_a/x.npy", "code/a.py"} {
		writeFile(t, dir, p, files[p])
	}
	writeFile(t, dir, "data_b/bad.txt", []byte("evil content"))
	writeFile(t, dir, "data_b/extra", []byte("x"))
	s, err := OpenManifest(dir, m)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path    string
		wantErr []string // substrings; nil for success
		check   func(error) bool
	}{
		{"README.md", nil, nil},
		{"data_a/x.npy", nil, nil},
		{"code/a.py", nil, nil},
		{"data_a/gone", []string{"data_a/gone", BlobSHA1Bytes(files["data_a/gone"]), "missing from " + dir, "profile full", "data fetch -profile full", "raw.githubusercontent.com/cowleygroup/V4_compact_models/" + Commit + "/data_a/gone"},
			func(err error) bool {
				var me *MissingError
				return errors.As(err, &me) && errors.Is(err, fs.ErrNotExist)
			}},
		{"data_b/bad.txt", []string{"corrupt", BlobSHA1Bytes([]byte("evil content")), BlobSHA1Bytes(files["data_b/bad.txt"]), "To re-fetch it, run", "data fetch"},
			func(err error) bool { var ce *CorruptError; return errors.As(err, &ce) }},
		{"data_b/extra", []string{"not a file of the pinned manifest"}, func(err error) bool { return errors.Is(err, ErrNotInManifest) }},
		{"./README.md", []string{"not a file of the pinned manifest"}, nil},
		{"../etc/passwd", []string{"not a file of the pinned manifest"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b, err := s.ReadFile(tt.path)
			if tt.wantErr == nil {
				if err != nil || !bytes.Equal(b, files[tt.path]) {
					t.Fatalf("ReadFile = %q, %v; want %q", b, err, files[tt.path])
				}
				if !s.Has(tt.path) {
					t.Error("Has = false")
				}
				p, err := s.Path(tt.path)
				if err != nil || p != filepath.Join(dir, filepath.FromSlash(tt.path)) {
					t.Errorf("Path = %q, %v", p, err)
				}
				f, err := s.Open(tt.path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				got, err := io.ReadAll(f)
				if err != nil || !bytes.Equal(got, files[tt.path]) {
					t.Errorf("Open+ReadAll = %q, %v", got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadFile succeeded with %q", b)
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if tt.check != nil && !tt.check(err) {
				t.Errorf("error %v has the wrong type", err)
			}
			if s.Has(tt.path) {
				t.Error("Has = true")
			}
			if _, err2 := s.Path(tt.path); err2 == nil {
				t.Error("Path succeeded")
			}
			if f, err2 := s.Open(tt.path); err2 == nil {
				f.Close()
				t.Error("Open succeeded")
			}
		})
	}
	if got := s.List("data_a/"); !slices.Equal(got, []string{"data_a/gone", "data_a/x.npy"}) {
		t.Errorf("List(data_a/) = %v", got)
	}
	if got, err := s.Match("data_*/*.txt"); err != nil || !slices.Equal(got, []string{"data_b/bad.txt"}) {
		t.Errorf("Match = %v, %v", got, err)
	}
}

// A file is hashed once per (size, mtime); a change of either is noticed.
func TestStoreCache(t *testing.T) {
	good := []byte("0123456789")
	m, dir := synthetic(t, map[string][]byte{"data_a/x": good})
	writeFile(t, dir, "data_a/x", good)
	p := filepath.Join(dir, "data_a", "x")
	mtime := time.Date(2025, 3, 7, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	s, err := OpenManifest(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadFile("data_a/x"); err != nil {
		t.Fatal(err)
	}
	// Same size, same mtime, different bytes: the cache vouches for it without hashing (the
	// documented limit of the cache), which shows that the second read was not hashed.
	writeFile(t, dir, "data_a/x", []byte("9876543210"))
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if b, err := s.ReadFile("data_a/x"); err != nil || string(b) != "9876543210" {
		t.Fatalf("cached ReadFile = %q, %v", b, err)
	}
	// A new mtime forces a new hash, which fails.
	later := mtime.Add(time.Second)
	if err := os.Chtimes(p, later, later); err != nil {
		t.Fatal(err)
	}
	var ce *CorruptError
	if _, err := s.ReadFile("data_a/x"); !errors.As(err, &ce) {
		t.Fatalf("ReadFile after mtime change: %v", err)
	}
	if s.Has("data_a/x") {
		t.Error("Has after mtime change")
	}
	// A new Store does not share the cache.
	writeFile(t, dir, "data_a/x", []byte("9876543210"))
	if err := os.Chtimes(p, mtime, mtime); err != nil {
		t.Fatal(err)
	}
	s2, _ := OpenManifest(dir, m)
	if _, err := s2.ReadFile("data_a/x"); !errors.As(err, &ce) {
		t.Fatalf("fresh store: %v", err)
	}
}

func TestStoreOpenErrors(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "nope")); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	writeFile(t, filepath.Dir(f), "file", nil)
	if _, err := Open(f); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("Open of a file: %v", err)
	}
}

func TestStoreRealData(t *testing.T) {
	dir := datadirtest.Dir(t)
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	datadirtest.File(t, "LICENSE")
	b, err := s.ReadFile("LICENSE")
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 35149 || !bytes.Contains(b, []byte("GNU")) {
		t.Errorf("LICENSE: %d bytes", len(b))
	}
	keras, err := s.Match("data_compact_models/models_keras/*.keras")
	if err != nil || len(keras) != 219 {
		t.Fatalf("Match: %d, %v", len(keras), err)
	}
	datadirtest.File(t, keras[0])
	if !s.Has(keras[0]) {
		t.Errorf("Has(%s) = false", keras[0])
	}
	// A file of the full profile that the local copy lacks: say how to get it.
	const raw = "data_V4_responses/responses_raw/responses_211022.npy"
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(raw))); err == nil {
		t.Skipf("%s is present", raw)
	}
	_, err = s.ReadFile(raw)
	var me *MissingError
	if !errors.As(err, &me) || !slices.Equal(me.Profiles, []string{"full"}) || !strings.Contains(err.Error(), "size unknown") {
		t.Errorf("ReadFile(%s): %v", raw, err)
	}
	t.Log(err)
}

func BenchmarkStoreReadFile(b *testing.B) {
	const rel = "data_V4_responses/responses_repeat_averaged/responses_201025.npy"
	datadirtest.File(b, rel)
	s, err := Open(datadirtest.Dir(b))
	if err != nil {
		b.Fatal(err)
	}
	e, _ := s.Manifest().Lookup(rel)
	b.Run("first", func(b *testing.B) {
		b.SetBytes(e.Size)
		for b.Loop() {
			s.mu.Lock()
			clear(s.verified)
			s.mu.Unlock()
			if _, err := s.ReadFile(rel); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cached", func(b *testing.B) {
		b.SetBytes(e.Size)
		for b.Loop() {
			if _, err := s.ReadFile(rel); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestStoreVerifiedLists(t *testing.T) {
	dir := t.TempDir()
	content := []byte("hello\n")
	m, err := NewManifest([]Entry{
		{Path: "data_x/a.txt", SHA1: BlobSHA1Bytes(content), Size: int64(len(content))},
		{Path: "data_x/b.txt", SHA1: BlobSHA1Bytes([]byte("other")), Size: 5},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "data_x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data_x", "a.txt"), content, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := OpenManifest(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Verified(); len(got) != 0 {
		t.Fatalf("fresh store lists %v", got)
	}
	if _, err := s.ReadFile("data_x/a.txt"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadFile("data_x/b.txt"); err == nil {
		t.Fatal("missing file read")
	}
	got := s.Verified()
	if len(got) != 1 || got[0].Path != "data_x/a.txt" || got[0].SHA1 != BlobSHA1Bytes(content) {
		t.Errorf("Verified() = %v", got)
	}
}
