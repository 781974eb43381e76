package keras

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/hdf5"
	"compactv4/internal/model"
)

// The fixtures under testdata/ are written by testdata/gen.py (h5py); see its doc string.

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readWeights(b []byte, opts WeightsOptions) (*model.Network, error) {
	return ReadWeightsH5Options(bytes.NewReader(b), int64(len(b)), opts)
}

// compactLayerOf maps the Keras group names of a compact model to its layers (reference/upstream.md §2.2), written
// out here independently of GroupNames.
var compactLayerOf = map[string]string{
	"conv2d": "layer0_conv", "separable_conv2d": "layer1_conv", "separable_conv2d_1": "layer2_conv",
	"separable_conv2d_2": "layer3_conv", "separable_conv2d_3": "layer4_conv",
	"batch_normalization": "layer0_bn", "batch_normalization_1": "layer1_bn", "batch_normalization_2": "layer2_bn",
	"batch_normalization_3": "layer3_bn", "batch_normalization_4": "layer4_bn", "dense": "Beta",
}

// exactSum is the correctly rounded sum of float32 values (as Python's math.fsum).
func exactSum(v []float32) float64 {
	acc := new(big.Float).SetPrec(2048)
	for _, x := range v {
		acc.Add(acc, new(big.Float).SetPrec(2048).SetFloat64(float64(x)))
	}
	f, _ := acc.Float64()
	return f
}

func TestReadWeightsH5Compact(t *testing.T) {
	var expected struct {
		Filters  [model.NumLayers]int
		Datasets map[string]struct {
			Shape []int
			Sum   float64
		}
	}
	if err := json.Unmarshal(fixture(t, "expected.json"), &expected); err != nil {
		t.Fatal(err)
	}
	net, err := readWeights(fixture(t, "compact_tiny.weights.h5"), WeightsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	f, err := model.CompactFilters(net)
	if err != nil {
		t.Fatal(err)
	}
	if f != expected.Filters {
		t.Errorf("filters %v, want %v", f, expected.Filters)
	}
	checked := 0
	for key, want := range expected.Datasets {
		group, idx, _ := strings.Cut(key, "/")
		l := net.Layer(compactLayerOf[group])
		if l == nil {
			t.Errorf("%s: no layer %q", key, compactLayerOf[group])
			continue
		}
		i := int(idx[0] - '0')
		if i >= len(l.Weights) {
			t.Errorf("%s: layer %s has %d weights", key, l.Name, len(l.Weights))
			continue
		}
		w := l.Weights[i]
		if !reflect.DeepEqual(w.Shape, want.Shape) || exactSum(w.Data) != want.Sum {
			t.Errorf("%s (%s weight %d): shape %v sum %v, want %v %v", key, l.Name, i, w.Shape, exactSum(w.Data), want.Shape, want.Sum)
		}
		checked++
	}
	if checked != 36 {
		t.Errorf("checked %d arrays, want the 36 of a compact model", checked)
	}
	if got, want := net.Params().Total, model.CompactParams(expected.Filters); got != want {
		t.Errorf("total params %d, want %d", got, want)
	}
}

// pattern regenerates the values gen.py writes into the shared fixtures.
func pattern(n, seed int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(float64((i*7+seed)%13)/16.0 - 0.375)
	}
	return v
}

