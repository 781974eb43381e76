// Package treetest reads directory trees for tests that compare the files two runs write.
package treetest

import (
	"os"
	"path/filepath"
	"testing"
)

// Read returns every file below dir by its slash-separated path relative to dir; an error
// fails the test.
func Read(tb testing.TB, dir string) map[string][]byte {
	tb.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}
