package metrics

import (
	"math/bits"
	"math/rand/v2"
)

// NewSource returns the suite's seeded random source, rand.NewPCG(seed, 0) (PCG-DXSM, the
// generator numpy also uses by default, though with a different seeding). Functions here use
// only its Uint64 stream, which math/rand/v2 keeps stable across Go versions and platforms.
func NewSource(seed uint64) *rand.PCG {
	return rand.NewPCG(seed, 0)
}

// uintN returns a uniform integer in [0, n), n > 0, from src by Lemire's multiply-and-reject
// method: with (hi, lo) = x·n as a 128-bit product of a fresh x = src.Uint64(), redraw while
// lo < (2⁶⁴ − n) mod n, then return hi. Unlike rand.IntN it has no special case for powers of
// two or 32-bit platforms, so the stream is the same everywhere.
func uintN(src rand.Source, n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(src.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(src.Uint64(), un)
		}
	}
	return int(hi)
}

// shuffle permutes p in place by Fisher–Yates from the end: for j = len(p)−1 down to 1, swap
// p[j] with p[uintN(src, j+1)].
func shuffle(src rand.Source, p []int) {
	for j := len(p) - 1; j > 0; j-- {
		k := uintN(src, j+1)
		p[j], p[k] = p[k], p[j]
	}
}

// Permutation returns a seeded random permutation of 0…n−1: the identity shuffled by shuffle
// with NewSource(seed), the same on every platform.
func Permutation(seed uint64, n int) []int {
	p := make([]int, max(n, 0))
	for i := range p {
		p[i] = i
	}
	shuffle(NewSource(seed), p)
	return p
}
