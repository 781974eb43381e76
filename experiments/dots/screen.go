package dots

import (
	"context"
	"fmt"
	"math"
	"sort"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/artificial"
	"compactv4/internal/blob"
	"compactv4/internal/dotsel"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/synth"
	"compactv4/internal/v4data"
)

// topNatural is the number of a model's most driving natural images whose blobness is averaged.
const topNatural = 5

// screened is what the screening found for one model.
type screened struct {
	M     *eval.Compact
	Resp  []float64 // responses to the artificial set, in set order
	Blank float64   // response to the blank background
	// Natural holds the responses to every image of the session, nil when its images are
	// missing (then the indices that need the natural range are NaN).
	Natural []float64
	Ix      dotsel.Indices
	// Top are the topNatural most driving natural images (0-based), BlobNatural the mean of
	// their blobness.
	Top         []int
	BlobNatural float64
	BestNatural []uint8 // pixels of the most driving natural image
	Synth       *synth.Synth
	SynthBlob   blob.Measure
	Rank        int     // 1 = most dot-like
	Score       float64 // dotsel.Rank's score
	// Consolidation is the trunk layer where the model's filter count narrows most.
	Consolidation int
	// Probe are the responses to the bar probe (chosen models with natural responses only).
	Probe probe
}

// screening is the outcome over all models: Models in load order, Ranked by rank.
type screening struct {
	Models []*screened
	Ranked []*screened
	Chosen []*screened
}

// blankImage is the background alone.
func blankImage() []uint8 {
	px := make([]uint8, artificial.Size*artificial.Size*3)
	bg := artificial.Background()
	for p := 0; p < len(px); p += 3 {
		copy(px[p:p+3], bg[:])
	}
	return px
}

// screen predicts every model's responses to the set, the blank and its session's images,
// synthesises its preferred stimulus, measures the indices and ranks the models.
func screen(ctx context.Context, env *harness.Env, d *eval.Data, set []artificial.Stimulus, models []*eval.Compact, p plan) (*screening, error) {
	pix, err := artificial.RenderAll(set)
	if err != nil {
		return nil, err
	}
	pix = append(pix, blankImage()...)
	n := len(set) + 1
	out := &screening{}
	for _, m := range models {
		pred, err := d.PredictImages(ctx, m, "artificial", pix, n)
		if err != nil {
			return nil, err
		}
		s := &screened{M: m, Resp: make([]float64, len(set)), Blank: float64(pred[len(set)])}
		for i := range set {
			s.Resp[i] = float64(pred[i])
		}
		if s.Consolidation, err = consolidationLayer(m.Filters); err != nil {
			return nil, fmt.Errorf("%s: %w", m.ID.Stem(), err)
		}
		out.Models = append(out.Models, s)
	}
	env.Logf("  %d models shown %d artificial stimuli", len(models), len(set))
	if err := naturalResponses(ctx, d, out.Models); err != nil {
		return nil, err
	}
	if err := synthesizeAll(ctx, env, out.Models, p.Synthesis); err != nil {
		return nil, err
	}
	sel := make([]float64, len(out.Models))
	bl := make([]float64, len(out.Models))
	for i, s := range out.Models {
		if err := measure(d, set, s); err != nil {
			return nil, fmt.Errorf("%s: %w", s.M.ID.Stem(), err)
		}
		sel[i], bl[i] = s.Ix.Selectivity, s.BlobNatural
	}
	ranked, err := dotsel.Rank(sel, bl)
	if err != nil {
		return nil, err
	}
	for r, x := range ranked {
		s := out.Models[x.Index]
		s.Rank, s.Score = r+1, x.Score
		out.Ranked = append(out.Ranked, s)
	}
	out.Chosen = out.Ranked[:min(p.Chosen, len(out.Ranked))]
	return out, nil
}

