package teacherfit

import (
	"errors"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/kerasweights"
	"compactv4/internal/teacherrows"
	"compactv4/internal/v4data"
)

// scoredModel returns a surrogate whose per-neuron r² are r2 (r = √r²).
func scoredModel(t *testing.T, teacher string, k int, r2 ...float64) *surrogate {
	t.Helper()
	m := &surrogate{Teacher: teacher, K: k}
	for _, v := range r2 {
		m.R = append(m.R, math.Sqrt(v))
		m.R2 = append(m.R2, v)
	}
	var err error
	if m.Summary, err = eval.Summarize(m.Scores, eval.SameSeed(1)); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCompareSurrogates(t *testing.T) {
	s := &surrogates{Models: []*surrogate{
		scoredModel(t, ensembleFolder, 200, 0.36, 0.25, 0.49, 0.16, 0.64),
		scoredModel(t, ensembleFolder, 50, 0.9, 0.9, 0.9, 0.9, 0.9), // another K: ignored
		scoredModel(t, "from_resnet50", 200, 0.16, 0.16, 0.25, 0.09, 0.36),
		scoredModel(t, "from_vgg19", 200, 0.25, 0.25, 0.36, 0.09, 0.49),
		scoredModel(t, "from_V4data_direct_fit", 200, 0.9, 0.9, 0.9, 0.9, 0.9), // not task-driven
	}}
	c, err := compareSurrogates(s)
	if err != nil {
		t.Fatal(err)
	}
	if c.Best.Teacher != "from_vgg19" {
		t.Fatalf("best task-driven %s, want from_vgg19 (median r² 0.25 against 0.16)", c.Best.Teacher)
	}
	// Medians: ensemble r² 0.36 (r 0.6), VGG19 0.25 (r 0.5).
	if want := 100 * (0.36/0.25 - 1); math.Abs(c.PercentR2-want) > 1e-9 {
		t.Errorf("percent r² %v, want %v", c.PercentR2, want)
	}
	if want := 100 * (0.6/0.5 - 1); math.Abs(c.PercentR-want) > 1e-9 {
		t.Errorf("percent r %v, want %v", c.PercentR, want)
	}
	if !math.IsNaN(c.PercentR2ER) {
		t.Errorf("percent r²_ER %v without raw repeats", c.PercentR2ER)
	}
	if c.Wins != 4 || c.Losses != 0 {
		t.Errorf("wins %d, losses %d; want 4 and 0 (one tie)", c.Wins, c.Losses)
	}
	line := c.String()
	for _, want := range []string{"K=200", "from_vgg19", "+44.0 %", "same 5 neurons"} {
		if !strings.Contains(line, want) {
			t.Errorf("surrogate line %q lacks %q", line, want)
		}
	}
	if c, err := compareSurrogates(&surrogates{Models: s.Models[2:4]}); err != nil || c != nil {
		t.Errorf("without the ensemble's model: %v, %v; want no comparison", c, err)
	}
}

func TestNotRunnableRows(t *testing.T) {
	st := teacherStatus{Members: 25, MissingMembers: []string{"data_ensemble_model/ensemble_model_member0.keras"}}
	rows := st.notRunnableRows()
	for _, want := range []string{"1 of 25 member files missing", weightFiles[0], weightFiles[1], "replicate data fetch -weights", "ResNet50-robust: not runnable", "CORnet-S: not runnable", "middle layer"} {
		if !strings.Contains(rows, want) {
			t.Errorf("rows %q lack %q", rows, want)
		}
	}
}

// TestWeightsRows checks the rows' wording when the member files are present but a Keras weight
// file is not: the trunk's makes every row of the teacher not runnable, VGG19's only its own.
func TestWeightsRows(t *testing.T) {
	dir := t.TempDir()
	_, errResNet := kerasweights.Locate(kerasweights.ResNet50, dir, nil)
	_, errVGG := kerasweights.Locate(kerasweights.VGG19, dir, nil)
	if errResNet == nil || errVGG == nil {
		t.Fatal("weight files found in an empty directory")
	}
	rows := teacherStatus{Members: 25, Weights: errResNet}.notRunnableRows()
	for _, want := range []string{"member files are present", kerasweights.ResNet50.Name, kerasweights.ResNet50.MD5, "data fetch -weights"} {
		if !strings.Contains(rows, want) {
			t.Errorf("rows %q lack %q", rows, want)
		}
	}
	rest := remainingRows(teacherStatus{Members: 25, VGG19: errVGG}, &teacherEval{Sessions: make([]*teacherrows.SessionFit, 1)})
	for _, want := range []string{"VGG19 (ridge and factorized)", kerasweights.VGG19.Name, "the factorized rows", "CORnet-S: not runnable"} {
		if !strings.Contains(rest, want) {
			t.Errorf("remaining rows %q lack %q", rest, want)
		}
	}
}

func TestConfigure(t *testing.T) {
	for _, tc := range []struct {
		values   map[string]string
		weights  string
		mappings []string
		shard    harness.Shard
		wantErr  string
	}{
		{values: map[string]string{}, mappings: allMappings},
		{values: map[string]string{"weights": "/data/keras"}, weights: "/data/keras", mappings: allMappings},
		{values: map[string]string{"weights": ""}, wantErr: "want a directory"},
		{values: map[string]string{"mappings": "ridge"}, mappings: []string{ridge}},
		{values: map[string]string{"mappings": "factorized"}, mappings: []string{factorized}},
		{values: map[string]string{"mappings": "factorized, ridge,ridge"}, mappings: allMappings},
		{values: map[string]string{"mappings": "ridge,lasso"}, wantErr: `unknown mapping "lasso"`},
		{values: map[string]string{"mappings": ""}, wantErr: `unknown mapping ""`},
		{values: map[string]string{"shard": "2/3"}, mappings: allMappings, shard: harness.Shard{I: 2, N: 3}},
		{values: map[string]string{"shard": "4/3"}, wantErr: "want i/n with 1 ≤ i ≤ n"},
	} {
		p, err := planFor(harness.Quick)
		if err != nil {
			t.Fatal(err)
		}
		err = configure(&p, tc.values)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("configure(%v): error %v, want %q", tc.values, err, tc.wantErr)
			}
			continue
		}
		if err != nil || p.Weights != tc.weights || !slices.Equal(p.Mappings, tc.mappings) || p.Shard != tc.shard {
			t.Errorf("configure(%v): weights %q, mappings %v, shard %v, error %v; want %q, %v, %v", tc.values, p.Weights, p.Mappings, p.Shard, err, tc.weights, tc.mappings, tc.shard)
		}
	}
}

