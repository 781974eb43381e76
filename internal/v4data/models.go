package v4data

import (
	"bytes"
	"fmt"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"compactv4/internal/keras"
	"compactv4/internal/model"
	"compactv4/internal/npy"
	"compactv4/internal/torchpt"
)

// Folders of the model files in the upstream layout (reference/upstream.md §2.2, §2.3).
const (
	compactDir = "data_compact_models/"
	sharedDir  = "data_shared_compact_models/"
)

// CompactID names one of the 219 published single-neuron compact models: neuron Neuron (0-based,
// as in the file names) of test session Session.
type CompactID struct {
	Session string
	Neuron  int
}

// Stem is the file stem of the model's files, "compact_model_<session>_neuron<n>".
func (id CompactID) Stem() string {
	return "compact_model_" + id.Session + "_neuron" + strconv.Itoa(id.Neuron)
}

// String returns the stem.
func (id CompactID) String() string { return id.Stem() }

var compactStem = regexp.MustCompile(`^compact_model_([0-9]{6})_neuron(0|[1-9][0-9]{0,5})$`)

// ParseCompactID parses a file stem "compact_model_<session>_neuron<n>" (a file name with one of
// the model extensions is accepted too).
func ParseCompactID(stem string) (CompactID, error) {
	base := path.Base(strings.ReplaceAll(stem, "\\", "/"))
	for _, f := range []Format{FormatWeightsH5, FormatKeras, FormatNPY, FormatTorch} {
		base = strings.TrimSuffix(base, f.Ext())
	}
	base = strings.TrimSuffix(base, ".txt")
	m := compactStem.FindStringSubmatch(base)
	if m == nil {
		return CompactID{}, fmt.Errorf("%q is not a compact model name (want compact_model_<session>_neuron<n>)", stem)
	}
	n, _ := strconv.Atoi(m[2])
	return CompactID{Session: m[1], Neuron: n}, nil
}

// CompactIDs lists the published compact models, from the manifest's
// data_compact_models/models_keras/*.keras (whether or not the files are present), sorted by
// session in test-session order (190923, 201025, 210225, 211022) and then by neuron number.
func CompactIDs(s *Store) ([]CompactID, error) {
	paths, err := s.Match(compactDir + "models_keras/*.keras")
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("the manifest lists no %smodels_keras/*.keras", compactDir)
	}
	ids := make([]CompactID, 0, len(paths))
	for _, p := range paths {
		id, err := ParseCompactID(p)
		if err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		ids = append(ids, id)
	}
	order := TestSessionIDs()
	rank := func(s string) int {
		if i := slices.Index(order, s); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortFunc(ids, func(a, b CompactID) int {
		if ra, rb := rank(a.Session), rank(b.Session); ra != rb {
			return ra - rb
		}
		if c := strings.Compare(a.Session, b.Session); c != 0 {
			return c
		}
		return a.Neuron - b.Neuron
	})
	return ids, nil
}

// Format is one of the file formats in which the compact models are published.
type Format int

// The formats of data_compact_models (reference/upstream.md §2.2).
const (
	FormatKeras     Format = iota // models_keras/<stem>.keras: Keras 3 archive (config and weights)
	FormatWeightsH5               // model_weights_h5/<stem>.weights.h5: Keras 3 weights only
	FormatNPY                     // model_weights_npy/<stem>.npy: pickled get_weights() list
	FormatTorch                   // models_torch/<stem>.pt: PyTorch state dict
)

// Formats lists every format, in the order of the constants.
var Formats = []Format{FormatKeras, FormatWeightsH5, FormatNPY, FormatTorch}

var formatInfo = [...]struct{ name, ext, dir string }{
	FormatKeras:     {"keras", ".keras", "models_keras"},
	FormatWeightsH5: {"weights.h5", ".weights.h5", "model_weights_h5"},
	FormatNPY:       {"npy", ".npy", "model_weights_npy"},
	FormatTorch:     {"pt", ".pt", "models_torch"},
}

