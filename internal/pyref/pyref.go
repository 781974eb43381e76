// Package pyref supports tests whose references are written by Python scripts (numpy, scipy,
// PIL, torch): it finds the interpreter, or skips the test when it lacks the modules, and it
// compares a reference regenerated on this machine with the committed one within stated
// tolerances.
//
// A regenerated reference is never compared byte for byte: numpy picks its SIMD code paths at run
// time from the CPU, and they round differently. For example np.exp on float64 runs numpy's own
// AVX512F code (accurate to a few ulps, not correctly rounded) where the CPU has AVX512F and glibc's
// exp elsewhere, so a Gaussian kernel written on one x86-64 machine differs from another's in
// the last bit or two, and everything filtered with it in the last few bits. The committed
// reference stays the strict one: the Go code is compared with it exactly where it reproduces
// numpy bit for bit, and only the regenerated-versus-committed check uses a tolerance.
//
// The interpreter is $V4PYTHON, else /usr/bin/python3 (the distribution's Python, which has the
// distribution's numpy; a python3 earlier on PATH, such as pyenv's, may have none). Setting
// V4PYTHON to a path that does not exist hides Python, to exercise the skips.
package pyref

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// envVar names the environment variable that overrides the interpreter.
const envVar = "V4PYTHON"

// interpreter returns the Python interpreter the tests run: $V4PYTHON, else /usr/bin/python3.
func interpreter() string {
	if py := os.Getenv(envVar); py != "" {
		return py
	}
	return "/usr/bin/python3"
}

// Find returns the interpreter when it can import every module (e.g. "numpy", "scipy.ndimage"),
// else an error that names the interpreter and the modules.
func Find(modules ...string) (string, error) {
	py := interpreter()
	script := "pass"
	if len(modules) > 0 {
		script = "import " + strings.Join(modules, ", ")
	}
	if out, err := exec.Command(py, "-c", script).CombinedOutput(); err != nil {
		msg := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
			msg = msg[i+1:] // the exception line of a traceback
		}
		if msg == "" {
			msg = err.Error()
		}
		return "", fmt.Errorf("%s cannot import %s (set $%s to another interpreter): %s", py, strings.Join(modules, ", "), envVar, msg)
	}
	return py, nil
}

// Need returns Find's interpreter, or skips the test with Find's reason.
func Need(tb testing.TB, modules ...string) string {
	tb.Helper()
	py, err := Find(modules...)
	if err != nil {
		tb.Skip(err)
	}
	return py
}

// Dispatch is a choice of numpy's run-time SIMD code paths: environment variables for the
// interpreter.
type Dispatch struct {
	Name string
	Env  []string
}

// dispatchScript prints the SIMD extensions numpy chooses between at run time (none before
// numpy 1.20, which had no run-time dispatch).
const dispatchScript = `
try:
    from numpy._core._multiarray_umath import __cpu_dispatch__
except ImportError:
    try:
        from numpy.core._multiarray_umath import __cpu_dispatch__
    except ImportError:
        __cpu_dispatch__ = []
print(" ".join(__cpu_dispatch__))
`

// Dispatches returns the numpy settings a regenerated reference is checked under: "baseline",
// with every run-time dispatched extension disabled (NPY_DISABLE_CPU_FEATURES), so that numpy
// runs its portable code and np.exp calls glibc's exp, and "native", numpy's own choice for this
// CPU. The first is the one a reference is rewritten with: the baseline runs the same numpy code
// on every x86-64 CPU, and its glibc exp is what the Go code reproduces bit for bit. On a CPU
// with AVX-512 the two differ, so every check's tolerance meets a real difference. Without
// run-time dispatch (numpy before 1.20) there is only "native".
func Dispatches(py string) ([]Dispatch, error) {
	out, err := exec.Command(py, "-c", dispatchScript).Output()
	if err != nil {
		return nil, fmt.Errorf("%s: listing numpy's dispatched CPU features: %w", py, err)
	}
	native := Dispatch{Name: "native"}
	features := strings.TrimSpace(string(out))
	if features == "" {
		return []Dispatch{native}, nil
	}
	return []Dispatch{{Name: "baseline", Env: []string{"NPY_DISABLE_CPU_FEATURES=" + features}}, native}, nil
}

