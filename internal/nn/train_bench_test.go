package nn

import (
	"fmt"
	"runtime"
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
			tr, err := NewTrainer(mn, NewAdam(1e-4, 0))
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

// trainFLOPs is the floating-point operations of one compact-model training step per image
// (multiply-adds ×2 of the convolutions and the readout, forward and backward; batchnorm, ReLU
// and the optimizer are not counted): forward, and backward (weight gradients of every layer,
// input gradients of layers 1-4 and the readout; layer 0 needs none).
func trainFLOPs(f [model.NumLayers]int) (fwd, bwd float64) {
	h := [model.NumLayers]float64{112, 56, 28, 28, 28}
	fwd = 2 * h[0] * h[0] * 75 * float64(f[0])
	bwd = fwd // layer 0 weight gradient
	for l := 1; l < model.NumLayers; l++ {
		px := h[l] * h[l]
		dw := 2 * px * 25 * float64(f[l-1])
		pw := 2 * px * float64(f[l-1]) * float64(f[l])
		fwd += dw + pw
		bwd += 2 * (dw + pw)
	}
	ro := 2 * 784 * float64(f[4])
	return fwd + ro, bwd + 2*ro
}

// BenchmarkTrainStepCPU is BenchmarkCompactTrainStep on one worker and one locked OS thread
// (batch 16), reporting CPU milliseconds per image and GFLOP/s of CPU time (trainFLOPs): figures
// that a machine shared with other processes disturbs far less than wall-clock ones.
func BenchmarkTrainStepCPU(b *testing.B) {
	for _, f := range [][model.NumLayers]int{{48, 60, 3, 3, 3}, {100, 100, 100, 100, 100}} {
		b.Run(fmt.Sprintf("%d_%d_%d_%d_%d", f[0], f[1], f[2], f[3], f[4]), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			mn, err := model.NewCompact(f)
			if err != nil {
				b.Fatal(err)
			}
			if err := InitKeras(mn, 1); err != nil {
				b.Fatal(err)
			}
			tr, err := NewTrainer(mn, NewAdam(1e-4, 0))
			if err != nil {
				b.Fatal(err)
			}
			tr.SetWorkers(1)
			const batch = 16
			_, x := randomImages(3, batch, tr.InputShape())
			y := make([]float32, batch)
			if _, err := tr.Step(x, y, batch); err != nil {
				b.Fatal(err)
			}
			t0 := threadCPU()
			for b.Loop() {
				if _, err := tr.Step(x, y, batch); err != nil {
					b.Fatal(err)
				}
			}
			ms := float64((threadCPU() - t0).Microseconds()) / 1e3 / float64(batch*b.N)
			fw, bw := trainFLOPs(f)
			b.ReportMetric(ms, "cpu-ms/image")
			b.ReportMetric((fw+bw)/ms/1e6, "cpu-GFLOP/s")
		})
	}
}
