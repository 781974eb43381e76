package distillation

import (
	"bytes"
	"context"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/distill"
	"compactv4/internal/distimages"
	"compactv4/internal/teacher"
	"compactv4/internal/treetest"
	"compactv4/internal/v4data"
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
		if p.Shard.String() != s || len(p.Neurons) != 2 {
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
		{map[string]string{"retrain-presentations": "63"}, "-retrain-presentations"},
		{map[string]string{"prune-exact": "maybe"}, "-prune-exact"},
		{map[string]string{"synth-images": "some"}, "-synth-images"},
		{map[string]string{"lr-schedule": "step"}, "want constant or cosine"},
		{map[string]string{"lr-schedule": "constant", "warmup": "0.1"}, "with a cosine schedule"},
		{map[string]string{"lr-schedule": "cosine", "warmup": "1"}, "want a fraction in [0, 1)"},
		{map[string]string{"test-every": "-1"}, "-test-every"},
		{map[string]string{"test-every": "x"}, "-test-every"},
		{map[string]string{"fidelity-every": "0"}, "-fidelity-every"},
		{map[string]string{"image-seed": "-1"}, "-image-seed"},
		{map[string]string{"retrain-learning-rate": "0"}, "-retrain-learning-rate"},
		{map[string]string{"init-seed": "1e3"}, "-init-seed"},
		{map[string]string{"readout-rate": "0"}, "-readout-rate"},
		{map[string]string{"gamma-l1": "-1e-3"}, "-gamma-l1"},
		{map[string]string{"gamma-l1": "NaN"}, "-gamma-l1"},
		{map[string]string{"readout-lasso": "-0.3"}, "-readout-lasso"},
		{map[string]string{"readout-lasso": "x"}, "-readout-lasso"},
		{map[string]string{"batch": "0"}, "-batch"},
		{map[string]string{"batch": "64", "presentations": "1535"}, "-presentations"},
		{map[string]string{"batch": "x"}, "-batch"},
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
	p = full
	if err := configure(&p, map[string]string{"retrain-presentations": "3200", "prune-exact": "true", "learning-rate": "3e-4", "lr-schedule": "cosine", "warmup": "0.05"}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []distill.Schedule{p.Distil, p.Retrain} {
		if s.LearningRate != 3e-4 || s.Decay != distill.Cosine || s.Warmup != 0.05 {
			t.Errorf("schedule %+v: the learning-rate options apply to both phases", s)
		}
	}
	if !p.PruneExact || p.Retrain.Presentations != 3200 || p.Distil.Presentations != full.Distil.Presentations {
		t.Errorf("configured plan %+v", p)
	}
	p = full
	if err := configure(&p, map[string]string{"test-every": "3", "fidelity-every": "1", "synth-images": "false"}); err != nil {
		t.Fatal(err)
	}
	if p.TestEvery != 3 || p.Distil.FidelityEvery != 1 || p.Retrain.FidelityEvery != 1 || !p.LeaveOutSynth || full.TestEvery != 0 || full.Retrain.FidelityEvery != fullFidelityEvery || full.LeaveOutSynth {
		t.Errorf("configured plan %+v from %+v", p, full)
	}
	p = full
	if err := configure(&p, map[string]string{"learning-rate": "5e-4", "retrain-learning-rate": "2e-4"}); err != nil {
		t.Fatal(err)
	}
	if p.Distil.LearningRate != 5e-4 || p.Retrain.LearningRate != 2e-4 {
		t.Errorf("-learning-rate 5e-4 -retrain-learning-rate 2e-4 give %g and %g", p.Distil.LearningRate, p.Retrain.LearningRate)
	}
	for _, tt := range []struct {
		value string
		want  float64 // in the plan: 0 for the same rate, so that -readout-rate 1 is the default plan
	}{{"0.01", 0.01}, {"1", 0}, {"3", 3}} {
		p = full
		if err := configure(&p, map[string]string{"readout-rate": tt.value}); err != nil {
			t.Fatal(err)
		}
		if p.Distil.ReadoutRate != tt.want || p.Retrain.ReadoutRate != tt.want || full.Distil.ReadoutRate != 0 {
			t.Errorf("-readout-rate %s gives %g and %g, want %g in both phases", tt.value, p.Distil.ReadoutRate, p.Retrain.ReadoutRate, tt.want)
		}
	}
	p = full
	if err := configure(&p, map[string]string{"gamma-l1": "1e-3"}); err != nil {
		t.Fatal(err)
	}
	if p.Distil.GammaL1 != 1e-3 || p.Retrain.GammaL1 != 0 {
		t.Errorf("-gamma-l1 1e-3 gives %g in the distillation and %g in the retraining, want 0.001 and 0", p.Distil.GammaL1, p.Retrain.GammaL1)
	}
	for _, tt := range []struct {
		value string
		want  float64
	}{{"0", 0}, {"3", 3}} {
		p = full
		if err := configure(&p, map[string]string{"readout-lasso": tt.value}); err != nil {
			t.Fatal(err)
		}
		if p.Distil.ReadoutLasso != tt.want || p.Retrain.ReadoutLasso != 0 || full.Distil.ReadoutLasso != fullReadoutLasso {
			t.Errorf("-readout-lasso %s gives %g in the distillation and %g in the retraining (full profile: %g), want %g and 0",
				tt.value, p.Distil.ReadoutLasso, p.Retrain.ReadoutLasso, full.Distil.ReadoutLasso, tt.want)
		}
	}
	p = full
	if err := configure(&p, map[string]string{"batch": "64", "presentations": "1536"}); err != nil {
		t.Fatal(err)
	}
	if p.Distil.Batch != 64 || p.Retrain.Batch != 64 || p.Distil.Presentations != 1536 || full.Distil.Batch != fullBatch {
		t.Errorf("-batch 64 gives %d and %d from %d", p.Distil.Batch, p.Retrain.Batch, full.Distil.Batch)
	}
	p = full
	if err := configure(&p, map[string]string{"image-seed": "7", "init-seed": "18446744073709551615"}); err != nil {
		t.Fatal(err)
	}
	if p.ImageSeed != 7 || p.InitSeed != math.MaxUint64 || full.ImageSeed != imageSeed || full.InitSeed != initSeed {
		t.Errorf("configured seeds %d, %d from %d, %d", p.ImageSeed, p.InitSeed, full.ImageSeed, full.InitSeed)
	}
}

// Two shards run one after the other against a shared cache, then a run without -shard that
// assembles them from the cache, write the same bytes as one run of the whole plan with its own
// cache: neurons.csv, every file under models/ and nums_filters/, every table and figure.
func TestShardsMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("trains four tiny networks")
	}
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	p := plan{
		Teacher: teacher.Default, Neurons: []Neuron{{"190923", 0}, {"190923", 5}},
		Distil:  distill.Schedule{Presentations: 64, Batch: 32, LearningRate: distill.PaperLearningRate, Smoothings: 1},
		Retrain: distill.Schedule{Presentations: 32, Batch: 32, LearningRate: distill.PaperLearningRate, Smoothings: 1},
		HeldOut: 24, Families: distimages.AllFamilies.String(), ImageSeed: imageSeed, InitSeed: initSeed,
	}
	runPlan := func(p plan, cache *harness.Cache) string {
		t.Helper()
		env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Cache: cache, Log: io.Discard}
		if _, err := run(context.Background(), env, p); err != nil {
			t.Fatal(err)
		}
		return env.Out
	}
	newCache := func(log io.Writer) *harness.Cache {
		t.Helper()
		c, err := harness.NewCache(t.TempDir(), log)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	whole := runPlan(p, newCache(io.Discard))
	want := treetest.Read(t, whole)
	for _, f := range []string{"neurons.csv", "models/compact_model_190923_neuron5.npy", "models/distilled_model_190923_neuron0.npy",
		"models/teacher_heldout_190923_neuron0.npy", "models/pruning_190923_neuron5.json", "nums_filters/compact_model_190923_neuron0.npy", "heldout.csv"} {
		if _, ok := want[f]; !ok {
			t.Errorf("the run wrote no %s", f)
		}
	}

	var log bytes.Buffer
	shared := newCache(&log)
	for _, s := range []string{"1/2", "2/2"} {
		sp := p
		sp.Neurons = slices.Clone(p.Neurons)
		if err := configure(&sp, map[string]string{"shard": s}); err != nil {
			t.Fatal(err)
		}
		got := treetest.Read(t, runPlan(sp, shared))
		for f, b := range got {
			if strings.HasPrefix(f, "models/") && !bytes.Equal(b, want[f]) {
				t.Errorf("shard %s: %s differs from the one-process run's", s, f)
			}
		}
	}
	log.Reset()
	merged := treetest.Read(t, runPlan(p, shared))
	if strings.Contains(log.String(), "run ") {
		t.Errorf("assembling the shards computed steps again:\n%s", log.String())
	}
	if len(merged) != len(want) {
		t.Errorf("merged run wrote %d files, the one-process run %d", len(merged), len(want))
	}
	for f, b := range want {
		if !bytes.Equal(merged[f], b) {
			t.Errorf("%s: merged shards differ from the one-process run", f)
		}
	}
}

