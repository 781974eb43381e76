package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/areadata"
)

func TestDataAreas(t *testing.T) {
	dir := t.TempDir()
	code, out, errs := runCLI(t, "data", "areas", "-data", dir)
	if code != 1 || !strings.Contains(out, "MajajHong2015: not runnable, 3 file(s)") ||
		!strings.Contains(out, "13d28ca0ce88ee550b54db3004374ae19096e9b9") || !strings.Contains(out, "Cadena2019: not runnable") ||
		!strings.Contains(errs, "2 area data set(s) not runnable") {
		t.Errorf("empty directory: code %d\nstdout %s\nstderr %s", code, out, errs)
	}
	p := filepath.Join(dir, filepath.FromSlash(areadata.CadenaPath))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, _ := runCLI(t, "data", "areas", "-data", dir, "-set", "Cadena2019"); code != 0 || !strings.Contains(out, "Cadena2019: runnable (unverified") {
		t.Errorf("pickle present: code %d, %s", code, out)
	}
	if code, _, _ := runCLI(t, "data", "areas", "-set", "V2"); code != 2 {
		t.Errorf("unknown set: code %d, want 2", code)
	}
}
