//go:build unix

package synth

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) of the process so far: on a shared machine, the
// cost of the work, where wall time also counts the waits for a core.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
