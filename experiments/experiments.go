// Package experiments registers every experiment of the suite with the harness: importing it
// (as harness/cmd/replicate does) makes them all available to `replicate list|run|check`.
//
// Each experiment lives in its own package below this one. `go test ./experiments` runs every
// registered experiment on the quick profile and compares its numbers with its golden
// (golden/<experiment>/quick.json); `go test ./experiments -update` rewrites those goldens.
package experiments

import (
	_ "compactv4/experiments/compression"   // E2, Fig. 1c-h
	_ "compactv4/experiments/sharedfilters" // E4, Fig. 3a-d
	_ "compactv4/experiments/stimuli"       // E3, Fig. 2a
)
