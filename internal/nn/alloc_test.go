package nn

import (
	"runtime"
	"testing"

	"compactv4/internal/model"
)

// In steady state Forward allocates no buffers: only the goroutine launches (a closure each, and
// the few words of the scheduling state) remain, whatever the batch size.
func TestForwardAllocations(t *testing.T) {
	mn, _ := model.NewCompact([model.NumLayers]int{4, 5, 3, 3, 3})
	randomize(t, mn, 1)
	net, err := Compile(mn)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ workers, batch int }{{1, 3}, {2, 4}, {2, 1}, {4, 8}} {
		net.SetWorkers(tc.workers)
		_, x := randomImages(1, tc.batch, net.InputShape())
		out := make([]float32, tc.batch*net.Outputs())
		for range 10 { // until every worker has had its buffers once
			if err := net.Forward(x, tc.batch, out); err != nil {
				t.Fatal(err)
			}
		}
		allocs := testing.AllocsPerRun(5, func() {
			if err := net.Forward(x, tc.batch, out); err != nil {
				t.Fatal(err)
			}
		})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		const runs = 20
		for range runs {
			if err := net.Forward(x, tc.batch, out); err != nil {
				t.Fatal(err)
			}
		}
		runtime.ReadMemStats(&after)
		bytes := float64(after.TotalAlloc-before.TotalAlloc) / runs
		t.Logf("workers=%d batch=%d: %.1f allocations, %.0f bytes per Forward", tc.workers, tc.batch, allocs, bytes)
		// Goroutine launches only: no activation buffer (a buffer of one image of this small
		// model is already ~150 kB) may be allocated in steady state.
		if limit := 256.0 * float64(tc.workers+len(net.ops)); bytes > limit {
			t.Errorf("workers=%d batch=%d: %.0f bytes allocated per Forward, want ≤ %.0f", tc.workers, tc.batch, bytes, limit)
		}
	}
}
