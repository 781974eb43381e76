package nprand

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/nprand.json with its script (needs Python with numpy: /usr/bin/python3 or $V4PYTHON)")

type reference struct {
	Cases []struct {
		Seed  uint32
		Words []uint32
		Perms []struct {
			N    int
			Perm []int
		}
	}
}

// TestNumpy compares the draws with numpy's, committed in testdata/nprand.json.
func TestNumpy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "nprand.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		s := New(c.Seed)
		for i, w := range c.Words {
			if got := s.uint32(); got != w {
				t.Fatalf("seed %d: word %d is %d, numpy %d", c.Seed, i, got, w)
			}
		}
		for _, p := range c.Perms {
			if got := New(c.Seed).Permutation(p.N); !slices.Equal(got, p.Perm) {
				t.Errorf("seed %d: permutation(%d) = %v, numpy %v", c.Seed, p.N, head(got), head(p.Perm))
			}
		}
	}
}

func head(p []int) []int { return p[:min(len(p), 12)] }

// TestReferenceScript regenerates testdata/nprand.json with numpy and compares (exactly: every
// number is an integer).
func TestReferenceScript(t *testing.T) {
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_nprand.py"), []string{"numpy"},
		map[string]pyref.Tolerances{"nprand.json": {Ignore: []string{"numpy"}}}, *update)
}
