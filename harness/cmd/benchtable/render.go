package main

import (
	"fmt"
	"strings"
	"time"

	"compactv4/harness"
)

// render writes the dated markdown table: the conditions of the sitting, the peers' exact
// invocations, then one row per benchmark.
func render(m machine, at time.Time, kernels, benchtime string, count int, suite map[string][]benchResult, p *peers) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s by `make bench` (`harness/cmd/benchtable`) on %s; kernel set `%s`; load average (1, 5, 15 min) %s before, %s after. ",
		at.Format("2006-01-02 15:04 MST"), m.describe(), kernels, m.loadBefore, m.loadAfter)
	fmt.Fprintf(&b, "Every figure is the best of %d runs, the suite's (`go test -bench … -benchtime %s -count %d`) and the peers' alike, all in this sitting.\n\n", count, benchtime, count)
	if p.torchMissing != "" {
		fmt.Fprintf(&b, "PyTorch peer: not available (%s; install: `%s`).\n\n", p.torchMissing, installHint)
	} else {
		fmt.Fprintf(&b, "PyTorch peer: %s, batch %d, one thread per core, tuned as PyTorch's CPU performance guide advises (tcmalloc preloaded, no `OPENBLAS_*` overrides):\n`%s`\n\n",
			torchVersion(p), peerBatch, p.torchInvocation("FILTERS"))
	}
	if p.numpyMissing != "" {
		fmt.Fprintf(&b, "SGEMM limit: not available (%s; install: `%s`).\n\n", p.numpyMissing, installHint)
	} else {
		fmt.Fprintf(&b, "SGEMM limit: numpy %s `np.dot` of 1024×1024 float32 matrices (%s), one thread per core:\n`%s`\n\n",
			field(p.sgemm, func(r sgemmResult) string { return r.Numpy }), field(p.sgemm, func(r sgemmResult) string { return r.BLAS }), p.sgemmInvocation())
	}
	b.WriteString("| benchmark | this suite | peer | ratio |\n|---|---|---|---|\n")
	for _, r := range tableRows {
		s, ok := best(suite[r.bench], r.unit, true)
		cell := "not run"
		if ok {
			cell = fmt.Sprintf("%s %s", fmtNum(s), r.unit)
		}
		peer, ratio := "—", ""
		if r.peer != nil {
			v, desc := r.peer(p)
			peer = desc
			if ok && v > 0 {
				ratio = fmt.Sprintf("%.2f×", s/v)
				if r.percent {
					ratio = fmt.Sprintf("%.0f %%", 100*s/v)
				}
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.label, cell, peer, ratio)
	}
	for _, r := range timeRows {
		var cells []string
		for _, name := range r.benches {
			if ns, ok := best(suite[name], "ns/op", false); ok {
				cells = append(cells, fmt.Sprintf("%.2f s", ns/1e9))
			} else {
				cells = append(cells, "not run")
			}
		}
		fmt.Fprintf(&b, "| %s | %s | — | |\n", r.label, strings.Join(cells, " / "))
	}
	return b.String()
}

// tableRow is a throughput row: the best of the suite's benchmark in unit, against a peer.
type tableRow struct {
	label, bench, unit string
	peer               func(*peers) (float64, string) // best peer value and its cell
	percent            bool                           // ratio as a percentage of the peer
}

var tableRows = []tableRow{
	{"`BenchmarkCompactInference` (filters 48,60,3,3,3, batch 64)", "BenchmarkCompactInference", "images/s",
		func(p *peers) (float64, string) { return p.torchBest("48,60,3,3,3", false) }, false},
	{"`BenchmarkCompactTrainStep` 48,60,3,3,3 (forward, backward, Adam; batch 64)", "BenchmarkCompactTrainStep/48_60_3_3_3", "images/s",
		func(p *peers) (float64, string) { return p.torchBest("48,60,3,3,3", true) }, false},
	{"`BenchmarkCompactTrainStep` 100,100,100,100,100", "BenchmarkCompactTrainStep/100_100_100_100_100", "images/s",
		func(p *peers) (float64, string) { return p.torchBest("100,100,100,100,100", true) }, false},
	{"`BenchmarkParallelSgemm` 1024×1024×1024 (one worker per core)", "BenchmarkParallelSgemm/1024x1024x1024", "GFLOP/s",
		func(p *peers) (float64, string) { return p.sgemmBest() }, true},
	{"`BenchmarkSharedInference` (K = 200, 822.6 MFLOP/image, batch 64)", "BenchmarkSharedInference", "images/s", nil, false},
}

// timeRow is a row of wall times (seconds per iteration) of one or more benchmarks.
type timeRow struct {
	label   string
	benches []string
}

var timeRows = []timeRow{
	{"`BenchmarkReadZip` (1,200 images, libjpeg-exact)", []string{"BenchmarkReadZip"}},
	{"`BenchmarkLoadAllCompact` cold (219 models, every file hashed, then parsed; .keras / .weights.h5 / .npy / .pt)",
		[]string{"BenchmarkLoadAllCompact/keras/cold", "BenchmarkLoadAllCompact/weights.h5/cold", "BenchmarkLoadAllCompact/npy/cold", "BenchmarkLoadAllCompact/pt/cold"}},
}

// torchBest is the best PyTorch throughput (training or inference) of a configuration and its
// cell: the best, then every run.
func (p *peers) torchBest(filters string, train bool) (float64, string) {
	if p.torchMissing != "" {
		return 0, "not available"
	}
	if e := p.torchErr[filters]; e != "" {
		return 0, "failed: " + e
	}
	var vals []float64
	for _, r := range p.torch[filters] {
		v := r.Infer
		if train {
			v = r.Train
		}
		vals = append(vals, v)
	}
	return bestOf(vals, "images/s")
}

func (p *peers) sgemmBest() (float64, string) {
	if p.numpyMissing != "" {
		return 0, "not available"
	}
	if p.sgemmErr != "" {
		return 0, "failed: " + p.sgemmErr
	}
	var vals []float64
	for _, r := range p.sgemm {
		vals = append(vals, r.Best)
	}
	v, cell := bestOf(vals, "GFLOP/s")
	return v, "numpy/OpenBLAS " + cell
}

// bestOf is the largest of vals and the cell "best unit (runs: a, b, c)".
func bestOf(vals []float64, unit string) (float64, string) {
	if len(vals) == 0 {
		return 0, "no run"
	}
	m := vals[0]
	var runs []string
	for _, v := range vals {
		m = max(m, v)
		runs = append(runs, fmtNum(v))
	}
	return m, fmt.Sprintf("%s %s (runs: %s)", fmtNum(m), unit, strings.Join(runs, ", "))
}

func torchVersion(p *peers) string {
	for _, rs := range p.torch {
		if len(rs) > 0 {
			return "PyTorch " + rs[0].Torch
		}
	}
	return "PyTorch"
}

func field(rs []sgemmResult, f func(sgemmResult) string) string {
	if len(rs) == 0 {
		return "?"
	}
	return f(rs[0])
}

// fmtNum prints a throughput with three significant digits (whole numbers from 100 up).
func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return harness.Comma(int(v + 0.5))
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}
