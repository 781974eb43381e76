package harness

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Shard
		err  string
	}{
		{"1/1", Shard{1, 1}, ""},
		{"2/4", Shard{2, 4}, ""},
		{"4/4", Shard{4, 4}, ""},
		{"3/2", Shard{}, "want i/n with 1 ≤ i ≤ n"},
		{"0/2", Shard{}, "want i/n"},
		{"1/0", Shard{}, "want i/n"},
		{"-1/2", Shard{}, "want i/n"},
		{"x", Shard{}, `-shard "x": want i/n`},
		{"1/", Shard{}, "want i/n"},
		{"", Shard{}, "want i/n"},
		{"1/2/3", Shard{}, "want i/n"},
	} {
		got, err := ParseShard(tt.in)
		if tt.err == "" && (err != nil || got != tt.want) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: %v, %v", tt.in, got, err)
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("%q: String() = %q", tt.in, got.String())
		}
	}
}

func TestShardSelect(t *testing.T) {
	units := []string{"a", "b", "c", "d", "e"}
	if got := Select(Shard{}, units); !slices.Equal(got, units) {
		t.Errorf("whole plan: %v", got)
	}
	var union []string
	for i := 1; i <= 3; i++ {
		union = append(union, Select(Shard{i, 3}, units)...)
	}
	slices.Sort(union)
	if !slices.Equal(union, units) {
		t.Errorf("three shards cover %v, want each unit once", union)
	}
	if got := Select(Shard{2, 3}, units); !slices.Equal(got, []string{"b", "e"}) {
		t.Errorf("shard 2/3: %v", got)
	}
	if got := Select(Shard{4, 4}, units[:2]); len(got) != 0 {
		t.Errorf("shard 4/4 of 2 units: %v", got)
	}
}

func TestShardJSON(t *testing.T) {
	type plan struct {
		Shard Shard `json:"shard,omitzero"`
	}
	for _, tt := range []struct {
		s    Shard
		want string
	}{{Shard{}, `{}`}, {Shard{2, 4}, `{"shard":"2/4"}`}} {
		b, err := json.Marshal(plan{tt.s})
		if err != nil || string(b) != tt.want {
			t.Errorf("%v: %s, %v; want %s", tt.s, b, err, tt.want)
		}
	}
}
