// Package fuzzseed loads the generated seed files of fuzz targets and checks that they reproduce
// from their committed generator.
//
// A seed directory holds small files written by a Python script, plus versions.json, which the
// script writes with the versions of the libraries whose output layout the bytes depend on
// (h5py and libhdf5, torch, ...). Reproduce reruns the script and compares bytes when those
// versions match the committed ones, and skips with a message otherwise.
package fuzzseed

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Python is the interpreter the generators run with: the Debian one, which has numpy, h5py and
// torch (a python3 found first on PATH may not).
const Python = "/usr/bin/python3"

// Files returns the contents of the files matching pattern (a filepath.Glob pattern), in name
// order; it fails tb when none match, so that a target never fuzzes without its seeds.
func Files(tb testing.TB, pattern string) [][]byte {
	tb.Helper()
	names, err := filepath.Glob(pattern)
	if err != nil || len(names) == 0 {
		tb.Fatalf("no seed files %s (%v)", pattern, err)
	}
	var out [][]byte
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// Reproduce runs `Python script OUT` into a temporary directory and checks that it writes exactly
// the files of dir, byte for byte. It skips when Python cannot import modules (a comma-separated
// list) or when the generated versions.json differs from dir's (other library versions write
// other bytes).
func Reproduce(t *testing.T, modules, script, dir string) {
	t.Helper()
	if err := exec.Command(Python, "-c", "import "+modules).Run(); err != nil {
		t.Skipf("%s cannot import %s: %v", Python, modules, err)
	}
	out := t.TempDir()
	if msg, err := exec.Command(Python, script, out).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, msg)
	}
	want, err := os.ReadFile(filepath.Join(dir, "versions.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(out, "versions.json"))
	if err != nil {
		t.Fatalf("%s wrote no versions.json: %v", script, err)
	}
	if !bytes.Equal(got, want) {
		t.Skipf("the seeds were generated with\n%s\nthis machine has\n%s", want, got)
	}
	compareDirs(t, dir, out)
}

// compareDirs checks that the directories hold the same file names with the same bytes.
func compareDirs(t testing.TB, want, got string) {
	t.Helper()
	list := func(dir string) map[string][]byte {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string][]byte{}
		for _, e := range entries {
			if e.IsDir() {
				continue
			}
			b, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			m[e.Name()] = b
		}
		return m
	}
	w, g := list(want), list(got)
	for name, b := range w {
		switch gb, ok := g[name]; {
		case !ok:
			t.Errorf("%s: not written by the generator", name)
		case !bytes.Equal(gb, b):
			t.Errorf("%s: the generator writes different bytes (%d, committed %d); rerun it and commit the result", name, len(gb), len(b))
		}
	}
	for name := range g {
		if _, ok := w[name]; !ok {
			t.Errorf("%s: written by the generator but not committed", name)
		}
	}
}
