// Package teacher gives the response that a student network is distilled to reproduce: for one
// neuron of a test session, the teacher's prediction on any images (reference/upstream.md §8).
//
// A teacher is named by a spec. The only kind today is
//
//	shared:<teacher folder>:<K>     e.g. shared:from_ensemble_model:200 (Default)
//
// the published shared compact model data_shared_compact_models/<folder>/
// shared_compact_model_<K>filters.keras (reference/upstream.md §4.6), distilled by the authors
// from that folder's teacher on their 12 M images: output row Offset+n of the shared model is
// neuron n of a test session. Any of the 7 folders (v4data.Teachers) and 8 values of K
// (v4data.SharedKs) are accepted. For one neuron the shared model is cut to that neuron's output:
// the 1×1 mixing stage keeps its column n and the 28×28 spatial pool its channel n, which leaves
// every other computation of the network as it is (checked against the full model's row in the
// tests).
package teacher

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"compactv4/eval"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// Default is the teacher of the distillation when none is named: the shared compact model
// distilled from the ensemble with K = 200, whose rows are the ensemble's predictions in
// compact form.
const Default = "shared:from_ensemble_model:200"

// ErrSpec reports a teacher spec that names no teacher this package has.
var ErrSpec = errors.New("unknown teacher")

// A Teacher gives, for each neuron of the test sessions, the teacher's response to images.
type Teacher interface {
	// Name is the teacher's spec, e.g. "shared:from_ensemble_model:200".
	Name() string
	// Files are the manifest paths of the data files that define the teacher.
	Files() []string
	// Neuron returns the teacher of neuron n (0-based) of a test session as a single-output
	// model: eval.Model's Predict gives its responses to uint8 RGB images (112×112, NHWC).
	Neuron(session string, n int) (*eval.Network, error)
	// All returns the teacher of every neuron of the test sessions as one model, neuron n of a
	// session at output Output(session, n); each output equals Neuron's model bit for bit.
	All() *eval.Network
	// Output is the output of All that is neuron n (0-based) of a test session.
	Output(session string, n int) (int, error)
}

// Spec is a parsed teacher spec.
type Spec struct {
	Kind   string // "shared"
	Folder string // a folder of data_shared_compact_models (v4data.Teachers)
	K      int    // filters of layers 0-2 (v4data.SharedKs)
}

// String returns the spec as Parse reads it.
func (s Spec) String() string { return s.Kind + ":" + s.Folder + ":" + strconv.Itoa(s.K) }

// Parse reads a teacher spec; "" is Default. An unknown kind, folder or K is an error wrapping
// ErrSpec that lists what exists.
func Parse(spec string) (Spec, error) {
	if spec == "" {
		spec = Default
	}
	parts := strings.Split(spec, ":")
	switch parts[0] {
	case "shared":
	case "ensemble":
		return Spec{}, fmt.Errorf("teacher %q: the 25-member ensemble is not available as a teacher (it needs the ImageNet ResNet50 trunk and member files that the data does not hold); use shared:<folder>:<K>: %w", spec, ErrSpec)
	default:
		return Spec{}, fmt.Errorf("teacher %q: want shared:<folder>:<K>, e.g. %s: %w", spec, Default, ErrSpec)
	}
	if len(parts) != 3 {
		return Spec{}, fmt.Errorf("teacher %q: want shared:<folder>:<K>, e.g. %s: %w", spec, Default, ErrSpec)
	}
	if !slices.Contains(v4data.Teachers, parts[1]) {
		return Spec{}, fmt.Errorf("teacher %q: no teacher folder %q (folders: %s): %w", spec, parts[1], strings.Join(v4data.Teachers, ", "), ErrSpec)
	}
	k, err := strconv.Atoi(parts[2])
	if err != nil || !slices.Contains(v4data.SharedKs, k) {
		return Spec{}, fmt.Errorf("teacher %q: no shared compact model with K=%q (published: %v): %w", spec, parts[2], v4data.SharedKs, ErrSpec)
	}
	return Spec{Kind: parts[0], Folder: parts[1], K: k}, nil
}

