package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line with args and returns its exit status and outputs.
func runCLI(t *testing.T, args ...string) (code int, out, errOut string) {
	t.Helper()
	var o, e bytes.Buffer
	oldOut, oldErr := stdout, stderr
	stdout, stderr = &o, &e
	defer func() { stdout, stderr = oldOut, oldErr }()
	code = run(context.Background(), args)
	return code, o.String(), e.String()
}

func TestDispatch(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	tests := []struct {
		args         []string
		code         int
		stdout, errs []string // substrings expected in stdout and stderr
	}{
		{nil, 2, nil, []string{"no verb given", "verbs:", "data "}},
		{[]string{"-h"}, 0, []string{"usage: replicate <verb>", "data ", "$V4DATA"}, nil},
		{[]string{"help"}, 0, []string{"usage: replicate"}, nil},
		{[]string{"--help"}, 0, []string{"usage: replicate"}, nil},
		{[]string{"nope"}, 2, nil, []string{`unknown verb "nope"`, "verbs:"}},
		{[]string{"data"}, 2, nil, []string{"replicate data: no verb given", "fetch ", "verify "}},
		{[]string{"data", "-h"}, 0, []string{"usage: replicate data <verb>", "fetch ", "verify ", "f4552ad"}, nil},
		{[]string{"data", "nope"}, 2, nil, []string{`replicate data: unknown verb "nope"`}},
		{[]string{"data", "fetch", "-h"}, 0, nil, []string{"usage: replicate data fetch", "-profile", "-base-url", "-parallel", "-q"}},
		{[]string{"data", "verify", "-h"}, 0, nil, []string{"usage: replicate data verify", "-profile", "-v"}},
		{[]string{"data", "fetch", "-bogus"}, 2, nil, []string{"flag provided but not defined: -bogus", "usage: replicate data fetch"}},
		{[]string{"data", "fetch", "-profile", "medium", "-data", missing}, 2, nil, []string{`replicate: unknown profile "medium"`}},
		{[]string{"data", "fetch", "-parallel", "0", "-data", missing}, 2, nil, []string{"-parallel 0"}},
		{[]string{"data", "fetch", "-retries", "-1", "-data", missing}, 2, nil, []string{"-retries -1"}},
		{[]string{"data", "verify", "-data", missing, "x"}, 2, nil, []string{`unexpected arguments ["x"]`}},
		{[]string{"data", "verify", "-data", missing}, 1, nil, []string{"replicate: data directory " + missing}},
		{[]string{"run", "-h"}, 0, nil, []string{"-neurons", "-shard", "(experiment distillation)", "unit of work of the plan", "(experiment areas, distillation, teacherfit)", "-mappings"}},
		{[]string{"run", "-no-cache", "-shard", "1/2", "areas"}, 2, nil, []string{"-shard with -no-cache: a shard's work is kept only in the cache"}},
		{[]string{"run", "-neurons", "190923:0", "compression"}, 2, nil, []string{"-neurons is an option of experiment distillation, which is not run"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, errs := runCLI(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errs)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range tt.errs {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errs)
				}
			}
		})
	}
}

func TestVerbTables(t *testing.T) {
	for name, table := range map[string]map[string]verb{"replicate": verbs, "replicate data": dataVerbs} {
		for n, v := range table {
			if v.name != n || v.summary == "" || v.run == nil || strings.HasSuffix(v.summary, ".") {
				t.Errorf("%s %s: bad entry %+v", name, n, v)
			}
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a verb twice did not panic")
		}
	}()
	register(verbs["data"])
}

func TestFlagsFirst(t *testing.T) {
	fs := newFlags("x", "", "")
	fs.String("profile", "", "")
	fs.Bool("q", false, "")
	tests := []struct{ in, want string }{
		{"", ""},
		{"a b", "-- a b"},
		{"-profile full a", "-profile full -- a"},
		{"a -profile full b", "-profile full -- a b"},
		{"a -q b", "-q -- a b"},
		{"a -profile=full", "-profile=full -- a"},
		{"a -- -q", "-- a -q"},
		{"-h", "-h"},
	}
	for _, tt := range tests {
		got := strings.Join(flagsFirst(fs, strings.Fields(tt.in)), " ")
		if got != tt.want {
			t.Errorf("flagsFirst(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