// TestWeightsMissingPath: a weight file missing from -weights DIR is recorded under DIR, and
// under $KERAS_HOME/models without -weights.
func TestWeightsMissingPath(t *testing.T) {
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	_, err = kerasweights.Locate(kerasweights.VGG19, dir, nil)
	if err == nil {
		t.Fatal("weight file found in an empty directory")
	}
	for _, tc := range []struct{ dir, want string }{
		{dir, filepath.Join(dir, kerasweights.VGG19.Name)},
		{"", "$KERAS_HOME/models/" + kerasweights.VGG19.Name},
	} {
		res := &harness.Result{}
		env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Log: io.Discard}
		if !weightsMissing(eval.New(env, res), tc.dir, err, kerasweights.VGG19, "VGG19's rows") {
			t.Fatalf("weightsMissing(%q) = false for %v", tc.dir, err)
		}
		if len(res.NotRunnable) != 1 || res.NotRunnable[0].Path != tc.want || !strings.Contains(res.NotRunnable[0].Reason, kerasweights.VGG19.MD5) {
			t.Errorf("-weights %q: not runnable %+v, want %s with the MD5", tc.dir, res.NotRunnable, tc.want)
		}
	}
	if weightsMissing(nil, dir, errors.New("disk on fire"), kerasweights.VGG19, "VGG19's rows") {
		t.Error("an error other than missing or corrupt counted as missing")
	}
}
