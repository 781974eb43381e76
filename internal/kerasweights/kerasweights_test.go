package kerasweights

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"compactv4/internal/pinfetch"
)

func TestPinnedTable(t *testing.T) {
	md5 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	sha := regexp.MustCompile(`^([0-9a-f]{64})?$`)
	for _, f := range Files() {
		if !md5.MatchString(f.MD5) || !sha.MatchString(f.SHA256) {
			t.Errorf("%s: MD5 %q, SHA-256 %q", f.Name, f.MD5, f.SHA256)
		}
		if !strings.HasPrefix(f.URL, "https://storage.googleapis.com/tensorflow/keras-applications/") || path.Base(f.URL) != f.Name {
			t.Errorf("%s: URL %s", f.Name, f.URL)
		}
		if !strings.HasSuffix(f.Name, "_weights_tf_dim_ordering_tf_kernels_notop.h5") || f.Network == "" || f.Recorded == "" {
			t.Errorf("%+v", f)
		}
	}
	if ResNet50.MD5 != "4d473c1dd8becc155b73f8504c6f6626" {
		t.Errorf("ResNet50 MD5 %s", ResNet50.MD5)
	}
}

func TestDirs(t *testing.T) {
	home, kh := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KERAS_HOME", "")
	tests := []struct {
		dir, kerasHome string
		want           []string
	}{
		{"", "", []string{filepath.Join(home, ".keras", "models")}},
		{"", kh, []string{filepath.Join(kh, "models"), filepath.Join(home, ".keras", "models")}},
		{"/w", kh, []string{"/w"}},
	}
	for _, tt := range tests {
		t.Setenv("KERAS_HOME", tt.kerasHome)
		if got := searchDirs(tt.dir); strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("dirs(%q) with KERAS_HOME=%q: %q, want %q", tt.dir, tt.kerasHome, got, tt.want)
		}
		if d, err := FetchDir(tt.dir); err != nil || d != tt.want[0] {
			t.Errorf("FetchDir(%q) = %q, %v", tt.dir, d, err)
		}
	}
}

// testFile is a pinned file of generated content served at base.
func testFile(content []byte, base string) File {
	return File{Network: "TestNet", Name: "test_weights_notop.h5", URL: base + "/test_weights_notop.h5",
		MD5: pinfetch.MD5.Bytes(content), Recorded: "the test"}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Locate finds a valid file in the first directory that has one, and says what is wrong
// otherwise: absent (named with its MD5 and both ways to get it) or corrupt (named with its path).
func TestLocate(t *testing.T) {
	content := []byte("HDF5 weights, in a test")
	f := testFile(content, "https://example.invalid/k")
	home, kh := t.TempDir(), t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("KERAS_HOME", kh)
	cache := filepath.Join(home, ".keras", "models")

	if _, err := Locate(f, "", nil); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("absent: %v", err)
	} else {
		var me *MissingError
		if !errors.As(err, &me) {
			t.Fatalf("absent: %T", err)
		}
		for _, want := range []string{"not runnable", f.Name, f.MD5, "data fetch -weights " + filepath.Join(kh, "models"), f.URL, filepath.Join(kh, "models"), cache} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q lacks %q", err, want)
			}
		}
	}

	writeFile(t, filepath.Join(cache, f.Name), content)
	if p, err := Locate(f, "", nil); err != nil || p != filepath.Join(cache, f.Name) {
		t.Errorf("in ~/.keras/models: %q, %v", p, err)
	}
	// $KERAS_HOME/models comes first; a corrupt file there is an error, not skipped.
	bad := filepath.Join(kh, "models", f.Name)
	writeFile(t, bad, []byte("HDF5 weights, in a tesT"))
	_, err := Locate(f, "", nil)
	var ce *CorruptError
	if !errors.As(err, &ce) || ce.Path != bad || ce.Hash != "MD5" || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), f.MD5) {
		t.Errorf("corrupt in $KERAS_HOME/models: %v", err)
	}
	// -weights DIR alone is searched.
	dir := t.TempDir()
	if _, err := Locate(f, dir, nil); !errors.As(err, new(*MissingError)) || !strings.Contains(err.Error(), "data fetch -weights "+dir) {
		t.Errorf("-weights %s: %v", dir, err)
	}
	writeFile(t, filepath.Join(dir, f.Name), content)
	if p, err := Locate(f, dir, nil); err != nil || p != filepath.Join(dir, f.Name) {
		t.Errorf("-weights: %q, %v", p, err)
	}
	// A recorded SHA-256 is checked too.
	g := f
	g.SHA256 = strings.Repeat("0", 64)
	if _, err := Locate(g, dir, nil); !errors.As(err, &ce) || ce.Hash != "SHA-256" {
		t.Errorf("wrong SHA-256: %v", err)
	}
	g.SHA256 = pinfetch.SHA256.Bytes(content)
	if _, err := Locate(g, dir, nil); err != nil {
		t.Errorf("right SHA-256: %v", err)
	}
}

