package plots

import (
	"bytes"
	"testing"
)

// Benchmarks of whole figures: build and render to PNG and SVG.
func BenchmarkRender(b *testing.B) {
	for _, f := range figures() {
		if !map[string]bool{"scatter_unity": true, "groups_profile": true, "heatmap_large": true, "image_grid": true}[f.name] {
			continue
		}
		b.Run(f.name, func(b *testing.B) {
			for b.Loop() {
				d, err := f.build(b)
				if err != nil {
					b.Fatal(err)
				}
				if _, _, err := Render(d, f.width, f.height); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDiffPNG compares two double-column figures.
func BenchmarkDiffPNG(b *testing.B) {
	f := figures()[7] // grid_aligned
	d, err := f.build(b)
	if err != nil {
		b.Fatal(err)
	}
	png1, _, err := Render(d, f.width, f.height)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := DiffPNG(bytes.NewReader(png1), bytes.NewReader(png1)); err != nil {
			b.Fatal(err)
		}
	}
}
