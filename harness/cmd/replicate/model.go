package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	"compactv4/internal/keras"
	"compactv4/internal/model"
	"compactv4/internal/npy"
	"compactv4/internal/torchpt"
	"compactv4/internal/v4data"
)

// The model verb dispatches to sub-verbs from modelVerbs, like data does.
func init() {
	register(verb{name: "model", summary: "inspect model files (model inspect)", run: runModel})
	registerModel(verb{name: "inspect", summary: "print a model file's layers and parameter counts as JSON", run: runModelInspect})
}

// modelVerbs holds the sub-verbs of model.
var modelVerbs = map[string]verb{}

// registerModel adds a sub-verb of model.
func registerModel(v verb) { addVerb(modelVerbs, "model", v) }

func runModel(ctx context.Context, args []string) error {
	about := "Model files of the paper: .keras, .weights.h5, model_weights_npy .npy and PyTorch .pt."
	if code := dispatch(ctx, "replicate model", about, modelVerbs, args); code != 0 {
		return &statusError{code}
	}
	return nil
}

// inspectLayer is one layer in the output of model inspect.
type inspectLayer struct {
	Name            string   `json:"name"`
	Kind            string   `json:"kind"` // the Keras class
	Filters         int      `json:"filters,omitempty"`
	Units           int      `json:"units,omitempty"`
	Kernel          []int    `json:"kernel,omitempty"`
	Stride          []int    `json:"stride,omitempty"`
	Padding         string   `json:"padding,omitempty"`
	DepthMultiplier int      `json:"depth_multiplier,omitempty"`
	Activation      string   `json:"activation,omitempty"`
	UseBias         *bool    `json:"use_bias,omitempty"`
	Epsilon         *float64 `json:"epsilon,omitempty"`
	Momentum        *float64 `json:"momentum,omitempty"`
	OutputShape     []int    `json:"output_shape"`
	Params          int      `json:"params"`
}

// inspectReport is the output of model inspect.
type inspectReport struct {
	File         string `json:"file"`
	Format       string `json:"format"`
	KerasVersion string `json:"keras_version,omitempty"`
	Name         string `json:"name"`
	// Architecture is "compact" (spec §4.1), "shared" (§4.6) or "other"; Filters are the filter
	// counts of layers 0-4 of either.
	Architecture       string         `json:"architecture"`
	Filters            []int          `json:"filters,omitempty"`
	InputShape         []int          `json:"input_shape"`
	Layers             []inspectLayer `json:"layers"`
	TotalParams        int            `json:"total_params"` // Keras "Total params": batchnorm moving statistics included
	TrainableParams    int            `json:"trainable_params"`
	NonTrainableParams int            `json:"non_trainable_params"`
	Notes              []string       `json:"notes,omitempty"`
}

func runModelInspect(ctx context.Context, args []string) error {
	fs := newFlags("replicate model inspect", "[-filters FILE|F0,F1,F2,F3,F4] [-format F] [-activation relu|linear] FILE", `
Read a model file and print, as JSON, its format, Keras version (where the file records it),
input shape, every layer (name, Keras class, kernel, stride, padding, filters, activation,
batchnorm epsilon and momentum, output shape, parameters) and the parameter counts as Keras'
model.summary() prints them ("Total params" includes the batchnorm moving statistics).

FILE is any model file, read directly from disk (it need not be one of the published files):
  .keras       Keras 3 archive; the architecture comes from its config.json
  .weights.h5  Keras 3 weights of a compact or shared compact model (architecture recognised
               from the weight groups)
  .npy         a compact model's pickled weight list (model_weights_npy); needs the filter
               counts: -filters, else ../nums_filters/<stem>.npy beside FILE
  .pt          a compact model's PyTorch checkpoint (models_torch); the batchnorm running
               variances of layers 1-4 are shifted back to the Keras values
The format is taken from the file name, else from the content; -format overrides both.`)
	filtersFlag := fs.String("filters", "", "filter counts for a .npy file: a nums_filters .npy file, or five comma-separated counts")
	formatFlag := fs.String("format", "", "file format: keras, weights.h5, npy or pt (default: from the name or content)")
	activation := fs.String("activation", "", "shared model in a .weights.h5: relu or linear (default: from the file's activation groups)")
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usagef("replicate model inspect: want one model file (see replicate model inspect -h)")
	}
	switch *activation {
	case "", model.ReLU, model.Linear:
	default:
		return usagef("-activation %q: want relu or linear", *activation)
	}
	file := fs.Arg(0)
	rep, err := inspectFile(file, *formatFlag, *filtersFlag, *activation)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", b)
	return err
}

