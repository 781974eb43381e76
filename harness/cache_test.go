package harness

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCacheReuseAndReasons(t *testing.T) {
	dir := t.TempDir()
	var log bytes.Buffer
	calls := 0
	compute := func() ([]byte, error) { calls++; return []byte{byte(calls)}, nil }
	step := Step{Name: "exp/predict/1", Inputs: []Input{{"f", "aa"}}, Params: map[string]int{"seed": 1}}

	c := NewCache(dir, "code1", &log)
	out, err := c.Do(step, compute)
	if err != nil || calls != 1 || out[0] != 1 {
		t.Fatalf("first run: %v %d %v", out, calls, err)
	}
	out, err = c.Do(step, compute)
	if err != nil || calls != 1 || out[0] != 1 {
		t.Fatalf("second run not reused: %v %d %v", out, calls, err)
	}
	tests := []struct {
		name   string
		cache  *Cache
		step   Step
		reason string
	}{
		{"params", c, Step{Name: step.Name, Inputs: step.Inputs, Params: map[string]int{"seed": 2}}, "parameters changed"},
		{"inputs", c, Step{Name: step.Name, Inputs: []Input{{"f", "bb"}}, Params: map[string]int{"seed": 2}}, "input files changed"},
		{"code", NewCache(dir, "code2", &log), Step{Name: step.Name, Inputs: []Input{{"f", "bb"}}, Params: map[string]int{"seed": 2}}, "code changed"},
	}
	for _, tt := range tests {
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
}

func TestNilCacheComputes(t *testing.T) {
	var c *Cache
	out, err := c.Do(Step{Name: "x"}, func() ([]byte, error) { return []byte("v"), nil })
	if err != nil || string(out) != "v" {
		t.Errorf("got %q %v", out, err)
	}
}
