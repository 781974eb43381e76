//go:build !unix

package fuzzbound

import "time"

// processCPU stands in for the process's CPU time where getrusage is not available: the wall
// time since the package was initialised, so that the CPU bound acts as a wall-time bound.
func processCPU() time.Duration { return time.Since(processStart) }
