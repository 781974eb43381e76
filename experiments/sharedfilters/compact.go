package sharedfilters

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	"compactv4/harness"
	"compactv4/internal/imagezip"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// Compact is one published single-neuron compact model as the experiment uses it.
type Compact struct {
	ID      v4data.CompactID
	Index   int // position among all published compact models (v4data.CompactIDs order); seeds its null models
	Filters [model.NumLayers]int
	Net     *model.Network
}

func kerasPath(id v4data.CompactID) string { return v4data.FormatKeras.CompactPath(id) }

// loadCompacts loads the compact models of the sessions of the profile (their .keras files).
func loadCompacts(ctx context.Context, env *harness.Env, p Plan) ([]Compact, error) {
	ids, err := v4data.CompactIDs(env.Data)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range p.ModelSessions {
		want[s] = true
	}
	var out []Compact
	for i, id := range ids {
		if !want[id.Session] {
			continue
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		net, err := v4data.LoadCompact(env.Data, id, v4data.FormatKeras)
		if err != nil {
			return nil, err
		}
		f, err := model.CompactFilters(net)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id.Stem(), err)
		}
		out = append(out, Compact{ID: id, Index: i, Filters: f, Net: net})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no compact model of session(s) %v", p.ModelSessions)
	}
	env.Logf("loaded %d compact models", len(out))
	return out, nil
}

func isMissing(err error) bool {
	var me *v4data.MissingError
	return errors.As(err, &me)
}

// imageCache decodes each session's images once per run, and only when a step needs them.
type imageCache struct {
	env  *harness.Env
	sets map[string]*imagezip.Images
}

func (c *imageCache) get(session string) (*imagezip.Images, error) {
	if im, ok := c.sets[session]; ok {
		return im, nil
	}
	ts, ok := v4data.LookupTestSession(session)
	if !ok {
		return nil, fmt.Errorf("unknown test session %s", session)
	}
	im, err := v4data.LoadImages(c.env.Data, session, ts.Images)
	if err != nil {
		return nil, err
	}
	if im.H != model.ImageSize || im.W != model.ImageSize || im.N != ts.Images {
		return nil, fmt.Errorf("images of %s: %d of %d×%d, want %d of %d×%d", session, im.N, im.H, im.W, ts.Images, model.ImageSize, model.ImageSize)
	}
	if c.sets == nil {
		c.sets = map[string]*imagezip.Images{}
	}
	c.sets[session] = im
	return im, nil
}

// pixels returns images lo…hi−1 of a session.
func (c *imageCache) pixels(session string, lo, hi int) ([]uint8, error) {
	im, err := c.get(session)
	if err != nil {
		return nil, err
	}
	if lo < 0 || hi > im.N || lo >= hi {
		return nil, fmt.Errorf("images %d-%d of %s (%d images)", lo, hi, session, im.N)
	}
	px := im.H * im.W * 3
	return im.Pix[lo*px : hi*px], nil
}

// encodeFloat32 and decodeFloat32 store cached arrays as .npy bytes.
func encodeFloat32(shape []int, data []float32) ([]byte, error) {
	var b bytes.Buffer
	if err := npy.WriteFloat32(&b, shape, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// decodeCached reads a cached float32 array and checks its shape and values: a cache entry that
// does not decode, has another shape or holds NaN/Inf is an error (delete the cache to recompute).
func decodeCached(what string, b []byte, shape ...int) ([]float32, error) {
	got, data, err := npy.ReadFloat32(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cached %s: %w", what, err)
	}
	if len(got) != len(shape) {
		return nil, fmt.Errorf("cached %s: shape %v, want %v", what, got, shape)
	}
	for i := range got {
		if got[i] != shape[i] {
			return nil, fmt.Errorf("cached %s: shape %v, want %v", what, got, shape)
		}
	}
	for i, x := range data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("cached %s: value %d is %v", what, i, x)
		}
	}
	return data, nil
}

// predictCompacts returns the predictions of the given compact models (all of one session) for
// images lo…hi−1 of that session, model by model ([model][image]), through the cache.
func predictCompacts(ctx context.Context, env *harness.Env, imgs *imageCache, session string, models []Compact, lo, hi int) ([][]float32, error) {
	paths := []string{v4data.ImagesPath(session)}
	for _, m := range models {
		paths = append(paths, kerasPath(m.ID))
	}
	inputs, err := env.Inputs(paths...)
	if err != nil {
		return nil, err
	}
	n := hi - lo
	step := harness.Step{
		Name:   "sharedfilters/compact-predict/" + session,
		Inputs: inputs,
		Params: map[string]any{"format": "keras", "lo": lo, "hi": hi},
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pix, err := imgs.pixels(session, lo, hi)
		if err != nil {
			return nil, err
		}
		all := make([]float32, 0, len(models)*n)
		for k, m := range models {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			net, err := nn.Compile(m.Net)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.ID.Stem(), err)
			}
			p, err := net.Predict(pix, n)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.ID.Stem(), err)
			}
			all = append(all, p...)
			env.Logf("  compact model %s predicted (%d/%d)", m.ID.Stem(), k+1, len(models))
		}
		return encodeFloat32([]int{len(models), n}, all)
	})
	if err != nil {
		return nil, err
	}
	flat, err := decodeCached("compact predictions of "+session, b, len(models), n)
	if err != nil {
		return nil, err
	}
	out := make([][]float32, len(models))
	for i := range out {
		out[i] = flat[i*n : (i+1)*n]
	}
	return out, nil
}

