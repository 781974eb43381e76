// Command benchtable measures the README's speed table in one sitting: the suite's benchmarks,
// the PyTorch peer (the same compact-model architecture, tuned as PyTorch's CPU performance guide
// advises: tcmalloc preloaded, no OPENBLAS_* overrides) and numpy's OpenBLAS SGEMM, with the
// machine's CPU model and load average. It prints the table as markdown and, with -readme,
// writes it into that file between the lines
//
//	<!-- bench:begin -->
//	<!-- bench:end -->
//
// Every figure is the best of -count runs, for the suite and the peers alike. Python, torch,
// numpy and tcmalloc are optional: without them the peer cells say so and how to install them.
// Run it on an idle machine (`make bench`; on a shared one, under the CPU lock).
package main

import (
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"compactv4/internal/nn"
)

// The peers' scripts, embedded so that the command runs from any directory; the invocations
// printed name them by their path in the repository.
var (
	//go:embed torch_compact_bench.py
	torchScript []byte
	//go:embed numpy_sgemm.py
	numpyScript []byte
)

const scriptDir = "harness/cmd/benchtable"

func main() {
	readme := flag.String("readme", "", "write the table into this file between the bench markers")
	count := flag.Int("count", 3, "runs of each benchmark and of each peer (the table gives the best)")
	benchtime := flag.String("benchtime", "3s", "go test -benchtime of the suite's benchmarks")
	python := flag.String("python", defaultPython(), "Python interpreter of the peers")
	flag.Parse()
	if err := run(os.Stdout, *readme, *count, *benchtime, *python); err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
}

func defaultPython() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

func run(w io.Writer, readme string, count int, benchtime, python string) error {
	if count < 1 {
		return errors.New("-count must be at least 1")
	}
	m := readMachine()
	m.loadBefore = loadAverage()
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
	results := map[string][]benchResult{}
	for _, s := range suiteRuns {
		logf("suite: go %s", strings.Join(s.args(benchtime, count), " "))
		out, err := exec.Command("go", s.args(benchtime, count)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go test %s: %w\n%s", s.pkg, err, out)
		}
		for name, r := range parseBench(string(out)) {
			results[name] = append(results[name], r...)
		}
	}
	dir, err := os.MkdirTemp("", "benchtable")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	p := newPeers(python, dir, logf)
	for _, f := range peerConfigs {
		p.runTorch(f, count)
	}
	p.runSgemm(count)
	m.loadAfter = loadAverage()
	table := render(m, time.Now().UTC(), nn.Kernels(), benchtime, count, results, p)
	fmt.Fprint(w, table)
	if readme != "" {
		return replaceBetweenMarkers(readme, table)
	}
	return nil
}

// suiteRun is one `go test` invocation of the suite's benchmarks.
type suiteRun struct {
	pkg, pattern string
}

var suiteRuns = []suiteRun{
	{"./internal/nn", "^(BenchmarkCompactInference|BenchmarkCompactTrainStep|BenchmarkSharedInference|BenchmarkParallelSgemm)$"},
	{"./internal/imagezip", "^BenchmarkReadZip$"},
	{"./internal/v4data", "^BenchmarkLoadAllCompact$/./^cold$"},
}

func (s suiteRun) args(benchtime string, count int) []string {
	return []string{"test", "-run", "^$", "-bench", s.pattern, "-benchtime", benchtime, "-count", fmt.Sprint(count), s.pkg}
}

// replaceBetweenMarkers rewrites the lines between the bench markers of file path with table.
func replaceBetweenMarkers(path, table string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := spliceTable(string(b), table)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(out), 0o644)
}

const (
	beginMarker = "<!-- bench:begin -->"
	endMarker   = "<!-- bench:end -->"
)

func spliceTable(doc, table string) (string, error) {
	i := strings.Index(doc, beginMarker)
	j := strings.Index(doc, endMarker)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %s … %s lines to put the table between", beginMarker, endMarker)
	}
	return doc[:i+len(beginMarker)] + "\n" + table + doc[j:], nil
}

// scriptPath is where a peer script is written for this run, and repoPath how the printed
// invocation names it.
func scriptPath(dir, name string) string { return filepath.Join(dir, name) }
func repoPath(name string) string        { return scriptDir + "/" + name }
