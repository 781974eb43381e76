package nn

import (
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"compactv4/internal/model"
)

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

// TestCPUTimeProfile prints the CPU time (not wall time: the machine is shared) of each stage of
// the benchmark model on one thread. Set NN_CPUPROFILE=1 to run it.
func TestCPUTimeProfile(t *testing.T) {
	if os.Getenv("NN_CPUPROFILE") == "" {
		t.Skip("set NN_CPUPROFILE=1")
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	mn, _ := model.NewCompact([model.NumLayers]int{48, 60, 3, 3, 3})
	randomize(t, mn, 1)
	net, err := Compile(mn)
	if err != nil {
		t.Fatal(err)
	}
	_, x := randomImages(2, 1, net.InputShape())
	bufs := *net.bufs.Get()
	sc := new(scratch)
	net.load(bufs[0], source{f: x}, 0)
	for k, o := range net.ops {
		o.run(bufs[k], bufs[k+1], sc, 0, o.rows())
	}
	total := time.Duration(0)
	for k, o := range net.ops {
		const reps = 100
		t0 := threadCPU()
		for range reps {
			o.run(bufs[k], bufs[k+1], sc, 0, o.rows())
		}
		d := (threadCPU() - t0) / reps
		total += d
		t.Logf("%-12s %8.3f ms CPU", net.stages[k].Name, d.Seconds()*1e3)
	}
	t.Logf("total        %8.3f ms CPU per image = %.0f images/s per core", total.Seconds()*1e3, 1/total.Seconds())
	const k = 256
	a, p, c := make([]float32, k*mr), make([]float32, k*nr), make([]float32, mr*nr)
	t0 := threadCPU()
	const n = 200000
	for range n {
		gemmTile(a, 1, mr, 1, k, 0, p, c, nr, nil, 0, 1)
	}
	d := threadCPU() - t0
	t.Logf("gemmTile: %.1f GFLOP/s CPU", 2*mr*nr*k*n/d.Seconds()/1e9)

	// Sgemm against gonum's pure-Go Sgemm (which runs goroutines of its own), alternating.
	impl := gonum.Implementation{}
	for _, s := range [][3]int{{256, 256, 256}, {3136, 64, 48}, {12544, 48, 75}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		var ours, theirs time.Duration
		const reps = 20
		for range reps {
			t0 := processCPU()
			Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
			t1 := processCPU()
			impl.Sgemm(blas.NoTrans, blas.NoTrans, m, n, k, 1, x, k, y, n, 0, z, n)
			t2 := processCPU()
			ours += t1 - t0
			theirs += t2 - t1
		}
		fl := reps * 2 * float64(m*n*k)
		t.Logf("Sgemm %dx%dx%d: %.1f GFLOP/s CPU; gonum %.1f GFLOP/s CPU", m, n, k, fl/ours.Seconds()/1e9, fl/theirs.Seconds()/1e9)
	}
}