// inspectFile reads a model file and describes it.
func inspectFile(file, format, filters, activation string) (*inspectReport, error) {
	fh, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a model file", file)
	}
	var f v4data.Format
	if format != "" {
		if f, err = v4data.ParseFormat(format); err != nil {
			return nil, &usageError{err: err}
		}
	} else if f, err = detectFormat(file, fh, st.Size()); err != nil {
		return nil, err
	}
	rep := &inspectReport{File: file, Format: f.String()}
	var net *model.Network
	switch f {
	case v4data.FormatKeras:
		var m *keras.Model
		if m, err = keras.ReadArchive(fh, st.Size()); err == nil {
			net, rep.KerasVersion = m.Network, m.Metadata.KerasVersion
		}
	case v4data.FormatWeightsH5:
		net, err = keras.ReadWeightsH5Options(fh, st.Size(), keras.WeightsOptions{SharedActivation: activation})
		if err == nil {
			rep.Notes = append(rep.Notes, "architecture recognised from the weight groups (a weights file holds no configuration)")
		}
	case v4data.FormatNPY:
		var from string
		if net, from, err = readNPYModel(file, fh, filters); err == nil {
			rep.Notes = append(rep.Notes, "filter counts from "+from)
		}
	case v4data.FormatTorch:
		var sd torchpt.StateDict
		if sd, err = torchpt.ReadStateDict(fh, st.Size()); err == nil {
			net, err = torchpt.Compact(sd)
		}
		if err == nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("batchnorm running_var of layers 1-4 shifted back by %g to the Keras moving variance (spec §4.5); epsilon is Keras' %g", torchpt.RunningVarShift, model.BNEpsilon))
		}
	}
	if err != nil {
		return nil, fmt.Errorf("inspect %s (%v): %w", file, f, err)
	}
	if err := describe(rep, net); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", file, err)
	}
	return rep, nil
}

// detectFormat chooses the format from the file name, else from the first bytes.
func detectFormat(name string, r io.ReaderAt, size int64) (v4data.Format, error) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".weights.h5"):
		return v4data.FormatWeightsH5, nil
	case strings.HasSuffix(lower, ".keras"):
		return v4data.FormatKeras, nil
	case strings.HasSuffix(lower, ".npy"):
		return v4data.FormatNPY, nil
	case strings.HasSuffix(lower, ".pt"), strings.HasSuffix(lower, ".pth"):
		return v4data.FormatTorch, nil
	}
	head := make([]byte, 8)
	n, _ := r.ReadAt(head, 0)
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte("\x89HDF\r\n\x1a\n")):
		return v4data.FormatWeightsH5, nil
	case bytes.HasPrefix(head, []byte(npy.Magic)):
		return v4data.FormatNPY, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		// A .keras archive holds config.json; a torch.save checkpoint <prefix>/data.pkl.
		if zipHas(r, size, keras.ConfigEntry) {
			return v4data.FormatKeras, nil
		}
		return v4data.FormatTorch, nil
	}
	return 0, fmt.Errorf("%s: cannot tell the model format from the name or the content; use -format keras|weights.h5|npy|pt", name)
}

// zipHas reports whether the zip archive r holds an entry called name.
func zipHas(r io.ReaderAt, size int64, name string) bool {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return false
	}
	for _, f := range zr.File {
		if f.Name == name {
			return true
		}
	}
	return false
}

// readNPYModel reads a compact model's pickled weight list with its filter counts (from the
// -filters flag, else from ../nums_filters/<stem>.npy beside the file); from says where the counts
// came from.
func readNPYModel(file string, r io.Reader, filtersFlag string) (net *model.Network, from string, err error) {
	var filters [model.NumLayers]int
	path := filtersFlag
	switch {
	case path == "":
		stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		path = filepath.Join(filepath.Dir(file), "..", "nums_filters", stem+".npy")
		if !fileExists(path) {
			return nil, "", fmt.Errorf("a .npy weight list needs the filter counts of its 5 layers: pass -filters FILE (a nums_filters .npy) or -filters F0,F1,F2,F3,F4 (there is no %s)", path)
		}
	case !fileExists(path) && strings.Contains(path, ","):
		if filters, err = parseFilterList(path); err != nil {
			return nil, "", &usageError{err: err}
		}
		path = ""
	}
	if path == "" {
		from = "-filters " + filtersFlag
	} else {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, "", fmt.Errorf("filter counts: %w", err)
		}
		if filters, err = v4data.ParseNumsFilters(bytes.NewReader(b)); err != nil {
			return nil, "", fmt.Errorf("filter counts %s: %w", path, err)
		}
		from = path
	}
	ts, err := npy.ReadTensors(r)
	if err != nil {
		return nil, "", err
	}
	if net, err = model.NewCompact(filters); err != nil {
		return nil, "", err
	}
	if err := net.SetWeights(ts); err != nil {
		return nil, "", fmt.Errorf("the weights do not fit a compact model with filters %v (from %s): %w", filters, from, err)
	}
	if err := net.Validate(); err != nil {
		return nil, "", err
	}
	return net, from, nil
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}

