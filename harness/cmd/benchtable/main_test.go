package main

import (
	"strings"
	"testing"
	"time"
)

const sampleBench = `goos: linux
goarch: amd64
pkg: compactv4/internal/nn
cpu: AMD EPYC
BenchmarkCompactInference-2   	      52	  59176552 ns/op	       628.0 images/cpu-s	      1082 images/s
BenchmarkCompactInference-2   	      55	  55176552 ns/op	       640.0 images/cpu-s	      1160 images/s
BenchmarkParallelSgemm/1024x1024x1024-2         	     100	   9000000 ns/op	       238.6 GFLOP/s
BenchmarkCompactTrainStep/48_60_3_3_3-2         	       4	 871775970 ns/op	       150.8 images/cpu-s	        73.41 images/s
BenchmarkReadZip-2   	       3	 340000000 ns/op	 120.00 MB/s	      3529 images/s
--- SKIP: BenchmarkLoadAllCompact
PASS
ok  	compactv4/internal/nn	12.3s
`

func TestParseBench(t *testing.T) {
	res := parseBench(sampleBench)
	for _, tc := range []struct {
		name, unit string
		higher     bool
		want       float64
		runs       int
	}{
		{"BenchmarkCompactInference", "images/s", true, 1160, 2},
		{"BenchmarkCompactInference", "ns/op", false, 55176552, 2},
		{"BenchmarkParallelSgemm/1024x1024x1024", "GFLOP/s", true, 238.6, 1},
		{"BenchmarkCompactTrainStep/48_60_3_3_3", "images/s", true, 73.41, 1},
		{"BenchmarkReadZip", "MB/s", true, 120, 1},
	} {
		if got := len(res[tc.name]); got != tc.runs {
			t.Errorf("%s: %d results, want %d", tc.name, got, tc.runs)
		}
		if got, ok := best(res[tc.name], tc.unit, tc.higher); !ok || got != tc.want {
			t.Errorf("best %s %s = %v, %v; want %v", tc.name, tc.unit, got, ok, tc.want)
		}
	}
	if _, ok := best(res["BenchmarkLoadAllCompact"], "ns/op", false); ok {
		t.Error("a skipped benchmark has a result")
	}
}

func TestSpliceTable(t *testing.T) {
	doc := "intro\n" + beginMarker + "\nold table\n" + endMarker + "\nrest\n"
	got, err := spliceTable(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "intro\n" + beginMarker + "\nnew\n" + endMarker + "\nrest\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	for _, bad := range []string{"no markers", endMarker + "\n" + beginMarker, beginMarker + " only"} {
		if _, err := spliceTable(bad, "x"); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestParseCPUInfo(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC 9R14\nflags\t\t: fpu avx2 avx512f avx512dq\n\nprocessor\t: 1\nmodel name\t: other\n"
	m := parseCPUInfo(info, machine{cores: 2})
	if m.model != "AMD EPYC 9R14" || m.family != 25 || m.cpuModel != 17 || !m.avx512 {
		t.Fatalf("parsed %+v", m)
	}
	if got, want := m.describe(), "AMD EPYC 9R14 (family 25, model 17: Zen 4), 2 cores, AVX-512F"; got != want {
		t.Errorf("describe = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		family, model int
		want          string
	}{{23, 0x31, "Zen 2"}, {25, 0x01, "Zen 3"}, {25, 0x21, "Zen 3"}, {25, 0x11, "Zen 4"}, {25, 0x61, "Zen 4"}, {26, 0x02, "Zen 5"}, {6, 0x55, ""}} {
		m := machine{vendor: "AuthenticAMD", family: tc.family, cpuModel: tc.model}
		if got := m.microarch(); got != tc.want {
			t.Errorf("family %d model %#x: %q, want %q", tc.family, tc.model, got, tc.want)
		}
	}
}

// The table puts each best figure beside the peer's best, and says why a peer is missing.
func TestRender(t *testing.T) {
	m := machine{model: "AMD EPYC", vendor: "AuthenticAMD", family: 25, cpuModel: 17, cores: 2, avx512: true, loadBefore: "0.1 0.2 0.3", loadAfter: "1.0 0.5 0.4"}
	p := &peers{python: "/usr/bin/python3", tcmalloc: "/lib/tc.so", threads: 2,
		torch: map[string][]torchResult{
			"48,60,3,3,3":         {{"1.13", 500, 60}, {"1.13", 580, 55}, {"1.13", 540, 70}},
			"100,100,100,100,100": {{"1.13", 100, 20}},
		},
		torchErr: map[string]string{},
		sgemm:    []sgemmResult{{1024, 250, "1.24", "libopenblas.so"}, {1024, 300, "1.24", "libopenblas.so"}}}
	out := render(m, time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC), "avx512", "3s", 3, parseBench(sampleBench), p)
	for _, want := range []string{
		"Measured 2026-12-02 15:00 UTC", "Zen 4", "kernel set `avx512`", "0.1 0.2 0.3 before",
		"LD_PRELOAD=/lib/tc.so env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE /usr/bin/python3 harness/cmd/benchtable/torch_compact_bench.py FILTERS 64 2",
		"| 1,160 images/s | 580 images/s (runs: 500, 580, 540) | 2.00× |",
		"| 73.4 images/s | 70.0 images/s (runs: 60.0, 55.0, 70.0) | 1.05× |",
		"| 239 GFLOP/s | numpy/OpenBLAS 300 GFLOP/s (runs: 250, 300) | 80 % |",
		"| 0.34 s | — |", "not run / not run",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	p.torchMissing, p.numpyMissing = "python3 cannot import torch", "python3 cannot import numpy"
	out = render(m, time.Now(), "avx2", "3s", 3, nil, p)
	for _, want := range []string{"PyTorch peer: not available (python3 cannot import torch; install: `" + installHint + "`)", "| not run | not available |  |"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
