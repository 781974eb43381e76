package keras

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"compactv4/internal/hdf5"
	"compactv4/internal/model"
)

// legacyVarNames are the variable names Keras 2 gives a layer's weights, in get_weights() order.
func legacyVarNames(l *model.Layer) []string {
	var names []string
	switch l.Class {
	case model.Conv2D, model.Dense:
		names = []string{"kernel"}
	case model.SeparableConv2D:
		names = []string{"depthwise_kernel", "pointwise_kernel"}
	case model.DepthwiseConv2D:
		names = []string{"depthwise_kernel"}
	case model.BatchNormalization:
		return []string{"gamma", "beta", "moving_mean", "moving_variance"}
	default:
		return nil
	}
	if l.UseBias {
		names = append(names, "bias")
	}
	return names
}

// ReadLegacyWeights opens r as a Keras 2 weights file (see LoadLegacyWeights) and sets the weights
// of net from it.
func ReadLegacyWeights(net *model.Network, r io.ReaderAt, size int64) error {
	f, err := hdf5.OpenOptions(r, size, &hdf5.Options{MaxDataBytes: MaxWeightBytes})
	if err != nil {
		return fmt.Errorf("weights file: %w", err)
	}
	if err := LoadLegacyWeights(net, f); err != nil {
		return fmt.Errorf("weights file: %w", err)
	}
	return nil
}

// LoadLegacyWeights sets the weights of net from a Keras 2 weights file, the HDF5 layout of
// Model.save_weights in Keras 2 and of the keras.applications ImageNet weight files
// (resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5, ...): the root attribute layer_names
// lists the layers; each layer's group carries the attribute weight_names and holds the datasets
// it names (conv1_conv/kernel:0, read as conv1_conv/conv1_conv/kernel:0). Attributes too large
// for an object header, which Keras splits into layer_names0, layer_names1, ..., are read too.
//
// Layers are matched by name: every layer of net that has weights must be listed, with exactly
// the variables Keras 2 gives its class (kernel, bias; depthwise_kernel, pointwise_kernel, bias;
// gamma, beta, moving_mean, moving_variance) in that order, float32 arrays of the shapes net's
// configuration implies. Layers of the file that net lacks are ignored, so that a network cut
// short (ResNet50 up to conv4_block4_out) loads from the full file. On error net is unchanged;
// on success it has passed model.Network.Validate (no NaN or infinite weights).
func LoadLegacyWeights(net *model.Network, f *hdf5.File) error {
	names, err := legacyAttr(f.Root(), "layer_names")
	if err != nil {
		if _, err2 := f.Group("layers"); err2 == nil {
			return fmt.Errorf("a Keras 3 weights file (group layers), not a Keras 2 one: %w", ErrUnsupported)
		}
		return fmt.Errorf("Keras 2 weights file: %w", err)
	}
	listed := make(map[string]bool, len(names))
	for _, n := range names {
		listed[n] = true
	}
	shapes, err := net.InputShapes()
	if err != nil {
		return err
	}
	ws := make([][]model.Tensor, len(net.Layers))
	for i := range net.Layers {
		l := &net.Layers[i]
		want, err := l.WeightShapes(shapes[i])
		if err != nil {
			return err
		}
		if len(want) == 0 {
			continue
		}
		if !listed[l.Name] {
			return fmt.Errorf("layer %q (%s) is not in the file's layer_names (%d layers)", l.Name, l.Class, len(names))
		}
		g, err := f.Group(l.Name)
		if err != nil {
			return fmt.Errorf("layer %q: %w", l.Name, err)
		}
		wnames, err := legacyAttr(g, "weight_names")
		if err != nil {
			return fmt.Errorf("layer %q: %w", l.Name, err)
		}
		vars := legacyVarNames(l)
		if len(wnames) != len(vars) {
			return fmt.Errorf("layer %q (%s) has %d weights %q in the file, want %d (%s)", l.Name, l.Class, len(wnames), wnames, len(vars), strings.Join(vars, ", "))
		}
		for j, wn := range wnames {
			base := wn[strings.LastIndexByte(wn, '/')+1:]
			if base != vars[j]+":0" {
				return fmt.Errorf("layer %q weight %d is %q, want %s:0", l.Name, j, wn, vars[j])
			}
			where := l.Name + "/" + wn
			ds, err := g.Dataset(wn)
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if t := ds.Type(); t.Class != hdf5.ClassFloat || t.Size != 4 {
				return fmt.Errorf("%s has type %v; only float32 weights are read", where, t)
			}
			if !slices.Equal(ds.Shape(), want[j]) {
				return fmt.Errorf("%s has shape %v, but layer %q (%s) with input %v needs %v", where, ds.Shape(), l.Name, l.Class, shapes[i], want[j])
			}
			data, err := ds.ReadFloat32()
			if err != nil {
				return fmt.Errorf("%s: %w", where, err)
			}
			if len(data) != product(want[j]) {
				return fmt.Errorf("%s: shape %v but %d values", where, want[j], len(data))
			}
			for k, v := range data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return fmt.Errorf("%s: value %d is %v", where, k, v)
				}
			}
			ws[i] = append(ws[i], model.Tensor{Shape: slices.Clone(want[j]), Data: data})
		}
	}
	trial := net.Clone()
	for i := range trial.Layers {
		trial.Layers[i].Weights = ws[i]
	}
	if err := trial.Validate(); err != nil {
		return err
	}
	for i := range net.Layers {
		net.Layers[i].Weights = ws[i]
	}
	return nil
}

// legacyAttr reads a string-array attribute that Keras may have split into name0, name1, ...
// (h5py cannot store more than 64 KiB in an object header).
func legacyAttr(g *hdf5.Group, name string) ([]string, error) {
	if a, err := g.Attr(name); err == nil {
		return a.ReadStrings()
	}
	var out []string
	for i := 0; ; i++ {
		a, err := g.Attr(name + strconv.Itoa(i))
		if err != nil {
			if i == 0 {
				return nil, fmt.Errorf("%s has no attribute %s: %w", g.Path(), name, err)
			}
			return out, nil
		}
		s, err := a.ReadStrings()
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
}