// parseFilterList parses "F0,F1,F2,F3,F4".
func parseFilterList(s string) ([model.NumLayers]int, error) {
	var f [model.NumLayers]int
	parts := strings.Split(s, ",")
	if len(parts) != model.NumLayers {
		return f, fmt.Errorf("-filters %q: want %d comma-separated counts or a file", s, model.NumLayers)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return f, fmt.Errorf("-filters %q: %q is not a positive count", s, p)
		}
		f[i] = n
	}
	return f, nil
}

// describe fills the report's network fields.
func describe(rep *inspectReport, net *model.Network) error {
	shapes, err := net.Shapes()
	if err != nil {
		return err
	}
	dims := func(s model.Shape) []int {
		if s.Flat {
			return []int{s.C}
		}
		return []int{s.H, s.W, s.C}
	}
	rep.Name = net.Name
	rep.InputShape = dims(shapes[0])
	rep.Layers = []inspectLayer{}
	for i := range net.Layers {
		l := &net.Layers[i]
		il := inspectLayer{Name: l.Name, Kind: string(l.Class), OutputShape: dims(shapes[i+1])}
		for _, w := range l.Weights {
			il.Params += len(w.Data)
		}
		switch l.Class {
		case model.Conv2D, model.SeparableConv2D, model.DepthwiseConv2D:
			if l.Class != model.DepthwiseConv2D {
				il.Filters = l.Filters
			}
			if l.Class != model.Conv2D {
				il.DepthMultiplier = l.DepthMultiplier
			}
			il.Kernel, il.Stride, il.Padding = l.Kernel[:], l.Strides[:], l.Padding
			il.Activation, il.UseBias = l.Activation, &l.UseBias
		case model.Dense:
			il.Units, il.Activation, il.UseBias = l.Filters, l.Activation, &l.UseBias
		case model.BatchNormalization:
			il.Epsilon, il.Momentum = &l.Epsilon, &l.Momentum
		case model.Activation:
			il.Activation = l.Activation
		}
		rep.Layers = append(rep.Layers, il)
	}
	p := net.Params()
	rep.TotalParams, rep.TrainableParams, rep.NonTrainableParams = p.Total, p.Trainable, p.NonTrainable
	rep.Architecture = "other"
	if f, err := model.CompactFilters(net); err == nil {
		rep.Architecture, rep.Filters = "compact", f[:]
	} else if f, ok := sharedFilters(net); ok {
		rep.Architecture, rep.Filters = "shared", f[:]
	} else if !errors.Is(err, model.ErrNotCompact) {
		return err
	}
	return nil
}

// sharedFilters returns the filter counts of layers 0-4 when net has the configuration of
// model.NewShared (either variant).
func sharedFilters(net *model.Network) ([model.NumLayers]int, bool) {
	var f [model.NumLayers]int
	first, mix := net.Layer("layer0_conv"), net.Layer("mixing_stage")
	if first == nil || mix == nil {
		return f, false
	}
	relu := net.Layer("layer0_act") != nil
	ref, err := model.NewShared(first.Filters, mix.Filters, relu)
	if err != nil || len(ref.Layers) != len(net.Layers) || ref.Input != net.Input {
		return f, false
	}
	conv := 0
	for i := range ref.Layers {
		a, b := ref.Layers[i], net.Layers[i]
		a.Weights, b.Weights = nil, nil
		if !reflect.DeepEqual(a, b) {
			return f, false
		}
		if (a.Class == model.Conv2D || a.Class == model.SeparableConv2D) && conv < model.NumLayers {
			f[conv] = a.Filters
			conv++
		}
	}
	return f, true
}
