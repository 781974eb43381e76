package keras

import (
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"compactv4/internal/hdf5"
	"compactv4/internal/model"
)

// MaxWeightBytes bounds the in-memory size of any one weight array read from an HDF5 file
// (hdf5.Options.MaxDataBytes), so that a file declaring a huge array cannot make a reader allocate
// it. The largest array of the published models holds 171,696 float32 values (687 KB).
const MaxWeightBytes = 256 << 20

// maxVars bounds the number of weight arrays of one layer group.
const maxVars = 64

// layerGroup is the content of one group layers/<name> of a Keras 3 weights file.
type layerGroup struct {
	name string
	vars []model.Tensor // vars/0, vars/1, ... in index order
}

// readLayerGroups reads every group below layers/ of a Keras 3 weights file with its weight
// arrays, in the order of the file's group listing. The optimizer/ group and the top-level vars
// group are not read.
func readLayerGroups(f *hdf5.File) ([]layerGroup, error) {
	lg, err := f.Group("layers")
	if err != nil {
		if _, err2 := f.Group("model_weights"); err2 == nil {
			return nil, fmt.Errorf("a legacy Keras 2 HDF5 model (group model_weights), not a Keras 3 weights file: %w", ErrUnsupported)
		}
		return nil, fmt.Errorf("group layers (is this a Keras 3 weights file?): %w", err)
	}
	var groups []layerGroup
	for _, link := range lg.Links() {
		where := "layers/" + link.Name
		if link.Type != hdf5.HardLink {
			return nil, fmt.Errorf("%s is a %v link; only plain groups are read", where, link.Type)
		}
		g, err := lg.Group(link.Name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		lgrp := layerGroup{name: link.Name}
		for _, m := range g.Members() {
			if m != "vars" {
				return nil, fmt.Errorf("%s holds %q; only layers whose weights are all in vars/ (no nested layers) are read: %w", where, m, ErrUnsupported)
			}
		}
		if _, ok := g.Link("vars"); ok {
			vg, err := g.Group("vars")
			if err != nil {
				return nil, fmt.Errorf("%s/vars: %w", where, err)
			}
			if lgrp.vars, err = readVars(vg, where+"/vars"); err != nil {
				return nil, err
			}
		}
		groups = append(groups, lgrp)
	}
	return groups, nil
}

// readVars reads the datasets "0", "1", ..., "n-1" of a vars group as float32 tensors.
func readVars(vg *hdf5.Group, where string) ([]model.Tensor, error) {
	members := vg.Members()
	if len(members) > maxVars {
		return nil, fmt.Errorf("%s holds %d members (limit %d)", where, len(members), maxVars)
	}
	vars := make([]model.Tensor, len(members))
	seen := make([]bool, len(members))
	for _, m := range members {
		i, err := strconv.Atoi(m)
		if err != nil || i < 0 || i >= len(members) || strconv.Itoa(i) != m || seen[i] {
			return nil, fmt.Errorf("%s holds %q; want datasets named 0 to %d", where, m, len(members)-1)
		}
		seen[i] = true
		ds, err := vg.Dataset(m)
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", where, m, err)
		}
		if t := ds.Type(); t.Class != hdf5.ClassFloat || t.Size != 4 {
			return nil, fmt.Errorf("%s/%s has type %v; only float32 weights are read", where, m, t)
		}
		if ds.Space().Kind != hdf5.Simple {
			return nil, fmt.Errorf("%s/%s is a %v dataset, want an array", where, m, ds.Space().Kind)
		}
		data, err := ds.ReadFloat32()
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", where, m, err)
		}
		shape := append([]int(nil), ds.Shape()...)
		if n := product(shape); n != len(data) {
			return nil, fmt.Errorf("%s/%s: shape %v but %d values", where, m, shape, len(data))
		}
		vars[i] = model.Tensor{Shape: shape, Data: data}
	}
	return vars, nil
}

