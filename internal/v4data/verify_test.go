package v4data

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
)

func TestBlobSHA1(t *testing.T) {
	// Values printed by `git hash-object`.
	tests := []struct{ content, want string }{
		{"", "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"},
		{"hello\n", "ce013625030ba8dba906f756967f9e9ca394464a"},
		{"what is up, doc?", "bd9dbf5aae1a3862dd1526723246b20206e5fc37"},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		if got := BlobSHA1Bytes([]byte(tt.content)); got != tt.want {
			t.Errorf("BlobSHA1Bytes(%q) = %s, want %s", tt.content, got, tt.want)
		}
		sum, n, err := BlobSHA1(iotest.OneByteReader(strings.NewReader(tt.content)))
		if err != nil || sum != tt.want || n != int64(len(tt.content)) {
			t.Errorf("BlobSHA1(reader %q) = %s, %d, %v; want %s", tt.content, sum, n, err, tt.want)
		}
		// A file streams, with the size from Stat.
		p := filepath.Join(dir, "f")
		if err := os.WriteFile(p, []byte("xyz"+tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Seek(3, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		sum, n, err = BlobSHA1(f)
		f.Close()
		if err != nil || sum != tt.want || n != int64(len(tt.content)) {
			t.Errorf("BlobSHA1(file at offset 3, %q) = %s, %d, %v; want %s", tt.content, sum, n, err, tt.want)
		}
		if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
			t.Fatal(err)
		}
		sum, n, err = BlobSHA1File(p)
		if err != nil || sum != tt.want || n != int64(len(tt.content)) {
			t.Errorf("BlobSHA1File(%q) = %s, %d, %v; want %s", tt.content, sum, n, err, tt.want)
		}
	}
	if _, _, err := BlobSHA1(iotest.ErrReader(errors.New("boom"))); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Errorf("BlobSHA1(failing reader): %v", err)
	}
	if _, _, err := BlobSHA1File(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("BlobSHA1File(directory): %v", err)
	}
	// A sized hash of content that is shorter than declared (a file that shrank) fails.
	if _, _, err := blobSHA1Sized(strings.NewReader("ab"), 3); err == nil {
		t.Error("blobSHA1Sized accepted 2 bytes declared as 3")
	}
	if _, _, err := blobSHA1Sized(strings.NewReader("abcd"), 3); err == nil {
		t.Error("blobSHA1Sized accepted 4 bytes declared as 3")
	}
}

// allSharedPresent reports whether dir holds every file of the local data copy.
func allSharedPresent(t *testing.T, m *Manifest, dir string) bool {
	for _, e := range m.Entries() {
		if e.InSharedCopy {
			if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e.Path))); err != nil {
				t.Logf("not asserting counts: %s absent", e.Path)
				return false
			}
		}
	}
	return true
}

