package plots_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"compactv4/internal/plots"
)

// Accuracy versus the number of filters K for two teachers, with the
// teachers' own accuracy as a reference line, saved as PNG and SVG.
func ExampleLines() {
	k := []float64{1, 2, 4, 8, 16, 32, 64}
	series := []plots.Series{
		{Label: "ResNet50", X: k, Y: []float64{0.21, 0.27, 0.33, 0.38, 0.41, 0.43, 0.44}, YErr: []float64{0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01}},
		{Label: "VGG19", X: k, Y: []float64{0.18, 0.24, 0.30, 0.35, 0.39, 0.41, 0.42}, YErr: []float64{0.02, 0.02, 0.02, 0.01, 0.01, 0.01, 0.01}},
	}
	p, err := plots.Lines(series, plots.LineOptions{
		Axes:   plots.Axes{XLabel: "Number of filters K", YLabel: "Accuracy (R^{2})", LogX: true},
		HLines: []plots.RefLine{{Value: 0.45, Label: "teacher"}},
		Legend: plots.BottomRight,
	})
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := plots.Save(p, dir, "accuracy_vs_k", plots.SingleColumn/2, plots.SingleColumn/2); err != nil {
		log.Fatal(err)
	}
	names, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, n := range names {
		fmt.Println(filepath.Base(n))
	}
	// Output:
	// accuracy_vs_k.png
	// accuracy_vs_k.svg
}

// Comparing a figure with itself: every pixel is equal.
func ExampleDiff() {
	p, err := plots.Scatter([]plots.Series{{X: []float64{1, 2, 3}, Y: []float64{1, 4, 9}}}, plots.ScatterOptions{})
	if err != nil {
		log.Fatal(err)
	}
	png, _, err := plots.Render(p, 144, 72)
	if err != nil {
		log.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "plots-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	a, b := filepath.Join(dir, "a.png"), filepath.Join(dir, "b.png")
	for _, path := range []string{a, b} {
		if err := os.WriteFile(path, png, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	st, err := plots.DiffFiles(a, b, "")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st)
	// Output:
	// 300×150 pixels, identical
}
