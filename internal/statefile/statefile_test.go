package statefile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type state struct {
	Step int
	W    []float32
}

func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	want := state{Step: 3, W: []float32{1, -2.5}}
	if err := Write(filepath.Join(dir, "ok"), &want); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "corrupt"), []byte("not gob"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		found  bool
		errHas string
	}{
		{"ok", true, ""},
		{"absent", false, ""},
		{"corrupt", false, "does not decode (delete it to start over)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got state
			found, err := Read(filepath.Join(dir, c.name), &got)
			if found != c.found || (err == nil) != (c.errHas == "") || err != nil && !strings.Contains(err.Error(), c.errHas) {
				t.Fatalf("Read = %v, %v; want %v and an error containing %q", found, err, c.found, c.errHas)
			}
			if found && (got.Step != want.Step || !slices.Equal(got.W, want.W)) {
				t.Errorf("read %+v, want %+v", got, want)
			}
		})
	}
}