func (f Format) valid() bool { return f >= 0 && int(f) < len(formatInfo) }

// String returns the format's name: "keras", "weights.h5", "npy" or "pt".
func (f Format) String() string {
	if !f.valid() {
		return "Format(" + strconv.Itoa(int(f)) + ")"
	}
	return formatInfo[f].name
}

// Ext returns the file name extension of the format, with its dot (".weights.h5" for
// FormatWeightsH5).
func (f Format) Ext() string {
	if !f.valid() {
		return ""
	}
	return formatInfo[f].ext
}

// CompactPath returns the manifest path of a compact model's file in the format.
func (f Format) CompactPath(id CompactID) string {
	if !f.valid() {
		return ""
	}
	return compactDir + formatInfo[f].dir + "/" + id.Stem() + formatInfo[f].ext
}

// ParseFormat parses a format name as String returns it, with or without a leading dot; "h5" and
// "torch" are accepted too.
func ParseFormat(s string) (Format, error) {
	t := strings.ToLower(strings.TrimPrefix(s, "."))
	switch t {
	case "h5":
		return FormatWeightsH5, nil
	case "torch":
		return FormatTorch, nil
	}
	for _, f := range Formats {
		if t == f.String() {
			return f, nil
		}
	}
	return 0, fmt.Errorf("unknown model format %q (want keras, weights.h5, npy or pt)", s)
}

