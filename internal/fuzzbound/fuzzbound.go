// Package fuzzbound bounds the time and the memory that one fuzz input may take.
//
// The go fuzzer reports panics and failed tests but not hangs, and it does not notice an input
// that makes a reader allocate gigabytes until the machine runs out of memory. A fuzz target
// wraps the work of each input in Run:
//
//	f.Fuzz(func(t *testing.T, data []byte) {
//		fuzzbound.Run(t, func() { exercise(data) })
//	})
//
// An input that allocates more than MaxAlloc bytes fails the test once it returns, so the fuzzer
// minimises it and saves it under testdata/fuzz like any failure. An input still running after
// MaxTime of CPU time (or WallFactor·MaxTime of wall time) cannot be stopped from outside: a
// watchdog then ends the process with every goroutine's stack (showing where the reader loops),
// and the fuzzer saves the input as a crasher.
//
// Fuzz does both for a target of one []byte argument and also bounds the fuzzer's minimisation
// (see Minimize), without which a file-format target stalls.
package fuzzbound

import (
	"flag"
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// MaxTime is how much CPU time one input may use. The inputs of this repository's targets
	// take well under a millisecond; the margin absorbs the race detector and coverage
	// instrumentation. The bound is on the process's CPU time, not on wall time, because a
	// fuzz worker on a loaded machine can wait seconds for a core: a 10-minute run at a load
	// average of 24 on 2 cores had a worker ended by a wall-time bound on an input that takes
	// microseconds. A worker runs one input at a time, so the process's CPU time is the input's.
	MaxTime = 2 * time.Second

	// WallFactor·MaxTime is how long one input may run in wall time, which catches an input
	// that blocks without using the CPU.
	WallFactor = 10

	// MaxAlloc is how many bytes one input may allocate in all. Seeds are a few kilobytes and
	// mutation keeps inputs small, so a reader that allocates this much is trusting a size
	// field it read from the input.
	MaxAlloc = 128 << 20
)

// MinimizeExecs is the number of executions the fuzzer may spend minimising one input (see
// Minimize).
const MinimizeExecs = 5000

// minimizeFlag is the testing flag -fuzzminimizetime (go test -fuzzminimizetime).
const minimizeFlag = "test.fuzzminimizetime"

// Minimize bounds the go fuzzer's minimisation of each input to MinimizeExecs executions unless
// -fuzzminimizetime was given. Call it in a fuzz target before f.Fuzz.
//
// The fuzzer minimises every input that reaches new code, by default for up to 60 seconds of
// wall time, by trying to remove each byte and then each range of bytes: about n²/2 executions
// for an n-byte input. For a file format of a few kilobytes that never finishes: the minimising
// worker runs out its 60 seconds, and the coordinator, whose own 60-second deadline expires
// first, discards the worker and every execution it made. Early in a run almost every mutation
// reaches new code, so both workers are soon minimising and the fuzzer reports 0 executions per
// second for minutes on end. A budget in executions instead ends each minimisation cleanly, with
// its executions counted and the input shrunk as far as the budget allowed.
func Minimize(f *testing.F) {
	explicit := false
	flag.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == minimizeFlag })
	if explicit || flag.Lookup(minimizeFlag) == nil {
		return
	}
	if err := flag.Set(minimizeFlag, strconv.Itoa(MinimizeExecs)+"x"); err != nil {
		f.Fatalf("setting -%s: %v", minimizeFlag, err)
	}
}

// Fuzz is f.Fuzz for a target of one []byte argument: it calls Minimize and runs fn for each input
// under Run's bounds.
func Fuzz(f *testing.F, fn func(t *testing.T, data []byte)) {
	f.Helper()
	Minimize(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		Run(t, func() { fn(t, data) })
	})
}

// input is the fuzz input running now.
type input struct {
	name  string
	start time.Time
	cpu   time.Duration // the process's CPU time before it started
	alloc uint64        // allocated bytes before it started
}

// processStart is when the package was initialised (see processCPU).
var processStart = time.Now()

var (
	current  atomic.Pointer[input]
	startDog sync.Once
)

// Run runs fn, the work of one fuzz input, on the calling goroutine (so that fn may call t.Fatal)
// and fails t when fn allocated more than MaxAlloc bytes. A watchdog ends the process when fn has
// not returned after MaxTime.
func Run(t testing.TB, fn func()) {
	t.Helper()
	startDog.Do(func() { go watchdog(MaxTime, MaxAlloc, MaxTime/8) })
	in := &input{name: t.Name(), start: time.Now(), cpu: processCPU(), alloc: allocated()}
	current.Store(in)
	defer current.CompareAndSwap(in, nil)
	fn()
	if n := allocated() - in.alloc; n > MaxAlloc {
		t.Fatalf("the input made the code allocate %d MiB (bound %d MiB): a size read from the input is trusted", n>>20, MaxAlloc>>20)
	}
}

// watchdog checks the running input every tick and panics, with every goroutine's stack, when it
// has used more than maxTime of CPU time, run longer than WallFactor·maxTime, or allocated more
// than 2·maxAlloc (an input allocating in a loop
// would exhaust memory before Run could check it).
func watchdog(maxTime time.Duration, maxAlloc uint64, tick time.Duration) {
	for {
		time.Sleep(tick)
		in := current.Load()
		if in == nil {
			continue
		}
		if msg := overrun(in, time.Now(), processCPU(), allocated(), maxTime, maxAlloc); msg != "" && current.Load() == in {
			debug.SetTraceback("all")
			panic(msg)
		}
	}
}

// overrun says how in exceeds its bounds at time now, with the process's CPU time at cpu and
// alloc bytes allocated so far, or "".
func overrun(in *input, now time.Time, cpu time.Duration, alloc uint64, maxTime time.Duration, maxAlloc uint64) string {
	if d := cpu - in.cpu; d > maxTime {
		return fmt.Sprintf("fuzzbound: %s: input still running after using %v of CPU time (bound %v): the code loops on it", in.name, d.Round(time.Millisecond), maxTime)
	}
	if d := now.Sub(in.start); d > WallFactor*maxTime {
		return fmt.Sprintf("fuzzbound: %s: input still running after %v (bound %v): the code hangs on it", in.name, d.Round(time.Millisecond), WallFactor*maxTime)
	}
	if n := alloc - in.alloc; n > 2*maxAlloc {
		return fmt.Sprintf("fuzzbound: %s: input still running after allocating %d MiB (bound %d MiB): a size read from the input is trusted", in.name, n>>20, maxAlloc>>20)
	}
	return ""
}

var allocSample = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
var allocMu sync.Mutex

// allocated returns the bytes the process has allocated on the heap since it started.
func allocated() uint64 {
	allocMu.Lock()
	defer allocMu.Unlock()
	metrics.Read(allocSample)
	return allocSample[0].Value.Uint64()
}