// Open returns the teacher a spec names, loading its files through the verifying store: a
// missing file is an error naming it, its SHA-1 and how to get it (v4data.MissingError).
func Open(s *v4data.Store, spec string) (Teacher, error) {
	sp, err := Parse(spec)
	if err != nil {
		return nil, err
	}
	net, err := v4data.LoadShared(s, sp.Folder, sp.K)
	if err != nil {
		return nil, fmt.Errorf("teacher %s: %w", sp, err)
	}
	if got := net.Layer("mixing_stage"); got == nil || got.Filters != v4data.SharedOutputs {
		return nil, fmt.Errorf("teacher %s: the shared model has no mixing stage of %d outputs", sp, v4data.SharedOutputs)
	}
	return &shared{spec: sp, net: net}, nil
}

// shared is a published shared compact model as a teacher.
type shared struct {
	spec Spec
	net  *model.Network
}

func (t *shared) Name() string    { return t.spec.String() }
func (t *shared) Files() []string { return []string{v4data.SharedPath(t.spec.Folder, t.spec.K)} }

// Output implements Teacher: the shared model's output row of the neuron.
func (t *shared) Output(session string, n int) (int, error) {
	ts, ok := v4data.LookupTestSession(session)
	if !ok {
		return 0, fmt.Errorf("teacher %s: %s is not a test session (test sessions: %s)", t.Name(), session, strings.Join(v4data.TestSessionIDs(), ", "))
	}
	if n < 0 || n >= ts.Neurons {
		return 0, fmt.Errorf("teacher %s: session %s has neurons 0-%d, not %d", t.Name(), session, ts.Neurons-1, n)
	}
	return ts.Offset + n, nil
}

// All implements Teacher: the shared model itself.
func (t *shared) All() *eval.Network {
	name := fmt.Sprintf("teacher_%s_%s_K%d", t.spec.Kind, t.spec.Folder, t.spec.K)
	return eval.NewNetwork(name, t.Files(), t.net)
}

// Neuron implements Teacher.
func (t *shared) Neuron(session string, n int) (*eval.Network, error) {
	row, err := t.Output(session, n)
	if err != nil {
		return nil, err
	}
	net, err := Row(t.net, row)
	if err != nil {
		return nil, fmt.Errorf("teacher %s: %w", t.Name(), err)
	}
	name := fmt.Sprintf("teacher_%s_%s_K%d_%s_neuron%d", t.spec.Kind, t.spec.Folder, t.spec.K, session, n)
	net.Name = name
	return eval.NewNetwork(name, t.Files(), net), nil
}

// Row returns a copy of a shared compact model cut to its output row: the mixing stage's column
// row and the spatial pool's channel row, each with its bias; the trunk is shared with net's
// weights (not copied), so the copy must not be trained.
func Row(net *model.Network, row int) (*model.Network, error) {
	out := &model.Network{Name: net.Name, Input: net.Input, Layers: slices.Clone(net.Layers)}
	mix, pool := -1, -1
	for i, l := range out.Layers {
		switch l.Name {
		case "mixing_stage":
			mix = i
		case "spatial_pool_stage":
			pool = i
		}
	}
	if mix < 0 || pool != mix+1 {
		return nil, fmt.Errorf("%s is not a shared compact model (no mixing stage followed by the spatial pool)", net.Name)
	}
	m, p := &out.Layers[mix], &out.Layers[pool]
	if len(m.Weights) != 2 || len(p.Weights) != 2 || len(m.Weights[0].Shape) != 4 || len(p.Weights[0].Shape) != 4 {
		return nil, fmt.Errorf("%s: mixing stage or spatial pool without kernel and bias", net.Name)
	}
	outs := m.Filters
	if row < 0 || row >= outs || m.Weights[0].Shape[3] != outs || p.Weights[0].Shape[2] != outs {
		return nil, fmt.Errorf("%s: output %d of %d", net.Name, row, outs)
	}
	mk, pk := m.Weights[0], p.Weights[0]
	cin, ph, pw := mk.Shape[2], pk.Shape[0], pk.Shape[1]
	nk := model.NewTensor(1, 1, cin, 1)
	for c := range cin {
		nk.Data[c] = mk.Data[c*outs+row]
	}
	np := model.NewTensor(ph, pw, 1, 1)
	for i := range ph * pw {
		np.Data[i] = pk.Data[i*outs+row]
	}
	m.Filters = 1
	m.Weights = []model.Tensor{nk, {Shape: []int{1}, Data: []float32{m.Weights[1].Data[row]}}}
	p.Weights = []model.Tensor{np, {Shape: []int{1}, Data: []float32{p.Weights[1].Data[row]}}}
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("%s cut to output %d: %w", net.Name, row, err)
	}
	return out, nil
}
