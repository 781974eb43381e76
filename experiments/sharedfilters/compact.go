package sharedfilters

import (
	"bytes"
	"context"
	"fmt"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// dimImages is the number of natural images (image0001 … of the quick profile's test session,
// from the half that trained the teacher's mapping and is not used for evaluation) on which the
// effective dimensionality of every layer and the patch statistics of the response-based filter
// comparison are computed.
const dimImages = 128

// dimSession is the session of those images.
var dimSession = v4data.QuickSession.ID

// dimBatch is the number of images whose activations are held at once.
const dimBatch = 8

// trunkLayers are the outputs of the five trunk layers.
var trunkLayers = []string{"layer0_act", "layer1_act", "layer2_act", "layer3_act", "layer4_act"}

// dimensionality returns the participation ratio of every trunk layer's output of every model
// ([model][layer]) on the dimImages images, through the cache.
func dimensionality(ctx context.Context, env *harness.Env, d *eval.Data, models []*eval.Compact) ([][model.NumLayers]float64, error) {
	paths := []string{v4data.ImagesPath(dimSession)}
	for _, m := range models {
		paths = append(paths, m.Files()...)
	}
	inputs, err := env.Inputs(paths...)
	if err != nil {
		return nil, err
	}
	step := harness.Step{
		Name:    "sharedfilters/dimensionality",
		Inputs:  inputs,
		Params:  map[string]any{"session": dimSession, "images": dimImages, "batch": dimBatch, "stages": "layer0_act..layer4_act"},
		Code:    []string{"compactv4/eval"},
		Version: "1",
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pix, err := d.Pixels(dimSession, 0, dimImages)
		if err != nil {
			return nil, err
		}
		out := make([]float32, 0, len(models)*model.NumLayers)
		for k, m := range models {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			pr, err := eval.Dimensionality(m, pix, dimImages, dimBatch, trunkLayers)
			if err != nil {
				return nil, err
			}
			for _, v := range pr {
				out = append(out, float32(v))
			}
			if (k+1)%20 == 0 || k+1 == len(models) {
				env.Logf("  effective dimensionality: %d/%d models", k+1, len(models))
			}
		}
		return eval.EncodeFloat32([]int{len(models), model.NumLayers}, out)
	})
	if err != nil {
		return nil, err
	}
	flat, err := eval.DecodeFloat32("effective dimensionality", b, len(models), model.NumLayers)
	if err != nil {
		return nil, err
	}
	out := make([][model.NumLayers]float64, len(models))
	for i := range out {
		for l := range out[i] {
			out[i][l] = float64(flat[i*model.NumLayers+l])
		}
	}
	return out, nil
}

// patchMetric estimates the covariance of natural-image patches for the response-based
// comparison of layer-0 filters (through the cache) and factorises it.
func patchMetric(env *harness.Env, d *eval.Data) (*patchSpace, error) {
	inputs, err := env.Inputs(v4data.ImagesPath(dimSession))
	if err != nil {
		return nil, err
	}
	const dim = spatial * 3
	step := harness.Step{
		Name:   "sharedfilters/patch-covariance",
		Inputs: inputs,
		Params: map[string]any{"session": dimSession, "images": dimImages, "patch": "5x5x3 valid, stride 1"},
		Code:   []string{"compactv4/eval"},
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pix, err := d.Pixels(dimSession, 0, dimImages)
		if err != nil {
			return nil, err
		}
		x := make([]float32, len(pix))
		if err := nn.Recenter(pix, x); err != nil {
			return nil, err
		}
		cov, _, err := eval.PatchCovariance(x, dimImages, model.ImageSize, model.ImageSize, 3, kernelSize)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := npy.WriteFloat64(&buf, []int{dim, dim}, cov); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		return nil, err
	}
	patches := dimImages * (model.ImageSize - kernelSize + 1) * (model.ImageSize - kernelSize + 1)
	shape, cov, err := npy.ReadFloat64(bytes.NewReader(b))
	if err != nil || len(shape) != 2 || shape[0] != dim || shape[1] != dim {
		return nil, fmt.Errorf("cached patch covariance: shape %v, %v", shape, err)
	}
	return factorPatchCov(cov, dim, patches)
}
