// Command fuzzall runs every fuzz target of the given packages for a fixed time each, one target
// at a time, and prints a table of what each run did: executions, executions per second over the
// whole run (seed warm-up included), and the inputs the fuzzer found new coverage with. It exits
// non-zero when a target fails (a crash, a hang or a build error) or runs fewer than -min-rate
// executions per second: a target that slow is not exploring its input space.
//
//	go run ./internal/cmd/fuzzall [-fuzztime 60s] [-min-rate 1000] [-run REGEXP] [-cachedir DIR] [packages]
//
// The packages default to ./... . `make fuzz` runs it with FUZZTIME.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/tabwriter"
	"time"
)

func main() {
	fuzztime := flag.Duration("fuzztime", 60*time.Second, "how long to fuzz each target")
	minRate := flag.Float64("min-rate", 1000, "fail a target that runs fewer executions per second")
	run := flag.String("run", "", "fuzz only the targets whose name matches this regular expression")
	cachedir := flag.String("cachedir", "", "keep each target's generated corpus under this directory instead of the go cache\n(a fresh directory measures a target from its seeds alone)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: fuzzall [flags] [packages]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	var filter *regexp.Regexp
	if *run != "" {
		var err error
		if filter, err = regexp.Compile(*run); err != nil {
			fmt.Fprintln(os.Stderr, "fuzzall: -run:", err)
			os.Exit(2)
		}
	}
	pkgs := flag.Args()
	if len(pkgs) == 0 {
		pkgs = []string{"./..."}
	}
	targets, err := listTargets(pkgs, filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fuzzall:", err)
		os.Exit(1)
	}
	if len(targets) == 0 {
		fmt.Fprintln(os.Stderr, "fuzzall: no fuzz target matches")
		os.Exit(1)
	}
	var results []result
	for _, tg := range targets {
		results = append(results, fuzz(tg, *fuzztime, *cachedir))
	}
	failed := judge(results, *minRate)
	fmt.Printf("\nfuzz summary: %s per target, floor %.0f execs/s\n", *fuzztime, *minRate)
	printTable(os.Stdout, results)
	if failed > 0 {
		fmt.Printf("%d of %d targets failed\n", failed, len(results))
		os.Exit(1)
	}
}

// target is one fuzz function of one package.
type target struct{ pkg, name string }

// listTargets returns the fuzz targets of the packages, in `go list` order.
func listTargets(patterns []string, filter *regexp.Regexp) ([]target, error) {
	out, err := exec.Command("go", append([]string{"list"}, patterns...)...).Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var targets []target
	for _, pkg := range strings.Fields(string(out)) {
		cmd := exec.Command("go", "test", "-list", "^Fuzz", pkg)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("listing the fuzz targets of %s: %w", pkg, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(line, "Fuzz") && (filter == nil || filter.MatchString(line)) {
				targets = append(targets, target{pkg, line})
			}
		}
	}
	return targets, nil
}

// result is what one fuzz run did.
type result struct {
	target
	load        string // the 1-minute load average when the run started
	status      string // what went wrong, or "ok"
	stats       stats  // the fuzzer's last status line
	haveStats   bool
	failureLine string // where the fuzzer saved a failing input
	// deadlineRace is set when the run failed with a bare "context deadline exceeded" at the end
	// of -fuzztime and wrote no failing input: a race in the go 1.26 fuzz coordinator
	// (go.dev/issue/75804, fixed in go 1.27), not a finding.
	deadlineRace bool
	sawDeadline  bool
}

// fuzz runs one target for d, echoing the go command's output, and collects its statistics.
func fuzz(tg target, d time.Duration, cachedir string) result {
	res := result{target: tg, load: loadAverage()}
	fmt.Printf("== %s %s (load %s)\n", tg.pkg, tg.name, res.load)
	args := []string{"test", "-run", "^$", "-fuzz", "^" + tg.name + "$", "-fuzztime", d.String(), tg.pkg}
	if cachedir != "" {
		dir, err := filepath.Abs(filepath.Join(cachedir, tg.pkg, tg.name))
		if err != nil {
			res.status = err.Error()
			return res
		}
		args = append(args, "-args", "-test.fuzzcachedir="+dir)
	}
	cmd := exec.Command("go", args...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		res.status = err.Error()
		return res
	}
	done := make(chan error, 1)
	go func() { err := cmd.Wait(); pw.Close(); done <- err }()
	sc := bufio.NewScanner(pr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		fmt.Println(line)
		if s, ok := parseStatus(line); ok {
			res.stats, res.haveStats = s, true
		}
		if strings.Contains(line, "Failing input written to") {
			res.failureLine = strings.TrimSpace(line)
		}
		if strings.TrimSpace(line) == "context deadline exceeded" {
			res.sawDeadline = true
		}
	}
	io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		switch {
		case res.failureLine != "":
			res.status = "failed: " + res.failureLine
		case res.sawDeadline && res.haveStats:
			res.deadlineRace = true
		default:
			res.status = "failed: " + err.Error()
		}
	}
	return res
}

// stats is one of the fuzzer's status lines:
//
//	fuzz: elapsed: 60s, execs: 1188605 (19811/sec), new interesting: 35 (total: 83)
type stats struct {
	elapsed     time.Duration
	execs       int64
	interesting int // inputs this run added to the corpus for new coverage
	corpus      int // seeds, cached corpus and the new inputs
}

var statusLine = regexp.MustCompile(`^fuzz: elapsed: (\S+), execs: (\d+) \(\d+/sec\)(?:, new interesting: (\d+) \(total: (\d+)\))?$`)

// parseStatus parses a status line of the go fuzzer.
func parseStatus(line string) (stats, bool) {
	m := statusLine.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		return stats{}, false
	}
	var s stats
	var err error
	if s.elapsed, err = time.ParseDuration(m[1]); err != nil {
		return stats{}, false
	}
	fmt.Sscan(m[2], &s.execs)
	if m[3] != "" {
		fmt.Sscan(m[3], &s.interesting)
		fmt.Sscan(m[4], &s.corpus)
	}
	return s, true
}

// rate is the executions per second over the whole run.
func (s stats) rate() float64 {
	if s.elapsed <= 0 {
		return 0
	}
	return float64(s.execs) / s.elapsed.Seconds()
}

// judge sets the status of each result and returns how many failed.
func judge(results []result, minRate float64) int {
	failed := 0
	for i := range results {
		r := &results[i]
		switch {
		case r.status != "":
		case !r.haveStats:
			r.status = "failed: no fuzzer status line"
		case r.stats.rate() < minRate:
			r.status = fmt.Sprintf("too slow: under %.0f execs/s", minRate)
		case r.deadlineRace:
			r.status = "ok (go.dev/issue/75804: the go 1.26 fuzzer failed at the deadline without a finding)"
			continue
		default:
			r.status = "ok"
			continue
		}
		failed++
	}
	return failed
}

func printTable(w io.Writer, results []result) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "package\ttarget\tload\telapsed\texecs\texecs/s\tnew interesting\tcorpus\tstatus")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%.0f\t%d\t%d\t%s\n", r.pkg, r.name, r.load, r.stats.elapsed,
			r.stats.execs, r.stats.rate(), r.stats.interesting, r.stats.corpus, r.status)
	}
	tw.Flush()
}

// loadAverage returns the 1-minute load average, or "?" where /proc/loadavg is absent.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	if f := strings.Fields(string(b)); len(f) > 0 {
		return f[0]
	}
	return "?"
}
