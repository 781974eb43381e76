package synth

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/synth.json with testdata/gen_reference.py (needs /usr/bin/python3 with numpy and scipy)")

const python = "/usr/bin/python3"

// havePython reports whether the reference generator can run here.
func havePython() bool {
	return exec.Command(python, "-c", "import numpy, scipy.ndimage").Run() == nil
}

// TestReferenceScript regenerates the reference files with numpy and scipy (when they are
// installed) and checks that the committed ones are what the committed script writes, so that
// the references in testdata/ cannot drift from their generator. With -update it rewrites them.
func TestReferenceScript(t *testing.T) {
	if !havePython() {
		if *update {
			t.Fatalf("-update needs %s with numpy and scipy", python)
		}
		t.Skipf("%s with numpy and scipy is not available; the committed references are used as they are", python)
	}
	dir := t.TempDir()
	out, err := exec.Command(python, filepath.Join("testdata", "gen_reference.py"), dir).CombinedOutput()
	if err != nil {
		t.Fatalf("gen_reference.py: %v\n%s", err, out)
	}
	for _, name := range []string{"synth.json"} {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what gen_reference.py writes with this numpy/scipy; review and rerun with -update", path)
		}
	}
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
