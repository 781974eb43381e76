package eval

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"sync"

	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

// A Model maps images to outputs.
type Model interface {
	// Name identifies the model in cache steps and messages, e.g. "compact_model_190923_neuron3".
	Name() string
	// Files are the pinned data files that define the model (manifest paths).
	Files() []string
	// Outputs is the number of values the model gives per image.
	Outputs() int
	// Predict returns the outputs for n uint8 RGB images (NHWC at the model's input size),
	// image after image: n·Outputs() values.
	Predict(pix []uint8, n int) ([]float32, error)
	// Activations evaluates n images up to the named layers and returns each layer's output for
	// all n images, in the order of layers: tensors of shape (n, H, W, C), or (n, C) for a flat
	// layer.
	Activations(pix []uint8, n int, layers []string) ([]model.Tensor, error)
}

// A Digester is a Model that can name itself by its content: models that no pinned file
// defines (a network trained in this run, a modified copy of a published one) must implement it
// for Data.Predict to cache their predictions.
type Digester interface {
	// Digest is a hash of everything that decides the model's outputs.
	Digest() string
}

// Network is a Model backed by a *model.Network, evaluated by the float32 kernels of
// internal/nn (compiled on first use).
type Network struct {
	Net   *model.Network
	name  string
	files []string

	once     sync.Once
	compiled *nn.Net
	err      error

	digestOnce sync.Once
	digest     string
}

// NewNetwork wraps a network that the given data files define.
func NewNetwork(name string, files []string, net *model.Network) *Network {
	return &Network{Net: net, name: name, files: files}
}

// NewCompact wraps a published single-neuron compact model loaded from its .keras file.
func NewCompact(id v4data.CompactID, net *model.Network) *Network {
	return NewNetwork(id.Stem(), []string{v4data.FormatKeras.CompactPath(id)}, net)
}

// NewShared wraps a published shared compact model (teacher folder, K).
func NewShared(teacher string, k int, net *model.Network) *Network {
	return NewNetwork(fmt.Sprintf("shared_%s_K%d", teacher, k), []string{v4data.SharedPath(teacher, k)}, net)
}

// Name implements Model.
func (m *Network) Name() string { return m.name }

// Files implements Model.
func (m *Network) Files() []string { return m.files }

// Digest implements Digester: the SHA-256 of the network's input shape, every layer's
// configuration and every weight's shape and bytes.
func (m *Network) Digest() string {
	m.digestOnce.Do(func() {
		h := sha256.New()
		fmt.Fprintf(h, "%q %v\n", m.Net.Name, m.Net.Input)
		var buf [4]byte
		for _, l := range m.Net.Layers {
			ws := l.Weights
			l.Weights = nil
			fmt.Fprintf(h, "%+v\n", l)
			for _, w := range ws {
				fmt.Fprintf(h, "%v\n", w.Shape)
				for _, x := range w.Data {
					binary.LittleEndian.PutUint32(buf[:], math.Float32bits(x))
					h.Write(buf[:])
				}
			}
		}
		m.digest = hex.EncodeToString(h.Sum(nil))
	})
	return m.digest
}

// Compiled returns the network compiled for inference.
func (m *Network) Compiled() (*nn.Net, error) {
	m.once.Do(func() {
		m.compiled, m.err = nn.Compile(m.Net)
		if m.err != nil {
			m.err = fmt.Errorf("%s: %w", m.name, m.err)
		}
	})
	return m.compiled, m.err
}

// Outputs implements Model.
func (m *Network) Outputs() int {
	c, err := m.Compiled()
	if err != nil {
		return 0
	}
	return c.Outputs()
}