// The run's notes name the learning-rate schedule, and the readout's own rate only when it
// differs from the others'.
func TestDescribeBatch(t *testing.T) {
	for _, tt := range []struct {
		distil, retrain int
		want            string
	}{
		{64, 64, "batches of 64 images, as the paper's"},
		{16, 16, "batches of 16 images (the paper: 64)"},
		{16, 64, "batches of 16 images in the distillation and 64 in the retraining (the paper: 64)"},
	} {
		if got := describeBatch(tt.distil, tt.retrain); got != tt.want {
			t.Errorf("describeBatch(%d, %d) = %q, want %q", tt.distil, tt.retrain, got, tt.want)
		}
	}
}

func TestDescribeRate(t *testing.T) {
	for _, tt := range []struct {
		s    distill.Schedule
		want string
	}{
		{distill.Schedule{LearningRate: 1e-4}, "constant 0.0001"},
		{distill.Schedule{LearningRate: 3e-4, Decay: distill.Cosine, Warmup: 0.05}, "cosine decay from 0.0003 after a linear warm-up over 5 % of the steps"},
		{distill.Schedule{LearningRate: 1e-4, ReadoutRate: 1}, "constant 0.0001"},
		{distill.Schedule{LearningRate: 1e-4, ReadoutRate: 0.01}, "constant 0.0001, times 0.01 for the readout's kernel (-readout-rate)"},
		{distill.Schedule{LearningRate: 1e-4, GammaL1: 0.002}, "constant 0.0001, with an L1 penalty 0.002·Σ|γ| on the batchnorm scales (-gamma-l1)"},
	} {
		if got := describeRate(tt.s); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.s, got, tt.want)
		}
	}
}
