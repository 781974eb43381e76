package keras

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"compactv4/internal/model"
)

// ErrUnsupported is wrapped by every error about a model that is well formed but that this package
// does not describe: a layer class, option or graph shape outside what internal/model supports.
var ErrUnsupported = errors.New("keras: unsupported model")

// Limits on what a config.json may claim; far above anything the paper uses, they keep the shape
// arithmetic of a hostile config within int range.
const (
	MaxConfigBytes = 16 << 20 // bytes of config.json
	maxDim         = 1 << 16  // input height and width, kernel and stride sizes
	maxChannels    = 1 << 20  // input channels, filters, units, depth multiplier
	maxLayers      = 1 << 12
)

// configFile is the top level of a Keras 3 config.json.
type configFile struct {
	ClassName string `json:"class_name"`
	Config    struct {
		Name         string          `json:"name"`
		Trainable    *bool           `json:"trainable"`
		Layers       []configLayer   `json:"layers"`
		InputLayers  json.RawMessage `json:"input_layers"`
		OutputLayers json.RawMessage `json:"output_layers"`
	} `json:"config"`
}

// configLayer is one entry of config.layers.
type configLayer struct {
	ClassName    string                     `json:"class_name"`
	Name         string                     `json:"name"`
	Config       map[string]json.RawMessage `json:"config"`
	InboundNodes json.RawMessage            `json:"inbound_nodes"`
}

// inboundNode is one call of a layer in a Keras 3 functional config.
type inboundNode struct {
	Args   []json.RawMessage          `json:"args"`
	Kwargs map[string]json.RawMessage `json:"kwargs"`
}

// kerasTensor is an argument of an inbound node.
type kerasTensor struct {
	ClassName string `json:"class_name"`
	Config    struct {
		Shape        []*float64        `json:"shape"`
		KerasHistory []json.RawMessage `json:"keras_history"`
	} `json:"config"`
}

// ParseConfig reads a Keras 3 config.json (the model description inside a .keras archive) and
// returns the network it describes, without weights (LoadWeights fills them).
//
// The description is taken from the file, not assumed: layer classes, filter counts, kernel
// sizes, strides, padding, depth multipliers, use_bias, activations, batchnorm epsilon and
// momentum, and the input shape (the InputLayer's batch_shape). The network's name is the
// functional model's name (e.g. "functional_1"); the InputLayer becomes Network.Input rather than
// a layer.
//
// Only what internal/model describes exactly is accepted. The model must be a Keras 3 Functional
// model with one InputLayer first, read by the first layer only, then layers each called once on
// the outputs of earlier layers (one, or for Add a list of two or more; a chain, as the compact
// models, or a graph, as the ensemble members), the last one being the model's output. Layer classes other than
// those of model.Class, data_format other than channels_last, dilation other than 1, groups
// other than 1, batchnorm on an axis other than -1 or without center and scale, fused
// activations other than linear, dtypes other than float32, LoRA and frozen (trainable: false)
// layers are refused with an error that names the layer and wraps ErrUnsupported. Where the
// config records the shape of a layer's input, it must equal the shape the layers before it
// produce.
func ParseConfig(r io.Reader) (*model.Network, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read config.json: %w", err)
	}
	if len(data) > MaxConfigBytes {
		return nil, fmt.Errorf("config.json is larger than %d bytes", MaxConfigBytes)
	}
	var cf configFile
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cf); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	if dec.More() {
		return nil, errors.New("config.json: data after the JSON value")
	}
	return buildNetwork(&cf)
}