func product(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// SnakeCase converts a Keras class name to the snake case Keras 3 derives group names from
// (keras.src.utils.naming.to_snake_case): "SeparableConv2D" → "separable_conv2d",
// "BatchNormalization" → "batch_normalization", "InputLayer" → "input_layer".
func SnakeCase(name string) string {
	name = nonWord.ReplaceAllString(name, "")
	name = capWord.ReplaceAllString(name, "${1}_${2}")
	name = lowerUpper.ReplaceAllString(name, "${1}_${2}")
	return strings.ToLower(name)
}

var (
	nonWord    = regexp.MustCompile(`\W+`)
	capWord    = regexp.MustCompile(`(.)([A-Z][a-z]+)`)
	lowerUpper = regexp.MustCompile(`([a-z])([A-Z])`)
)

// GroupNames returns the names of the groups below layers/ that Keras 3 gives the layers of net
// in a weights file (reference/upstream.md §2.2): the snake-case class name, followed by _1, _2, ... for the second,
// third, ... layer of the same class, counted in layer order. The model's InputLayer, which
// internal/model represents as Network.Input, comes first ("input_layer"), unless net lists it as
// its first layer. The names are not the layers' own names.
func GroupNames(net *model.Network) []string {
	count := map[string]int{}
	next := func(c model.Class) string {
		base := SnakeCase(string(c))
		n := count[base]
		count[base]++
		if n == 0 {
			return base
		}
		return base + "_" + strconv.Itoa(n)
	}
	var names []string
	if len(net.Layers) == 0 || net.Layers[0].Class != model.InputLayer {
		names = append(names, next(model.InputLayer))
	}
	for _, l := range net.Layers {
		names = append(names, next(l.Class))
	}
	return names
}

// varNames names the weight arrays of a layer class, for messages.
func varNames(c model.Class) []string {
	switch c {
	case model.Conv2D, model.Dense, model.DepthwiseConv2D:
		return []string{"kernel", "bias"}
	case model.SeparableConv2D:
		return []string{"depthwise kernel", "pointwise kernel", "bias"}
	case model.BatchNormalization:
		return []string{"gamma", "beta", "moving mean", "moving variance"}
	}
	return nil
}

// LoadWeights reads the weights of net from a Keras 3 weights file (a .weights.h5 file, or the
// model.weights.h5 of a .keras archive) and sets them, replacing any the network had. The network
// is unchanged on error.
//
// Keras stores the arrays of each layer as layers/<group>/vars/<i> (i in get_weights() order),
// where <group> is an automatic name derived from the layer's class (see GroupNames), not the
// layer's own name. The mapping is verified rather than trusted: every layer with weights must
// have its group with exactly the arrays of the shapes its configuration and input imply
// (model.Layer.WeightShapes), all float32; a weightless layer's group, if present, must be empty;
// and every group of the file must belong to a layer of the network. The optimizer/ group and the
// top-level vars group (optimizer state, not model weights) are ignored. LoadWeights does not call
// net.Validate, which also checks the values (NaN, infinities); ReadModel and ReadWeightsH5 do.
func LoadWeights(net *model.Network, f *hdf5.File) error {
	groups, err := readLayerGroups(f)
	if err != nil {
		return err
	}
	return assign(net, groups)
}

// assign matches the groups of a weights file to the layers of net and sets the weights.
func assign(net *model.Network, groups []layerGroup) error {
	shapes, err := net.InputShapes()
	if err != nil {
		return err
	}
	byName := make(map[string]*layerGroup, len(groups))
	for i := range groups {
		byName[groups[i].name] = &groups[i]
	}
	names := GroupNames(net)
	claimed := map[string]bool{}
	offset := len(names) - len(net.Layers) // 1 when the input layer is implicit
	if offset == 1 {
		if g, ok := byName[names[0]]; ok {
			if len(g.vars) != 0 {
				return fmt.Errorf("layers/%s holds %d weight arrays, but the input layer has none", g.name, len(g.vars))
			}
			claimed[names[0]] = true
		}
	}
	weights := make([][]model.Tensor, len(net.Layers))
	for i := range net.Layers {
		l := &net.Layers[i]
		name := names[i+offset]
		want, err := l.WeightShapes(shapes[i])
		if err != nil {
			return err
		}
		weights[i] = make([]model.Tensor, len(want)) // empty, not nil, for weightless layers, as model.NewCompact
		g, ok := byName[name]
		if !ok {
			if len(want) > 0 {
				return fmt.Errorf("no group layers/%s for layer %q (%s), which has %d weight arrays", name, l.Name, l.Class, len(want))
			}
			continue
		}
		claimed[name] = true
		if len(g.vars) != len(want) {
			return fmt.Errorf("layers/%s holds %d weight arrays, but layer %q (%s) has %d", name, len(g.vars), l.Name, l.Class, len(want))
		}
		vn := varNames(l.Class)
		for j, w := range want {
			if !slices.Equal(g.vars[j].Shape, w) {
				what := ""
				if j < len(vn) {
					what = " (" + vn[j] + ")"
				}
				return fmt.Errorf("layers/%s/vars/%d%s has shape %v, but layer %q (%s) with input %v needs %v", name, j, what, g.vars[j].Shape, l.Name, l.Class, shapes[i], w)
			}
		}
		copy(weights[i], g.vars)
	}
	var extra []string
	for _, g := range groups {
		if !claimed[g.name] {
			extra = append(extra, fmt.Sprintf("layers/%s (%d weight arrays)", g.name, len(g.vars)))
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("%s belong(s) to no layer of network %q, whose groups are %s", strings.Join(extra, ", "), net.Name, strings.Join(names, ", "))
	}
	for i := range net.Layers {
		net.Layers[i].Weights = weights[i]
	}
	return nil
}

// WeightsOptions tunes ReadWeightsH5Options. The zero value selects the defaults.
type WeightsOptions struct {
	// SharedActivation is the activation after each batchnorm of a shared compact model:
	// model.ReLU, model.Linear, or "" to infer it from the file (see ReadWeightsH5).
	SharedActivation string
}

// Group names of the two published architectures' weighted layers (reference/upstream.md §2.2, §2.3).
var (
	compactGroups = []string{
		"conv2d", "separable_conv2d", "separable_conv2d_1", "separable_conv2d_2", "separable_conv2d_3",
		"batch_normalization", "batch_normalization_1", "batch_normalization_2", "batch_normalization_3", "batch_normalization_4",
		"dense",
	}
	sharedGroups = []string{
		"conv2d", "separable_conv2d", "separable_conv2d_1", "separable_conv2d_2", "separable_conv2d_3",
		"batch_normalization", "batch_normalization_1", "batch_normalization_2", "batch_normalization_3", "batch_normalization_4",
		"conv2d_1", "depthwise_conv2d",
	}
	activationGroups = []string{"activation", "activation_1", "activation_2", "activation_3", "activation_4"}
)

// ReadWeightsH5 reads a Keras 3 .weights.h5 file of one of the paper's two architectures, which
// it recognises from the weighted groups present (a weights file holds no configuration):
//
//   - the single-neuron compact model (reference/upstream.md §4.1): conv2d, separable_conv2d to _3,
//     batch_normalization to _4 and dense; the filter counts are read from the kernel shapes and
//     the network is model.NewCompact's;
//   - the shared compact model (reference/upstream.md §4.6): the same trunk plus conv2d_1 (mixing stage) and
//     depthwise_conv2d (spatial pool) and no dense; K and the number of outputs are read from the
//     shapes and the network is model.NewShared's.
//
// Anything else is an error. The weights are then loaded and verified by LoadWeights, and the
// network by model.Network.Validate.
//
// The two shared variants, with ReLU after each batchnorm and without (linear_from_ensemble_model),
// have identical weights: the weight values cannot tell them apart. Keras, however, writes an
// empty group for every layer, weightless ones included, so a file Keras wrote has the groups
// activation to activation_4 exactly when the model has ReLU layers. ReadWeightsH5 therefore
// takes ReLU when those five groups are present and linear when there are none but the file has
// the empty groups of its other weightless layers (flatten); when a file has no empty groups at
// all, the variant is unknown and ReadWeightsH5 assumes ReLU, the variant of six of the seven
// published teachers. ReadWeightsH5Options can state the variant instead; a stated variant that
// contradicts the activation groups present is an error.
func ReadWeightsH5(r io.ReaderAt, size int64) (*model.Network, error) {
	return ReadWeightsH5Options(r, size, WeightsOptions{})
}

// ReadWeightsH5Options is ReadWeightsH5 with options.
func ReadWeightsH5Options(r io.ReaderAt, size int64, opts WeightsOptions) (*model.Network, error) {
	switch opts.SharedActivation {
	case "", model.ReLU, model.Linear:
	default:
		return nil, fmt.Errorf("shared activation %q: want %q or %q", opts.SharedActivation, model.ReLU, model.Linear)
	}
	f, err := hdf5.OpenOptions(r, size, &hdf5.Options{MaxDataBytes: MaxWeightBytes})
	if err != nil {
		return nil, fmt.Errorf("weights file: %w", err)
	}
	groups, err := readLayerGroups(f)
	if err != nil {
		return nil, fmt.Errorf("weights file: %w", err)
	}
	net, err := recognise(groups, opts)
	if err != nil {
		return nil, fmt.Errorf("weights file: %w", err)
	}
	if err := assign(net, groups); err != nil {
		return nil, fmt.Errorf("weights file: %w", err)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("weights file: %w", err)
	}
	return net, nil
}

// recognise builds the network whose weights the groups hold, with zero weights.
func recognise(groups []layerGroup, opts WeightsOptions) (*model.Network, error) {
	byName := map[string][]model.Tensor{}
	var weighted []string
	stored := 0 // values held by the file's weighted groups
	for _, g := range groups {
		byName[g.name] = g.vars
		if len(g.vars) > 0 {
			weighted = append(weighted, g.name)
			for _, v := range g.vars {
				stored += len(v.Data)
			}
		}
	}
	sort.Strings(weighted)
	// dim returns dimension d of vars/v of a group, which must be a 4-D kernel.
	dim := func(group string, v, d int) (int, error) {
		vars := byName[group]
		if len(vars) <= v || len(vars[v].Shape) != 4 {
			var shape []int
			if len(vars) > v {
				shape = vars[v].Shape
			}
			return 0, fmt.Errorf("layers/%s/vars/%d has shape %v, want a 4-D kernel", group, v, shape)
		}
		n := vars[v].Shape[d]
		if n < 1 || n > maxChannels {
			return 0, fmt.Errorf("layers/%s/vars/%d has shape %v: %d filters", group, v, vars[v].Shape, n)
		}
		return n, nil
	}
	// The zero network is allocated only when it holds no more values than the file: shapes read
	// from a hostile file could otherwise multiply into a huge allocation.
	checkSize := func(arch string, params int) error {
		if params > stored {
			return fmt.Errorf("the kernel shapes imply a %s model with %d parameters, but the weight arrays hold %d values", arch, params, stored)
		}
		return nil
	}
	switch {
	case sameSet(weighted, compactGroups):
		var f [model.NumLayers]int
		var err error
		if f[0], err = dim("conv2d", 0, 3); err != nil {
			return nil, err
		}
		for l := 1; l < model.NumLayers; l++ {
			if f[l], err = dim(compactGroups[l], 1, 3); err != nil {
				return nil, err
			}
		}
		if err := checkSize("compact", model.CompactParams(f)); err != nil {
			return nil, err
		}
		return model.NewCompact(f)
	case sameSet(weighted, sharedGroups):
		k, err := dim("conv2d", 0, 3)
		if err != nil {
			return nil, err
		}
		outputs, err := dim("conv2d_1", 0, 3)
		if err != nil {
			return nil, err
		}
		trunk := model.CompactParams([model.NumLayers]int{k, k, k, sharedWidth, sharedWidth}) - 784*sharedWidth - 1
		if err := checkSize("shared compact", trunk+(sharedWidth+1)*outputs+(28*28+1)*outputs); err != nil {
			return nil, err
		}
		relu, err := sharedReLU(byName, opts)
		if err != nil {
			return nil, err
		}
		return model.NewShared(k, outputs, relu)
	}
	return nil, fmt.Errorf("the weighted groups [%s] match neither published architecture (compact model: [%s]; shared compact model: [%s]); ReadModel reads a .keras archive of any supported chain: %w",
		strings.Join(weighted, " "), strings.Join(sorted(compactGroups), " "), strings.Join(sorted(sharedGroups), " "), ErrUnsupported)
}

// sharedWidth is the width of layers 3 and 4 of every shared compact model (reference/upstream.md §4.6).
const sharedWidth = 100

// sharedReLU decides the activation variant of a shared model (see ReadWeightsH5).
func sharedReLU(groups map[string][]model.Tensor, opts WeightsOptions) (bool, error) {
	present := 0
	for _, a := range activationGroups {
		if _, ok := groups[a]; ok {
			present++
		}
	}
	switch opts.SharedActivation {
	case model.ReLU:
		return true, nil
	case model.Linear:
		return false, nil // assign refuses the activation groups, if any, as belonging to no layer
	}
	switch {
	case present == len(activationGroups):
		return true, nil
	case present != 0:
		return false, fmt.Errorf("the file has %d of the 5 groups activation to activation_4; a shared model has all (ReLU variant) or none (linear variant)", present)
	}
	if _, ok := groups["flatten"]; ok {
		return false, nil // Keras wrote the empty groups of weightless layers, and there are no activations
	}
	return true, nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, s := range b {
		m[s] = true
	}
	for _, s := range a {
		if !m[s] {
			return false
		}
	}
	return true
}

func sorted(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}
