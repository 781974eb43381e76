package areadata

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/pinfetch"
)

func TestPinnedTable(t *testing.T) {
	seen := map[string]bool{}
	for _, f := range Files() {
		if seen[f.Path] || !fs.ValidPath(f.Path) || path.Dir(f.Path) != f.Dataset {
			t.Errorf("%s: duplicate, unclean or outside its data set folder", f.Path)
		}
		seen[f.Path] = true
		if f.Pinned() && (len(f.SHA1) != 40 || strings.Trim(f.SHA1, "0123456789abcdef") != "") {
			t.Errorf("%s: SHA-1 %q is not 40 lowercase hex digits", f.Path, f.SHA1)
		}
		src := f.URL
		if src == "" {
			src = f.Archive
		}
		if u, err := url.Parse(src); err != nil || u.Scheme != "https" || !strings.HasSuffix(u.Path, path.Ext(f.Path)) && f.URL != "" {
			t.Errorf("%s: source %q is not an https URL of the same kind of file", f.Path, src)
		}
		if f.PinnedBy == "" || f.Licence == "" {
			t.Errorf("%s: no provenance or licence", f.Path)
		}
	}
	for _, ds := range []string{MajajHong2015, Cadena2019} {
		if len(Dataset(ds)) == 0 {
			t.Errorf("data set %s has no files", ds)
		}
	}
	if Dataset("V2") != nil {
		t.Error("unknown data set has files")
	}
}

func write(t *testing.T, dir, rel string, b []byte) string {
	t.Helper()
	name := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestStore: a missing file is not runnable with its path, hash and URL named; a file that does
// not hash to the published SHA-1 is corrupt; the unpinned pickle is handed out unverified.
func TestStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	errs := s.NotRunnable(MajajHong2015)
	if len(errs) != 3 {
		t.Fatalf("%d errors for an empty directory, want 3", len(errs))
	}
	for i, f := range Dataset(MajajHong2015) {
		var m *MissingError
		msg := errs[i].Error()
		if !errors.As(errs[i], &m) || !errors.Is(errs[i], fs.ErrNotExist) || !strings.HasPrefix(msg, "not runnable") ||
			!strings.Contains(msg, f.Path) || !strings.Contains(msg, f.SHA1) || !strings.Contains(msg, f.URL) {
			t.Errorf("missing %s: %q", f.Path, msg)
		}
	}
	write(t, dir, AssemblyPath, []byte("not the assembly"))
	_, err = s.Path(AssemblyPath)
	var c *CorruptError
	if !errors.As(err, &c) || c.GotSHA1 != pinfetch.PlainSHA1.Bytes([]byte("not the assembly")) || !strings.Contains(err.Error(), c.SHA1) {
		t.Errorf("corrupt assembly: %v", err)
	}
	_, err = s.Path(CadenaPath)
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "no SHA-1 published") || !strings.Contains(err.Error(), cadenaArchive) {
		t.Errorf("missing pickle: %v", err)
	}
	name := write(t, dir, CadenaPath, []byte("any pickle"))
	if got, err := s.Path(CadenaPath); err != nil || got != name {
		t.Errorf("pickle: %q, %v", got, err)
	}
	if u := s.Unverified(); len(u) != 1 || u[0] != CadenaPath {
		t.Errorf("Unverified = %v", u)
	}
	if _, err := s.Path("V2/x.nc"); !errors.Is(err, ErrUnknownFile) {
		t.Errorf("unknown path: %v", err)
	}
	if _, err := Open(filepath.Join(dir, "absent")); err == nil {
		t.Error("Open of a missing directory succeeded")
	}
}

// TestFetch serves the MajajHong2015 files from a local server (none of the real URLs is
// reachable here): bodies that hash to the pin are moved into place, a body that does not is
// discarded, and the pickle is reported as a manual download.
func TestFetch(t *testing.T) {
	bodies := map[string][]byte{"/csv": []byte("image_id,image_file_name\n"), "/zip": []byte("PK\x05\x06" + strings.Repeat("\x00", 18))}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := bodies[r.URL.Path]; ok {
			w.Write(b)
			return
		}
		w.Write([]byte("wrong assembly"))
	}))
	defer srv.Close()
	files := append(Dataset(MajajHong2015), Dataset(Cadena2019)...)
	for i := range files {
		switch files[i].Path {
		case StimulusCSVPath:
			files[i].URL, files[i].SHA1 = srv.URL+"/csv", pinfetch.PlainSHA1.Bytes(bodies["/csv"])
		case StimulusZipPath:
			files[i].URL, files[i].SHA1 = srv.URL+"/zip", pinfetch.PlainSHA1.Bytes(bodies["/zip"])
		case AssemblyPath:
			files[i].URL = srv.URL + "/nc" // keeps the real pin: the body cannot match it
		}
	}
	dir := t.TempDir()
	sum, err := Fetch(context.Background(), files, pinfetch.Options{Dir: dir, Retries: -1, Parallel: 1})
	if err == nil || len(sum.Downloaded) != 2 || len(sum.Failed) != 2 || sum.Files != 4 {
		t.Fatalf("summary %+v, error %v", sum, err)
	}
	var cd *pinfetch.CorruptDownloadError
	if sum.Failed[0].Path != AssemblyPath || !errors.As(sum.Failed[0].Err, &cd) || cd.Hash != pinfetch.PlainSHA1 {
		t.Errorf("assembly failure: %v", sum.Failed[0].Err)
	}
	if sum.Failed[1].Path != CadenaPath || !strings.Contains(err.Error(), cadenaArchive) || !strings.Contains(err.Error(), "cannot be fetched") {
		t.Errorf("pickle failure: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(AssemblyPath))); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the corrupt assembly was kept: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(dir, MajajHong2015))
	if len(ents) != 2 {
		t.Errorf("%s holds %d entries, want the CSV and the zip only", MajajHong2015, len(ents))
	}
}

// TestStoreLoaders: the loaders pass the store's not-runnable errors through, and read the
// unpinned pickle (here the generated fixture) unverified.
func TestStoreLoaders(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Assembly(); !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "13d28ca0ce88ee550b54db3004374ae19096e9b9") {
		t.Errorf("Assembly without the file: %v", err)
	}
	if _, err := s.Stimuli(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Stimuli without the file: %v", err)
	}
	if _, err := s.Cadena(); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Cadena without the file: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(cadenaDir, "cadena_small.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	write(t, dir, CadenaPath, b)
	if c, err := s.Cadena(); err != nil || c.N != 3 {
		t.Errorf("Cadena: %v", err)
	}
	if u := s.Unverified(); len(u) != 1 {
		t.Errorf("Unverified = %v", u)
	}
	write(t, dir, CadenaPath, b[:len(b)/2])
	if _, err := s.Cadena(); err == nil || !strings.Contains(err.Error(), "cadena:") {
		t.Errorf("truncated pickle: %v", err)
	}
}

func TestDir(t *testing.T) {
	tests := []struct {
		name, flag, env string
		want            func(string) bool
	}{
		{"flag first", "/flag", "/env", func(d string) bool { return d == "/flag" }},
		{"then $AREADATA", "", "/env", func(d string) bool { return d == "/env" }},
		{"then data/areas", "", "", func(d string) bool { return strings.HasSuffix(d, filepath.Join("data", "areas")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(EnvVar, tt.env)
			if got := Dir(tt.flag); !tt.want(got) {
				t.Errorf("Dir(%q) with $%s=%q is %q", tt.flag, EnvVar, tt.env, got)
			}
		})
	}
}
