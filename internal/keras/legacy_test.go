package keras

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
	"compactv4/internal/hdf5"
	"compactv4/internal/model"
)

// legacyNet is the network of testdata/gen_legacy.py, with zero weights.
func legacyNet(t testing.TB) *model.Network {
	t.Helper()
	conv := func(name string, class model.Class, f int) model.Layer {
		return model.Layer{Name: name, Class: class, Filters: f, Kernel: [2]int{3, 3}, Strides: [2]int{1, 1},
			Padding: model.PaddingSame, DepthMultiplier: 1, Activation: model.Linear, UseBias: true}
	}
	n := &model.Network{Name: "legacy_tiny", Input: [3]int{6, 6, 2}, Layers: []model.Layer{
		{Name: "input_1", Class: model.InputLayer},
		conv("c1", model.Conv2D, 3),
		{Name: "b1", Class: model.BatchNormalization, Epsilon: 1e-3, Momentum: 0.99},
		{Name: "r1", Class: model.Activation, Activation: model.ReLU},
		conv("s2", model.SeparableConv2D, 3),
		{Name: "a", Class: model.Add, Inbound: []string{"r1", "s2"}},
		{Name: "f", Class: model.Flatten},
		{Name: "d", Class: model.Dense, Filters: 2, Activation: model.Linear, UseBias: true},
	}}
	shapes, err := n.InputShapes()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n.Layers {
		l := &n.Layers[i]
		ws, err := l.WeightShapes(shapes[i])
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ws {
			l.Weights = append(l.Weights, model.NewTensor(s...))
		}
	}
	return n
}

func readLegacy(t *testing.T, name string, net *model.Network) error {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return ReadLegacyWeights(net, bytes.NewReader(b), int64(len(b)))
}

// Every array of the file lands in its layer, in Keras' order: the first value of each is
// gen_legacy.py's (legacy_tiny.txt), whole or with layer_names split in two.
func TestReadLegacyWeights(t *testing.T) {
	f, err := os.Open(filepath.Join("testdata", "legacy_tiny.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]float32{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), " ")
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatal(err)
		}
		want[k] = float32(x)
	}
	for _, file := range []string{"legacy_tiny.h5", "legacy_split.h5"} {
		net := legacyNet(t)
		if err := readLegacy(t, file, net); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		n := 0
		for _, l := range net.Layers {
			vars := legacyVarNames(&l)
			for j, w := range l.Weights {
				key := l.Name + "/" + vars[j]
				if w.Data[0] != want[key] {
					t.Errorf("%s: %s[0] = %v, want %v", file, key, w.Data[0], want[key])
				}
				n++
			}
		}
		if n != len(want) {
			t.Errorf("%s: %d arrays, want %d", file, n, len(want))
		}
	}
}

// Bad files are refused with an error naming the layer, leaving the network unchanged.
func TestReadLegacyWeightsRejects(t *testing.T) {
	tests := []struct{ file, want string }{
		{"legacy_missing.h5", `layer "s2"`},
		{"legacy_wrong_shape.h5", "c1/c1/kernel:0 has shape [3 3 2 4]"},
		{"legacy_wrong_var.h5", `layer "b1" weight 0 is "b1/beta:0"`},
		{"legacy_float64.h5", "d/d/kernel:0 has type"},
		{"compact_tiny.weights.h5", "Keras 3 weights file"},
	}
	for _, tc := range tests {
		net := legacyNet(t)
		before := net.Clone()
		err := readLegacy(t, tc.file, net)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.file, err, tc.want)
		}
		if tc.file == "compact_tiny.weights.h5" && !errors.Is(err, ErrUnsupported) {
			t.Errorf("%s: error %v is not ErrUnsupported", tc.file, err)
		}
		if !reflect.DeepEqual(net.Clone(), before) {
			t.Errorf("%s: the network changed", tc.file)
		}
	}
}

// FuzzLoadLegacyWeights loads fuzzed Keras 2 weights files into the network of
// testdata/gen_legacy.py (seed: legacy_tiny.h5).
func FuzzLoadLegacyWeights(f *testing.F) {
	for _, s := range fuzzseed.Files(f, filepath.Join("testdata", "legacy_tiny.h5")) {
		f.Add(s)
	}
	net0 := legacyNet(f).Clone()
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		h5, err := hdf5.OpenOptions(bytes.NewReader(data), int64(len(data)), &hdf5.Options{MaxDataBytes: MaxWeightBytes})
		if err != nil {
			return
		}
		net := net0.Clone()
		if err := LoadLegacyWeights(net, h5); err != nil {
			if !reflect.DeepEqual(net, net0) {
				t.Fatalf("LoadLegacyWeights failed (%v) but changed the network", err)
			}
			return
		}
		if err := net.Validate(); err != nil {
			t.Fatalf("LoadLegacyWeights accepted weights that do not fit the network: %v", err)
		}
	})
}