// TestFetch serves a weight file well, corrupt (another MD5), truncated and not at all (404):
// only the good body lands in the directory, and nothing partial is ever left there.
func TestFetch(t *testing.T) {
	content := bytes.Repeat([]byte("weights "), 4096)
	var mode string
	requests := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests++
		switch mode {
		case "good":
			w.Write(content)
		case "corrupt":
			b := bytes.Clone(content)
			b[100] ^= 1
			w.Write(b)
		case "truncated":
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			w.Write(content[:len(content)/2])
			panic(http.ErrAbortHandler) // close the connection mid-body
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	f := testFile(content, srv.URL)
	tests := []struct {
		mode string
		ok   bool
		want string // in the error
	}{
		{"404", false, "404 Not Found"},
		{"corrupt", false, "corrupt download of " + f.Name},
		{"truncated", false, "unexpected EOF"},
		{"good", true, ""},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			mode = tt.mode
			sum, err := Fetch(context.Background(), dir, []File{f}, pinfetch.Options{Parallel: 1, Retries: -1}, nil)
			if tt.ok != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
			ents, _ := os.ReadDir(dir)
			if !tt.ok {
				if len(ents) != 0 || len(sum.Failed) != 1 {
					t.Errorf("after a failed fetch: %d entries in the directory, summary %+v", len(ents), sum)
				}
				return
			}
			if len(ents) != 1 || len(sum.Downloaded) != 1 {
				t.Errorf("%d entries, summary %+v", len(ents), sum)
			}
			if p, err := Locate(f, dir, nil); err != nil || p != filepath.Join(dir, f.Name) {
				t.Errorf("Locate after fetch: %q, %v", p, err)
			}
		})
	}
	// Already valid: not requested again.
	before := requests
	if sum, err := Fetch(context.Background(), dir, []File{f}, pinfetch.Options{Retries: -1}, nil); err != nil || sum.AlreadyValid != 1 || requests != before {
		t.Errorf("second fetch: %+v, %v, %d requests", sum, err, requests-before)
	}
	// A recorded SHA-256 that the download does not have: the file is removed again.
	g := f
	g.Name, g.URL, g.SHA256 = "other_notop.h5", srv.URL+"/other_notop.h5", strings.Repeat("1", 64)
	if _, err := Fetch(context.Background(), dir, []File{g}, pinfetch.Options{Retries: -1}, nil); !errors.As(err, new(*CorruptError)) {
		t.Errorf("wrong SHA-256: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, g.Name)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("file with the wrong SHA-256 left in place: %v", err)
	}
}

// TestSHA256 verifies a file by Locate (found locally) and by Fetch (downloaded from an httptest
// server) with the pinned hashes in each state: both right (nothing written), the SHA-256 not
// recorded (the computed one written with the instruction to record it), and a wrong SHA-256 (a
// *CorruptError naming the file and both SHA-256s; Fetch removes the download).
func TestSHA256(t *testing.T) {
	content := bytes.Repeat([]byte("ImageNet weights "), 1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write(content) }))
	defer srv.Close()
	sha := pinfetch.SHA256.Bytes(content)
	wrong := strings.Repeat("ab", 32)
	tests := []struct {
		name, sha256 string
		wantLog      string // in the log; "" for an empty log
		wantErr      bool
	}{
		{"both pinned", sha, "", false},
		{"sha256 not recorded", "", "sha256 of ", false},
		{"wrong sha256", wrong, "", true},
	}
	verifiers := []struct {
		how    string
		verify func(f File, dir string, log io.Writer) error
	}{
		{"Locate", func(f File, dir string, log io.Writer) error {
			writeFile(t, filepath.Join(dir, f.Name), content)
			_, err := Locate(f, dir, log)
			return err
		}},
		{"Fetch", func(f File, dir string, log io.Writer) error {
			_, err := Fetch(context.Background(), dir, []File{f}, pinfetch.Options{Retries: -1}, log)
			return err
		}},
	}
	for _, v := range verifiers {
		for _, tt := range tests {
			t.Run(v.how+"/"+tt.name, func(t *testing.T) {
				f := testFile(content, srv.URL)
				f.SHA256 = tt.sha256
				dir := t.TempDir()
				var log bytes.Buffer
				err := v.verify(f, dir, &log)
				if !tt.wantErr {
					if err != nil {
						t.Fatal(err)
					}
					if tt.wantLog == "" && log.Len() != 0 {
						t.Errorf("log %q, want nothing with both hashes pinned", log.String())
					}
					if tt.wantLog != "" {
						p := filepath.Join(dir, f.Name)
						if got := strings.TrimSpace(log.String()); got != UnpinnedMessage(f, p, sha) {
							t.Errorf("log %q, want %q", got, UnpinnedMessage(f, p, sha))
						}
						for _, want := range []string{"sha256 of " + p + ": " + sha, "record it", "internal/kerasweights"} {
							if !strings.Contains(log.String(), want) {
								t.Errorf("log %q lacks %q", log.String(), want)
							}
						}
					}
					return
				}
				var ce *CorruptError
				if !errors.As(err, &ce) || ce.Hash != "SHA-256" || ce.Got != sha || ce.Want != wrong {
					t.Fatalf("error %v, want a SHA-256 mismatch", err)
				}
				for _, want := range []string{f.Name, "SHA-256 " + sha, "pinned " + wrong} {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("%q lacks %q", err, want)
					}
				}
				_, serr := os.Stat(filepath.Join(dir, f.Name))
				if v.how == "Fetch" && !errors.Is(serr, fs.ErrNotExist) {
					t.Errorf("download with the wrong SHA-256 left in place: %v", serr)
				}
			})
		}
	}
}