func TestVerifyRealData(t *testing.T) {
	dir := datadirtest.Dir(t)
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Verify(dir, m, VerifyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	valid, corrupt, missing := rep.Count(Valid), rep.Count(Corrupt), rep.Count(Missing)
	t.Logf("%s: %d valid, %d corrupt, %d missing, %d extra", dir, valid, corrupt, missing, len(rep.Extra))
	if valid+corrupt+missing != 1766 || rep.Profile != ProfileFull {
		t.Errorf("%d files classified in profile %q, want 1766 in full", valid+corrupt+missing, rep.Profile)
	}
	for _, f := range rep.With(Corrupt) {
		t.Errorf("corrupt: %s: %s", f.Path, f.Problem())
	}
	for _, f := range rep.With(Valid) {
		if f.GotSHA1 != f.SHA1 || (f.SizeKnown() && f.GotSize != f.Size) {
			t.Errorf("valid %s with SHA-1 %s size %d", f.Path, f.GotSHA1, f.GotSize)
		}
	}
	if allSharedPresent(t, m, dir) && valid < 1441 {
		t.Errorf("%d valid files, want at least the 1441 of the local copy", valid)
	}
	if filepath.Base(dir) == "v4data" && allSharedPresent(t, m, dir) {
		// The local data copy itself: exactly its files, nothing else.
		if valid != 1441 || corrupt != 0 || missing != 1766-1441 || len(rep.Extra) != 0 {
			t.Errorf("local copy: %d valid, %d corrupt, %d missing, extra %v; want 1441, 0, 325, none", valid, corrupt, missing, rep.Extra)
		}
	}

	quick, err := Verify(dir, m, VerifyOptions{Profile: ProfileQuick, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(quick.Files) != 1352 {
		t.Errorf("quick: %d files, want 1352", len(quick.Files))
	}
	if allSharedPresent(t, m, dir) && quick.Count(Valid) != 1352 {
		t.Errorf("quick: %d valid, want 1352", quick.Count(Valid))
	}
}

// One real file of every kind, copied and then damaged one at a time.
var kinds = []string{
	"data_V4_responses/responses_repeat_averaged/responses_210325.npy",
	"data_V4_responses/images/images_210325.zip",
	"data_compact_models/models_keras/compact_model_190923_neuron0.keras",
	"data_compact_models/model_weights_h5/compact_model_190923_neuron0.weights.h5",
	"data_compact_models/models_torch/compact_model_190923_neuron0.pt",
	"data_compact_models/readme.txt",
}

func TestVerifyDetectsFlippedByte(t *testing.T) {
	datadirtest.Dir(t)
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	for _, k := range kinds {
		b, err := os.ReadFile(datadirtest.File(t, k))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, dst, k, b)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, k := range kinds {
		t.Run(path.Ext(k), func(t *testing.T) {
			p := filepath.Join(dst, filepath.FromSlash(k))
			orig, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			bad := bytes.Clone(orig)
			bad[rng.IntN(len(bad))] ^= 1 << rng.IntN(8)
			writeFile(t, dst, k, bad)
			defer writeFile(t, dst, k, orig)

			rep, err := Verify(dst, m, VerifyOptions{})
			if err != nil {
				t.Fatal(err)
			}
			corrupt := rep.With(Corrupt)
			if len(corrupt) != 1 || corrupt[0].Path != k {
				t.Fatalf("corrupt files %v, want only %s", corrupt, k)
			}
			e, _ := m.Lookup(k)
			if got := BlobSHA1Bytes(bad); corrupt[0].GotSHA1 != got || !strings.Contains(corrupt[0].Problem(), got) || !strings.Contains(corrupt[0].Problem(), e.SHA1) {
				t.Errorf("problem %q does not give expected %s and actual %s", corrupt[0].Problem(), e.SHA1, got)
			}
			if rep.Count(Valid) != len(kinds)-1 || rep.Count(Missing) != 1766-len(kinds) {
				t.Errorf("%d valid, %d missing", rep.Count(Valid), rep.Count(Missing))
			}
			// The Store refuses it too.
			s, err := OpenManifest(dst, m)
			if err != nil {
				t.Fatal(err)
			}
			_, err = s.ReadFile(k)
			var ce *CorruptError
			if !errors.As(err, &ce) || ce.GotSHA1 != corrupt[0].GotSHA1 {
				t.Errorf("ReadFile of the damaged file: %v", err)
			}
		})
	}
}

// synthetic builds a manifest of the given data files and writes them into a new directory.
func synthetic(t *testing.T, files map[string][]byte) (*Manifest, string) {
	t.Helper()
	var entries []Entry
	for p, b := range files {
		entries = append(entries, Entry{Path: p, SHA1: BlobSHA1Bytes(b), Size: int64(len(b))})
	}
	slices.SortFunc(entries, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	m, err := NewManifest(entries)
	if err != nil {
		t.Fatal(err)
	}
	return m, t.TempDir()
}

func writeFile(t *testing.T, dir, rel string, b []byte) {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestVerifySynthetic(t *testing.T) {
	files := map[string][]byte{
		"README.md":          []byte("readme\n"),
		"data_a/x.npy":       bytes.Repeat([]byte{1, 2, 3}, 1000),
		"data_a/sub/y.bin":   []byte("y"),
		"data_b/z.txt":       []byte("z\n"),
		"classes/ignored.py": []byte("code"),
	}
	m, dir := synthetic(t, files)
	writeFile(t, dir, "README.md", files["README.md"])
	writeFile(t, dir, "data_a/x.npy", files["data_a/x.npy"])
	writeFile(t, dir, "data_a/sub/y.bin", []byte("Y")) // corrupt
	writeFile(t, dir, "data_a/sub/.y.bin.fetch-1.tmp", []byte("leftover"))
	writeFile(t, dir, "data_c/unknown-folder", nil)
	writeFile(t, dir, "data_top_level_file", nil)
	writeFile(t, dir, "classes/other.py", nil)                                        // not a data folder
	if err := os.MkdirAll(filepath.Join(dir, "data_b", "z.txt"), 0o755); err != nil { // a folder in place of a file
		t.Fatal(err)
	}
	for _, par := range []int{0, 1, 3} {
		rep, err := Verify(dir, m, VerifyOptions{Parallel: par})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, f := range rep.Files {
			got = append(got, f.Path+"="+f.Status.String())
		}
		want := []string{"README.md=valid", "data_a/sub/y.bin=corrupt", "data_a/x.npy=valid", "data_b/z.txt=corrupt"}
		if !slices.Equal(got, want) {
			t.Errorf("parallel %d: %v, want %v", par, got, want)
		}
		if !slices.Equal(rep.Extra, []string{"data_a/sub/.y.bin.fetch-1.tmp", "data_c/unknown-folder", "data_top_level_file"}) {
			t.Errorf("extra %v", rep.Extra)
		}
		if p := rep.Files[3].Problem(); !strings.Contains(p, "unreadable") {
			t.Errorf("folder in place of a file: %q", p)
		}
		if p := rep.Files[1].Problem(); !strings.Contains(p, BlobSHA1Bytes([]byte("Y"))) {
			t.Errorf("corrupt problem %q lacks the actual SHA-1", p)
		}
	}
	if _, err := Verify(filepath.Join(dir, "nope"), m, VerifyOptions{}); err == nil {
		t.Error("Verify of a missing directory succeeded")
	}
	if _, err := Verify(dir, m, VerifyOptions{Profile: "quick"}); err == nil {
		t.Error("Verify of a quick profile the manifest cannot satisfy succeeded")
	}
}

func BenchmarkVerifyQuick(b *testing.B) {
	dir := datadirtest.Dir(b)
	m, err := Pinned()
	if err != nil {
		b.Fatal(err)
	}
	var bytes int64
	for _, e := range mustProfile(b, m, ProfileQuick) {
		bytes += max(e.Size, 0)
	}
	b.SetBytes(bytes)
	for b.Loop() {
		if _, err := Verify(dir, m, VerifyOptions{Profile: ProfileQuick}); err != nil {
			b.Fatal(err)
		}
	}
}

func mustProfile(tb testing.TB, m *Manifest, p string) []Entry {
	es, err := m.ProfileFiles(p)
	if err != nil {
		tb.Fatal(err)
	}
	return es
}

func FuzzBlobSHA1(f *testing.F) {
	for _, s := range []string{"", "hello\n", "blob 3\x00abc", strings.Repeat("\x00", 1000)} {
		f.Add([]byte(s))
	}
	if dir := datadirtest.Lookup(); dir != "" {
		for _, k := range []string{"README.md", "data_compact_models/nums_filters/compact_model_190923_neuron0.npy", "data_ensemble_model/readme.txt"} {
			if b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(k))); err == nil {
				f.Add(b)
			}
		}
	}
	tmp := f.TempDir()
	fuzzbound.Fuzz(f, func(t *testing.T, content []byte) {
		h := sha1.New()
		fmt.Fprintf(h, "blob %d\x00", len(content))
		h.Write(content)
		want := hex.EncodeToString(h.Sum(nil))
		if got := BlobSHA1Bytes(content); got != want {
			t.Fatalf("BlobSHA1Bytes = %s, want %s", got, want)
		}
		got, n, err := BlobSHA1(iotest.HalfReader(bytes.NewReader(content)))
		if err != nil || got != want || n != int64(len(content)) {
			t.Fatalf("BlobSHA1(reader) = %s, %d, %v; want %s", got, n, err, want)
		}
		if want[0] != '0' {
			return // writing a file costs ten times the rest: one input in 16 (by hash) goes to disk
		}
		p := filepath.Join(tmp, "f")
		if err := os.WriteFile(p, content, 0o644); err != nil {
			t.Fatal(err)
		}
		got, n, err = BlobSHA1File(p)
		if err != nil || got != want || n != int64(len(content)) {
			t.Fatalf("BlobSHA1File = %s, %d, %v; want %s", got, n, err, want)
		}
	})
}
