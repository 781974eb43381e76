package main

import (
	"context"
	"errors"
	"fmt"

	"compactv4/internal/model"
	"compactv4/internal/modelfile"
	"compactv4/internal/predict"
)

func init() {
	register(verb{name: "predict", summary: "apply a compact model to your own images; write the predictions as .npy and CSV", run: runPredict})
}

func runPredict(ctx context.Context, args []string) error {
	fs := newFlags("replicate predict", "[-o PREFIX] [-no-resize] [-filters F] [-format F] [-activation A] MODEL IMAGES", `
Apply a compact model to images and write its predictions.

MODEL is any model file that `+"`replicate model inspect`"+` reads: a single-neuron compact model
(published or rerun) as .keras, .weights.h5, model_weights_npy .npy (with its filter counts in
../nums_filters/ or -filters) or PyTorch .pt, or a shared compact model (219 outputs).

IMAGES is one of:
  a zip archive or a directory of .jpg, .jpeg and .png files (at any depth; hidden files and
    __MACOSX/ are passed over). JPEGs are decoded to exactly PIL's pixels, PNGs exactly.
    Only 8-bit RGB images are accepted (no grayscale, palette, alpha or 16-bit). An image that
    is not 112×112 is resized to 112×112 with Pillow's bicubic filter, as the upstream image
    loaders do (aspect ratio not kept); -no-resize refuses it instead;
  one .jpg, .jpeg or .png file, read the same way;
  an .npy array of raw images, shape (N, 112, 112, 3) or (112, 112, 3), integer or float dtype,
    pixel intensities in [0, 255] (not recentred; never resized).
Each image is recentred by the mean pixel (116.222, 109.270, 100.381), as the models were
trained.

Writes PREFIX.npy (float32, the model's own precision, shape (images, outputs)) and PREFIX.csv
(header "image" and one column per output; one row per image). Images are in the order of their
names sorted by byte value (paths inside the zip or directory; for an .npy, the index along its
first axis, in order), the same in both files. Output columns are named <session>_neuron<n> for
a shared compact model's outputs and for a file named compact_model_<session>_neuron<n>,
output<j> otherwise.`)
	prefix := fs.String("o", "predictions", "output prefix: writes PREFIX.npy and PREFIX.csv")
	noResize := fs.Bool("no-resize", false, "refuse images that are not 112×112 instead of resizing them")
	filtersFlag := fs.String("filters", "", "filter counts for a .npy model: a nums_filters .npy file, or five comma-separated counts")
	formatFlag := fs.String("format", "", "model file format: keras, weights.h5, npy or pt (default: from the name or content)")
	activation := fs.String("activation", "", "shared model in a .weights.h5: relu or linear (default: from the file's activation groups)")
	if err := parseFlags(fs, args, 2); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("replicate predict: want a model file and images (see replicate predict -h)")
	}
	switch *activation {
	case "", model.ReLU, model.Linear:
	default:
		return usagef("-activation %q: want relu or linear", *activation)
	}
	opts := predict.Options{
		Model:  modelfile.Options{Format: *formatFlag, Filters: *filtersFlag, SharedActivation: *activation},
		Images: predict.ImageOptions{NoResize: *noResize},
	}
	r, err := predict.Run(fs.Arg(0), fs.Arg(1), opts)
	switch {
	case errors.Is(err, modelfile.ErrOption):
		return &usageError{err: err}
	case errors.Is(err, modelfile.ErrUnknownFormat):
		return fmt.Errorf("%w; use -format", err)
	case errors.Is(err, modelfile.ErrNoFilters):
		return fmt.Errorf("%w; pass -filters FILE or -filters F0,F1,F2,F3,F4", err)
	case err != nil:
		return err
	}
	if n := len(r.Images.Skipped); n > 0 {
		fmt.Fprintf(stderr, "passed over %d files that are not .jpg, .jpeg or .png images (first: %s)\n", n, r.Images.Skipped[0])
	}
	if r.Images.Resized > 0 {
		fmt.Fprintf(stderr, "resized %d of %d images to 112×112 (Pillow's bicubic filter)\n", r.Images.Resized, r.Images.N())
	}
	npyPath, csvPath, err := r.Write(*prefix)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "predicted %d images × %d outputs with %s (%v); wrote %s (float32) and %s\n",
		r.Images.N(), len(r.Columns), fs.Arg(0), r.Model.Format, npyPath, csvPath)
	return nil
}
