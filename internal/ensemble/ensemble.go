// Package ensemble reads the members of the teacher's ensemble (reference/upstream.md §6): Keras
// 3 .keras archives of a graph network that maps ResNet50's conv4_block4_out (14×14×1024) through
// residual blocks of separable convolutions to 7×7×512 embeddings (the output of layer4_add) and a
// readout.
package ensemble

import (
	"fmt"
	"os"

	"compactv4/internal/keras"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// EmbeddingLayer is the member layer whose output the teacher's linear mappings read
// (get_embeddings_for_ith_member, reference/upstream.md §6).
const EmbeddingLayer = "layer4_add"

// MemberInput is the input of the real members: ResNet50's conv4_block4_out.
var MemberInput = model.Shape{H: 14, W: 14, C: 1024}

// EmbeddingSize is the spatial size of the embeddings (7×7; 512 channels in the real members).
const EmbeddingSize = 7

// ReadMember reads a member archive (.keras) and compiles it, after checking that it takes input
// of shape in (MemberInput for the real members) and has the embedding layer, of 7×7 pixels.
func ReadMember(path string, in model.Shape) (*model.Network, *nn.GraphNet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	net, err := keras.ReadModel(f, st.Size())
	if err != nil {
		return nil, nil, fmt.Errorf("ensemble member %s: %w", path, err)
	}
	if got := (model.Shape{H: net.Input[0], W: net.Input[1], C: net.Input[2]}); got != in {
		return nil, nil, fmt.Errorf("ensemble member %s takes input %v, want %v: not a member of this ensemble", path, got, in)
	}
	if net.Layer(EmbeddingLayer) == nil {
		return nil, nil, fmt.Errorf("ensemble member %s: no layer %q (not an ensemble member)", path, EmbeddingLayer)
	}
	g, err := nn.CompileGraph(net)
	if err != nil {
		return nil, nil, fmt.Errorf("ensemble member %s: %w", path, err)
	}
	if s, err := g.LayerShape(EmbeddingLayer); err != nil || s.H != EmbeddingSize || s.W != EmbeddingSize {
		return nil, nil, fmt.Errorf("ensemble member %s: %s gives %v (%v), want %d×%d pixels", path, EmbeddingLayer, s, err, EmbeddingSize, EmbeddingSize)
	}
	return net, g, nil
}
