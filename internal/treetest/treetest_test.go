package treetest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRead(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "a", "b"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{"x.csv": "1", "a/b/y.npy": "22"} {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(name)), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got := Read(t, dir)
	if len(got) != 2 || string(got["x.csv"]) != "1" || string(got["a/b/y.npy"]) != "22" {
		t.Errorf("Read: %q", got)
	}
}
