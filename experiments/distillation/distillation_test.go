package distillation

import (
	"slices"
	"strings"
	"testing"

	"compactv4/harness"
)

func TestParseNeurons(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []Neuron
		err  string
	}{
		{"190923:0,210225:54", []Neuron{{"190923", 0}, {"210225", 54}}, ""},
		{"190923:33", nil, "session 190923 has neurons 0-32, not \"33\""},
		{"190923:-1", nil, "has neurons 0-32"},
		{"190925:1", nil, "is not SESSION:N with SESSION a test session"},
		{"190923", nil, "is not SESSION:N"},
		{"190923:1,190923:1", nil, "given twice"},
	} {
		got, err := ParseNeurons(tt.in)
		if tt.err == "" && (err != nil || !slices.Equal(got, tt.want)) || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%q: %v, %v", tt.in, got, err)
		}
	}
	all, err := ParseNeurons("all")
	if err != nil || len(all) != 219 || all[218] != (Neuron{"211022", 41}) {
		t.Errorf("all: %d neurons, %v", len(all), err)
	}
}

func TestConfigure(t *testing.T) {
	full, err := planFor(harness.Full)
	if err != nil {
		t.Fatal(err)
	}
	// Two shards cover the plan, each neuron once.
	var union []Neuron
	for _, s := range []string{"1/2", "2/2"} {
		p := full
		p.Neurons = slices.Clone(full.Neurons)
		if err := configure(&p, map[string]string{"shard": s}); err != nil {
			t.Fatal(err)
		}
		if p.Shard != s || len(p.Neurons) != 2 {
			t.Errorf("shard %s: %v", s, p.Neurons)
		}
		union = append(union, p.Neurons...)
	}
	if len(union) != 4 || !slices.Contains(union, full.Neurons[3]) || union[0] != full.Neurons[0] || union[2] != full.Neurons[1] {
		t.Errorf("shards give %v", union)
	}
	for _, tt := range []struct {
		opts map[string]string
		err  string
	}{
		{map[string]string{"shard": "3/2"}, "want i/n with 1 ≤ i ≤ n"},
		{map[string]string{"shard": "0/2"}, "want i/n"},
		{map[string]string{"shard": "x"}, "want i/n"},
		{map[string]string{"teacher": "shared:from_nowhere:5"}, "no teacher folder"},
		{map[string]string{"presentations": "10"}, "-presentations"},
		{map[string]string{"neurons": "201025:89"}, "has neurons 0-88"},
		{map[string]string{"learning-rate": "-1"}, "-learning-rate"},
	} {
		p := full
		if err := configure(&p, tt.opts); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%v: %v, want %q", tt.opts, err, tt.err)
		}
	}
	p := full
	if err := configure(&p, map[string]string{"teacher": "shared:from_vgg19:50", "neurons": "211022:3", "presentations": "6400", "learning-rate": "1e-4"}); err != nil {
		t.Fatal(err)
	}
	if p.Teacher != "shared:from_vgg19:50" || !slices.Equal(p.Neurons, []Neuron{{"211022", 3}}) || p.Distil.Presentations != 6400 || p.Distil.LearningRate != 1e-4 {
		t.Errorf("configured plan %+v", p)
	}
}
