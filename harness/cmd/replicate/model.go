package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"compactv4/internal/model"
	"compactv4/internal/modelfile"
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
	// Architecture is "compact" (reference/upstream.md §4.1), "shared" (§4.6) or "other"; Filters are the filter
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
	f, err := modelfile.Read(file, modelfile.Options{Format: format, Filters: filters, SharedActivation: activation})
	switch {
	case errors.Is(err, modelfile.ErrOption):
		return nil, &usageError{err: err}
	case errors.Is(err, modelfile.ErrUnknownFormat):
		return nil, fmt.Errorf("%w; use -format", err)
	case errors.Is(err, modelfile.ErrNoFilters):
		return nil, fmt.Errorf("%w; pass -filters FILE or -filters F0,F1,F2,F3,F4", err)
	case err != nil:
		return nil, err
	}
	rep := &inspectReport{File: file, Format: f.Format.String(), KerasVersion: f.KerasVersion, Notes: f.Notes}
	if err := describe(rep, f.Net); err != nil {
		return nil, fmt.Errorf("inspect %s: %w", file, err)
	}
	return rep, nil
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
	} else if f, ok := model.SharedFilters(net); ok {
		rep.Architecture, rep.Filters = "shared", f[:]
	} else if !errors.Is(err, model.ErrNotCompact) {
		return err
	}
	return nil
}