func TestReadWeightsH5Shared(t *testing.T) {
	tests := []struct {
		file string
		act  string // option
		relu bool   // expected variant
	}{
		{"shared_relu.weights.h5", "", true},
		{"shared_linear.weights.h5", "", false},
		{"shared_bare.weights.h5", "", true}, // no evidence: ReLU by default
		{"shared_bare.weights.h5", model.Linear, false},
		{"shared_bare.weights.h5", model.ReLU, true},
		{"shared_linear.weights.h5", model.ReLU, true}, // absent weightless groups are allowed
		{"shared_relu.weights.h5", model.ReLU, true},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.act, func(t *testing.T) {
			net, err := readWeights(fixture(t, tc.file), WeightsOptions{SharedActivation: tc.act})
			if err != nil {
				t.Fatal(err)
			}
			want, err := model.NewShared(2, 3, tc.relu)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stripWeights(net, ""), stripWeights(want, "")) {
				t.Errorf("network\n%+v\nwant\n%+v", stripWeights(net, ""), stripWeights(want, ""))
			}
			for _, c := range []struct {
				layer     string
				i, n, sed int
			}{{"layer0_conv", 0, 150, 1}, {"layer2_conv", 1, 4, 7}, {"layer4_bn", 1, 100, 6}, {"mixing_stage", 0, 300, 9}, {"spatial_pool_stage", 0, 2352, 11}} {
				got := net.Layer(c.layer).Weights[c.i].Data
				want := pattern(c.n, c.sed)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s weight %d differs from the generator's pattern", c.layer, c.i)
				}
			}
			if p := net.Params().Total; p != 2*75+2+4*2+2*(25*2+2*2+2+4*2)+(25*2+2*100+100+400)+(2500+10000+100+400)+303+2352+3 {
				t.Errorf("total params %d", p)
			}
		})
	}
	// A stated linear variant contradicts the activation groups.
	_, err := readWeights(fixture(t, "shared_relu.weights.h5"), WeightsOptions{SharedActivation: model.Linear})
	if err == nil || !strings.Contains(err.Error(), "layers/activation (0 weight arrays), layers/activation_1") {
		t.Errorf("linear option on a ReLU file: %v", err)
	}
	if _, err := readWeights(fixture(t, "shared_relu.weights.h5"), WeightsOptions{SharedActivation: "tanh"}); err == nil {
		t.Error("option tanh accepted")
	}
}

func TestReadWeightsH5Errors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"compact_missing_group.weights.h5", "the weighted groups [batch_normalization batch_normalization_1 batch_normalization_2 batch_normalization_3 batch_normalization_4 conv2d separable_conv2d separable_conv2d_1 separable_conv2d_2 separable_conv2d_3] match neither published architecture"},
		{"compact_extra_group.weights.h5", "match neither published architecture"},
		{"compact_wrong_shape.weights.h5", `layers/batch_normalization_2/vars/0 (gamma) has shape [3], but layer "layer2_bn" (BatchNormalization) with input (28,28,2) needs [2]`},
		{"compact_float64.weights.h5", "layers/conv2d/vars/1 has type <f8; only float32 weights are read"},
		{"compact_nested.weights.h5", `layers/conv2d holds "layers"`},
		{"legacy_keras2.h5", "legacy Keras 2 HDF5 model"},
		{"expected.json", "hdf5"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := readWeights(fixture(t, tc.file), WeightsOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestLoadWeightsErrors checks the verification of LoadWeights against a given network (the
// path of ReadModel, where the network comes from config.json).
func TestLoadWeightsErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"compact_missing_group.weights.h5", `no group layers/dense for layer "Beta" (Dense), which has 2 weight arrays`},
		{"compact_extra_group.weights.h5", `layers/dense_1 (1 weight arrays) belong(s) to no layer of network "compact_model"`},
		{"compact_wrong_shape.weights.h5", `layers/batch_normalization_2/vars/0 (gamma) has shape [3]`},
		{"shared_relu.weights.h5", `layers/conv2d/vars/0 (kernel) has shape [5 5 3 2], but layer "layer0_conv" (Conv2D) with input (112,112,3) needs [5 5 3 4]`},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b := fixture(t, tc.file)
			f, err := hdf5.Open(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			net, err := model.NewCompact([model.NumLayers]int{2, 3, 2, 2, 1})
			if tc.file == "shared_relu.weights.h5" {
				net, err = model.NewCompact([model.NumLayers]int{4, 3, 2, 2, 1})
			}
			if err != nil {
				t.Fatal(err)
			}
			before := net.Clone()
			err = LoadWeights(net, f)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if !reflect.DeepEqual(net, before) {
				t.Error("the network changed although LoadWeights failed")
			}
		})
	}
}