func buildNetwork(cf *configFile) (*model.Network, error) {
	switch cf.ClassName {
	case "Functional":
	case "":
		return nil, errors.New("config.json: no class_name: not a Keras model config")
	default:
		return nil, fmt.Errorf("config.json: model class %q: only Keras 3 Functional models are read: %w", cf.ClassName, ErrUnsupported)
	}
	c := &cf.Config
	if c.Trainable != nil && !*c.Trainable {
		return nil, fmt.Errorf("config.json: model %q is frozen (trainable: false); the parameter counts would differ: %w", c.Name, ErrUnsupported)
	}
	if len(c.Layers) < 2 {
		return nil, fmt.Errorf("config.json: model %q has %d layers, want an InputLayer and at least one more", c.Name, len(c.Layers))
	}
	if len(c.Layers) > maxLayers {
		return nil, fmt.Errorf("config.json: model %q has %d layers (limit %d)", c.Name, len(c.Layers), maxLayers)
	}
	in, err := endpoint(c.InputLayers, "input_layers")
	if err != nil {
		return nil, fmt.Errorf("config.json: model %q: %w", c.Name, err)
	}
	out, err := endpoint(c.OutputLayers, "output_layers")
	if err != nil {
		return nil, fmt.Errorf("config.json: model %q: %w", c.Name, err)
	}

	net := &model.Network{Name: c.Name}
	seen := map[string]bool{}
	shapes := map[string]model.Shape{} // output shape of each layer read so far
	for i := range c.Layers {
		cl := &c.Layers[i]
		if cl.Name == "" {
			return nil, fmt.Errorf("config.json: layer %d (%s) has no name", i, cl.ClassName)
		}
		if seen[cl.Name] {
			return nil, fmt.Errorf("config.json: two layers are named %q", cl.Name)
		}
		seen[cl.Name] = true
		if cl.Config == nil {
			return nil, fmt.Errorf("config.json: layer %q has no config", cl.Name)
		}
		p := params{layer: cl.Name, cfg: cl.Config}
		if n, ok, err := p.optString("name"); err != nil {
			return nil, err
		} else if ok && n != cl.Name {
			return nil, fmt.Errorf("config.json: layer %q has config name %q", cl.Name, n)
		}
		if i == 0 {
			if model.Class(cl.ClassName) != model.InputLayer {
				return nil, fmt.Errorf("config.json: first layer %q is a %s, want the InputLayer", cl.Name, cl.ClassName)
			}
			if cl.Name != in {
				return nil, fmt.Errorf("config.json: model input is %q but the first layer is %q", in, cl.Name)
			}
			if err := p.checkInputLayer(net); err != nil {
				return nil, err
			}
			if err := noInbound(cl); err != nil {
				return nil, err
			}
			shapes[cl.Name] = model.Shape{H: net.Input[0], W: net.Input[1], C: net.Input[2]}
			continue
		}
		names, err := inputs(cl, shapes)
		if err != nil {
			return nil, err
		}
		l, err := p.toLayer(model.Class(cl.ClassName))
		if err != nil {
			return nil, err
		}
		// The model package reads the previous layer (or the input) by default.
		prev := c.Layers[i-1].Name
		if len(names) != 1 || names[0] != prev {
			if slices.Contains(names, in) {
				return nil, fmt.Errorf("config.json: layer %q reads the input %q, which only the first layer may: %w", cl.Name, in, ErrUnsupported)
			}
			l.Inbound = names
		}
		for _, n := range names[1:] {
			if shapes[n] != shapes[names[0]] {
				return nil, fmt.Errorf("config.json: layer %q adds inputs of shapes %v and %v", cl.Name, shapes[names[0]], shapes[n])
			}
		}
		out, err := l.OutShape(shapes[names[0]])
		if err != nil {
			return nil, fmt.Errorf("config.json: %w", err)
		}
		shapes[cl.Name] = out
		net.Layers = append(net.Layers, l)
	}
	if last := c.Layers[len(c.Layers)-1].Name; out != last {
		return nil, fmt.Errorf("config.json: model output is %q, not the last layer %q: %w", out, last, ErrUnsupported)
	}
	if _, err := net.Shapes(); err != nil {
		return nil, fmt.Errorf("config.json: %w", err)
	}
	return net, nil
}

