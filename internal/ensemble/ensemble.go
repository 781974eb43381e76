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

// ReadMember reads a member archive (.keras), checks that it has the embedding layer, and compiles
// it.
func ReadMember(path string) (*model.Network, *nn.GraphNet, error) {
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
	if net.Layer(EmbeddingLayer) == nil {
		return nil, nil, fmt.Errorf("ensemble member %s: no layer %q (not an ensemble member)", path, EmbeddingLayer)
	}
	g, err := nn.CompileGraph(net)
	if err != nil {
		return nil, nil, fmt.Errorf("ensemble member %s: %w", path, err)
	}
	return net, g, nil
}
