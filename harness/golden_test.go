package harness

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

func TestValueJSONRoundTrip(t *testing.T) {
	var vs Values
	vs.Num("a", 1.25, 1e-3, 0)
	vs.Exact("count", 177)
	vs.Num("nan", math.NaN(), 0, 0)
	vs.Num("inf", math.Inf(-1), 0, 0)
	vs.Text("status", "not runnable: images_211022.zip")
	vs.Num("tiny", 1e-300, 0, 1e-6)
	b, err := json.Marshal(vs.List())
	if err != nil {
		t.Fatal(err)
	}
	var back []Value
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if ms := Compare(back, vs.List()); len(ms) != 0 {
		t.Fatalf("round trip differs: %v\n%s", ms, b)
	}
	b2, _ := json.Marshal(back)
	if !bytes.Equal(b, b2) {
		t.Errorf("second encoding differs:\n%s\n%s", b, b2)
	}
}

func TestCompare(t *testing.T) {
	num := func(k string, x, abs, rel float64) Value { return Value{Key: k, Num: x, Abs: abs, Rel: rel} }
	text := func(k, s string) Value { return Value{Key: k, Text: s, text: true} }
	tests := []struct {
		name      string
		got, want []Value
		bad       []string // keys that must mismatch
	}{
		{"equal", []Value{num("a", 1, 0, 0)}, []Value{num("a", 1, 0, 0)}, nil},
		{"within abs", []Value{num("a", 1.0009, 0, 0)}, []Value{num("a", 1, 1e-3, 0)}, nil},
		{"outside abs", []Value{num("a", 1.0011, 0, 0)}, []Value{num("a", 1, 1e-3, 0)}, []string{"a"}},
		{"within rel", []Value{num("a", 1010, 0, 0)}, []Value{num("a", 1000, 0, 0.01)}, nil},
		{"outside rel", []Value{num("a", 1011, 0, 0)}, []Value{num("a", 1000, 0, 0.01)}, []string{"a"}},
		{"golden tolerance wins", []Value{num("a", 2, 10, 0)}, []Value{num("a", 1, 0, 0)}, []string{"a"}},
		{"nan both", []Value{num("a", math.NaN(), 0, 0)}, []Value{num("a", math.NaN(), 0, 0)}, nil},
		{"nan one", []Value{num("a", 1, 0, 0)}, []Value{num("a", math.NaN(), 1e9, 0)}, []string{"a"}},
		{"inf", []Value{num("a", math.Inf(1), 0, 0)}, []Value{num("a", math.Inf(-1), 0, 0)}, []string{"a"}},
		{"missing", nil, []Value{num("a", 1, 0, 0)}, []string{"a"}},
		{"extra", []Value{num("b", 1, 0, 0)}, nil, []string{"b"}},
		{"text", []Value{text("s", "x")}, []Value{text("s", "y")}, []string{"s"}},
		{"text vs num", []Value{num("s", 1, 0, 0)}, []Value{text("s", "1")}, []string{"s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ms := Compare(tt.got, tt.want)
			var keys []string
			for _, m := range ms {
				keys = append(keys, m.Key)
			}
			if strings.Join(keys, ",") != strings.Join(tt.bad, ",") {
				t.Errorf("mismatching keys %v, want %v (%v)", keys, tt.bad, ms)
			}
		})
	}
}

func TestDuplicateKeyPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("duplicate key accepted")
		}
	}()
	var vs Values
	vs.Exact("a", 1)
	vs.Exact("a", 2)
}

func TestGoldenFile(t *testing.T) {
	dir := t.TempDir()
	var vs Values
	vs.Num("x", 0.5, 1e-6, 0)
	g := &Golden{Experiment: "e", Profile: "quick", Inputs: []Input{{"b", "2"}, {"a", "1"}}, Values: vs.List()}
	p := filepath.Join(dir, "golden", "e", "quick.json")
	if err := WriteGolden(p, g); err != nil {
		t.Fatal(err)
	}
	back, err := ReadGolden(p)
	if err != nil {
		t.Fatal(err)
	}
	if back.Inputs[0].Path != "a" || len(back.Values) != 1 || back.Values[0].Abs != 1e-6 {
		t.Errorf("read back %+v", back)
	}
	if _, err := ReadGolden(filepath.Join(dir, "nope.json")); err == nil {
		t.Error("missing golden read without error")
	}
}
