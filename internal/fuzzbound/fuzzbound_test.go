package fuzzbound

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestOverrun(t *testing.T) {
	start := time.Unix(1000, 0)
	in := &input{name: "FuzzX/seed#0", start: start, cpu: 5 * time.Second, alloc: 1 << 30}
	for _, tc := range []struct {
		after, cpu time.Duration // wall and CPU time since the input started
		alloc      uint64
		want       string
	}{
		{0, 0, 1 << 30, ""},
		{time.Second, time.Second, 1<<30 + 200<<20, ""},
		{3 * time.Second, 3 * time.Second, 1 << 30, "FuzzX/seed#0: input still running after using 3s of CPU time (bound 2s)"},
		{15 * time.Second, time.Second, 1 << 30, ""}, // waiting for a core on a loaded machine
		{21 * time.Second, 0, 1 << 30, "FuzzX/seed#0: input still running after 21s (bound 20s)"},
		{time.Second, time.Second, 1<<30 + 300<<20, "FuzzX/seed#0: input still running after allocating 300 MiB (bound 128 MiB)"},
	} {
		got := overrun(in, start.Add(tc.after), in.cpu+tc.cpu, tc.alloc, 2*time.Second, 128<<20)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("after %v, %v of CPU and %d bytes: %q, want %q", tc.after, tc.cpu, tc.alloc-in.alloc, got, tc.want)
		}
	}
}

// TestProcessCPU checks that processCPU counts the CPU time of a busy loop.
func TestProcessCPU(t *testing.T) {
	before := processCPU()
	x := 0
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
		x++
	}
	if d := processCPU() - before; d <= 0 {
		t.Fatalf("50 ms of busy loop: processCPU moved by %v (loop count %d)", d, x)
	}
}

// recorder is a testing.TB that records Fatalf instead of stopping the goroutine.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper()                           {}
func (r *recorder) Name() string                      { return "rec" }
func (r *recorder) Fatalf(format string, args ...any) { r.failed = fmt.Sprintf(format, args...) }

var sink []byte

func TestRunAlloc(t *testing.T) {
	r := &recorder{TB: t}
	Run(r, func() { sink = make([]byte, 1<<20) })
	if r.failed != "" {
		t.Fatalf("1 MiB failed: %s", r.failed)
	}
	Run(r, func() {
		for range 3 {
			sink = make([]byte, MaxAlloc/2)
		}
	})
	if !strings.Contains(r.failed, "allocate 192 MiB") {
		t.Fatalf("allocating 192 MiB: %q", r.failed)
	}
	if current.Load() != nil {
		t.Fatal("the input is still marked as running after Run returned")
	}
}

// TestWatchdog runs a hanging input in a child process and checks that the watchdog ends it
// with the input's name and the goroutines' stacks.
func TestWatchdog(t *testing.T) {
	if os.Getenv("FUZZBOUND_HANG") == "1" {
		current.Store(&input{name: "FuzzHang/seed#3", start: time.Now(), cpu: processCPU(), alloc: allocated()})
		go watchdog(50*time.Millisecond, MaxAlloc, 5*time.Millisecond)
		hang()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdog$")
	cmd.Env = append(os.Environ(), "FUZZBOUND_HANG=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the hanging child exited 0:\n%s", out)
	}
	for _, want := range []string{"FuzzHang/seed#3: input still running after", "fuzzbound.hang("} {
		if !strings.Contains(string(out), want) {
			t.Errorf("child output lacks %q:\n%s", want, out)
		}
	}
}

//go:noinline
func hang() {
	for {
		time.Sleep(time.Millisecond)
	}
}

func TestMinimize(t *testing.T) {
	fl := flag.Lookup(minimizeFlag)
	if fl == nil {
		t.Skip("no -fuzzminimizetime flag in this test binary")
	}
	old := fl.Value.String()
	t.Cleanup(func() { flag.Set(minimizeFlag, old) })
	Minimize(nil) // f is used only when the flag cannot be set
	if got, want := fl.Value.String(), fmt.Sprintf("%dx", MinimizeExecs); got != want && !isExplicit() {
		t.Errorf("-fuzzminimizetime = %s, want %s", got, want)
	}
}

func isExplicit() bool {
	explicit := false
	flag.Visit(func(fl *flag.Flag) { explicit = explicit || fl.Name == minimizeFlag })
	return explicit
}

// TestMinimizeExplicit checks in a child test binary that Minimize leaves an explicit
// -fuzzminimizetime alone.
func TestMinimizeExplicit(t *testing.T) {
	if os.Getenv("FUZZBOUND_MINIMIZE") == "1" {
		Minimize(nil)
		fmt.Println("value:", flag.Lookup(minimizeFlag).Value.String())
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMinimizeExplicit$", "-test.fuzzminimizetime=7s", "-test.v")
	cmd.Env = append(os.Environ(), "FUZZBOUND_MINIMIZE=1")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "value: 7s") {
		t.Fatalf("explicit -fuzzminimizetime=7s: %v\n%s", err, out)
	}
}