// Predict implements Model.
func (m *Network) Predict(pix []uint8, n int) ([]float32, error) {
	c, err := m.Compiled()
	if err != nil {
		return nil, err
	}
	p, err := c.Predict(pix, n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	return p, nil
}

// Activations implements Model; layers are names of the network's layers (a stage of the
// compiled network ends at each, e.g. "layer2_act").
func (m *Network) Activations(pix []uint8, n int, layers []string) ([]model.Tensor, error) {
	c, err := m.Compiled()
	if err != nil {
		return nil, err
	}
	x := make([]float32, len(pix))
	if err := nn.Recenter(pix, x); err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	stages := make([]int, len(layers))
	dst := make([][]float32, len(layers))
	out := make([]model.Tensor, len(layers))
	all := c.Stages()
	for i, l := range layers {
		if stages[i], err = c.StageOf(l); err != nil {
			return nil, fmt.Errorf("%s: %w", m.name, err)
		}
		sh := all[stages[i]].Shape
		if sh.Flat {
			out[i] = model.NewTensor(n, sh.C)
		} else {
			out[i] = model.NewTensor(n, sh.H, sh.W, sh.C)
		}
		dst[i] = out[i].Data
	}
	if err := c.Activations(x, n, stages, dst); err != nil {
		return nil, fmt.Errorf("%s: %w", m.name, err)
	}
	return out, nil
}

// SessionRows returns a test session's output rows of a shared compact model's predictions
// (images × outputs, image after image, as Model.Predict returns them): row Offset+n is neuron n
// of the session (reference/upstream.md §4.6). The result is [neuron][image].
func SessionRows(pred []float32, images, outputs int, ts v4data.TestSession) ([][]float32, error) {
	if images < 1 || outputs < 1 || len(pred) != images*outputs {
		return nil, fmt.Errorf("predictions: %d values for %d images × %d outputs", len(pred), images, outputs)
	}
	if ts.Offset < 0 || ts.Neurons < 1 || ts.Offset+ts.Neurons > outputs {
		return nil, fmt.Errorf("session %s: outputs %d-%d of %d", ts.ID, ts.Offset, ts.Offset+ts.Neurons-1, outputs)
	}
	out := make([][]float32, ts.Neurons)
	for n := range out {
		row := make([]float32, images)
		for i := range row {
			row[i] = pred[i*outputs+ts.Offset+n]
		}
		out[n] = row
	}
	return out, nil
}

// Compact is a published single-neuron compact model.
type Compact struct {
	*Network
	ID v4data.CompactID
	// Index is the model's position among all published compact models (v4data.CompactIDs
	// order), which does not depend on the models a profile selects.
	Index   int
	Filters [model.NumLayers]int
}

// LoadCompacts loads, from their .keras files, the published compact models that keep selects
// (all of them when keep is nil), in v4data.CompactIDs order.
func LoadCompacts(ctx context.Context, s *v4data.Store, keep func(v4data.CompactID) bool) ([]*Compact, error) {
	ids, err := v4data.CompactIDs(s)
	if err != nil {
		return nil, err
	}
	var out []*Compact
	for i, id := range ids {
		if keep != nil && !keep(id) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		net, err := v4data.LoadCompact(s, id, v4data.FormatKeras)
		if err != nil {
			return nil, err
		}
		f, err := model.CompactFilters(net)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id.Stem(), err)
		}
		out = append(out, &Compact{Network: NewCompact(id, net), ID: id, Index: i, Filters: f})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no published compact model is selected")
	}
	return out, nil
}

// InSessions selects the compact models of the given sessions, for LoadCompacts.
func InSessions(sessions ...string) func(v4data.CompactID) bool {
	return func(id v4data.CompactID) bool { return slices.Contains(sessions, id.Session) }
}

// SessionModels returns the models of one test session, in neuron order, and checks that there
// is exactly one for each of its neurons.
func SessionModels(models []*Compact, ts v4data.TestSession) ([]*Compact, error) {
	var out []*Compact
	for _, m := range models {
		if m.ID.Session == ts.ID {
			if m.ID.Neuron != len(out) {
				return nil, fmt.Errorf("session %s: compact model of neuron %d where %d was expected", ts.ID, m.ID.Neuron, len(out))
			}
			out = append(out, m)
		}
	}
	if len(out) != ts.Neurons {
		return nil, fmt.Errorf("session %s: %d compact models, want %d", ts.ID, len(out), ts.Neurons)
	}
	return out, nil
}

// Models returns compact models as Models.
func Models(cs []*Compact) []Model {
	out := make([]Model, len(cs))
	for i, c := range cs {
		out[i] = c
	}
	return out
}
