package harness

import (
	"context"
	"strings"
	"testing"
)

// An experiment's own options reach its plan through Configure; undeclared ones are refused.
func TestOptions(t *testing.T) {
	type plan struct{ N string }
	run := func(context.Context, *Env, plan) (*Result, error) { return &Result{}, nil }
	def := Definition[plan]{
		Name: "opts", Plan: func(Profile) (plan, error) { return plan{N: "default"}, nil }, Run: run,
		Options:   []Option{{Name: "n", Usage: "a value"}},
		Configure: func(p *plan, v map[string]string) error { p.N = v["n"]; return nil },
	}
	e, err := New(def)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		values map[string]string
		want   string
		err    string
	}{
		{nil, "default", ""},
		{map[string]string{"n": "7"}, "7", ""},
		{map[string]string{"m": "7"}, "", "experiment opts has no option -m"},
	} {
		p, err := e.Plan(Quick, tt.values)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%v: error %v, want %q", tt.values, err, tt.err)
			}
			continue
		}
		if err != nil || p.(plan).N != tt.want {
			t.Errorf("%v: plan %v, %v", tt.values, p, err)
		}
	}
	bad := def
	bad.Configure = nil
	if _, err := New(bad); err == nil {
		t.Error("options without Configure accepted")
	}
	bad = def
	bad.Options = []Option{{Name: "n"}, {Name: "n"}}
	if _, err := New(bad); err == nil {
		t.Error("an option listed twice accepted")
	}
}
