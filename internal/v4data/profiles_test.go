package v4data

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// updateGoldens reports whether -update was given. The flag is registered only if no other test
// file of the package registered it first, so that several files may rely on it.
func updateGoldens() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite the golden files under testdata/")
	}
}

func TestQuickProfile(t *testing.T) {
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	files, err := m.ProfileFiles(ProfileQuick)
	if err != nil {
		t.Fatal(err)
	}
	// Each line of the list: 2 + 4 readmes + 1 summary + 6 + 2 + 2
	// + 6 formats × 219 models + 7 teachers × 3 widths.
	if want := 2 + 4 + 1 + 6 + 2 + 2 + 6*219 + 7*3; len(files) != want {
		t.Errorf("quick profile has %d files, want %d", len(files), want)
	}
	for _, q := range quickFiles {
		got, err := m.Match(q.pattern)
		if err != nil || len(got) == 0 {
			t.Errorf("quick line %q matches %d files (%v)", q.pattern, len(got), err)
		}
		if q.why == "" {
			t.Errorf("quick line %q gives no reason", q.pattern)
		}
	}
	var golden bytes.Buffer
	for _, e := range files {
		if !e.InSharedCopy {
			t.Errorf("quick profile file %s is not in the local data copy (in_shared_copy=no)", e.Path)
		}
		if !e.IsData() {
			t.Errorf("quick profile file %s is not data", e.Path)
		}
		fmt.Fprintf(&golden, "%s\t%s\n", e.Path, e.SHA1)
	}
	checkGolden(t, "quick_files.golden", golden.Bytes())
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", name)
	if updateGoldens() {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the computed list; review the change and run go test -update", p)
	}
}

func TestFullProfile(t *testing.T) {
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	full, err := ProfileFiles(ProfileFull)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 1766 || len(full) != len(m.DataFiles()) {
		t.Errorf("full profile: %d files, want 1766 (every data file)", len(full))
	}
	for _, e := range full {
		if !e.IsData() {
			t.Errorf("full profile holds code file %s", e.Path)
		}
	}
	quick, _ := ProfileFiles(ProfileQuick)
	for _, e := range quick {
		if !slices.Contains(full, e) {
			t.Errorf("quick file %s is not in full", e.Path)
		}
	}
	if _, err := ProfileFiles("medium"); err == nil || !strings.Contains(err.Error(), "unknown profile") {
		t.Errorf("ProfileFiles(medium): %v", err)
	}
}

func TestProfilesNeeding(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"README.md", []string{"quick", "full"}},
		{"data_compact_models/models_torch/compact_model_190923_neuron0.pt", []string{"quick", "full"}},
		{"data_shared_compact_models/from_cornets/shared_compact_model_50filters.keras", []string{"quick", "full"}},
		{"data_shared_compact_models/from_cornets/shared_compact_model_75filters.keras", []string{"full"}},
		{"data_compact_models/models_h5/compact_model_190923_neuron0.h5", []string{"full"}},
		{"data_V4_responses/responses_raw/responses_211022.npy", []string{"full"}},
		{"data_ensemble_model/ensemble_model_member0.keras", []string{"full"}},
		{"classes/class_compact_model.py", nil},
		{"no/such/file", nil},
	}
	for _, tt := range tests {
		if got := ProfilesNeeding(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("ProfilesNeeding(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

// A quick line that matches nothing must fail the profile rather than shrink it.
func TestQuickProfileNeverShrinks(t *testing.T) {
	m, err := NewManifest([]Entry{{Path: "README.md", SHA1: licenseSHA1, Size: 1, InSharedCopy: true}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.ProfileFiles(ProfileQuick); err == nil || !strings.Contains(err.Error(), "matches no file") {
		t.Errorf("quick profile of a manifest lacking its files: %v", err)
	}
	if full, err := m.ProfileFiles(ProfileFull); err != nil || len(full) != 1 {
		t.Errorf("full profile: %d files, %v", len(full), err)
	}
}
