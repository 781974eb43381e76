// Package predict applies a compact model to a user's own images: any model file that
// internal/modelfile reads (a published single-neuron compact model or a rerun's, as .keras,
// .weights.h5, model_weights_npy .npy or PyTorch .pt; a shared compact model) on a zip archive or
// directory of JPEG and PNG images, or on an .npy array of images (readImages says exactly how
// images are decoded, checked and resized), and writes the predictions as .npy and CSV.
//
// The model runs through eval.Network, the evaluation layer's model, so that the numbers are
// those of the suite's experiments for the same model and images.
package predict

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"compactv4/eval"
	"compactv4/internal/model"
	"compactv4/internal/modelfile"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// Options adjust how the model and the images are read.
type Options struct {
	Model  modelfile.Options
	Images ImageOptions
}

// Result holds a model's predictions for a set of images.
type Result struct {
	Model  *modelfile.File
	Images *Images
	// Columns name the model's outputs (see columnNames).
	Columns []string
	// Values holds the outputs image after image: N·len(Columns) float32 values, as the model
	// computes them (float32, like Keras' model.predict).
	Values []float32
}

// batch is the number of images evaluated at once for an .npy of float images.
const batch = 64

// Run reads the model file modelPath and the images at imagesPath and predicts.
func Run(modelPath, imagesPath string, opts Options) (*Result, error) {
	mf, err := modelfile.Read(modelPath, opts.Model)
	if err != nil {
		return nil, err
	}
	net := eval.NewNetwork(stem(modelPath), nil, mf.Net)
	c, err := net.Compiled()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", modelPath, err)
	}
	if in := c.InputShape(); in.Flat || in.H != side || in.W != side || in.C != 3 {
		return nil, fmt.Errorf("%s takes inputs of %v, not %d×%d RGB images", modelPath, in, side, side)
	}
	im, err := readImages(imagesPath, opts.Images)
	if err != nil {
		return nil, err
	}
	r := &Result{Model: mf, Images: im, Columns: columnNames(modelPath, mf.Net, c.Outputs())}
	if im.Pix != nil {
		r.Values, err = net.Predict(im.Pix, im.N())
	} else {
		r.Values = make([]float32, im.N()*c.Outputs())
		for lo := 0; lo < im.N() && err == nil; lo += batch {
			hi := min(lo+batch, im.N())
			err = c.Forward(im.recentred(lo, hi), hi-lo, r.Values[lo*c.Outputs():hi*c.Outputs()])
		}
	}
	if err != nil {
		return nil, fmt.Errorf("predict %s: %w", modelPath, err)
	}
	return r, nil
}

// stem is a model file's name without its extension (.weights.h5 counting as one).
func stem(p string) string {
	b := filepath.Base(p)
	if s, ok := strings.CutSuffix(b, ".weights.h5"); ok {
		return s
	}
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// columnNames names the outputs of a model read from the file p: a shared compact model's 219
// outputs by the test-session neuron each predicts, "<session>_neuron<n>"
// (reference/upstream.md §4.6); a single output by the model's file name when that is a published
// compact model's (compact_model_<session>_neuron<n>), as "<session>_neuron<n>"; otherwise
// "output<j>", j from 0.
func columnNames(p string, net *model.Network, outputs int) []string {
	cols := make([]string, outputs)
	for j := range cols {
		cols[j] = "output" + strconv.Itoa(j)
	}
	if _, shared := model.SharedFilters(net); shared && outputs == v4data.SharedOutputs {
		for _, ts := range v4data.TestSessions {
			for n := 0; n < ts.Neurons && ts.Offset+n < outputs; n++ {
				cols[ts.Offset+n] = fmt.Sprintf("%s_neuron%d", ts.ID, n)
			}
		}
	} else if id, err := v4data.ParseCompactID(stem(p)); err == nil && outputs == 1 {
		cols[0] = fmt.Sprintf("%s_neuron%d", id.Session, id.Neuron)
	}
	return cols
}

// Write writes the predictions as prefix.npy (float32, shape (images, outputs), rows in the
// order of Images.Names) and prefix.csv (a header "image" followed by the column names, then one
// row per image: its name and its outputs, each the shortest decimal that reads back as the same
// float32, "NaN" for a NaN) and returns the two paths.
func (r *Result) Write(prefix string) (npyPath, csvPath string, err error) {
	n, k := r.Images.N(), len(r.Columns)
	var nb bytes.Buffer
	if err := npy.WriteFloat32(&nb, []int{n, k}, r.Values); err != nil {
		return "", "", err
	}
	var cb bytes.Buffer
	w := csv.NewWriter(&cb)
	row := append([]string{"image"}, r.Columns...)
	if err := w.Write(row); err != nil {
		return "", "", err
	}
	for i, name := range r.Images.Names {
		row[0] = name
		for j := 0; j < k; j++ {
			row[1+j] = formatFloat32(r.Values[i*k+j])
		}
		if err := w.Write(row); err != nil {
			return "", "", err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return "", "", err
	}
	npyPath, csvPath = prefix+".npy", prefix+".csv"
	if dir := filepath.Dir(prefix); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", "", err
		}
	}
	if err := os.WriteFile(npyPath, nb.Bytes(), 0o644); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(csvPath, cb.Bytes(), 0o644); err != nil {
		return "", "", err
	}
	return npyPath, csvPath, nil
}

func formatFloat32(v float32) string {
	switch {
	case math.IsNaN(float64(v)):
		return "NaN"
	case math.IsInf(float64(v), 1):
		return "Inf"
	case math.IsInf(float64(v), -1):
		return "-Inf"
	}
	return strconv.FormatFloat(float64(v), 'g', -1, 32)
}
