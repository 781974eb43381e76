// Package nprand reproduces the draws of numpy's legacy global random state (np.random.seed,
// np.random.permutation) that upstream uses to order images: the MT19937 generator seeded with
// an integer, and the Fisher-Yates shuffle with numpy's masked rejection sampling.
package nprand

// State is numpy's legacy RandomState after np.random.seed(seed) with an integer seed: an
// MT19937 generator (Matsumoto and Nishimura's init_genrand and genrand_int32).
type State struct {
	mt  [624]uint32
	idx int
}

// New returns the state of np.random.seed(seed).
func New(seed uint32) *State {
	s := &State{idx: 624}
	s.mt[0] = seed
	for i := 1; i < 624; i++ {
		s.mt[i] = 1812433253*(s.mt[i-1]^(s.mt[i-1]>>30)) + uint32(i)
	}
	return s
}

// uint32 returns the next 32-bit output of MT19937.
func (s *State) uint32() uint32 {
	if s.idx >= 624 {
		s.generate()
	}
	y := s.mt[s.idx]
	s.idx++
	y ^= y >> 11
	y ^= (y << 7) & 0x9d2c5680
	y ^= (y << 15) & 0xefc60000
	y ^= y >> 18
	return y
}

func (s *State) generate() {
	const upper, lower = 0x80000000, 0x7fffffff
	for i := range 624 {
		y := s.mt[i]&upper | s.mt[(i+1)%624]&lower
		v := s.mt[(i+397)%624] ^ y>>1
		if y&1 != 0 {
			v ^= 0x9908b0df
		}
		s.mt[i] = v
	}
	s.idx = 0
}

// interval returns a uniform integer in [0, max] as numpy's legacy random_interval does:
// draws masked to the smallest all-ones mask covering max, rejected until ≤ max.
func (s *State) interval(max uint32) uint32 {
	if max == 0 {
		return 0
	}
	mask := max
	mask |= mask >> 1
	mask |= mask >> 2
	mask |= mask >> 4
	mask |= mask >> 8
	mask |= mask >> 16
	for {
		if v := s.uint32() & mask; v <= max {
			return v
		}
	}
}

// Permutation returns np.random.permutation(n) drawn from s: the identity shuffled by
// RandomState.shuffle (i from n−1 down to 1, swap i with a uniform j in [0, i]). n must be below
// 2³² (numpy draws 64-bit values above that, which this package does not reproduce).
func (s *State) Permutation(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i >= 1; i-- {
		j := int(s.interval(uint32(i)))
		p[i], p[j] = p[j], p[i]
	}
	return p
}