// naturalResponses predicts each model's responses to all images of its session (cached steps
// of eval, shared with other experiments); a session whose images are missing is recorded as
// not runnable.
func naturalResponses(ctx context.Context, d *eval.Data, ms []*screened) error {
	bySession := map[string][]*screened{}
	var order []string
	for _, s := range ms {
		if _, ok := bySession[s.M.ID.Session]; !ok {
			order = append(order, s.M.ID.Session)
		}
		bySession[s.M.ID.Session] = append(bySession[s.M.ID.Session], s)
	}
	for _, session := range order {
		group := bySession[session]
		ts, ok := v4data.LookupTestSession(session)
		if !ok {
			return fmt.Errorf("unknown test session %s", session)
		}
		ok, err := d.HasImages(session, fmt.Sprintf("the natural-image range, dot-selectivity indices and preferred natural images of its %d models are not computed (they rank last); their artificial-stimulus responses and synthesised stimuli are", len(group)))
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		mods := make([]eval.Model, len(group))
		for i, s := range group {
			mods[i] = s.M
		}
		pred, err := d.PredictEach(ctx, mods, session, 0, ts.Images)
		if err != nil {
			return err
		}
		for i, s := range group {
			s.Natural = make([]float64, len(pred[i]))
			for j, v := range pred[i] {
				s.Natural[j] = float64(v)
			}
		}
	}
	return nil
}

// measure computes a model's indices and the blobness of its preferred images.
func measure(d *eval.Data, set []artificial.Stimulus, s *screened) error {
	m, err := blob.Of(s.Synth.Image, s.Synth.H, s.Synth.W)
	if err != nil {
		return fmt.Errorf("synthesised image: %w", err)
	}
	s.SynthBlob = m
	if s.Natural == nil {
		s.Ix = nanIndices()
		s.BlobNatural = math.NaN()
		return nil
	}
	if s.Ix, err = dotsel.Measure(set, s.Resp, s.Blank, s.Natural); err != nil {
		return err
	}
	s.Top = topImages(s.Natural, topNatural)
	sum := 0.0
	for _, i := range s.Top {
		px, err := d.Pixels(s.M.ID.Session, i, i+1)
		if err != nil {
			return err
		}
		b, err := blob.Of(blob.Uint8(px), model.ImageSize, model.ImageSize)
		if err != nil {
			return fmt.Errorf("natural image %d: %w", i+1, err)
		}
		sum += b.Blobness
		if s.BestNatural == nil {
			s.BestNatural = append([]uint8(nil), px...)
		}
	}
	s.BlobNatural = sum / float64(len(s.Top))
	return nil
}

// nanIndices are the indices of a model without natural-image responses.
func nanIndices() dotsel.Indices {
	nan := math.NaN()
	return dotsel.Indices{
		Blank: nan, NatMedian: nan, NatMax: nan, BestDot: -1, BestControl: -1, DotNatural: nan,
		Selectivity: nan, PreferredRadius: nan, SizeSuppression: nan, SizeInvariance: nan,
		PositionInvariance: nan, NumberInvariance: nan,
	}
}

// topImages returns the indices of the k largest values, largest first (the earlier on ties).
func topImages(x []float64, k int) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return x[idx[a]] > x[idx[b]] })
	return idx[:min(k, len(idx))]
}

// consolidationLayer returns the trunk layer l (1-4) with the smallest ratio f[l]/f[l−1] of
// filter counts, the first on ties: where the model narrows most.
func consolidationLayer(f [model.NumLayers]int) (int, error) {
	var x [model.NumLayers]float64
	for l, n := range f {
		x[l] = float64(n)
	}
	l, _, err := metrics.SharpestNarrowing(x[:])
	if err != nil {
		return 0, fmt.Errorf("filter counts %v: %w", f, err)
	}
	return l, nil
}

// synthesizeAll synthesises every model's preferred stimulus (eval.SynthesizeAll), each a
// cached step.
func synthesizeAll(ctx context.Context, env *harness.Env, ms []*screened, p synth.Params) error {
	tasks := make([]eval.SynthTask, len(ms))
	for i, s := range ms {
		tasks[i] = eval.SynthTask{Experiment: "dots", Model: s.M, Seed: synth.ModelSeed(synthSeed, s.M.ID.Stem())}
	}
	ss, err := eval.SynthesizeAll(ctx, env, tasks, p)
	if err != nil {
		return err
	}
	for i, s := range ms {
		s.Synth = ss[i]
	}
	return nil
}
