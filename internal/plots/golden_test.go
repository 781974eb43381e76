package plots

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden figures in testdata/golden")

// goldenNames are the figures kept as goldens: one x–y plot with a legend,
// log axes and superscripts, one raster figure with a colour bar, and
// one multi-panel figure.
var goldenNames = map[string]bool{"scatter_unity": true, "lines_errbars_band": true, "heatmap_labels": true, "grid_aligned": true}

// TestGolden compares figures with testdata/golden/<name>.png|svg byte for
// byte. On a mismatch it writes the new PNG and the diff image to a
// temporary directory and reports the pixel statistics.
func TestGolden(t *testing.T) {
	for _, f := range figures() {
		if !goldenNames[f.name] {
			continue
		}
		t.Run(f.name, func(t *testing.T) {
			pngData, svgData, err := Render(f.make(t), f.width, f.height)
			if err != nil {
				t.Fatal(err)
			}
			base := filepath.Join("testdata", "golden", f.name)
			if *update {
				if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := writeAtomic(base+".png", pngData); err != nil {
					t.Fatal(err)
				}
				if err := writeAtomic(base+".svg", svgData); err != nil {
					t.Fatal(err)
				}
				return
			}
			wantPNG, err := os.ReadFile(base + ".png")
			if err != nil {
				t.Fatalf("%v (run go test -update to create the goldens)", err)
			}
			if !bytes.Equal(pngData, wantPNG) {
				dir := t.TempDir()
				got := filepath.Join(dir, f.name+".png")
				if err := os.WriteFile(got, pngData, 0o644); err != nil {
					t.Fatal(err)
				}
				diff := filepath.Join(dir, f.name+".diff.png")
				st, err := DiffFiles(base+".png", got, diff)
				switch {
				case err != nil:
					t.Errorf("PNG differs from golden and cannot be compared: %v", err)
				case st.Identical():
					t.Errorf("PNG bytes differ from the golden but every pixel is equal: the PNG encoder changed (new Go release?); check and run go test -update")
				default:
					t.Errorf("PNG differs from golden: %v\nnew: %s\ndiff: %s", st, got, diff)
				}
			}
			wantSVG, err := os.ReadFile(base + ".svg")
			if err != nil {
				t.Fatalf("%v (run go test -update to create the goldens)", err)
			}
			if !bytes.Equal(svgData, wantSVG) {
				got := filepath.Join(t.TempDir(), f.name+".svg")
				if err := os.WriteFile(got, svgData, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Errorf("SVG differs from golden: %v\nnew: %s", DiffText(wantSVG, svgData), got)
			}
		})
	}
}
