package nn

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"

	"compactv4/internal/model"
)

// The benchmarks here report CPU time (getrusage) besides wall time: on a machine shared by
// several processes the wall time mostly measures the others.

// threadCPU is the calling OS thread's CPU time (Linux RUSAGE_THREAD).
func threadCPU() time.Duration { return rusage(1) }

// processCPU is the CPU time of all the process's threads (RUSAGE_SELF), for code that starts
// goroutines of its own (gonum's Sgemm does).
func processCPU() time.Duration { return rusage(0) }

func rusage(who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkStageCPU times each stage of the benchmark compact model (48,60,3,3,3) on one image and
// one locked thread, reporting CPU milliseconds per image and GFLOP/s of CPU time; "total" is
// the whole forward pass of one image.
func BenchmarkStageCPU(b *testing.B) {
	mn, _ := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	randomize(b, mn, 1)
	net, err := Compile(mn)
	if err != nil {
		b.Fatal(err)
	}
	_, x := randomImages(2, 1, net.InputShape())
	bufs := *net.bufs.Get()
	sc := net.scratch.Get()
	if err := net.load(bufs[0], source{f: x}, 0); err != nil {
		b.Fatal(err)
	}
	all := func() {
		for k, o := range net.ops {
			o.run(bufs[k], bufs[k+1], sc, 0, o.rows())
		}
	}
	all()
	// Multiply-adds of each stage of this model (doc.go).
	flops := []float64{90316800, 25589760, 2634240, 131712, 131712, 0, 4704}
	// Sub-benchmarks run on goroutines of their own: each locks its thread.
	report := func(b *testing.B, d time.Duration, fl float64) {
		ms := d.Seconds() * 1e3 / float64(b.N)
		b.ReportMetric(ms, "cpu-ms/image")
		if fl > 0 {
			b.ReportMetric(fl*float64(b.N)/d.Seconds()/1e9, "cpu-GFLOP/s")
		}
	}
	for k, o := range net.ops {
		b.Run(net.stages[k].Name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			t0 := threadCPU()
			for b.Loop() {
				o.run(bufs[k], bufs[k+1], sc, 0, o.rows())
			}
			report(b, threadCPU()-t0, flops[k])
		})
	}
	b.Run("total", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		t0 := threadCPU()
		for b.Loop() {
			all()
		}
		d := threadCPU() - t0
		report(b, d, 118808928)
		b.ReportMetric(float64(b.N)/d.Seconds(), "images/cpu-s")
	})
}

// BenchmarkGemmTileCPU is BenchmarkGemmTile in CPU time.
func BenchmarkGemmTileCPU(b *testing.B) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	const k, np = 128, 4 // A and four panels of B: 34 KiB, in L1
	a, p, c := make([]float32, k*mr), make([]float32, np*k*nr), make([]float32, mr*np*nr)
	t0 := threadCPU()
	for b.Loop() {
		gemmTile(a, 1, mr, 1, k, 0, p, c, np*nr, nil, 0, np)
	}
	b.ReportMetric(2*mr*np*nr*k*float64(b.N)/(threadCPU()-t0).Seconds()/1e9, "cpu-GFLOP/s")
}

// BenchmarkSgemmVsGonumCPU runs Sgemm and gonum's pure-Go Sgemm alternately and reports both in
// GFLOP/s of process CPU time (gonum starts goroutines of its own).
func BenchmarkSgemmVsGonumCPU(b *testing.B) {
	impl := gonum.Implementation{}
	for _, s := range [][3]int{{256, 256, 256}, {3136, 64, 48}, {12544, 48, 75}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			var ours, theirs time.Duration
			for b.Loop() {
				t0 := processCPU()
				Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
				t1 := processCPU()
				impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
				t2 := processCPU()
				ours += t1 - t0
				theirs += t2 - t1
			}
			fl := 2 * float64(m*n*k) * float64(b.N)
			b.ReportMetric(fl/ours.Seconds()/1e9, "ours-cpu-GFLOP/s")
			b.ReportMetric(fl/theirs.Seconds()/1e9, "gonum-cpu-GFLOP/s")
		})
	}
}