// Command returns the command that runs the interpreter with args under the setting d.
func Command(py string, d Dispatch, args ...string) *exec.Cmd {
	cmd := exec.Command(py, args...)
	cmd.Env = append(os.Environ(), d.Env...)
	return cmd
}

// CheckGenerator checks committed references against their generator: script is a Python file
// that writes the files named in files into the directory given as its one argument. It runs
// under every setting of Dispatches, and each file it writes must match the committed one,
// testdata/<name>, within files[name]. With update, the first setting's files replace the
// committed ones instead. It skips the test when Python lacks modules, and then fails it with
// update.
func CheckGenerator(t *testing.T, script string, modules []string, files map[string]Tolerances, update bool) {
	t.Helper()
	py, err := Find(modules...)
	if err != nil {
		if update {
			t.Fatalf("-update: %v", err)
		}
		t.Skipf("%v; the committed references are used as they are", err)
	}
	ds, err := Dispatches(py)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, d := range ds {
		t.Run(d.Name, func(t *testing.T) {
			dir := t.TempDir()
			if out, err := Command(py, d, script, dir).CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
			for _, name := range names {
				got, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", name)
				if update && i == 0 {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				sum, err := CompareJSON(want, got, files[name])
				if err != nil {
					t.Errorf("%s differs from what %s writes with this Python (numpy's %s code) beyond the tolerance; review and rerun with -update: %v", path, script, d.Name, err)
					continue
				}
				t.Logf("%s: %s", name, sum)
			}
		})
	}
}

// Tol is how far a regenerated number may be from the committed one: it matches when the two
// are equal, when |Δ| ≤ Abs, or when |Δ| ≤ Rel·max(|committed|, |regenerated|). Rel suits values
// computed with a bounded relative error; Abs suits values that come out of cancellation (a
// filtered value near zero carries the rounding error of its inputs' magnitude, not its own).
type Tol struct {
	Rel, Abs float64
}

// Float32ULP is the Rel that admits one float32 unit in the last place: a value computed in
// float64 and rounded to float32 can round the other way when its float64 bits differ.
const Float32ULP = 0x1p-23

// within reports whether got matches want.
func (t Tol) within(want, got float64) bool {
	if want == got || math.IsNaN(want) && math.IsNaN(got) {
		return true
	}
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		return false
	}
	d := math.Abs(want - got) // NaN when either is NaN: never within
	return d <= t.Abs || d <= t.Rel*math.Max(math.Abs(want), math.Abs(got))
}

// Tolerances gives the tolerance of every number of a JSON document by the name of the nearest
// object key above it (for {"y": [1.5, 2.5]}, the key "y"), Default for the others. Numbers
// written as integers (no fraction or exponent, as Python writes an int) must be equal. The
// values under the keys of Ignore (version strings, say) are not compared; when they differ the
// summary says so.
type Tolerances struct {
	Default Tol
	Keys    map[string]Tol
	Ignore  []string
}

// maxListed bounds the differences an error lists.
const maxListed = 8

// comparison accumulates what a comparison found.
type comparison struct {
	n, differ      int     // numbers compared, numbers not identical
	maxAbs, maxRel float64 // largest differences among the numbers that differ
	bad            []string
	nbad           int
	ignored        []string
}

func (c *comparison) number(path string, want, got float64, t Tol) {
	c.n++
	if want == got {
		return
	}
	c.differ++
	d := math.Abs(want - got)
	c.maxAbs = math.Max(c.maxAbs, d)
	if m := math.Max(math.Abs(want), math.Abs(got)); m > 0 {
		c.maxRel = math.Max(c.maxRel, d/m)
	}
	if !t.within(want, got) {
		c.fail("%s: committed %v, regenerated %v (|Δ| %.3g, relative %.3g; tolerance rel %.3g, abs %.3g)",
			path, want, got, d, d/math.Max(math.Abs(want), math.Abs(got)), t.Rel, t.Abs)
	}
}

func (c *comparison) fail(format string, args ...any) {
	if c.nbad < maxListed {
		c.bad = append(c.bad, fmt.Sprintf(format, args...))
	}
	c.nbad++
}

