package harness

import (
	"fmt"
	"strconv"
	"strings"
)

// ShardOption is the -shard option of an experiment whose plan splits into units of work that
// are cached steps (each experiment's package doc names its unit): `-shard i/n` computes only
// every n-th unit of the plan, from the i-th, into the cache, so that the n tasks of a Slurm job
// array sharing one cache directory compute the plan between them; a run without -shard then
// assembles the result from the cache, computing whatever is missing.
var ShardOption = Option{
	Name:  "shard",
	Usage: "i/n: compute only every n-th unit of work of the plan, from the i-th (1 ≤ i ≤ n), into the cache; a run without -shard assembles the result",
}

// Shard is shard I of N of a plan's units of work; the zero Shard is the whole plan. In JSON
// (and in a plan recorded in result.json) it is "I/N", and a plan's field for it is tagged
// omitzero so that a run of the whole plan records none.
type Shard struct {
	I, N int
}

// ParseShard reads the value of ShardOption: i/n with 1 ≤ i ≤ n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("-shard %q: want i/n with 1 ≤ i ≤ n (shard i of n), e.g. 1/4", s)
	}
	return Shard{I: i, N: n}, nil
}

// Whole reports whether s is the whole plan (no -shard).
func (s Shard) Whole() bool { return s.N == 0 }

// Has reports whether the shard computes unit k of the plan (counted from 0 in the plan's
// order): every n-th unit from the i-th, or every unit for the whole plan.
func (s Shard) Has(k int) bool { return s.Whole() || k%s.N == s.I-1 }

// String is "i/n", or "" for the whole plan.
func (s Shard) String() string {
	if s.Whole() {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.I, s.N)
}

// MarshalText writes String.
func (s Shard) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Select returns the units of units that the shard computes, in order.
func Select[T any](s Shard, units []T) []T {
	var out []T
	for k, u := range units {
		if s.Has(k) {
			out = append(out, u)
		}
	}
	return out
}
