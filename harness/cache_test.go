package harness

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// module is a small module: app imports lib, which imports core; other is independent.
func module(edits map[string]string) fstest.MapFS {
	files := map[string]string{
		"go.mod":            "module example.com/m\n\ngo 1.26\n",
		"go.sum":            "",
		"core/core.go":      "package core\n\n// Twice doubles.\nfunc Twice(x int) int { return 2 * x }\n",
		"lib/lib.go":        "package lib\n\nimport \"example.com/m/core\"\n\nfunc F(x int) int { return core.Twice(x) + 1 }\n",
		"lib/lib_test.go":   "package lib\n",
		"lib/kern_amd64.s":  "TEXT ·k(SB),4,$0\n\tRET\n",
		"app/app.go":        "package app\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/m/lib\"\n)\n\nfunc G() string { return fmt.Sprint(lib.F(1)) }\n",
		"other/other.go":    "package other\n\n//go:embed data.txt\nvar data string\n",
		"other/data.txt":    "v1",
		"lib/testdata/x.go": "package broken {",
	}
	for k, v := range edits {
		files[k] = v
	}
	fs := fstest.MapFS{}
	for k, v := range files {
		fs[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return fs
}

func graph(t *testing.T, edits map[string]string) *codeGraph {
	t.Helper()
	g, err := loadCodeGraph(module(edits), "platform")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestCodeGraphClosure(t *testing.T) {
	g := graph(t, nil)
	pkgs, err := g.closure([]string{"example.com/m/app"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"example.com/m/app", "example.com/m/lib", "example.com/m/core"} {
		if _, ok := pkgs[p]; !ok {
			t.Errorf("closure of app lacks %s: %v", p, pkgs)
		}
	}
	if _, ok := pkgs["example.com/m/other"]; ok || len(pkgs) != 3 {
		t.Errorf("closure of app: %v", pkgs)
	}
	if _, err := g.closure([]string{"example.com/m/nope"}); err == nil {
		t.Error("unknown package accepted")
	}
	all, _ := g.closure(nil)
	if len(all) != 4 {
		t.Errorf("no roots: %d packages, want all 4", len(all))
	}
}

// A step's code version changes exactly when code it depends on changes.
func TestCodeVersionDependsOnWhatTheStepUses(t *testing.T) {
	base, _, err := graph(t, nil).version([]string{"example.com/m/lib"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		edits   map[string]string
		changes bool
	}{
		{"a dependency's code", map[string]string{"core/core.go": "package core\n\nfunc Twice(x int) int { return x + x }\n"}, true},
		{"the package's assembly", map[string]string{"lib/kern_amd64.s": "TEXT ·k(SB),4,$0\n\tNOP\n\tRET\n"}, true},
		{"a new file in the package", map[string]string{"lib/extra.go": "package lib\n\nvar Extra = 1\n"}, true},
		{"a comment", map[string]string{"core/core.go": "package core\n\n// Twice returns two times x.\nfunc Twice(x int) int { return 2 * x }\n"}, false},
		{"layout", map[string]string{"core/core.go": "package core\n\nfunc Twice(x int) int {\n\treturn 2 * x\n}\n"}, false},
		{"a test file", map[string]string{"lib/lib_test.go": "package lib\n\nvar t = 1\n"}, false},
		{"a package that imports it", map[string]string{"app/app.go": "package app\n\nimport \"example.com/m/lib\"\n\nfunc G() int { return lib.F(2) }\n"}, false},
		{"an unrelated package", map[string]string{"other/other.go": "package other\n\nvar x = 2\n"}, false},
		{"testdata", map[string]string{"lib/testdata/y.txt": "z"}, false},
	}
	for _, tt := range tests {
		v, _, err := graph(t, tt.edits).version([]string{"example.com/m/lib"})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if (v != base) != tt.changes {
			t.Errorf("editing %s: version changed %v, want %v", tt.name, v != base, tt.changes)
		}
	}
	// Embedded files count for the package that embeds them; go.mod and the platform for all.
	o1, _, _ := graph(t, nil).version([]string{"example.com/m/other"})
	o2, _, _ := graph(t, map[string]string{"other/data.txt": "v2"}).version([]string{"example.com/m/other"})
	if o1 == o2 {
		t.Error("editing an embedded file does not change the version of its package")
	}
	m, _, _ := graph(t, map[string]string{"go.sum": "example.org/x v1.0.0 h1:abc=\n"}).version([]string{"example.com/m/lib"})
	if m == base {
		t.Error("a new external module version does not change the version")
	}
	g, err := loadCodeGraph(module(nil), "other platform")
	if err != nil {
		t.Fatal(err)
	}
	if p, _, _ := g.version([]string{"example.com/m/lib"}); p == base {
		t.Error("another platform (toolchain, kernels) gives the same version")
	}
}

func TestCodeGraphErrors(t *testing.T) {
	for name, edits := range map[string]map[string]string{
		"syntax error":          {"core/core.go": "package core\n\nfunc ("},
		"embed matches nothing": {"other/other.go": "package other\n\n//go:embed missing.txt\nvar data string\n"},
		"no module line":        {"go.mod": "go 1.26\n"},
	} {
		if _, err := loadCodeGraph(module(edits), "p"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The suite's own graph: every package the experiments' steps name exists.
func TestSuiteCode(t *testing.T) {
	g, err := suiteCode()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"compactv4/eval", "compactv4/internal/nn", "compactv4/internal/synth", "compactv4/internal/v4data"} {
		if _, _, err := g.version([]string{p}); err != nil {
			t.Error(err)
		}
	}
	pkgs, _ := g.closure([]string{"compactv4/internal/synth"})
	if _, ok := pkgs["compactv4/harness"]; ok {
		t.Error("internal/synth depends on harness: editing the harness would invalidate every synthesis")
	}
}

func TestCacheReuseAndReasons(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	calls := 0
	compute := func() ([]byte, error) { calls++; return []byte{byte(calls)}, nil }
	step := Step{Name: "exp/predict/1", Inputs: []Input{{"f", "aa"}}, Params: map[string]int{"seed": 1}, Code: []string{"example.com/m/lib"}}

	c := newCache(dir, graph(t, nil), &log)
	if has, err := c.Has(step); has || err != nil {
		t.Fatalf("empty cache has the step: %v %v", has, err)
	}
	out, err := c.Do(step, compute)
	if err != nil || calls != 1 || out[0] != 1 {
		t.Fatalf("first run: %v %d %v", out, calls, err)
	}
	if has, err := c.Has(step); !has || err != nil {
		t.Fatalf("stored step not found: %v %v", has, err)
	}
	out, err = c.Do(step, compute)
	if err != nil || calls != 1 || out[0] != 1 {
		t.Fatalf("second run not reused: %v %d %v", out, calls, err)
	}
	// An edit the step does not depend on keeps the cached result.
	unrelated := newCache(dir, graph(t, map[string]string{"other/other.go": "package other\n\nvar y = 3\n"}), &log)
	if out, err := unrelated.Do(step, compute); err != nil || calls != 1 || out[0] != 1 {
		t.Fatalf("an unrelated edit reran the step: %v %d %v", out, calls, err)
	}
	edited := graph(t, map[string]string{"core/core.go": "package core\n\nfunc Twice(x int) int { return x << 1 }\n"})
	tests := []struct {
		name   string
		cache  *Cache
		step   Step
		reason string
	}{
		{"params", c, Step{Name: step.Name, Inputs: step.Inputs, Params: map[string]int{"seed": 2}, Code: step.Code}, "parameters changed"},
		{"inputs", c, Step{Name: step.Name, Inputs: []Input{{"f", "bb"}}, Params: map[string]int{"seed": 2}, Code: step.Code}, "input files changed"},
		{"code", newCache(dir, edited, &log), Step{Name: step.Name, Inputs: []Input{{"f", "bb"}}, Params: map[string]int{"seed": 2}, Code: step.Code}, "code changed: example.com/m/core"},
		{"version", c, Step{Name: step.Name, Inputs: []Input{{"f", "bb"}}, Params: map[string]int{"seed": 2}, Code: step.Code, Version: "2"}, "step version changed"},
	}
	for _, tt := range tests {
		if has, err := tt.cache.Has(tt.step); has || err != nil {
			t.Errorf("%s: a changed step is cached: %v %v", tt.name, has, err)
		}
		log.Reset()
		before := calls
		if _, err := tt.cache.Do(tt.step, compute); err != nil {
			t.Fatal(err)
		}
		if calls != before+1 {
			t.Errorf("%s: step not rerun", tt.name)
		}
		if !strings.Contains(log.String(), tt.reason) {
			t.Errorf("%s: log %q lacks %q", tt.name, log.String(), tt.reason)
		}
	}
	// A failing step stores nothing.
	bad := Step{Name: "exp/fail"}
	if _, err := c.Do(bad, func() ([]byte, error) { return nil, errors.New("boom") }); err == nil {
		t.Error("error swallowed")
	}
	if _, err := c.Do(bad, func() ([]byte, error) { return []byte("ok"), nil }); err != nil {
		t.Error(err)
	}
	// A step naming a package that does not exist is an error, not a silent miss.
	if _, err := c.Do(Step{Name: "x", Code: []string{"example.com/m/nope"}}, compute); err == nil {
		t.Error("unknown code package accepted")
	}
}

func TestNilCacheComputes(t *testing.T) {
	var c *Cache
	out, err := c.Do(Step{Name: "x"}, func() ([]byte, error) { return []byte("v"), nil })
	if err != nil || string(out) != "v" {
		t.Errorf("got %q %v", out, err)
	}
	if has, err := c.Has(Step{Name: "x"}); has || err != nil {
		t.Errorf("a nil cache has a step: %v %v", has, err)
	}
}

// A step's work directory is the same for the same step and another for other parameters.
func TestWorkDir(t *testing.T) {
	c := newCache(t.TempDir(), graph(t, nil), nil)
	step := Step{Name: "train/x", Params: map[string]int{"seed": 1}, Code: []string{"example.com/m/app"}}
	a, err := c.WorkDir(step)
	if err != nil || a == "" {
		t.Fatal(a, err)
	}
	b, _ := c.WorkDir(step)
	step.Params = map[string]int{"seed": 2}
	d, _ := c.WorkDir(step)
	if a != b || a == d {
		t.Errorf("work dirs %s, %s, %s", a, b, d)
	}
	var none *Cache
	if w, err := none.WorkDir(step); w != "" || err != nil {
		t.Errorf("nil cache: %q %v", w, err)
	}
}
