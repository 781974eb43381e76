package nn

import (
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"compactv4/internal/model"
)

// threadCPU is the calling OS thread's CPU time (Linux RUSAGE_THREAD).
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(1 /* RUSAGE_THREAD */, &ru); err != nil {
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
}
