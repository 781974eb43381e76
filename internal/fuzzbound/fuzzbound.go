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
// MaxTime cannot be stopped from outside: a watchdog then ends the process with every goroutine's
// stack (showing where the reader loops), and the fuzzer saves the input as a crasher.
package fuzzbound

import (
	"fmt"
	"runtime/debug"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	// MaxTime is how long one input may run. The inputs of this repository's targets take
	// well under a millisecond; the margin absorbs a loaded machine, the race detector and
	// coverage instrumentation.
	MaxTime = 2 * time.Second

	// MaxAlloc is how many bytes one input may allocate in all. Seeds are a few kilobytes and
	// mutation keeps inputs small, so a reader that allocates this much is trusting a size
	// field it read from the input.
	MaxAlloc = 128 << 20
)

// input is the fuzz input running now.
type input struct {
	name  string
	start time.Time
	alloc uint64 // allocated bytes before it started
}

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
	in := &input{name: t.Name(), start: time.Now(), alloc: allocated()}
	current.Store(in)
	defer current.CompareAndSwap(in, nil)
	fn()
	if n := allocated() - in.alloc; n > MaxAlloc {
		t.Fatalf("the input made the code allocate %d MiB (bound %d MiB): a size read from the input is trusted", n>>20, MaxAlloc>>20)
	}
}

// watchdog checks the running input every tick and panics, with every goroutine's stack, when it
// has run longer than maxTime or allocated more than 2·maxAlloc (an input allocating in a loop
// would exhaust memory before Run could check it).
func watchdog(maxTime time.Duration, maxAlloc uint64, tick time.Duration) {
	for {
		time.Sleep(tick)
		in := current.Load()
		if in == nil {
			continue
		}
		if msg := overrun(in, time.Now(), allocated(), maxTime, maxAlloc); msg != "" && current.Load() == in {
			debug.SetTraceback("all")
			panic(msg)
		}
	}
}

// overrun says how in exceeds its bounds at time now with alloc bytes allocated so far, or "".
func overrun(in *input, now time.Time, alloc uint64, maxTime time.Duration, maxAlloc uint64) string {
	if d := now.Sub(in.start); d > maxTime {
		return fmt.Sprintf("fuzzbound: %s: input still running after %v (bound %v): the code loops or hangs on it", in.name, d.Round(time.Millisecond), maxTime)
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