// groupsOf returns the weight groups Keras would write for net.
func groupsOf(net *model.Network) []layerGroup {
	names := GroupNames(net)
	gs := []layerGroup{{name: names[0]}}
	for i, l := range net.Layers {
		g := layerGroup{name: names[i+1]}
		for _, w := range l.Weights {
			g.vars = append(g.vars, w.Clone())
		}
		gs = append(gs, g)
	}
	return gs
}

func TestAssign(t *testing.T) {
	src, err := model.NewCompact([model.NumLayers]int{2, 3, 2, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range src.Weights() {
		for j := range w.Data {
			w.Data[j] = float32(i) + float32(j)/1000
		}
	}
	find := func(gs []layerGroup, name string) *layerGroup {
		for i := range gs {
			if gs[i].name == name {
				return &gs[i]
			}
		}
		t.Fatalf("no group %s", name)
		return nil
	}
	tests := []struct {
		name   string
		mutate func([]layerGroup) []layerGroup
		want   string // "" for success
	}{
		{"as written", func(gs []layerGroup) []layerGroup { return gs }, ""},
		{"reversed order", func(gs []layerGroup) []layerGroup {
			r := make([]layerGroup, len(gs))
			for i := range gs {
				r[len(gs)-1-i] = gs[i]
			}
			return r
		}, ""},
		{"weightless groups absent", func(gs []layerGroup) []layerGroup {
			var r []layerGroup
			for _, g := range gs {
				if len(g.vars) > 0 {
					r = append(r, g)
				}
			}
			return r
		}, ""},
		{"missing weighted group", func(gs []layerGroup) []layerGroup {
			var r []layerGroup
			for _, g := range gs {
				if g.name != "separable_conv2d_2" {
					r = append(r, g)
				}
			}
			return r
		}, `no group layers/separable_conv2d_2 for layer "layer3_conv" (SeparableConv2D), which has 3 weight arrays`},
		{"extra weighted group", func(gs []layerGroup) []layerGroup {
			return append(gs, layerGroup{name: "separable_conv2d_4", vars: []model.Tensor{model.NewTensor(1)}})
		}, "layers/separable_conv2d_4 (1 weight arrays) belong(s) to no layer"},
		{"extra empty group", func(gs []layerGroup) []layerGroup {
			return append(gs, layerGroup{name: "activation_5"})
		}, "layers/activation_5 (0 weight arrays) belong(s) to no layer"},
		{"var missing", func(gs []layerGroup) []layerGroup {
			g := find(gs, "batch_normalization_3")
			g.vars = g.vars[:3]
			return gs
		}, `layers/batch_normalization_3 holds 3 weight arrays, but layer "layer3_bn" (BatchNormalization) has 4`},
		{"var extra", func(gs []layerGroup) []layerGroup {
			g := find(gs, "dense")
			g.vars = append(g.vars, model.NewTensor(1))
			return gs
		}, `layers/dense holds 3 weight arrays, but layer "Beta" (Dense) has 2`},
		{"swapped kernels", func(gs []layerGroup) []layerGroup {
			g := find(gs, "separable_conv2d")
			g.vars[0], g.vars[1] = g.vars[1], g.vars[0]
			return gs
		}, `layers/separable_conv2d/vars/0 (depthwise kernel) has shape [1 1 2 3]`},
		{"transposed dense", func(gs []layerGroup) []layerGroup {
			g := find(gs, "dense")
			g.vars[0].Shape = []int{1, 784}
			return gs
		}, `layers/dense/vars/0 (kernel) has shape [1 784], but layer "Beta" (Dense) with input (784) needs [784 1]`},
		{"groups shifted by one", func(gs []layerGroup) []layerGroup {
			a, b := find(gs, "batch_normalization_1"), find(gs, "batch_normalization_2")
			a.vars, b.vars = b.vars, a.vars
			return gs
		}, `layers/batch_normalization_1/vars/0 (gamma) has shape [2], but layer "layer1_bn"`},
		{"activation with weights", func(gs []layerGroup) []layerGroup {
			find(gs, "activation_2").vars = []model.Tensor{model.NewTensor(2)}
			return gs
		}, `layers/activation_2 holds 1 weight arrays, but layer "layer2_act" (Activation) has 0`},
		{"input layer with weights", func(gs []layerGroup) []layerGroup {
			find(gs, "input_layer").vars = []model.Tensor{model.NewTensor(2)}
			return gs
		}, "layers/input_layer holds 1 weight arrays, but the input layer has none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			net, err := model.NewCompact([model.NumLayers]int{2, 3, 2, 2, 1})
			if err != nil {
				t.Fatal(err)
			}
			before := net.Clone()
			err = assign(net, tc.mutate(groupsOf(src)))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(net, src) {
					t.Error("weights differ from the source network's")
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
			if !reflect.DeepEqual(net, before) {
				t.Error("the network changed although assign failed")
			}
		})
	}
}

func TestRecogniseErrors(t *testing.T) {
	shared, err := model.NewShared(2, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	compact, err := model.NewCompact([model.NumLayers]int{2, 3, 2, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	drop := func(gs []layerGroup, names ...string) []layerGroup {
		var r []layerGroup
	next:
		for _, g := range gs {
			for _, n := range names {
				if g.name == n {
					continue next
				}
			}
			r = append(r, g)
		}
		return r
	}
	for _, tc := range []struct {
		name   string
		groups []layerGroup
		want   string
	}{
		{"partial activations", drop(groupsOf(shared), "activation_1", "activation_3"), "has 3 of the 5 groups activation to activation_4"},
		{"3-D kernel", func() []layerGroup {
			gs := groupsOf(compact)
			gs[1].vars[0].Shape = []int{5, 5, 6}
			return gs
		}(), "layers/conv2d/vars/0 has shape [5 5 6], want a 4-D kernel"},
		{"huge declared filters", func() []layerGroup {
			gs := groupsOf(compact)
			gs[4].vars[1].Shape = []int{1, 1, 2, 1 << 19} // separable_conv2d pointwise: F1 = 2^19
			return gs
		}(), "imply a compact model with"},
		{"no groups", nil, "the weighted groups [] match neither"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recognise(tc.groups, WeightsOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// patchValue returns a copy of b in which the 4 bytes of the float32 value old, which must occur
// exactly once, are replaced by those of new.
func patchValue(t *testing.T, b []byte, old, new float32) []byte {
	t.Helper()
	var o, n [4]byte
	binary.LittleEndian.PutUint32(o[:], math.Float32bits(old))
	binary.LittleEndian.PutUint32(n[:], math.Float32bits(new))
	if bytes.Count(b, o[:]) != 1 {
		t.Fatalf("value %v occurs %d times", old, bytes.Count(b, o[:]))
	}
	c := bytes.Clone(b)
	i := bytes.Index(c, o[:])
	copy(c[i:], n[:])
	return c
}

func TestReadWeightsH5NonFinite(t *testing.T) {
	b := fixture(t, "compact_tiny.weights.h5")
	net, err := readWeights(b, WeightsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bias := net.Layer("Beta").Weights[1].Data[0]
	gamma := net.Layer("layer3_bn").Weights[0].Data[1]
	for _, tc := range []struct {
		old, new float32
		want     string
	}{
		{bias, float32(math.NaN()), `layer "Beta" weight 1 value 0 is NaN`},
		{gamma, float32(math.Inf(1)), `layer "layer3_bn" weight 0 value 1 is +Inf`},
	} {
		_, err := readWeights(patchValue(t, b, tc.old, tc.new), WeightsOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want one containing %q", err, tc.want)
		}
	}
}

// TestReadWeightsH5Truncated reads prefixes of a valid file: each must fail cleanly.
func TestReadWeightsH5Truncated(t *testing.T) {
	b := fixture(t, "compact_tiny.weights.h5")
	step := len(b)/300 + 1
	for n := 0; n < len(b); n += step {
		if _, err := readWeights(b[:n], WeightsOptions{}); err == nil {
			t.Fatalf("prefix of %d of %d bytes accepted", n, len(b))
		}
	}
}