// result returns the summary and, when something is beyond tolerance, the error.
func (c *comparison) result(what string) (string, error) {
	s := fmt.Sprintf("%s: %d numbers, %d not identical (largest |Δ| %.3g, largest relative %.3g)", what, c.n, c.differ, c.maxAbs, c.maxRel)
	if len(c.ignored) > 0 {
		s += "; not compared: " + strings.Join(c.ignored, ", ")
	}
	if c.nbad == 0 {
		return s, nil
	}
	return s, fmt.Errorf("%s\n%d differences beyond tolerance:\n  %s", s, c.nbad, strings.Join(c.bad, "\n  "))
}

// CompareFloats compares a regenerated array with the committed one value by value.
func CompareFloats(name string, committed, regenerated []float64, tol Tol) (string, error) {
	var c comparison
	if len(committed) != len(regenerated) {
		c.fail("%s: %d values committed, %d regenerated", name, len(committed), len(regenerated))
	} else {
		for i := range committed {
			c.number(fmt.Sprintf("%s[%d]", name, i), committed[i], regenerated[i], tol)
		}
	}
	return c.result(name)
}

// CompareJSON parses two JSON documents, the committed reference and the regenerated one, and
// requires them to have the same structure, strings, booleans and integers, and numbers within
// the tolerances. It returns a summary of the differences found (for the test log) and an error
// listing the first differences beyond tolerance.
func CompareJSON(committed, regenerated []byte, tol Tolerances) (string, error) {
	want, err := decode(committed)
	if err != nil {
		return "", fmt.Errorf("committed reference: %w", err)
	}
	got, err := decode(regenerated)
	if err != nil {
		return "", fmt.Errorf("regenerated reference: %w", err)
	}
	c := &comparison{}
	ignore := map[string]bool{}
	for _, k := range tol.Ignore {
		ignore[k] = true
	}
	var walk func(path, key string, w, g any)
	walk = func(path, key string, w, g any) {
		switch w := w.(type) {
		case map[string]any:
			gm, ok := g.(map[string]any)
			if !ok {
				c.fail("%s: committed an object, regenerated %s", path, kind(g))
				return
			}
			keys := make([]string, 0, len(w)+len(gm))
			for k := range w {
				keys = append(keys, k)
			}
			for k := range gm {
				if _, ok := w[k]; !ok {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			for _, k := range keys {
				wv, inW := w[k]
				gv, inG := gm[k]
				switch {
				case !inW:
					c.fail("%s.%s: only in the regenerated reference", path, k)
				case !inG:
					c.fail("%s.%s: only in the committed reference", path, k)
				case ignore[k]:
					if fmt.Sprint(wv) != fmt.Sprint(gv) {
						c.ignored = append(c.ignored, fmt.Sprintf("%s.%s committed %v, regenerated %v", path, k, wv, gv))
					}
				default:
					walk(path+"."+k, k, wv, gv)
				}
			}
		case []any:
			ga, ok := g.([]any)
			if !ok {
				c.fail("%s: committed an array, regenerated %s", path, kind(g))
				return
			}
			if len(w) != len(ga) {
				c.fail("%s: committed %d elements, regenerated %d", path, len(w), len(ga))
				return
			}
			for i := range w {
				walk(fmt.Sprintf("%s[%d]", path, i), key, w[i], ga[i])
			}
		case json.Number:
			gn, ok := g.(json.Number)
			if !ok {
				c.fail("%s: committed a number, regenerated %s", path, kind(g))
				return
			}
			if isInt(w) && isInt(gn) {
				c.n++
				if w != gn {
					c.fail("%s: committed integer %s, regenerated %s", path, w, gn)
				}
				return
			}
			wf, err1 := strconv.ParseFloat(string(w), 64)
			gf, err2 := strconv.ParseFloat(string(gn), 64)
			if err1 != nil || err2 != nil {
				c.fail("%s: committed %s, regenerated %s: not float64 numbers", path, w, gn)
				return
			}
			t, ok := tol.Keys[key]
			if !ok {
				t = tol.Default
			}
			c.number(path, wf, gf, t)
		default: // string, bool, nil
			if w != g {
				c.fail("%s: committed %#v, regenerated %#v", path, w, g)
			}
		}
	}
	walk("", "", want, got)
	return c.result("regenerated vs committed reference")
}

func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, fmt.Errorf("data after the JSON value")
	}
	return v, nil
}

// isInt reports whether n is written as an integer.
func isInt(n json.Number) bool {
	return !strings.ContainsAny(string(n), ".eE")
}

func kind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}
