// Package modelfile reads a model from a file of any format in which the paper's models are
// published (.keras, .weights.h5, a model_weights_npy .npy, a PyTorch .pt), named by its path on
// disk: a user's own file, a rerun's output or a published file, without the data manifest.
// internal/v4data reads the published files through the verifying store.
package modelfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"compactv4/internal/keras"
	"compactv4/internal/model"
	"compactv4/internal/npy"
	"compactv4/internal/torchpt"
	"compactv4/internal/v4data"
)

// ErrOption reports an option (format, filter counts, activation) that is malformed.
var ErrOption = errors.New("bad option")

// ErrNoFilters reports a .npy weight list whose filter counts are neither given nor found beside
// it.
var ErrNoFilters = errors.New("the filter counts of the 5 layers are needed")

// ErrUnknownFormat reports a file whose format neither its name nor its first bytes tell.
var ErrUnknownFormat = errors.New("cannot tell the model format from the name or the content")

// Options adjust how Read interprets a file.
type Options struct {
	// Format is "keras", "weights.h5", "npy" or "pt"; empty detects it from the name, else from
	// the content.
	Format string
	// Filters gives the filter counts of a .npy weight list: a nums_filters .npy file, or
	// "F0,F1,F2,F3,F4". Empty takes ../nums_filters/<stem>.npy beside the file, the layout of
	// the published data.
	Filters string
	// SharedActivation is "relu" or "linear" for a shared model's .weights.h5 (which holds no
	// configuration); empty recognises it from the file's activation groups.
	SharedActivation string
}

// File is a model read from a file.
type File struct {
	Net          *model.Network
	Format       v4data.Format
	KerasVersion string   // as the file records it (.keras only)
	Notes        []string // how the file was interpreted
}

// Read reads the model in a file.
func Read(path string, opts Options) (*File, error) {
	switch opts.SharedActivation {
	case "", model.ReLU, model.Linear:
	default:
		return nil, fmt.Errorf("activation %q: want relu or linear: %w", opts.SharedActivation, ErrOption)
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a model file", path)
	}
	var f v4data.Format
	if opts.Format != "" {
		if f, err = v4data.ParseFormat(opts.Format); err != nil {
			return nil, fmt.Errorf("%w: %w", err, ErrOption)
		}
	} else if f, err = detect(path, fh, st.Size()); err != nil {
		return nil, err
	}
	out := &File{Format: f}
	switch f {
	case v4data.FormatKeras:
		var m *keras.Model
		if m, err = keras.ReadArchive(fh, st.Size()); err == nil {
			out.Net, out.KerasVersion = m.Network, m.Metadata.KerasVersion
		}
	case v4data.FormatWeightsH5:
		out.Net, err = keras.ReadWeightsH5Options(fh, st.Size(), keras.WeightsOptions{SharedActivation: opts.SharedActivation})
		out.Notes = append(out.Notes, "architecture recognised from the weight groups (a weights file holds no configuration)")
	case v4data.FormatNPY:
		var from string
		if out.Net, from, err = readNPY(path, fh, opts.Filters); err == nil {
			out.Notes = append(out.Notes, "filter counts from "+from)
		}
	case v4data.FormatTorch:
		var sd torchpt.StateDict
		if sd, err = torchpt.ReadStateDict(fh, st.Size()); err == nil {
			out.Net, err = torchpt.Compact(sd)
		}
		out.Notes = append(out.Notes, fmt.Sprintf("batchnorm running_var of layers 1-4 shifted back by %g to the Keras moving variance (reference/upstream.md §4.5); epsilon is Keras' %g", torchpt.RunningVarShift, model.BNEpsilon))
	}
	if err != nil {
		return nil, fmt.Errorf("read %s (%v): %w", path, f, err)
	}
	return out, nil
}

// detect chooses the format from the file name, else from the first bytes.
func detect(name string, r io.ReaderAt, size int64) (v4data.Format, error) {
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
	return 0, fmt.Errorf("%s: %w (keras, weights.h5, npy or pt)", name, ErrUnknownFormat)
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

// readNPY reads a compact model's pickled weight list with its filter counts (see
// Options.Filters); from says where the counts came from.
func readNPY(file string, r io.Reader, filtersOpt string) (net *model.Network, from string, err error) {
	var filters [model.NumLayers]int
	path := filtersOpt
	switch {
	case path == "":
		stem := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
		path = filepath.Join(filepath.Dir(file), "..", "nums_filters", stem+".npy")
		if !fileExists(path) {
			return nil, "", fmt.Errorf("a .npy weight list needs the filter counts of its 5 layers, a nums_filters .npy or F0,F1,F2,F3,F4 (there is no %s): %w", path, ErrNoFilters)
		}
	case !fileExists(path) && strings.Contains(path, ","):
		if filters, err = parseFilters(path); err != nil {
			return nil, "", err
		}
		path = ""
	}
	if path == "" {
		from = "the filter counts " + filtersOpt
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

// parseFilters parses the filter counts "F0,F1,F2,F3,F4" of a compact model.
func parseFilters(s string) ([model.NumLayers]int, error) {
	var f [model.NumLayers]int
	parts := strings.Split(s, ",")
	if len(parts) != model.NumLayers {
		return f, fmt.Errorf("filters %q: want %d comma-separated counts or a file: %w", s, model.NumLayers, ErrOption)
	}
	for i, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return f, fmt.Errorf("filters %q: %q is not a positive count: %w", s, p, ErrOption)
		}
		f[i] = n
	}
	return f, nil
}

// WriteNPY writes a compact model in the layout of the published data
// (reference/upstream.md §2.2): its weights as a model_weights_npy file at path (npy.WriteTensors:
// the pickled list of get_weights() arrays, byte for byte as np.save writes it) and its filter
// counts as ../nums_filters/<stem>.npy beside it (int64, shape (5,)), where Read looks for them.
// Directories are created as needed; a file there is replaced.
func WriteNPY(path string, net *model.Network) error {
	filters, err := model.CompactFilters(net)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := net.Validate(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	var ts []model.Tensor
	for _, w := range net.Weights() {
		ts = append(ts, *w)
	}
	var wb, fb bytes.Buffer
	if err := npy.WriteTensors(&wb, ts); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	counts := make([]int64, len(filters))
	for i, f := range filters {
		counts[i] = int64(f)
	}
	if err := npy.WriteInt64(&fb, []int{len(counts)}, counts); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	fpath := filepath.Join(filepath.Dir(path), "..", "nums_filters", stem+".npy")
	for _, f := range []struct {
		path string
		data []byte
	}{{path, wb.Bytes()}, {fpath, fb.Bytes()}} {
		if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(f.path, f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
