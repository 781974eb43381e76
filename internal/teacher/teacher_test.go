package teacher

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		spec string
		want Spec
		err  string
	}{
		{"", Spec{"shared", "from_ensemble_model", 200}, ""},
		{"shared:from_vgg19:5", Spec{"shared", "from_vgg19", 5}, ""},
		{"shared:linear_from_ensemble_model:75", Spec{"shared", "linear_from_ensemble_model", 75}, ""},
		{"shared:from_alexnet:200", Spec{}, "no teacher folder \"from_alexnet\" (folders: from_ensemble_model,"},
		{"shared:from_vgg19:7", Spec{}, "no shared compact model with K=\"7\""},
		{"shared:from_vgg19", Spec{}, "want shared:<folder>:<K>"},
		{"ensemble", Spec{}, "the 25-member ensemble is not available"},
		{"resnet", Spec{}, "want shared:<folder>:<K>"},
	} {
		got, err := Parse(tt.spec)
		if tt.err == "" {
			if err != nil || got != tt.want {
				t.Errorf("Parse(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			}
			if got.String() != map[bool]string{true: Default, false: tt.spec}[tt.spec == ""] {
				t.Errorf("%q prints as %q", tt.spec, got.String())
			}
			continue
		}
		if err == nil || !errors.Is(err, ErrSpec) || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("Parse(%q): error %v, want one containing %q", tt.spec, err, tt.err)
		}
	}
}

// The network cut to one output gives that output of the full shared model, bit for bit: the
// distillation labels its images with the full model and its held-out images with either.
func TestRow(t *testing.T) {
	for _, relu := range []bool{true, false} {
		full, err := model.NewShared(2, 7, relu)
		if err != nil {
			t.Fatal(err)
		}
		if err := nn.InitKeras(full, 3); err != nil {
			t.Fatal(err)
		}
		// Non-zero biases, so that taking the wrong one shows.
		for _, name := range []string{"mixing_stage", "spatial_pool_stage"} {
			for i := range full.Layer(name).Weights[1].Data {
				full.Layer(name).Weights[1].Data[i] = float32(i) - 2.5
			}
		}
		const n = 3
		rng := rand.New(rand.NewPCG(1, 2))
		pix := make([]uint8, n*model.ImageSize*model.ImageSize*3)
		for i := range pix {
			pix[i] = uint8(rng.IntN(256))
		}
		fc, err := nn.Compile(full)
		if err != nil {
			t.Fatal(err)
		}
		want, err := fc.Predict(pix, n)
		if err != nil {
			t.Fatal(err)
		}
		for row := range 7 {
			cut, err := Row(full, row)
			if err != nil {
				t.Fatal(err)
			}
			cc, err := nn.Compile(cut)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cc.Predict(pix, n)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				w := want[i*7+row]
				if got[i] != w {
					t.Errorf("relu %v row %d image %d: %g, full model %g", relu, row, i, got[i], w)
				}
			}
		}
		if _, err := Row(full, 7); err == nil {
			t.Error("row 7 of 7 accepted")
		}
	}
}

func TestOpen(t *testing.T) {
	// A data directory without the file: the error names it, its SHA-1 and how to get it.
	s, err := v4data.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(s, "shared:from_cornets:35")
	var me *v4data.MissingError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), me.SHA1) || !strings.Contains(err.Error(), "replicate data fetch") ||
		!strings.Contains(err.Error(), "from_cornets/shared_compact_model_35filters.keras") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := Open(s, "shared:from_cornets:36"); !errors.Is(err, ErrSpec) {
		t.Errorf("bad K: %v", err)
	}

	s, err = v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	tc, err := Open(s, "")
	if err != nil {
		t.Fatal(err)
	}
	if tc.Name() != Default || len(tc.Files()) != 1 {
		t.Errorf("name %q, files %v", tc.Name(), tc.Files())
	}
	m, err := tc.Neuron("201025", 88)
	if err != nil {
		t.Fatal(err)
	}
	if m.Outputs() != 1 || m.Name() != "teacher_shared_from_ensemble_model_K200_201025_neuron88" {
		t.Errorf("%s: %d outputs", m.Name(), m.Outputs())
	}
	if o, err := tc.Output("201025", 88); err != nil || o != 88+mustSession(t, "201025").Offset {
		t.Errorf("output of 201025 neuron 88: %d, %v", o, err)
	}
	if a := tc.All(); a.Outputs() != v4data.SharedOutputs || a.Name() != "teacher_shared_from_ensemble_model_K200" {
		t.Errorf("all neurons: %s, %d outputs", a.Name(), a.Outputs())
	}
	for _, bad := range []struct {
		session string
		n       int
	}{{"201025", 89}, {"201025", -1}, {"190925", 0}} {
		if _, err := tc.Neuron(bad.session, bad.n); err == nil {
			t.Errorf("neuron %d of %s accepted", bad.n, bad.session)
		}
		if _, err := tc.Output(bad.session, bad.n); err == nil {
			t.Errorf("output of neuron %d of %s accepted", bad.n, bad.session)
		}
	}
}

func mustSession(t *testing.T, id string) v4data.TestSession {
	t.Helper()
	ts, ok := v4data.LookupTestSession(id)
	if !ok {
		t.Fatalf("no test session %s", id)
	}
	return ts
}
