package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/model"
)

// kerasConfig writes the config.json that Keras 3.1 writes for net (the structure of the
// published files: a Functional model, an InputLayer "image_input", and every layer called once on
// the outputs it reads, an Add on a list of them, with the input shapes recorded in its inbound
// node). Tests mutate the result to build bad configs.
func kerasConfig(net *model.Network) map[string]any {
	shape := func(s model.Shape) []any {
		if s.Flat {
			return []any{nil, s.C}
		}
		return []any{nil, s.H, s.W, s.C}
	}
	shapes, err := net.Shapes()
	if err != nil {
		panic(err)
	}
	src, err := net.Sources()
	if err != nil {
		panic(err)
	}
	input := "image_input" // unless a layer has that name
	for taken := true; taken; {
		taken = net.Layer(input) != nil
		if taken {
			input += "_"
		}
	}
	layers := []any{map[string]any{
		"module": "keras.layers", "class_name": "InputLayer", "registered_name": nil,
		"name": input, "inbound_nodes": []any{},
		"config": map[string]any{"batch_shape": shape(shapes[0]), "dtype": "float32", "sparse": false, "name": input},
	}}
	prev := input
	for i, l := range net.Layers {
		cfg := map[string]any{"name": l.Name, "trainable": true, "dtype": "float32"}
		conv := func() {
			cfg["kernel_size"] = []any{l.Kernel[0], l.Kernel[1]}
			cfg["strides"] = []any{l.Strides[0], l.Strides[1]}
			cfg["padding"] = l.Padding
			cfg["data_format"] = "channels_last"
			cfg["dilation_rate"] = []any{1, 1}
			cfg["activation"] = l.Activation
			cfg["use_bias"] = l.UseBias
			cfg["kernel_initializer"] = map[string]any{"module": "keras.initializers", "class_name": "GlorotUniform", "config": map[string]any{"seed": nil}}
			cfg["kernel_regularizer"] = nil
		}
		switch l.Class {
		case model.Conv2D:
			cfg["filters"] = l.Filters
			cfg["groups"] = 1
			conv()
		case model.SeparableConv2D:
			cfg["filters"] = l.Filters
			cfg["depth_multiplier"] = l.DepthMultiplier
			conv()
		case model.DepthwiseConv2D:
			cfg["depth_multiplier"] = l.DepthMultiplier
			conv()
		case model.BatchNormalization:
			cfg["axis"] = -1
			cfg["momentum"] = l.Momentum
			cfg["epsilon"] = l.Epsilon
			cfg["center"] = true
			cfg["scale"] = true
			cfg["synchronized"] = false
		case model.Activation:
			cfg["activation"] = l.Activation
		case model.Flatten:
			cfg["data_format"] = "channels_last"
		case model.Dense:
			cfg["units"] = l.Filters
			cfg["activation"] = l.Activation
			cfg["use_bias"] = l.UseBias
		}
		kwargs := map[string]any{}
		if l.Class == model.BatchNormalization {
			kwargs["mask"] = nil
		}
		var args []any
		var inShapes []any
		for _, j := range src[i] {
			name := input
			if j > 0 {
				name = net.Layers[j-1].Name
			}
			args = append(args, map[string]any{"class_name": "__keras_tensor__", "config": map[string]any{
				"shape": shape(shapes[j]), "dtype": "float32", "keras_history": []any{name, 0, 0},
			}})
			inShapes = append(inShapes, shape(shapes[j]))
		}
		var buildShape any = inShapes[0]
		if l.Class == model.Add {
			args = []any{args} // Keras calls Add on a list of tensors
			buildShape = inShapes
		}
		layers = append(layers, map[string]any{
			"module": "keras.layers", "class_name": string(l.Class), "registered_name": nil,
			"name": l.Name, "config": cfg,
			"build_config":  map[string]any{"input_shape": buildShape},
			"inbound_nodes": []any{map[string]any{"args": args, "kwargs": kwargs}},
		})
		prev = l.Name
	}
	return map[string]any{
		"module": "keras.src.models.functional", "class_name": "Functional", "registered_name": "Functional",
		"config": map[string]any{
			"name": "functional_1", "trainable": true, "layers": layers,
			"input_layers":  []any{[]any{input, 0, 0}},
			"output_layers": []any{[]any{prev, 0, 0}},
		},
		"build_config":   map[string]any{"input_shape": nil},
		"compile_config": map[string]any{"loss": "mean_squared_error"},
	}
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stripWeights returns a copy of net without weights and with the given name.
func stripWeights(net *model.Network, name string) *model.Network {
	c := net.Clone()
	c.Name = name
	for i := range c.Layers {
		c.Layers[i].Weights = nil
	}
	return c
}

func testNetworks(t testing.TB) map[string]*model.Network {
	t.Helper()
	return networks(t, [model.NumLayers]int{2, 3, 2, 2, 1}, 2, 3)
}

// networks returns a compact model with the given filters and the ReLU and linear shared models
// with k filters and the given outputs, without weights.
func networks(t testing.TB, filters [model.NumLayers]int, k, outputs int) map[string]*model.Network {
	t.Helper()
	compact, err := model.NewCompact(filters)
	if err != nil {
		t.Fatal(err)
	}
	relu, err := model.NewShared(k, outputs, true)
	if err != nil {
		t.Fatal(err)
	}
	linear, err := model.NewShared(k, outputs, false)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*model.Network{"compact": compact, "shared_relu": relu, "shared_linear": linear}
}

// memberNet is an ensemble member in miniature (reference/upstream.md §6; the real one reads
// 14×14×1024 and has 512 and 256 filters, four blocks and 200 outputs): a graph with residual
// additions.
func memberNet() *model.Network {
	conv := func(name string, class model.Class, f, k, s int, pad string) model.Layer {
		l := model.Layer{Name: name, Class: class, Filters: f, Kernel: [2]int{k, k}, Strides: [2]int{s, s},
			Padding: pad, Activation: model.Linear, UseBias: true}
		if class != model.Conv2D {
			l.DepthMultiplier = 1
		}
		return l
	}
	bn := func(name string) model.Layer {
		return model.Layer{Name: name, Class: model.BatchNormalization, Epsilon: 1e-3, Momentum: 0.99}
	}
	relu := func(name string) model.Layer {
		return model.Layer{Name: name, Class: model.Activation, Activation: model.ReLU}
	}
	n := &model.Network{Name: "member", Input: [3]int{14, 14, 8}, Layers: []model.Layer{
		conv("initial_conv_layer", model.Conv2D, 4, 1, 1, model.PaddingSame), bn("initial_bn"), relu("initial_act"),
		conv("initial_sepconv_layer", model.SeparableConv2D, 4, 3, 2, model.PaddingSame),
	}}
	prev := "initial_sepconv_layer"
	for k := 1; k <= 2; k++ {
		p := fmt.Sprintf("layer%d_", k)
		n.Layers = append(n.Layers,
			conv(p+"conv1", model.SeparableConv2D, 2, 3, 1, model.PaddingSame), bn(p+"bn1"), relu(p+"act1"),
			conv(p+"conv2", model.SeparableConv2D, 2, 3, 1, model.PaddingSame), bn(p+"bn2"), relu(p+"act2"),
			conv(p+"conv3", model.Conv2D, 4, 1, 1, model.PaddingSame),
			model.Layer{Name: p + "add", Class: model.Add, Inbound: []string{prev, p + "conv3"}})
		prev = p + "add"
	}
	pool := conv("spatial_pool_stage", model.DepthwiseConv2D, 0, 7, 1, model.PaddingValid)
	n.Layers = append(n.Layers, conv("mixing_stage", model.Conv2D, 3, 1, 1, model.PaddingSame), pool,
		model.Layer{Name: "embeddings", Class: model.Flatten})
	return n
}

// TestParseConfigRoundTrip checks that the configs Keras writes for the paper's architectures
// parse back to exactly the networks of internal/model.
func TestParseConfigRoundTrip(t *testing.T) {
	nets := testNetworks(t)
	nets["member"] = memberNet()
	for name, net := range nets {
		t.Run(name, func(t *testing.T) {
			got, err := ParseConfig(bytes.NewReader(marshal(t, kerasConfig(net))))
			if err != nil {
				t.Fatal(err)
			}
			want := stripWeights(net, "functional_1")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

// layerAt returns layer i (0 = the InputLayer) of a kerasConfig map.
func layerAt(m map[string]any, i int) map[string]any {
	return m["config"].(map[string]any)["layers"].([]any)[i].(map[string]any)
}

func cfgAt(m map[string]any, i int) map[string]any {
	return layerAt(m, i)["config"].(map[string]any)
}

func nodeArg(m map[string]any, i int) map[string]any {
	node := layerAt(m, i)["inbound_nodes"].([]any)[0].(map[string]any)
	return node["args"].([]any)[0].(map[string]any)["config"].(map[string]any)
}

func TestParseConfigErrors(t *testing.T) {
	compact := testNetworks(t)["compact"]
	// Layer indexes in the compact config: 0 image_input, 1 layer0_conv, 2 layer0_bn,
	// 3 layer0_act, 4 layer1_conv, ..., 16 embeddings, 17 Beta.
	tests := []struct {
		name        string
		mutate      func(m map[string]any)
		want        string
		unsupported bool
	}{
		{"unknown class", func(m map[string]any) { layerAt(m, 3)["class_name"] = "Dropout" }, `layer "layer0_act": layer class "Dropout"`, true},
		{"channels_first", func(m map[string]any) { cfgAt(m, 1)["data_format"] = "channels_first" }, `layer "layer0_conv": data_format "channels_first"`, true},
		{"data_format null", func(m map[string]any) { cfgAt(m, 4)["data_format"] = nil }, `layer "layer1_conv": data_format`, true},
		{"flatten channels_first", func(m map[string]any) { cfgAt(m, 16)["data_format"] = "channels_first" }, `layer "embeddings": data_format`, true},
		{"dilation", func(m map[string]any) { cfgAt(m, 4)["dilation_rate"] = []any{2, 2} }, `layer "layer1_conv": dilation_rate [2 2]`, true},
		{"groups", func(m map[string]any) { cfgAt(m, 1)["groups"] = 3 }, `layer "layer0_conv": groups 3`, true},
		{"bn axis", func(m map[string]any) { cfgAt(m, 2)["axis"] = 1 }, `layer "layer0_bn": batchnorm axis 1`, true},
		{"bn center", func(m map[string]any) { cfgAt(m, 5)["center"] = false }, `layer "layer1_bn": batchnorm center=false`, true},
		{"bn scale", func(m map[string]any) { cfgAt(m, 5)["scale"] = false }, `layer "layer1_bn": batchnorm scale=false`, true},
		{"bn epsilon", func(m map[string]any) { cfgAt(m, 2)["epsilon"] = -1 }, `layer "layer0_bn": batchnorm epsilon -1`, false},
		{"bn momentum", func(m map[string]any) { cfgAt(m, 2)["momentum"] = 2 }, `layer "layer0_bn": batchnorm momentum 2`, false},
		{"fused relu", func(m map[string]any) { cfgAt(m, 1)["activation"] = "relu" }, `layer "layer0_conv": fused activation "relu"`, true},
		{"dense sigmoid", func(m map[string]any) { cfgAt(m, 17)["activation"] = "sigmoid" }, `layer "Beta": fused activation "sigmoid"`, true},
		{"activation tanh", func(m map[string]any) { cfgAt(m, 3)["activation"] = "tanh" }, `layer "layer0_act": activation "tanh"`, true},
		{"float16", func(m map[string]any) { cfgAt(m, 1)["dtype"] = "float16" }, `layer "layer0_conv": dtype "float16"`, true},
		{"mixed policy", func(m map[string]any) {
			cfgAt(m, 1)["dtype"] = map[string]any{"class_name": "DTypePolicy", "config": map[string]any{"name": "mixed_float16"}}
		}, `dtype "mixed_float16"`, true},
		{"frozen", func(m map[string]any) { cfgAt(m, 4)["trainable"] = false }, `layer "layer1_conv": frozen`, true},
		{"lora", func(m map[string]any) { cfgAt(m, 17)["lora_rank"] = 4 }, `layer "Beta": LoRA`, true},
		{"filters fraction", func(m map[string]any) { cfgAt(m, 1)["filters"] = 2.5 }, `layer "layer0_conv": filters is 2.5`, false},
		{"filters zero", func(m map[string]any) { cfgAt(m, 4)["filters"] = 0 }, `layer "layer1_conv": filters is 0`, false},
		{"filters string", func(m map[string]any) { cfgAt(m, 4)["filters"] = "3" }, `layer "layer1_conv": filters is "3"`, false},
		{"no use_bias", func(m map[string]any) { delete(cfgAt(m, 1), "use_bias") }, `layer "layer0_conv": no use_bias`, false},
		{"bad padding", func(m map[string]any) { cfgAt(m, 1)["padding"] = "causal" }, `padding "causal"`, true},
		{"kernel triple", func(m map[string]any) { cfgAt(m, 1)["kernel_size"] = []any{5, 5, 5} }, `kernel_size is [5,5,5]`, false},
		{"skip connection of another shape", func(m map[string]any) { nodeArg(m, 5)["keras_history"] = []any{"layer0_bn", 0, 0} }, `layer "layer1_bn": the config gives the shape of its input "layer0_bn" as (None, 56, 56, 3), but the layers before it give (112,112,2)`, false},
		{"input from a later layer", func(m map[string]any) { nodeArg(m, 5)["keras_history"] = []any{"Beta", 0, 0} }, `layer "layer1_bn" reads "Beta", which is not an earlier layer`, false},
		{"input read twice", func(m map[string]any) {
			nodeArg(m, 5)["keras_history"] = []any{"image_input", 0, 0}
			delete(nodeArg(m, 5), "shape")
		}, `layer "layer1_bn" reads the input "image_input", which only the first layer may`, true},
		{"add of one", func(m map[string]any) { layerAt(m, 3)["class_name"] = "Add" }, `an Add called on something other than a list of two or more`, true},
		{"two inputs", func(m map[string]any) {
			node := layerAt(m, 5)["inbound_nodes"].([]any)[0].(map[string]any)
			node["args"] = append(node["args"].([]any), node["args"].([]any)[0])
		}, `layer "layer1_bn": called on 2 inputs`, true},
		{"called twice", func(m map[string]any) {
			l := layerAt(m, 5)
			l["inbound_nodes"] = append(l["inbound_nodes"].([]any), l["inbound_nodes"].([]any)[0])
		}, `layer "layer1_bn": called 2 times`, true},
		{"second node", func(m map[string]any) { nodeArg(m, 5)["keras_history"] = []any{"layer1_conv", 1, 0} }, `node 1 tensor 0`, true},
		{"training kwarg", func(m map[string]any) {
			layerAt(m, 2)["inbound_nodes"].([]any)[0].(map[string]any)["kwargs"] = map[string]any{"training": true}
		}, `layer "layer0_bn": called with argument training=true`, true},
		{"keras 2 nodes", func(m map[string]any) {
			layerAt(m, 2)["inbound_nodes"] = []any{[]any{[]any{"layer0_conv", 0, 0, map[string]any{}}}}
		}, `Keras 2 format`, true},
		{"wrong recorded shape", func(m map[string]any) { nodeArg(m, 4)["shape"] = []any{nil, 112, 112, 7} }, `layer "layer1_conv": the config gives the shape of its input "layer0_act" as (None, 112, 112, 7), but the layers before it give (112,112,2)`, false},
		{"output not last", func(m map[string]any) {
			m["config"].(map[string]any)["output_layers"] = []any{[]any{"embeddings", 0, 0}}
		}, `model output is "embeddings", not the last layer "Beta"`, true},
		{"two outputs", func(m map[string]any) {
			m["config"].(map[string]any)["output_layers"] = []any{[]any{"Beta", 0, 0}, []any{"embeddings", 0, 0}}
		}, `output_layers has 2 entries`, true},
		{"no input_layers", func(m map[string]any) { delete(m["config"].(map[string]any), "input_layers") }, `no input_layers`, false},
		{"input not first", func(m map[string]any) {
			m["config"].(map[string]any)["input_layers"] = []any{"other", 0, 0}
		}, `model input is "other"`, false},
		{"first not input", func(m map[string]any) {
			ls := m["config"].(map[string]any)["layers"].([]any)
			m["config"].(map[string]any)["layers"] = ls[1:]
		}, `first layer "layer0_conv" is a Conv2D`, false},
		{"second input layer", func(m map[string]any) { layerAt(m, 3)["class_name"] = "InputLayer" }, `a second InputLayer`, true},
		{"duplicate name", func(m map[string]any) {
			layerAt(m, 3)["name"] = "layer0_bn"
			cfgAt(m, 3)["name"] = "layer0_bn"
		}, `two layers are named "layer0_bn"`, false},
		{"config name differs", func(m map[string]any) { cfgAt(m, 3)["name"] = "other" }, `layer "layer0_act" has config name "other"`, false},
		{"no batch_shape", func(m map[string]any) { delete(cfgAt(m, 0), "batch_shape") }, `no batch_shape`, false},
		{"batch_shape rank", func(m map[string]any) { cfgAt(m, 0)["batch_shape"] = []any{nil, 112, 3} }, `only image inputs`, true},
		{"variable size", func(m map[string]any) { cfgAt(m, 0)["batch_shape"] = []any{nil, nil, nil, 3} }, `variable image size`, true},
		{"input zero", func(m map[string]any) { cfgAt(m, 0)["batch_shape"] = []any{nil, 0, 112, 3} }, `batch_shape is 0`, false},
		{"input huge", func(m map[string]any) { cfgAt(m, 0)["batch_shape"] = []any{nil, 1e12, 112, 3} }, `batch_shape is 1e+12`, false},
		{"sparse", func(m map[string]any) { cfgAt(m, 0)["sparse"] = true }, `sparse input`, true},
		{"input with inbound", func(m map[string]any) { layerAt(m, 0)["inbound_nodes"] = layerAt(m, 1)["inbound_nodes"] }, `input layer "image_input" has inbound nodes`, false},
		{"sequential", func(m map[string]any) { m["class_name"] = "Sequential" }, `model class "Sequential"`, true},
		{"not a model", func(m map[string]any) { delete(m, "class_name") }, `no class_name`, false},
		{"frozen model", func(m map[string]any) { m["config"].(map[string]any)["trainable"] = false }, `frozen`, true},
		{"shape mismatch via stride", func(m map[string]any) { cfgAt(m, 10)["strides"] = []any{2, 2} }, `layer "layer3_bn": the config gives the shape of its input "layer3_conv" as (None, 28, 28, 2), but the layers before it give (14,14,2)`, false},
		{"dense on image", func(m map[string]any) {
			ls := m["config"].(map[string]any)["layers"].([]any)
			ls = append(ls[:16], ls[17])
			m["config"].(map[string]any)["layers"] = ls
			nodeArg(m, 16)["keras_history"] = []any{"layer4_act", 0, 0}
			delete(nodeArg(m, 16), "shape")
		}, `Dense "Beta" needs a flat input`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := kerasConfig(compact)
			tc.mutate(m)
			net, err := ParseConfig(bytes.NewReader(marshal(t, m)))
			if err == nil {
				t.Fatalf("no error; got %+v", net)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v (error %q)", got, tc.unsupported, err)
			}
		})
	}
}

func TestParseConfigSyntax(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"empty", "", "EOF"},
		{"not json", "{", "unexpected EOF"},
		{"trailing", `{"class_name":"Functional"} {}`, "data after the JSON value"},
		{"layers not list", `{"class_name":"Functional","config":{"layers":3}}`, "cannot unmarshal"},
		{"too few layers", `{"class_name":"Functional","config":{"layers":[]}}`, "has 0 layers"},
		{"huge", `{"x":"` + strings.Repeat("a", MaxConfigBytes) + `"}`, "larger than"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestParseConfigAccepts covers the spellings Keras uses interchangeably.
func TestParseConfigAccepts(t *testing.T) {
	compact := testNetworks(t)["compact"]
	for _, tc := range []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"int kernel and strides", func(m map[string]any) { cfgAt(m, 4)["kernel_size"] = 5; cfgAt(m, 4)["strides"] = 2 }},
		{"dtype policy", func(m map[string]any) {
			cfgAt(m, 1)["dtype"] = map[string]any{"module": "keras", "class_name": "DTypePolicy", "config": map[string]any{"name": "float32"}}
		}},
		{"activation null", func(m map[string]any) { cfgAt(m, 1)["activation"] = nil }},
		{"bn axis list", func(m map[string]any) { cfgAt(m, 2)["axis"] = []any{-1} }},
		{"flat endpoints", func(m map[string]any) {
			m["config"].(map[string]any)["input_layers"] = []any{"image_input", 0, 0}
			m["config"].(map[string]any)["output_layers"] = []any{"Beta", 0, 0}
		}},
		{"no recorded shape", func(m map[string]any) { delete(nodeArg(m, 4), "shape") }},
		{"no groups", func(m map[string]any) { delete(cfgAt(m, 1), "groups") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := kerasConfig(compact)
			tc.mutate(m)
			got, err := ParseConfig(bytes.NewReader(marshal(t, m)))
			if err != nil {
				t.Fatal(err)
			}
			if want := stripWeights(compact, "functional_1"); !reflect.DeepEqual(got, want) {
				t.Errorf("got\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestSnakeCase(t *testing.T) {
	for in, want := range map[string]string{
		"Conv2D": "conv2d", "SeparableConv2D": "separable_conv2d", "DepthwiseConv2D": "depthwise_conv2d",
		"BatchNormalization": "batch_normalization", "InputLayer": "input_layer", "Dense": "dense",
		"Activation": "activation", "Flatten": "flatten", "GlobalAveragePooling2D": "global_average_pooling2d",
		"LSTM": "lstm", "MyLayer.v2": "my_layerv2",
	} {
		if got := SnakeCase(in); got != want {
			t.Errorf("SnakeCase(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestGroupNames(t *testing.T) {
	nets := testNetworks(t)
	want := map[string]string{
		"compact": "input_layer conv2d batch_normalization activation separable_conv2d batch_normalization_1 activation_1 " +
			"separable_conv2d_1 batch_normalization_2 activation_2 separable_conv2d_2 batch_normalization_3 activation_3 " +
			"separable_conv2d_3 batch_normalization_4 activation_4 flatten dense",
		"shared_linear": "input_layer conv2d batch_normalization separable_conv2d batch_normalization_1 separable_conv2d_1 " +
			"batch_normalization_2 separable_conv2d_2 batch_normalization_3 separable_conv2d_3 batch_normalization_4 " +
			"conv2d_1 depthwise_conv2d flatten",
	}
	for name, w := range want {
		if got := strings.Join(GroupNames(nets[name]), " "); got != w {
			t.Errorf("%s:\n got %s\nwant %s", name, got, w)
		}
	}
	explicit := &model.Network{Input: [3]int{4, 4, 1}, Layers: []model.Layer{{Name: "in", Class: model.InputLayer}, {Name: "f", Class: model.Flatten}}}
	if got := strings.Join(GroupNames(explicit), " "); got != "input_layer flatten" {
		t.Errorf("explicit input layer: got %s", got)
	}
}