// DimImages is the number of natural images (image0001 … of session DimSession, from the half
// that trained the teacher's mapping and is not used for evaluation) on which the effective
// dimensionality of every layer and the patch statistics of the response-based filter
// comparison are computed.
const (
	DimImages  = 128
	DimSession = "190923"
)

// dimBatch is the number of images whose activations are held at once.
const dimBatch = 8

// dimensionality returns the participation ratio of every trunk layer's output (layerK_act)
// of every model ([model][layer]) on the DimImages images, through the cache.
func dimensionality(ctx context.Context, env *harness.Env, imgs *imageCache, models []Compact) ([][model.NumLayers]float64, error) {
	paths := []string{v4data.ImagesPath(DimSession)}
	for _, m := range models {
		paths = append(paths, kerasPath(m.ID))
	}
	inputs, err := env.Inputs(paths...)
	if err != nil {
		return nil, err
	}
	step := harness.Step{
		Name:    "sharedfilters/dimensionality",
		Inputs:  inputs,
		Params:  map[string]any{"session": DimSession, "images": DimImages, "batch": dimBatch, "stages": "layer0_act..layer4_act"},
		Version: "1",
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pix, err := imgs.pixels(DimSession, 0, DimImages)
		if err != nil {
			return nil, err
		}
		x, err := recentreAll(pix)
		if err != nil {
			return nil, err
		}
		out := make([]float32, 0, len(models)*model.NumLayers)
		for k, m := range models {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			pr, err := modelDimensionality(m.Net, x, DimImages)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", m.ID.Stem(), err)
			}
			for _, v := range pr {
				out = append(out, float32(v))
			}
			if (k+1)%20 == 0 || k+1 == len(models) {
				env.Logf("  effective dimensionality: %d/%d models", k+1, len(models))
			}
		}
		return encodeFloat32([]int{len(models), model.NumLayers}, out)
	})
	if err != nil {
		return nil, err
	}
	flat, err := decodeCached("effective dimensionality", b, len(models), model.NumLayers)
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

// modelDimensionality evaluates one network on n recentred images x and returns the
// participation ratio of the channel covariance (over images and positions) of each trunk
// layer's output.
func modelDimensionality(net *model.Network, x []float32, n int) ([model.NumLayers]float64, error) {
	var pr [model.NumLayers]float64
	c, err := nn.Compile(net)
	if err != nil {
		return pr, err
	}
	stages := make([]int, model.NumLayers)
	accs := make([]*covAccum, model.NumLayers)
	dst := make([][]float32, model.NumLayers)
	all := c.Stages()
	for l := range stages {
		if stages[l], err = c.StageOf(fmt.Sprintf("layer%d_act", l)); err != nil {
			return pr, err
		}
		sh := all[stages[l]].Shape
		accs[l] = newCovAccum(sh.C)
		dst[l] = make([]float32, dimBatch*sh.Size())
	}
	in := c.InputShape().Size()
	for b0 := 0; b0 < n; b0 += dimBatch {
		bs := min(dimBatch, n-b0)
		d := make([][]float32, len(dst))
		for l := range dst {
			d[l] = dst[l][:bs*all[stages[l]].Shape.Size()]
		}
		if err := c.Activations(x[b0*in:(b0+bs)*in], bs, stages, d); err != nil {
			return pr, err
		}
		for l := range d {
			if err := accs[l].add(d[l]); err != nil {
				return pr, fmt.Errorf("layer %d: %w", l, err)
			}
		}
	}
	for l, a := range accs {
		cov, err := a.cov()
		if err != nil {
			return pr, fmt.Errorf("layer %d: %w", l, err)
		}
		if pr[l], err = ParticipationRatio(cov, a.F); err != nil {
			return pr, fmt.Errorf("layer %d: %w", l, err)
		}
	}
	return pr, nil
}

// patchMetric estimates the covariance of natural-image patches for the response-based
// comparison of layer-0 filters (through the cache) and factorises it.
func patchMetric(env *harness.Env, imgs *imageCache) (*PatchMetric, error) {
	inputs, err := env.Inputs(v4data.ImagesPath(DimSession))
	if err != nil {
		return nil, err
	}
	const dim = spatial * 3
	step := harness.Step{
		Name:   "sharedfilters/patch-covariance",
		Inputs: inputs,
		Params: map[string]any{"session": DimSession, "images": DimImages, "patch": "5x5x3 valid, stride 1"},
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		pix, err := imgs.pixels(DimSession, 0, DimImages)
		if err != nil {
			return nil, err
		}
		x, err := recentreAll(pix)
		if err != nil {
			return nil, err
		}
		cov, _, err := patchCovariance(x, DimImages, model.ImageSize, model.ImageSize, 3)
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
	patches := DimImages * (model.ImageSize - KernelSize + 1) * (model.ImageSize - KernelSize + 1)
	shape, cov, err := npy.ReadFloat64(bytes.NewReader(b))
	if err != nil || len(shape) != 2 || shape[0] != dim || shape[1] != dim {
		return nil, fmt.Errorf("cached patch covariance: shape %v, %v", shape, err)
	}
	return factorPatchCov(cov, dim, patches)
}
