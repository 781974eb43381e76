package v4data

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/model"
	"compactv4/internal/torchpt"
)

// modelStore opens the data directory (or skips without it).
func modelStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(datadirtest.Dir(tb))
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// manifestStore is a store over an empty directory with the pinned manifest: enough for what
// needs only the manifest.
func manifestStore(t *testing.T) *Store {
	t.Helper()
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenManifest(t.TempDir(), m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCompactIDs(t *testing.T) {
	ids, err := CompactIDs(manifestStore(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 219 {
		t.Fatalf("%d compact models, want 219", len(ids))
	}
	// Sessions in test-session order, neurons 0..N-1 in numeric order within each.
	want := []struct {
		session string
		n       int
	}{{"190923", 33}, {"201025", 89}, {"210225", 55}, {"211022", 42}}
	i := 0
	for _, w := range want {
		for n := 0; n < w.n; n++ {
			if ids[i] != (CompactID{w.session, n}) {
				t.Fatalf("ids[%d] = %v, want session %s neuron %d", i, ids[i], w.session, n)
			}
			i++
		}
	}
	if got := ids[10].Stem(); got != "compact_model_190923_neuron10" {
		t.Errorf("ids[10].Stem() = %q", got)
	}
}

func TestParseCompactID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want CompactID
		err  bool
	}{
		{"compact_model_190923_neuron0", CompactID{"190923", 0}, false},
		{"compact_model_211022_neuron41.keras", CompactID{"211022", 41}, false},
		{"data_compact_models/model_weights_h5/compact_model_201025_neuron88.weights.h5", CompactID{"201025", 88}, false},
		{`C:\models\compact_model_210225_neuron7.pt`, CompactID{"210225", 7}, false},
		{"compact_model_210225_neuron7.npy", CompactID{"210225", 7}, false},
		{"compact_model_210225_neuron07", CompactID{}, true},
		{"compact_model_2102_neuron7", CompactID{}, true},
		{"compact_model_210225_neuron", CompactID{}, true},
		{"compact_model_210225_neuron-1", CompactID{}, true},
		{"shared_compact_model_5filters.keras", CompactID{}, true},
		{"", CompactID{}, true},
	} {
		got, err := ParseCompactID(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseCompactID(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
		if err == nil {
			if again, _ := ParseCompactID(got.Stem()); again != got {
				t.Errorf("Stem %q does not parse back", got.Stem())
			}
		}
	}
}

func TestFormats(t *testing.T) {
	id := CompactID{"190923", 3}
	want := map[Format][2]string{
		FormatKeras:     {"keras", "data_compact_models/models_keras/compact_model_190923_neuron3.keras"},
		FormatWeightsH5: {"weights.h5", "data_compact_models/model_weights_h5/compact_model_190923_neuron3.weights.h5"},
		FormatNPY:       {"npy", "data_compact_models/model_weights_npy/compact_model_190923_neuron3.npy"},
		FormatTorch:     {"pt", "data_compact_models/models_torch/compact_model_190923_neuron3.pt"},
	}
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range Formats {
		if f.String() != want[f][0] || f.CompactPath(id) != want[f][1] {
			t.Errorf("format %d: %q %q, want %q", int(f), f.String(), f.CompactPath(id), want[f])
		}
		if _, ok := m.Lookup(f.CompactPath(id)); !ok {
			t.Errorf("the manifest lacks %s", f.CompactPath(id))
		}
		for _, s := range []string{f.String(), f.Ext(), strings.ToUpper(f.String())} {
			if g, err := ParseFormat(s); err != nil || g != f {
				t.Errorf("ParseFormat(%q) = %v, %v", s, g, err)
			}
		}
	}
	if _, err := ParseFormat("h6"); err == nil {
		t.Error("ParseFormat(h6) succeeded")
	}
	if s := Format(9).String(); s != "Format(9)" {
		t.Errorf("Format(9).String() = %q", s)
	}
	if _, err := LoadCompact(manifestStore(t), id, Format(-1)); err == nil {
		t.Error("LoadCompact with an unknown format succeeded")
	}
}

// TestLoadAllCompact loads all 219 compact models in the four formats and checks that they hold
// the same numbers, the filter counts of nums_filters and the parameter counts of the printed
// Keras summaries.
func TestLoadAllCompact(t *testing.T) {
	s := modelStore(t)
	ids, err := CompactIDs(s)
	if err != nil {
		t.Fatal(err)
	}
	var shifted, exact int
	var maxDiff float64
	for _, id := range ids {
		if !s.Has(FormatKeras.CompactPath(id)) {
			t.Fatalf("%s absent", FormatKeras.CompactPath(id))
		}
		nets := make([]*model.Network, len(Formats))
		for i, f := range Formats {
			if nets[i], err = LoadCompact(s, id, f); err != nil {
				t.Fatal(err)
			}
			if nets[i].Name != id.Stem() {
				t.Errorf("%v %v: name %q", id, f, nets[i].Name)
			}
		}
		ref := nets[FormatKeras].Weights()
		for _, f := range []Format{FormatWeightsH5, FormatNPY} {
			if d := bitDiff(ref, nets[f].Weights(), nil); d != "" {
				t.Errorf("%v: %v differs from keras: %s", id, f, d)
			}
		}
		// The .pt moving variances of batchnorm layers 1-4 are recovered to within torchpt's bound.
		varIdx := map[int]bool{}
		for l := 1; l < model.NumLayers; l++ {
			varIdx[6+7*(l-1)+6] = true // reference/upstream.md §4.3: (dw, pw, bias, γ, β, μ, σ²) from 6+7(l-1)
		}
		if d := bitDiff(ref, nets[FormatTorch].Weights(), varIdx); d != "" {
			t.Errorf("%v: pt differs from keras: %s", id, d)
		}
		pt := nets[FormatTorch].Weights()
		for i := range varIdx {
			for j, v := range ref[i].Data {
				shifted++
				d := math.Abs(float64(pt[i].Data[j]) - float64(v))
				if d == 0 {
					exact++
				}
				maxDiff = math.Max(maxDiff, d)
				if d > 1e-8 {
					t.Errorf("%v: pt variance %d[%d] = %v, keras %v", id, i, j, pt[i].Data[j], v)
				}
			}
		}

		filters, err := NumsFilters(s, id)
		if err != nil {
			t.Fatal(err)
		}
		sum, err := ModelSummary(s, id)
		if err != nil {
			t.Fatal(err)
		}
		want := model.Counts{Total: sum.Total, Trainable: sum.Trainable, NonTrainable: sum.NonTrainable}
		for i, f := range Formats {
			got, err := model.CompactFilters(nets[i])
			if err != nil || got != filters {
				t.Errorf("%v %v: filters %v (%v), nums_filters %v", id, f, got, err, filters)
			}
			if p := nets[i].Params(); p != want || p.Total != model.CompactParams(filters) {
				t.Errorf("%v %v: params %+v, summary %+v, closed form %d", id, f, p, want, model.CompactParams(filters))
			}
		}
	}
	t.Logf("%d models × %d formats; pt moving variances of layers 1-4: %d of %d bit-identical, max |Δ| %.3g",
		len(ids), len(Formats), exact, shifted, maxDiff)
	if shifted == 0 || maxDiff > torchpt.RunningVarShift {
		t.Errorf("implausible variance comparison: %d values, max diff %v", shifted, maxDiff)
	}
}

// bitDiff describes the first difference between two weight lists, comparing float32 bits,
// except the arrays in skip, of which only the shapes are compared.
func bitDiff(a, b []*model.Tensor, skip map[int]bool) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d vs %d arrays", len(a), len(b))
	}
	for i := range a {
		if fmt.Sprint(a[i].Shape) != fmt.Sprint(b[i].Shape) || len(a[i].Data) != len(b[i].Data) {
			return fmt.Sprintf("array %d: shape %v vs %v", i, a[i].Shape, b[i].Shape)
		}
		if skip[i] {
			continue
		}
		for j := range a[i].Data {
			if math.Float32bits(a[i].Data[j]) != math.Float32bits(b[i].Data[j]) {
				return fmt.Sprintf("array %d value %d: %v vs %v", i, j, a[i].Data[j], b[i].Data[j])
			}
		}
	}
	return ""
}

// sharedTotal are the parameter totals of the shared models (claim C7; reference/upstream.md §4.6), by K.
var sharedTotal = map[int]int{5: 208909, 10: 210384, 25: 215409, 35: 219259, 50: 225784, 75: 238659, 100: 254034, 200: 340534}

func TestLoadShared(t *testing.T) {
	s := modelStore(t)
	if len(Teachers) != 7 || len(SharedKs) != 8 {
		t.Fatalf("%d teachers, %d Ks", len(Teachers), len(SharedKs))
	}
	n := 0
	for _, teacher := range Teachers {
		for _, k := range SharedKs {
			net, err := LoadShared(s, teacher, k)
			if err != nil {
				t.Fatal(err)
			}
			n++
			if want := fmt.Sprintf("%s/shared_compact_model_%dfilters", teacher, k); net.Name != want {
				t.Errorf("name %q, want %q", net.Name, want)
			}
			if p := net.Params().Total; p != sharedTotal[k] {
				t.Errorf("%s: total params %d, want %d", net.Name, p, sharedTotal[k])
			}
			acts := 0
			for _, l := range net.Layers {
				if l.Class == model.Activation {
					acts++
					if l.Activation != model.ReLU {
						t.Errorf("%s: layer %s has activation %q", net.Name, l.Name, l.Activation)
					}
				}
			}
			if wantActs := map[bool]int{true: 0, false: 5}[teacher == "linear_from_ensemble_model"]; acts != wantActs {
				t.Errorf("%s: %d activation layers, want %d", net.Name, acts, wantActs)
			}
			shapes, err := net.Shapes()
			if err != nil {
				t.Fatal(err)
			}
			if out := shapes[len(shapes)-1]; out != (model.Shape{C: 219, Flat: true}) {
				t.Errorf("%s: output %v, want (219)", net.Name, out)
			}
			ref, err := model.NewShared(k, 219, acts > 0)
			if err != nil {
				t.Fatal(err)
			}
			ref.Name = net.Name
			for i := range ref.Layers {
				if i < len(net.Layers) && len(ref.Layers[i].Weights) == len(net.Layers[i].Weights) {
					ref.Layers[i].Weights = net.Layers[i].Weights // compare the configuration only
				}
			}
			if !reflect.DeepEqual(ref, net) {
				t.Errorf("%s: configuration differs from model.NewShared(%d, 219, %v)", net.Name, k, acts > 0)
			}
		}
	}
	if n != 56 {
		t.Errorf("loaded %d shared models, want 56", n)
	}
}

func TestLoadSharedErrors(t *testing.T) {
	s := manifestStore(t)
	for _, tc := range []struct {
		teacher string
		k       int
		want    string
	}{
		{"from_alexnet", 5, `unknown teacher "from_alexnet"`},
		{"from_vgg19", 6, "no shared compact model with K=6"},
		{"from_vgg19", 5, "from_vgg19/shared_compact_model_5filters.keras"}, // absent from the empty directory
	} {
		_, err := LoadShared(s, tc.teacher, tc.k)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("LoadShared(%q, %d): %v, want an error containing %q", tc.teacher, tc.k, err, tc.want)
		}
	}
	var missing *MissingError
	if _, err := LoadShared(s, "from_vgg19", 5); !errors.As(err, &missing) {
		t.Errorf("missing file: %v is not a *MissingError", err)
	}
}

// int64NPY returns a .npy file of a 1-D int64 array, as np.save writes it.
func int64NPY(vals []int64) []byte {
	header := fmt.Sprintf("{'descr': '<i8', 'fortran_order': False, 'shape': (%d,), }", len(vals))
	for (10+len(header)+1)%64 != 0 {
		header += " "
	}
	header += "\n"
	b := []byte("\x93NUMPY\x01\x00")
	b = append(b, byte(len(header)), byte(len(header)>>8))
	b = append(b, header...)
	for _, v := range vals {
		for i := 0; i < 8; i++ {
			b = append(b, byte(uint64(v)>>(8*i)))
		}
	}
	return b
}

// fakeStore writes files into a temporary data directory and returns a store whose manifest lists
// exactly them, with their hashes (so that the readers, not the store, see the bad content).
func fakeStore(t *testing.T, files map[string][]byte) *Store {
	t.Helper()
	dir := t.TempDir()
	var entries []Entry
	for rel, b := range files {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, Entry{Path: rel, SHA1: BlobSHA1Bytes(b), Size: int64(len(b)), InSharedCopy: true})
	}
	m, err := NewManifest(entries)
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenManifest(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestLoadCompactErrors(t *testing.T) {
	id := CompactID{"190923", 0}
	nf := "data_compact_models/nums_filters/" + id.Stem() + ".npy"
	garbage := []byte("not a model file")
	s := fakeStore(t, map[string][]byte{
		FormatKeras.CompactPath(id):     garbage,
		FormatWeightsH5.CompactPath(id): garbage,
		FormatNPY.CompactPath(id):       garbage,
		FormatTorch.CompactPath(id):     garbage,
		nf:                              int64NPY([]int64{3, 3, 3, 3}),
		"data_compact_models/model_summaries/" + id.Stem() + ".txt": garbage,
	})
	for _, f := range Formats {
		_, err := LoadCompact(s, id, f)
		if err == nil || !strings.HasPrefix(err.Error(), "load "+f.CompactPath(id)+": ") {
			t.Errorf("%v: error %v lacks the file's path", f, err)
		}
	}
	if _, err := NumsFilters(s, id); err == nil || !strings.Contains(err.Error(), "shape [4], want (5,)") {
		t.Errorf("NumsFilters: %v", err)
	}
	if _, err := ModelSummary(s, id); err == nil || !strings.Contains(err.Error(), "read data_compact_models/model_summaries/"+id.Stem()+".txt: ") {
		t.Errorf("ModelSummary: %v", err)
	}
	if _, err := LoadCompact(s, CompactID{"190923", 1}, FormatKeras); !errors.Is(err, ErrNotInManifest) {
		t.Errorf("a model the manifest lacks: %v", err)
	}
	var missing *MissingError
	if _, err := LoadCompact(manifestStore(t), id, FormatNPY); !errors.As(err, &missing) {
		t.Errorf("absent file: %v is not a *MissingError", err)
	}
}

// TestLoadCompactNPYFilters pairs a real weights .npy with filter counts that do not fit it.
func TestLoadCompactNPYFilters(t *testing.T) {
	id := CompactID{"211022", 27}
	real := modelStore(t)
	b, err := real.ReadFile(FormatNPY.CompactPath(id))
	if err != nil {
		t.Skip(err)
	}
	good, err := NumsFilters(real, id)
	if err != nil {
		t.Fatal(err)
	}
	bad := []int64{int64(good[0]), int64(good[1]), int64(good[2]) + 1, int64(good[3]), int64(good[4])}
	s := fakeStore(t, map[string][]byte{
		FormatNPY.CompactPath(id):                                b,
		"data_compact_models/nums_filters/" + id.Stem() + ".npy": int64NPY(bad),
	})
	_, err = LoadCompact(s, id, FormatNPY)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("with the filter counts %v of nums_filters", [5]int{good[0], good[1], good[2] + 1, good[3], good[4]})) {
		t.Errorf("error %v", err)
	}
}

func TestParseNumsFilters(t *testing.T) {
	for _, tc := range []struct {
		in   []byte
		want string
	}{
		{int64NPY([]int64{48, 60, 3, 3, 3}), ""},
		{int64NPY([]int64{48, 60, 0, 3, 3}), "layer 2 has 0 filters"},
		{int64NPY([]int64{48, 60, 3, 3, -3}), "layer 4 has -3 filters"},
		{int64NPY([]int64{48, 60, 3, 3, 3, 3}), "shape [6]"},
		{int64NPY([]int64{48, 60, 3, 3, 3})[:100], "npy"},
		{nil, "npy"},
	} {
		f, err := ParseNumsFilters(bytes.NewReader(tc.in))
		if tc.want == "" {
			if err != nil || f != [5]int{48, 60, 3, 3, 3} {
				t.Errorf("got %v, %v", f, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

func FuzzParseNumsFilters(f *testing.F) {
	f.Add(int64NPY([]int64{48, 60, 3, 3, 3}))
	f.Add(int64NPY([]int64{1 << 40, 1, 1, 1, 1}))
	if dir := datadirtest.Lookup(); dir != "" {
		for _, stem := range []string{"compact_model_190923_neuron0", "compact_model_211022_neuron27"} {
			b, err := os.ReadFile(filepath.Join(dir, "data_compact_models", "nums_filters", stem+".npy"))
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		filters, err := ParseNumsFilters(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, n := range filters {
			if n < 1 {
				t.Fatalf("accepted filters %v", filters)
			}
		}
	})
}
