package areadata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
)

// TestReadStimuli reads a hand-written synthetic CSV with the columns the reader needs (image_id,
// image_file_name) among others of the HVM set, quoted fields included, and rejects malformed ones.
func TestReadStimuli(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "stimuli", "hvm_small.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ReadStimuli(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.IDs) != 3 || s.Columns["variation"][2] != "6" {
		t.Fatalf("%+v", s)
	}
	if name, ok := s.File(s.IDs[1]); !ok || !strings.HasSuffix(name, ".png") {
		t.Errorf("File(%s) = %q, %v", s.IDs[1], name, ok)
	}
	for _, tt := range []struct{ name, csv, want string }{
		{"empty", "", "empty CSV"},
		{"no image_id", "image_file_name\na.png\n", "lacks image_id"},
		{"duplicate id", "image_id,image_file_name\na,a.png\na,b.png\n", "appears twice"},
		{"empty id", "image_id,image_file_name\n,a.png\n", "empty image_id"},
		{"short row", "image_id,image_file_name\na\n", "wrong number of fields"},
		{"no rows", "image_id,image_file_name\n", "no rows"},
		{"duplicate column", "image_id,image_id,image_file_name\n", "twice"},
	} {
		if _, err := ReadStimuli(strings.NewReader(tt.csv)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
}

// FuzzReadStimuli: any input is read or rejected with an error; what is read is consistent.
func FuzzReadStimuli(f *testing.F) {
	for _, s := range fuzzseed.Files(f, filepath.Join("testdata", "stimuli", "*.csv")) {
		f.Add(s)
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		s, err := ReadStimuli(strings.NewReader(string(data)))
		if err != nil {
			return
		}
		for i, id := range s.IDs {
			if name, ok := s.File(id); !ok || name != s.Files[i] {
				t.Fatalf("image %d (%q): File = %q, %v", i, id, name, ok)
			}
		}
	})
}
