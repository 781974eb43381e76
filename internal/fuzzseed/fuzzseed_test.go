package fuzzseed

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{"b.h5": "B", "a.h5": "A", "c.txt": "C"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := Files(t, filepath.Join(dir, "*.h5"))
	if len(got) != 2 || string(got[0]) != "A" || string(got[1]) != "B" {
		t.Fatalf("Files = %q", got)
	}
}

// fakeT records errors instead of failing the test.
type fakeT struct {
	testing.TB
	errs int
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Errorf(string, ...any) { f.errs++ }
func (f *fakeT) Fatal(...any)          { f.errs++ }

func TestCompareDirs(t *testing.T) {
	write := func(files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	base := map[string]string{"x.h5": "xx", "versions.json": "{}"}
	for _, tc := range []struct {
		name string
		got  map[string]string
		errs int
	}{
		{"same", base, 0},
		{"changed", map[string]string{"x.h5": "xy", "versions.json": "{}"}, 1},
		{"missing", map[string]string{"versions.json": "{}"}, 1},
		{"extra", map[string]string{"x.h5": "xx", "y.h5": "", "versions.json": "{}"}, 1},
	} {
		ft := &fakeT{TB: t}
		compareDirs(ft, write(base), write(tc.got))
		if ft.errs != tc.errs {
			t.Errorf("%s: %d errors, want %d", tc.name, ft.errs, tc.errs)
		}
	}
}
