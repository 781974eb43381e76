// Package ensemblefit runs the ensemble teacher of reference/upstream.md §6 on a session's images
// and maps it to neurons as reference/upstream.md §7 does: the stimuli are preprocessed
// (reference/upstream.md §3.2) and passed once through the ResNet50 trunk to conv4_block4_out;
// each member turns the trunk features into its embeddings (layer4_add, 7×7×512 flattened NHWC),
// which become a mapping.Design; one ridge regression per member is fitted on the training
// images and the members' predictions are averaged (upstream's get_ensemble_predictions).
//
// Memory: the trunk features of all images are held once (n·14·14·1024 floats, about 0.8 MB per
// image), one member's embeddings and Gram matrix at a time.
package ensemblefit

import (
	"fmt"

	"compactv4/internal/ensemble"
	"compactv4/internal/imagenet"
	"compactv4/internal/mapping"
	"compactv4/internal/nn"
)

// DefaultBatch is the number of images per pass through the trunk and the members.
const DefaultBatch = 32

// Teacher is the ensemble teacher's feature path, compiled.
type Teacher struct {
	Trunk   *nn.GraphNet   // ResNet50 to conv4_block4_out (imagenet.LoadResNet50)
	Members []*nn.GraphNet // the members (ensemble.ReadMember)
	Batch   int            // images per pass; 0: DefaultBatch
	// Names are the members' files, naming them in errors (optional: "member i" without).
	Names []string
}

// memberName names member i in errors: its file when Names has it.
func (t *Teacher) memberName(i int) string {
	if i < len(t.Names) {
		return fmt.Sprintf("member %d (%s)", i, t.Names[i])
	}
	return fmt.Sprintf("member %d", i)
}

// TrunkFeatures returns the trunk's output for n images of uint8 RGB pixels of side size
// (NHWC, as the sessions store them): preprocessed with imagenet.Preprocess and evaluated in
// batches.
func (t *Teacher) TrunkFeatures(pix []uint8, n, size int) ([]float32, error) {
	if t.Trunk == nil || len(t.Members) == 0 {
		return nil, fmt.Errorf("ensemble teacher: a trunk and at least one member are needed")
	}
	out, err := imagenet.Features(t.Trunk, pix, n, size, t.batch())
	if err != nil {
		return nil, fmt.Errorf("ensemble teacher, trunk: %w", err)
	}
	return out, nil
}

func (t *Teacher) batch() int {
	if t.Batch > 0 {
		return t.Batch
	}
	return DefaultBatch
}

// Embeddings returns member i's embeddings of the n images whose trunk features are feats.
func (t *Teacher) Embeddings(i int, feats []float32, n int) (mapping.Features, error) {
	if i < 0 || i >= len(t.Members) {
		return mapping.Features{}, fmt.Errorf("ensemble teacher: no member %d of %d", i, len(t.Members))
	}
	m, name := t.Members[i], t.memberName(i)
	in := m.InputShape().Size()
	if n < 1 || len(feats) != n*in {
		return mapping.Features{}, fmt.Errorf("ensemble teacher, %s: %d trunk values for %d images of %d", name, len(feats), n, in)
	}
	s, err := m.LayerShape(ensemble.EmbeddingLayer)
	if err != nil {
		return mapping.Features{}, fmt.Errorf("ensemble teacher, %s: %w", name, err)
	}
	f := mapping.Features{N: n, P: s.Size(), X: make([]float32, n*s.Size()), Name: name + " " + ensemble.EmbeddingLayer}
	batch := t.batch()
	for k := 0; k < n; k += batch {
		b := min(batch, n-k)
		if err := m.Activations(feats[k*in:(k+b)*in], b, []string{ensemble.EmbeddingLayer}, [][]float32{f.X[k*f.P : (k+b)*f.P]}); err != nil {
			return mapping.Features{}, fmt.Errorf("ensemble teacher, %s: %w", name, err)
		}
	}
	return f, nil
}

// Designs returns each member's mapping.Design of the n images whose trunk features are feats,
// computing one member's embeddings at a time, and, when train is not nil, the default ridge
// alpha of each member's embeddings for the images train (mapping.DefaultAlpha). Only the
// designs are kept (one Gram matrix per member).
func (t *Teacher) Designs(feats []float32, n int, train []int) ([]*mapping.Design, []float64, error) {
	designs := make([]*mapping.Design, len(t.Members))
	var defaults []float64
	for i := range t.Members {
		f, err := t.Embeddings(i, feats, n)
		if err != nil {
			return nil, nil, err
		}
		if designs[i], err = mapping.NewDesign(f); err != nil {
			return nil, nil, fmt.Errorf("ensemble teacher: %w", err)
		}
		if train != nil {
			a, err := mapping.DefaultAlpha(f, train)
			if err != nil {
				return nil, nil, fmt.Errorf("ensemble teacher: %w", err)
			}
			defaults = append(defaults, a)
		}
	}
	return designs, defaults, nil
}

// Ridge fits, for each member, scikit-learn's ridge regression (alpha, or mapping.Auto for the
// default alpha of that member's training embeddings) on the images train to targets y
// (y[n][k] for image train[k]) and returns the members' average prediction for the images rows,
// [neuron][image] (mapping.EnsemblePredict). feats are the trunk features of all the images
// (TrunkFeatures); only the members' Gram matrices are kept.
func (t *Teacher) Ridge(feats []float32, n int, train, rows []int, y [][]float64, alpha float64) ([][]float64, error) {
	var forDefault []int
	if alpha == mapping.Auto {
		forDefault = train
	}
	designs, alphas, err := t.Designs(feats, n, forDefault)
	if err != nil {
		return nil, err
	}
	if alpha != mapping.Auto {
		alphas = make([]float64, len(designs))
		for i := range alphas {
			alphas[i] = alpha
		}
	}
	pred, err := mapping.EnsemblePredict(designs, train, y, alphas, rows)
	if err != nil {
		return nil, fmt.Errorf("ensemble teacher: %w", err)
	}
	return pred, nil
}