// endpoint reads input_layers or output_layers: exactly one [name, 0, 0] (possibly nested in a
// one-element list, as Keras writes it).
func endpoint(raw json.RawMessage, what string) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", fmt.Errorf("no %s", what)
	}
	var list []json.RawMessage
	if err := json.Unmarshal(raw, &list); err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	if len(list) > 0 && isList(list[0]) {
		if len(list) != 1 {
			return "", fmt.Errorf("%s has %d entries; only single-input, single-output models are read: %w", what, len(list), ErrUnsupported)
		}
		if err := json.Unmarshal(list[0], &list); err != nil {
			return "", fmt.Errorf("%s: %w", what, err)
		}
	}
	name, err := history(list)
	if err != nil {
		return "", fmt.Errorf("%s: %w", what, err)
	}
	return name, nil
}

// history checks a [name, node_index, tensor_index] triple with both indexes 0 and returns name.
func history(h []json.RawMessage) (string, error) {
	if len(h) != 3 {
		return "", fmt.Errorf("reference %s is not [name, node, tensor]", jsonList(h))
	}
	var name string
	var node, tensor float64
	if json.Unmarshal(h[0], &name) != nil || json.Unmarshal(h[1], &node) != nil || json.Unmarshal(h[2], &tensor) != nil {
		return "", fmt.Errorf("reference %s is not [name, node, tensor]", jsonList(h))
	}
	if node != 0 || tensor != 0 {
		return "", fmt.Errorf("reference to %q node %v tensor %v: layers called more than once or with several outputs are not read: %w", name, node, tensor, ErrUnsupported)
	}
	return name, nil
}

// isList reports whether a raw JSON value is a list.
func isList(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) > 0 && v[0] == '['
}

func jsonList(h []json.RawMessage) string {
	parts := make([]string, len(h))
	for i, r := range h {
		parts[i] = string(r)
	}
	s := "[" + strings.Join(parts, ",") + "]"
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}

// noInbound checks that the InputLayer is not called on anything.
func noInbound(cl *configLayer) error {
	var nodes []json.RawMessage
	if len(cl.InboundNodes) > 0 {
		if err := json.Unmarshal(cl.InboundNodes, &nodes); err != nil {
			return fmt.Errorf("config.json: layer %q: inbound_nodes: %w", cl.Name, err)
		}
	}
	if len(nodes) != 0 {
		return fmt.Errorf("config.json: input layer %q has inbound nodes", cl.Name)
	}
	return nil
}

