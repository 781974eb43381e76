package main

import (
	"bufio"
	"regexp"
	"strconv"
	"strings"
)

// benchResult is one line of `go test -bench` output: its metrics by unit ("ns/op",
// "images/s", "GFLOP/s", …).
type benchResult map[string]float64

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

// parseBench collects the results of `go test -bench` output by benchmark name (without the
// -GOMAXPROCS suffix), one per line, in order.
func parseBench(out string) map[string][]benchResult {
	res := map[string][]benchResult{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := benchLine.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		r := benchResult{}
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			r[f[i+1]] = v
		}
		if len(r) > 0 {
			res[m[1]] = append(res[m[1]], r)
		}
	}
	return res
}

// best is the largest (higher) or smallest value of unit over rs, and whether there was one.
func best(rs []benchResult, unit string, higher bool) (float64, bool) {
	var b float64
	ok := false
	for _, r := range rs {
		v, has := r[unit]
		if !has {
			continue
		}
		if !ok || (higher && v > b) || (!higher && v < b) {
			b, ok = v, true
		}
	}
	return b, ok
}