// LoadCompact reads a compact model in the given format through the verifying store, and returns
// its network named by the model's stem:
//
//   - FormatKeras: keras.ReadModel (configuration from config.json, weights from model.weights.h5);
//   - FormatWeightsH5: keras.ReadWeightsH5 (architecture recognised from the weight groups);
//   - FormatNPY: the 36 arrays of the pickled object array, set into model.NewCompact with the
//     filter counts of nums_filters/<stem>.npy;
//   - FormatTorch: torchpt.Compact, which converts the PyTorch layouts and undoes the checkpoint's
//     batchnorm running-variance shift (so the moving variances of layers 1-4 equal the Keras ones
//     only to within the bound torchpt documents; all other weights are bit-identical).
//
// Every format yields the architecture of model.NewCompact and the same numbers (reference/upstream.md §2.2);
// a file of another architecture is an error.
func LoadCompact(s *Store, id CompactID, f Format) (*model.Network, error) {
	if !f.valid() {
		return nil, fmt.Errorf("load %s: unknown format %v", id, f)
	}
	rel := f.CompactPath(id)
	b, err := s.ReadFile(rel)
	if err != nil {
		return nil, err
	}
	var net *model.Network
	r := bytes.NewReader(b)
	switch f {
	case FormatKeras:
		net, err = keras.ReadModel(r, r.Size())
	case FormatWeightsH5:
		net, err = keras.ReadWeightsH5(r, r.Size())
	case FormatNPY:
		net, err = compactFromNPY(s, id, r)
	case FormatTorch:
		var sd torchpt.StateDict
		if sd, err = torchpt.ReadStateDict(r, r.Size()); err == nil {
			net, err = torchpt.Compact(sd)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", rel, err)
	}
	if _, err := model.CompactFilters(net); err != nil {
		return nil, fmt.Errorf("load %s: %w", rel, err)
	}
	net.Name = id.Stem()
	return net, nil
}

func compactFromNPY(s *Store, id CompactID, r *bytes.Reader) (*model.Network, error) {
	ts, err := npy.ReadTensors(r)
	if err != nil {
		return nil, err
	}
	filters, err := NumsFilters(s, id)
	if err != nil {
		return nil, err
	}
	net, err := model.NewCompact(filters)
	if err != nil {
		return nil, err
	}
	if err := net.SetWeights(ts); err != nil {
		return nil, fmt.Errorf("with the filter counts %v of nums_filters: %w", filters, err)
	}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	return net, nil
}

// NumsFilters returns the filter counts of layers 0-4 of a compact model, from
// data_compact_models/nums_filters/<stem>.npy (an int64 array of shape (5,)).
func NumsFilters(s *Store, id CompactID) ([model.NumLayers]int, error) {
	var f [model.NumLayers]int
	rel := compactDir + "nums_filters/" + id.Stem() + ".npy"
	b, err := s.ReadFile(rel)
	if err != nil {
		return f, err
	}
	f, err = ParseNumsFilters(bytes.NewReader(b))
	if err != nil {
		return f, fmt.Errorf("read %s: %w", rel, err)
	}
	return f, nil
}

// ParseNumsFilters reads a nums_filters .npy file: five positive integers.
func ParseNumsFilters(r io.Reader) ([model.NumLayers]int, error) {
	var f [model.NumLayers]int
	shape, data, err := npy.ReadInt64(r)
	if err != nil {
		return f, err
	}
	if len(shape) != 1 || shape[0] != model.NumLayers {
		return f, fmt.Errorf("shape %v, want (%d,)", shape, model.NumLayers)
	}
	for i, v := range data {
		if v < 1 || v > 1<<20 {
			return f, fmt.Errorf("layer %d has %d filters", i, v)
		}
		f[i] = int(v)
	}
	return f, nil
}

// ModelSummary returns the printed Keras summary of a compact model
// (data_compact_models/model_summaries/<stem>.txt), which holds exactly one model.
func ModelSummary(s *Store, id CompactID) (keras.Summary, error) {
	rel := compactDir + "model_summaries/" + id.Stem() + ".txt"
	b, err := s.ReadFile(rel)
	if err != nil {
		return keras.Summary{}, err
	}
	sums, err := keras.ParseSummaries(bytes.NewReader(b))
	if err != nil {
		return keras.Summary{}, fmt.Errorf("read %s: %w", rel, err)
	}
	if len(sums) != 1 {
		return keras.Summary{}, fmt.Errorf("read %s: %d model summaries, want 1", rel, len(sums))
	}
	return sums[0], nil
}

// Teachers are the folders of data_shared_compact_models: the teacher each family of shared
// compact models was distilled from (reference/upstream.md §2.3). linear_from_ensemble_model has no ReLU layers.
var Teachers = []string{
	"from_ensemble_model", "linear_from_ensemble_model", "from_V4data_direct_fit",
	"from_resnet50", "from_resnet50_robust", "from_vgg19", "from_cornets",
}

// SharedKs are the numbers of filters K of layers 0-2 of the published shared compact models.
var SharedKs = []int{5, 10, 25, 35, 50, 75, 100, 200}

// SharedPath returns the manifest path of a shared compact model.
func SharedPath(teacher string, k int) string {
	return fmt.Sprintf("%s%s/shared_compact_model_%dfilters.keras", sharedDir, teacher, k)
}

// LoadShared reads the shared compact model distilled from teacher with K = k filters in layers
// 0-2 (keras.ReadModel), and names its network "<teacher>/shared_compact_model_<k>filters".
// It checks that the file's layer 0 has k filters.
func LoadShared(s *Store, teacher string, k int) (*model.Network, error) {
	if !slices.Contains(Teachers, teacher) {
		return nil, fmt.Errorf("unknown teacher %q (want one of %s)", teacher, strings.Join(Teachers, ", "))
	}
	if !slices.Contains(SharedKs, k) {
		return nil, fmt.Errorf("no shared compact model with K=%d (published: %v)", k, SharedKs)
	}
	rel := SharedPath(teacher, k)
	b, err := s.ReadFile(rel)
	if err != nil {
		return nil, err
	}
	r := bytes.NewReader(b)
	net, err := keras.ReadModel(r, r.Size())
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", rel, err)
	}
	if l := net.Layer("layer0_conv"); l == nil || l.Filters != k {
		return nil, fmt.Errorf("load %s: layer0_conv is not a layer of %d filters", rel, k)
	}
	net.Name = teacher + "/shared_compact_model_" + strconv.Itoa(k) + "filters"
	return net, nil
}
