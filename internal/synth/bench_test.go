package synth

import (
	"context"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

// BenchmarkSynthesisStep measures one step of the synthesis on a published compact model
// (190923 n4, filters as published) on one goroutine, as the experiment runs each model:
// an input gradient through nn.GradNet, the gradient normalisation and smoothing, the step and
// the clipping. It reports wall and CPU milliseconds per step; the experiment's 1,000 steps per model follow from it.
func BenchmarkSynthesisStep(b *testing.B) {
	dir := datadirtest.Dir(b)
	store, err := v4data.Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	net, err := v4data.LoadCompact(store, v4data.CompactID{Session: "190923", Neuron: 4}, v4data.FormatKeras)
	if err != nil {
		b.Fatal(err)
	}
	g, err := nn.NewGradNet(net)
	if err != nil {
		b.Fatal(err)
	}
	g.SetWorkers(1)
	p := DefaultParams()
	p.Steps = 20
	cpu0 := processCPU()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Synthesize(context.Background(), g, 112, 112, p, 1); err != nil {
			b.Fatal(err)
		}
	}
	steps := float64(b.N * p.Steps)
	b.ReportMetric(b.Elapsed().Seconds()*1e3/steps, "ms/step")
	b.ReportMetric((processCPU()-cpu0).Seconds()*1e3/steps, "cpu-ms/step")
}
