package nn

import (
	"fmt"
	"testing"

	"compactv4/internal/model"
)

// BenchmarkCompactTrainStep is one training step (forward in training mode, backward, Adam) of a
// compact model on a batch of 64 images, for the paper's typical compact model (48,60,3,3,3) and
// the distillation student (100×5). images/s is wall clock; images/cpu-s counts the CPU time of
// all the process's threads (on an idle machine images/s ≈ cores × images/cpu-s).
func BenchmarkCompactTrainStep(b *testing.B) {
	for _, f := range [][model.NumLayers]int{{48, 60, 3, 3, 3}, {100, 100, 100, 100, 100}} {
		b.Run(fmt.Sprintf("%d_%d_%d_%d_%d", f[0], f[1], f[2], f[3], f[4]), func(b *testing.B) {
			mn, err := model.NewCompact(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := InitKeras(mn, 1); err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(mn, NewAdam(1e-4, 0), 1)
			if err != nil {
				b.Fatal(err)
			}
			const batch = 64
			_, x := randomImages(3, batch, tr.InputShape())
			y := make([]float32, batch)
			for i := range y {
				y[i] = float32(i%7) - 3
			}
			if _, err := tr.Step(x, y, batch); err != nil { // allocate the buffers
				b.Fatal(err)
			}
			t0 := processCPU()
			for b.Loop() {
				if _, err := tr.Step(x, y, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds(), "images/s")
			b.ReportMetric(float64(batch*b.N)/(processCPU()-t0).Seconds(), "images/cpu-s")
		})
	}
}
