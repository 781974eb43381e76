package main

import (
	"strings"
	"testing"
	"time"
)

func TestParseStatus(t *testing.T) {
	for _, tc := range []struct {
		line string
		want stats
		ok   bool
	}{
		{"fuzz: elapsed: 60s, execs: 1188605 (19811/sec), new interesting: 35 (total: 83)", stats{60 * time.Second, 1188605, 35, 83}, true},
		{"fuzz: elapsed: 1m3s, execs: 37 (0/sec), new interesting: 0 (total: 12)", stats{63 * time.Second, 37, 0, 12}, true},
		{"fuzz: elapsed: 3s, execs: 9000 (3000/sec)", stats{3 * time.Second, 9000, 0, 0}, true},
		{"fuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed", stats{}, false},
		{"fuzz: elapsed: 4s, minimizing", stats{}, false},
		{"ok  	compactv4/internal/hdf5	46.095s", stats{}, false},
	} {
		got, ok := parseStatus(tc.line)
		if ok != tc.ok || got != tc.want {
			t.Errorf("parseStatus(%q) = %+v, %v; want %+v, %v", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}

func TestJudge(t *testing.T) {
	results := []result{
		{target: target{"p", "FuzzFast"}, stats: stats{elapsed: 60 * time.Second, execs: 60000}, haveStats: true},
		{target: target{"p", "FuzzSlow"}, stats: stats{elapsed: 60 * time.Second, execs: 59999}, haveStats: true},
		{target: target{"p", "FuzzCrash"}, stats: stats{elapsed: 2 * time.Second, execs: 90000}, haveStats: true, status: "failed: exit status 1"},
		{target: target{"p", "FuzzSilent"}},
		{target: target{"p", "FuzzRace"}, stats: stats{elapsed: 60 * time.Second, execs: 90000}, haveStats: true, deadlineRace: true},
	}
	if n := judge(results, 1000); n != 3 {
		t.Errorf("judge counted %d failures, want 3", n)
	}
	for i, want := range []string{"ok", "too slow", "failed: exit", "failed: no fuzzer status", "ok (go.dev/issue/75804"} {
		if !strings.HasPrefix(results[i].status, want) {
			t.Errorf("%s: status %q, want %q...", results[i].name, results[i].status, want)
		}
	}
	var b strings.Builder
	printTable(&b, results)
	if !strings.Contains(b.String(), "FuzzFast") || !strings.Contains(b.String(), "1000") {
		t.Errorf("table:\n%s", b.String())
	}
}