// inputs checks that layer cl is called exactly once, on the outputs of earlier layers (one, or
// for Add two or more, given as a list), and that the shapes the config records for them (if
// any) are the shapes those layers produce; it returns their names.
func inputs(cl *configLayer, shapes map[string]model.Shape) ([]string, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("config.json: layer %q: %s: %w", cl.Name, fmt.Sprintf(format, args...), ErrUnsupported)
	}
	var nodes []json.RawMessage
	if len(cl.InboundNodes) == 0 || json.Unmarshal(cl.InboundNodes, &nodes) != nil {
		return nil, fmt.Errorf("config.json: layer %q: inbound_nodes is missing or not a list", cl.Name)
	}
	if len(nodes) != 1 {
		return nil, fail("called %d times", len(nodes))
	}
	if isList(nodes[0]) {
		return nil, fmt.Errorf("config.json: layer %q: inbound node in the Keras 2 format; save the model with Keras 3: %w", cl.Name, ErrUnsupported)
	}
	var node inboundNode
	if err := json.Unmarshal(nodes[0], &node); err != nil {
		return nil, fmt.Errorf("config.json: layer %q: inbound node: %w", cl.Name, err)
	}
	for k, v := range node.Kwargs {
		if k == "mask" && string(v) == "null" {
			continue
		}
		return nil, fail("called with argument %s=%s", k, v)
	}
	if len(node.Args) != 1 {
		return nil, fail("called on %d inputs", len(node.Args))
	}
	args := []json.RawMessage{node.Args[0]}
	if model.Class(cl.ClassName) == model.Add {
		if err := json.Unmarshal(node.Args[0], &args); err != nil || len(args) < 2 {
			return nil, fail("an Add called on something other than a list of two or more Keras tensors")
		}
	}
	var names []string
	for _, arg := range args {
		var kt kerasTensor
		if err := json.Unmarshal(arg, &kt); err != nil || kt.ClassName != "__keras_tensor__" {
			return nil, fail("called on something other than Keras tensors")
		}
		name, err := history(kt.Config.KerasHistory)
		if err != nil {
			return nil, fmt.Errorf("config.json: layer %q: input: %w", cl.Name, err)
		}
		in, ok := shapes[name]
		if !ok {
			return nil, fmt.Errorf("config.json: layer %q reads %q, which is not an earlier layer", cl.Name, name)
		}
		if kt.Config.Shape != nil {
			want := []int{in.H, in.W, in.C}
			if in.Flat {
				want = []int{in.C}
			}
			if !shapeIs(kt.Config.Shape, want) {
				return nil, fmt.Errorf("config.json: layer %q: the config gives the shape of its input %q as %s, but the layers before it give %v",
					cl.Name, name, shapeString(kt.Config.Shape), in)
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// shapeIs reports whether a recorded shape [null, d...] equals want (batch dimension unknown).
func shapeIs(s []*float64, want []int) bool {
	if len(s) != len(want)+1 || s[0] != nil {
		return false
	}
	for i, w := range want {
		if s[i+1] == nil || *s[i+1] != float64(w) {
			return false
		}
	}
	return true
}

func shapeString(s []*float64) string {
	parts := make([]string, len(s))
	for i, d := range s {
		if d == nil {
			parts[i] = "None"
		} else {
			parts[i] = fmt.Sprint(*d)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// params reads the config of one layer, with errors that name it.
type params struct {
	layer string
	cfg   map[string]json.RawMessage
}

func (p params) errorf(format string, args ...any) error {
	return fmt.Errorf("config.json: layer %q: %s", p.layer, fmt.Sprintf(format, args...))
}

func (p params) unsupported(format string, args ...any) error {
	return fmt.Errorf("config.json: layer %q: %s: %w", p.layer, fmt.Sprintf(format, args...), ErrUnsupported)
}

// get returns the raw value of key; ok is false when the key is absent.
func (p params) get(key string) (json.RawMessage, bool) {
	v, ok := p.cfg[key]
	return v, ok
}

func (p params) optString(key string) (string, bool, error) {
	v, ok := p.get(key)
	if !ok {
		return "", false, nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", false, p.errorf("%s is %s, want a string", key, v)
	}
	return s, true, nil
}

func (p params) str(key string) (string, error) {
	s, ok, err := p.optString(key)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", p.errorf("no %s", key)
	}
	return s, nil
}

func (p params) boolean(key string) (bool, error) {
	v, ok := p.get(key)
	if !ok {
		return false, p.errorf("no %s", key)
	}
	var b bool
	if err := json.Unmarshal(v, &b); err != nil {
		return false, p.errorf("%s is %s, want true or false", key, v)
	}
	return b, nil
}

func (p params) number(key string) (float64, error) {
	v, ok := p.get(key)
	if !ok {
		return 0, p.errorf("no %s", key)
	}
	var f float64
	if err := json.Unmarshal(v, &f); err != nil {
		return 0, p.errorf("%s is %s, want a number", key, v)
	}
	return f, nil
}

// toInt converts a JSON number to an int in [lo, hi].
func (p params) toInt(key string, f float64, lo, hi int) (int, error) {
	if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) {
		return 0, p.errorf("%s is %v, want an integer in [%d, %d]", key, f, lo, hi)
	}
	return int(f), nil
}

func (p params) integer(key string, lo, hi int) (int, error) {
	f, err := p.number(key)
	if err != nil {
		return 0, err
	}
	return p.toInt(key, f, lo, hi)
}

// pair reads a 2-D size given as one integer or a list of two.
func (p params) pair(key string, lo, hi int) ([2]int, error) {
	v, ok := p.get(key)
	if !ok {
		return [2]int{}, p.errorf("no %s", key)
	}
	var f float64
	if json.Unmarshal(v, &f) == nil {
		n, err := p.toInt(key, f, lo, hi)
		return [2]int{n, n}, err
	}
	var fs []float64
	if err := json.Unmarshal(v, &fs); err != nil || len(fs) != 2 {
		return [2]int{}, p.errorf("%s is %s, want two integers", key, v)
	}
	var out [2]int
	for i, f := range fs {
		n, err := p.toInt(key, f, lo, hi)
		if err != nil {
			return out, err
		}
		out[i] = n
	}
	return out, nil
}

// checkCommon checks the options every layer may carry: dtype, trainable, LoRA.
func (p params) checkCommon() error {
	if v, ok := p.get("dtype"); ok && string(v) != "null" {
		var s string
		if json.Unmarshal(v, &s) != nil {
			var policy struct {
				ClassName string `json:"class_name"`
				Config    struct {
					Name string `json:"name"`
				} `json:"config"`
			}
			if err := json.Unmarshal(v, &policy); err != nil || !strings.HasSuffix(policy.ClassName, "DTypePolicy") {
				return p.unsupported("dtype %s", v)
			}
			s = policy.Config.Name
		}
		if s != "float32" {
			return p.unsupported("dtype %q; only float32 models are read", s)
		}
	}
	if v, ok := p.get("trainable"); ok {
		var b bool
		if err := json.Unmarshal(v, &b); err != nil {
			return p.errorf("trainable is %s, want true or false", v)
		}
		if !b {
			return p.unsupported("frozen layer (trainable: false); the parameter counts would differ")
		}
	}
	if v, ok := p.get("lora_rank"); ok && string(v) != "null" {
		return p.unsupported("LoRA (lora_rank %s)", v)
	}
	return nil
}

func (p params) checkInputLayer(net *model.Network) error {
	if err := p.checkCommon(); err != nil {
		return err
	}
	for _, k := range []string{"sparse", "ragged"} {
		if v, ok := p.get(k); ok && string(v) != "false" && string(v) != "null" {
			return p.unsupported("%s input", k)
		}
	}
	key := "batch_shape"
	v, ok := p.get(key)
	if !ok {
		key = "batch_input_shape"
		if v, ok = p.get(key); !ok {
			return p.errorf("no batch_shape")
		}
	}
	var dims []*float64
	if err := json.Unmarshal(v, &dims); err != nil {
		return p.errorf("%s is %s, want a list", key, v)
	}
	if len(dims) != 4 {
		return p.unsupported("%s %s: only image inputs (batch, height, width, channels) are read", key, v)
	}
	if dims[0] != nil {
		return p.unsupported("%s %s: fixed batch size", key, v)
	}
	for i, d := range dims[1:] {
		if d == nil {
			return p.unsupported("%s %s: variable image size", key, v)
		}
		hi := maxDim
		if i == 2 {
			hi = maxChannels
		}
		n, err := p.toInt(key, *d, 1, hi)
		if err != nil {
			return err
		}
		net.Input[i] = n
	}
	return nil
}

// conv reads the options common to the convolution classes.
func (p params) conv(l *model.Layer) error {
	var err error
	if l.Kernel, err = p.pair("kernel_size", 1, maxDim); err != nil {
		return err
	}
	if l.Strides, err = p.pair("strides", 1, maxDim); err != nil {
		return err
	}
	if l.Padding, err = p.str("padding"); err != nil {
		return err
	}
	if l.Padding != model.PaddingSame && l.Padding != model.PaddingValid {
		return p.unsupported("padding %q", l.Padding)
	}
	if err := p.channelsLast(); err != nil {
		return err
	}
	if d, err := p.pair("dilation_rate", 1, maxDim); err != nil {
		return err
	} else if d != [2]int{1, 1} {
		return p.unsupported("dilation_rate %v; only 1 is read", d)
	}
	if _, ok := p.get("groups"); ok {
		if g, err := p.integer("groups", 1, maxChannels); err != nil {
			return err
		} else if g != 1 {
			return p.unsupported("groups %d; only 1 is read", g)
		}
	}
	if l.UseBias, err = p.boolean("use_bias"); err != nil {
		return err
	}
	return p.linear(l)
}

// channelsLast checks data_format: it must be stated, as channels_last (null would mean the
// reading installation's default, which the file does not record).
func (p params) channelsLast() error {
	f, ok, err := p.optString("data_format")
	if err != nil {
		return p.unsupported("data_format %s", p.cfg["data_format"])
	}
	if !ok || f != "channels_last" {
		return p.unsupported("data_format %q; only channels_last is read", f)
	}
	return nil
}

// linear reads the fused activation of a layer, which must be linear.
func (p params) linear(l *model.Layer) error {
	v, ok := p.get("activation")
	if !ok || string(v) == "null" {
		l.Activation = model.Linear
		return nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return p.unsupported("activation %s", v)
	}
	if s != model.Linear {
		return p.unsupported("fused activation %q; only linear is read (use an Activation layer)", s)
	}
	l.Activation = model.Linear
	return nil
}

// toLayer converts the config of one layer of class c.
func (p params) toLayer(c model.Class) (model.Layer, error) {
	l := model.Layer{Name: p.layer, Class: c}
	if err := p.checkCommon(); err != nil {
		return l, err
	}
	var err error
	switch c {
	case model.Conv2D:
		if l.Filters, err = p.integer("filters", 1, maxChannels); err != nil {
			return l, err
		}
		err = p.conv(&l)
	case model.SeparableConv2D:
		if l.Filters, err = p.integer("filters", 1, maxChannels); err != nil {
			return l, err
		}
		if l.DepthMultiplier, err = p.integer("depth_multiplier", 1, maxChannels); err != nil {
			return l, err
		}
		err = p.conv(&l)
	case model.DepthwiseConv2D:
		if l.DepthMultiplier, err = p.integer("depth_multiplier", 1, maxChannels); err != nil {
			return l, err
		}
		err = p.conv(&l)
	case model.BatchNormalization:
		err = p.batchNorm(&l)
	case model.Activation:
		var a string
		if a, err = p.str("activation"); err != nil {
			return l, p.unsupported("activation %s", p.cfg["activation"])
		}
		if a != model.ReLU && a != model.Linear {
			return l, p.unsupported("activation %q; only relu and linear are read", a)
		}
		l.Activation = a
	case model.Flatten:
		err = p.channelsLast()
	case model.Add:
	case model.Dense:
		if l.Filters, err = p.integer("units", 1, maxChannels); err != nil {
			return l, err
		}
		if l.UseBias, err = p.boolean("use_bias"); err != nil {
			return l, err
		}
		err = p.linear(&l)
	case model.InputLayer:
		return l, p.unsupported("a second InputLayer")
	default:
		return l, p.unsupported("layer class %q", string(c))
	}
	return l, err
}

func (p params) batchNorm(l *model.Layer) error {
	v, ok := p.get("axis")
	if !ok {
		return p.errorf("no axis")
	}
	var axis float64
	if err := json.Unmarshal(v, &axis); err != nil {
		var axes []float64
		if json.Unmarshal(v, &axes) != nil || len(axes) != 1 {
			return p.unsupported("batchnorm axis %s; only -1 is read", v)
		}
		axis = axes[0]
	}
	if axis != -1 {
		return p.unsupported("batchnorm axis %v; only -1 is read", axis)
	}
	for _, k := range []string{"center", "scale"} {
		b, err := p.boolean(k)
		if err != nil {
			return err
		}
		if !b {
			return p.unsupported("batchnorm %s=false; only center and scale both true are read", k)
		}
	}
	for _, k := range []string{"renorm", "virtual_batch_size", "adjustment"} {
		if v, ok := p.get(k); ok && string(v) != "null" && string(v) != "false" {
			return p.unsupported("batchnorm %s %s", k, v)
		}
	}
	eps, err := p.number("epsilon")
	if err != nil {
		return err
	}
	if !(eps > 0) || math.IsInf(eps, 0) {
		return p.errorf("batchnorm epsilon %v, want a positive number", eps)
	}
	mom, err := p.number("momentum")
	if err != nil {
		return err
	}
	if !(mom >= 0 && mom <= 1) {
		return p.errorf("batchnorm momentum %v, want a number in [0, 1]", mom)
	}
	l.Epsilon, l.Momentum = eps, mom
	return nil
}
