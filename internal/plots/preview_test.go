package plots

import (
	"flag"
	"testing"
)

var previewDir = flag.String("preview", "", "write every test figure as PNG and SVG into this directory")

// TestPreview writes every test figure into the -preview directory, to be
// looked at: go test -run TestPreview ./internal/plots -args -preview DIR
func TestPreview(t *testing.T) {
	if *previewDir == "" {
		t.Skip("no -preview directory")
	}
	for _, f := range figures() {
		if err := Save(f.make(t), *previewDir, f.name, f.width, f.height); err != nil {
			t.Fatal(err)
		}
	}
}
