package keras

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
)

const tinySummary = `using gpu 0
Model: "functional_1"
┏━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━┳━━━━━━━━━┓
┃ Layer (type)         ┃ Output Shape   ┃ Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━╇━━━━━━━━━┩
│ image_input          │ (None, 8, 8,   │       0 │
│ (InputLayer)         │ 3)             │         │
├──────────────────────┼────────────────┼─────────┤
│ conv (Conv2D)        │ (None, 8, 8,   │   1,216 │
│                      │ 16)            │         │
├──────────────────────┼────────────────┼─────────┤
│ bn (BatchNormalizat… │ (None, 8, 8,   │      64 │
│                      │ 16)            │         │
└──────────────────────┴────────────────┴─────────┘
 Total params: 1,280 (5.00 KB)
 Trainable params: 1,248 (4.88 KB)
 Non-trainable params: 32 (128.00 B)
`

func TestParseSummaries(t *testing.T) {
	ss, err := ParseSummaries(strings.NewReader(tinySummary))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 {
		t.Fatalf("%d summaries", len(ss))
	}
	s := ss[0]
	if s.Name != "functional_1" || s.Total != 1280 || s.Trainable != 1248 || s.NonTrainable != 32 || len(s.Layers) != 3 {
		t.Errorf("parsed %+v", s)
	}
	if s.Layers[0].Name != "image_input (InputLayer)" || s.Layers[1].Output != "(None, 8, 8, 16)" || s.Layers[1].Params != 1216 {
		t.Errorf("layers %+v", s.Layers)
	}
}

func TestParseSummariesErrors(t *testing.T) {
	tests := []struct{ name, text string }{
		{"empty", ""},
		{"no total", strings.Replace(tinySummary, " Total params: 1,280 (5.00 KB)\n", "", 1)},
		{"footer mismatch", strings.Replace(tinySummary, "Trainable params: 1,248", "Trainable params: 1,249", 1)},
		{"layer sum mismatch", strings.Replace(tinySummary, "1,216", "1,217", 1)},
		{"bad number", strings.Replace(tinySummary, "1,216", "1x216", 1)},
		{"ragged table", strings.Replace(tinySummary, "│ (InputLayer)         │ 3)             │         │", "│ (InputLayer) │", 1)},
	}
	for _, tt := range tests {
		if _, err := ParseSummaries(strings.NewReader(tt.text)); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// The released ensemble summary gives the teacher's size (claim C1): a ResNet50 trunk and one
// member whose "Total params" includes SGD-momentum slots.
func TestEnsembleSummary(t *testing.T) {
	b, err := os.ReadFile(datadirtest.File(t, "data_ensemble_model/ensemble_model_summary.txt"))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := ParseSummaries(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 2 {
		t.Fatalf("%d summaries, want 2", len(ss))
	}
	if ss[0].ModelParams() != 6345600 || ss[1].ModelParams() != 2257368 || ss[1].Optimizer != 2252250 {
		t.Errorf("trunk %d, member %d (optimizer %d)", ss[0].ModelParams(), ss[1].ModelParams(), ss[1].Optimizer)
	}
}

func TestCompactSummaries(t *testing.T) {
	dir := filepath.Join(datadirtest.Dir(t), "data_compact_models", "model_summaries")
	names, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(names) == 0 {
		t.Skipf("no summaries in %s", dir)
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := ParseSummaries(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if len(ss) != 1 || len(ss[0].Layers) != 18 {
			t.Errorf("%s: %d summaries, %d layers", filepath.Base(n), len(ss), len(ss[0].Layers))
		}
	}
}

func FuzzParseSummaries(f *testing.F) {
	f.Add([]byte(tinySummary))
	f.Add([]byte("Model: \"x\"\n Total params: 1\n Trainable params: 1\n"))
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		ss, err := ParseSummaries(bytes.NewReader(b))
		if err == nil && len(ss) == 0 {
			t.Error("no summaries and no error")
		}
	})
}
