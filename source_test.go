package compactv4

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSourceCoversPackages checks that the embedded sources hold every Go, assembly and header
// file of the module's packages, as they are on disk: a package missing from Source would be
// invisible to the cache's code versions.
func TestSourceCoversPackages(t *testing.T) {
	n := 0
	err := filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && (name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") || p == "data" || p == "out") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") && !strings.HasSuffix(name, ".s") && !strings.HasSuffix(name, ".h") {
			return nil
		}
		disk, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		emb, err := fs.ReadFile(Source, filepath.ToSlash(p))
		if err != nil {
			t.Errorf("%s is not in compactv4.Source: add its directory to the go:embed line of source.go", p)
			return nil
		}
		if string(emb) != string(disk) {
			t.Errorf("%s differs from its embedded copy", p)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 100 {
		t.Errorf("only %d source files found", n)
	}
}
