// Package prune implements upstream's pruning of a distilled student (reference/upstream.md §8,
// class_pruning.PruningClass, step 1 of script_prune_step1_prune_distilled_model.py): it decides
// which filters of each layer of a compact model to keep, from the student's activations on
// held-out images and the teacher's responses to them, and Reconstruct builds the smaller network
// from the kept filters, ready for retraining.
//
// # Step 1
//
// Layer 4 first, then layers 3, 2, 1, 0, each on the network as already pruned:
//
//   - Layer 4 (prune_last_layer): u_c(img) = Σ_{Y,X} Beta[Y,X,c]·act4[img,Y,X,c] is filter c's
//     contribution to the output; filters are ranked by the standard deviation of u_c over
//     images, ascending, and left out one after another while the squared Pearson correlation of
//     the remaining sum with the teacher stays above threshold × its value with every filter.
//   - Layer l = 3…0 (prune_layer): z_j is the depthwise output of layer l+1 for input channel j
//     (filter j of layer l), P the pointwise kernel of layer l+1 with the columns of its removed
//     filters zeroed. Filters are ranked by Σ_{img,Y,X}(z_j − mean over images)²·Σ_o P[j,o]², and
//     a binary search finds how many of the lowest-ranked to remove so that the pointwise output
//     without them keeps a fraction of variance of at least threshold (absolute).
//   - At least MinFilters filters are kept in every layer.
//
// Both rules remove one filter more than their criterion allows (upstream quirk B9); Options.Exact
// removes only what the criterion allows.
//
// Batchnorm is in inference mode throughout. The fraction of variance of prune_layer,
// 1 − Σ((Ŷ_K − mean) − (Y − mean))² / Σ(Y − mean)², is computed from the covariance matrix G of
// the z_j over images and pixels: Ŷ_K − Y = −Σ_{j∈R} z_j·P[j,:] for the removed set R, so the sum
// of squares is Σ_{j,k∈R} G[j,k]·(P·Pᵀ)[j,k]. The activations come from internal/nn in float32,
// as Keras computes them; the sums are float64 (upstream sums float32 arrays with numpy), so
// fractions of variance agree with upstream's to about 1e-6 and a decision can differ only where a
// tested fraction lies that close to the threshold. Filters with equal scores keep index order
// (numpy's argsort leaves their order unspecified).
package prune

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

// Upstream's settings (PruningClass(step1_threshold=0.9), "keep at least 3 filters per layer").
const (
	DefaultThreshold  = 0.9
	DefaultMinFilters = 3
)

// Options adjust step 1. The zero value is upstream's rule.
type Options struct {
	// Threshold is the fraction of variance to keep: relative to the unpruned student's for
	// layer 4, absolute for layers 0-3. Zero means DefaultThreshold.
	Threshold float64
	// MinFilters is the number of filters every layer keeps at least. Zero means
	// DefaultMinFilters.
	MinFilters int
	// Exact removes the largest number of filters that keeps the threshold, instead of one more
	// (upstream quirk B9, reproduced by default).
	Exact bool
	// Batch is the number of images evaluated at a time (memory: about 5 MB per image for a
	// 100-filter layer 0). Zero means 8. The result does not depend on it.
	Batch int
	// Workers is the number of goroutines of the forward passes; zero means GOMAXPROCS. The
	// result does not depend on it.
	Workers int
}

// Criteria of the two rules, as Layer.Criterion names them.
const (
	CriterionOutput   = "output_contribution_std"            // layer 4
	CriterionVariance = "reconstructed_fraction_of_variance" // layers 0-3
)

// Layer is the decision for one layer.
type Layer struct {
	Layer     int    `json:"layer"`
	Criterion string `json:"criterion"`
	// Filters is the layer's number of filters in the student.
	Filters int `json:"filters"`
	// Kept are the student's filter indices kept, ascending; Removed those removed, lowest score
	// first.
	Kept    []int `json:"kept"`
	Removed []int `json:"removed"`
	// Scores is each filter's score (by filter index): the standard deviation of its output
	// contribution over images (layer 4), or its variance score (layers 0-3).
	Scores []float64 `json:"scores"`
	// FVFull is the fraction of variance with no filter removed: Pearson² of the student's summed
	// contributions with the teacher (layer 4), 1 (layers 0-3).
	FVFull float64 `json:"fv_full"`
	// Threshold is what a count's fraction of variance was compared with: Options.Threshold ×
	// FVFull, strictly greater passes (layer 4); Options.Threshold, greater or equal passes
	// (layers 0-3).
	Threshold float64 `json:"threshold"`
	// Tested lists the counts whose fraction of variance the rule computed, in the order it
	// computed them (layer 4: 0, 1, 2, … up to the first failure; layers 0-3: the binary
	// search's probes).
	Tested []Tested `json:"tested"`
	// Stop says why the binary search stopped (layers 0-3).
	Stop string `json:"stop,omitempty"`
	// Count is the number of filters the rule chose to remove, before MinFilters; len(Removed) is
	// the number removed.
	Count int `json:"count"`
	// Params is the parameter count (model.CompactParams) of the network after this layer's
	// removal, with the layers not yet pruned complete.
	Params int `json:"params"`
}

// Result is the outcome of step 1: the pruning path, layer 4 first.
type Result struct {
	Threshold  float64 `json:"threshold"`
	MinFilters int     `json:"min_filters"`
	Exact      bool    `json:"exact"`
	Images     int     `json:"images"`
	// FiltersBefore and FiltersAfter are the filter counts of layers 0-4 of the student and of
	// the pruned network.
	FiltersBefore [model.NumLayers]int `json:"filters_before"`
	FiltersAfter  [model.NumLayers]int `json:"filters_after"`
	ParamsBefore  int                  `json:"params_before"`
	// Steps are the layers in the order they were pruned: 4, 3, 2, 1, 0.
	Steps []Layer `json:"steps"`
}

// ErrInput reports a student, images or teacher responses that step 1 cannot work with.
var ErrInput = errors.New("pruning input")

// Kept returns the kept filter indices of layers 0-4.
func (r *Result) Kept() [model.NumLayers][]int {
	return r.KeptAfter(len(r.Steps))
}

// KeptAfter returns the kept filter indices of layers 0-4 after the first steps steps of the
// path (0: every filter), for evaluating the network along the path with Reconstruct.
func (r *Result) KeptAfter(steps int) [model.NumLayers][]int {
	var kept [model.NumLayers][]int
	for l := range kept {
		kept[l] = every(r.FiltersBefore[l])
	}
	for _, s := range r.Steps[:min(max(steps, 0), len(r.Steps))] {
		kept[s.Layer] = slices.Clone(s.Kept)
	}
	return kept
}

// Step1 decides which filters of the student to keep, from its activations on n held-out images
// pix (uint8 RGB, NHWC, n·112·112·3 bytes, recentred as reference/upstream.md §3.1 before use)
// and the teacher's responses to them.
func Step1(student *model.Network, pix []uint8, n int, teacher []float64, opts Options) (*Result, error) {
	if opts.Threshold == 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.MinFilters == 0 {
		opts.MinFilters = DefaultMinFilters
	}
	if opts.Batch == 0 {
		opts.Batch = 8
	}
	if !(opts.Threshold > 0 && opts.Threshold <= 1) || opts.MinFilters < 1 || opts.Batch < 1 || opts.Workers < 0 {
		return nil, fmt.Errorf("prune: threshold %v (want (0, 1]), min filters %d, batch %d, workers %d: %w", opts.Threshold, opts.MinFilters, opts.Batch, opts.Workers, ErrInput)
	}
	filters, err := model.CompactFilters(student)
	if err != nil {
		return nil, fmt.Errorf("prune: %w: %w", ErrInput, err)
	}
	if n < 2 || len(teacher) != n {
		return nil, fmt.Errorf("prune: %d images and %d teacher responses (want the same number, at least 2): %w", n, len(teacher), ErrInput)
	}
	for i, v := range teacher {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("prune: teacher response %d is %v: %w", i, v, ErrInput)
		}
	}
	st, err := collect(student, pix, n, opts.Batch, opts.Workers)
	if err != nil {
		return nil, fmt.Errorf("prune: %w: %w", ErrInput, err)
	}
	res := &Result{
		Threshold: opts.Threshold, MinFilters: opts.MinFilters, Exact: opts.Exact, Images: n,
		FiltersBefore: filters, FiltersAfter: filters, ParamsBefore: model.CompactParams(filters),
	}
	last, err := pruneLast(st, teacher, filters[4], opts)
	if err != nil {
		return nil, fmt.Errorf("prune layer 4: %w", err)
	}
	res.add(last)
	removedNext := last.Removed
	for l := model.NumLayers - 2; l >= 0; l-- {
		pw := student.Layer(fmt.Sprintf("layer%d_conv", l+1)).Weights[1] // (1,1,F_l,F_{l+1})
		step, err := pruneInner(st.dw[l], st.n, pw, removedNext, l, opts)
		if err != nil {
			return nil, fmt.Errorf("prune layer %d: %w", l, err)
		}
		res.add(step)
		removedNext = step.Removed
	}
	return res, nil
}

// add appends a step and updates the counts.
func (r *Result) add(s Layer) {
	r.FiltersAfter[s.Layer] = len(s.Kept)
	s.Params = model.CompactParams(r.FiltersAfter)
	r.Steps = append(r.Steps, s)
}

// finish fills Removed and Kept from the order and the count, keeping at least minFilters.
func (s *Layer) finish(order []int, minFilters int) {
	k := min(s.Count, max(len(order)-minFilters, 0))
	s.Removed = slices.Clone(order[:k])
	s.Kept = slices.Clone(order[k:])
	slices.Sort(s.Kept)
}

// pruneLast is prune_last_layer.
func pruneLast(st *stats, teacher []float64, f4 int, opts Options) (Layer, error) {
	n := st.n
	s := Layer{Layer: 4, Criterion: CriterionOutput, Filters: f4, Scores: make([]float64, f4)}
	col := make([]float64, n)
	for c := range f4 {
		for i := range n {
			col[i] = st.contrib[i*f4+c]
		}
		s.Scores[c] = math.Sqrt(metrics.NaNVar(col, 0))
	}
	order := ascending(s.Scores)
	sum := make([]float64, n)
	// fv(j): Pearson² of Σ_{i ≥ j} u_{order[i]} with the teacher.
	fv := func(j int) (float64, error) {
		for i := range n {
			t := 0.0
			for _, c := range order[j:] {
				t += st.contrib[i*f4+c]
			}
			sum[i] = t
		}
		return metrics.R2(sum, teacher)
	}
	full, err := fv(0)
	if err != nil {
		return s, err
	}
	if math.IsNaN(full) {
		return s, fmt.Errorf("the student's output or the teacher's responses are constant over the %d held-out images: %w", n, ErrInput)
	}
	s.FVFull = full
	s.Threshold = opts.Threshold * full
	if s.Count, s.Tested, err = walkLast(f4, opts.Threshold, full, opts.Exact, fv); err != nil {
		return s, err
	}
	s.finish(order, opts.MinFilters)
	return s, nil
}

// pruneInner is prune_layer(l): filters of layer l judged by layer l+1's pointwise output. pw is
// layer l+1's pointwise kernel; removedNext are layer l+1's removed filters, whose columns count
// as zero.
func pruneInner(d *dwStats, n int, pw model.Tensor, removedNext []int, l int, opts Options) (Layer, error) {
	c := d.c
	cout := pw.Shape[len(pw.Shape)-1]
	if pw.Size() != c*cout {
		return Layer{}, fmt.Errorf("pointwise kernel of shape %v for %d input channels", pw.Shape, c)
	}
	p := make([]float64, c*cout)
	for i, v := range pw.Data {
		p[i] = float64(v)
	}
	for _, o := range removedNext {
		for j := range c {
			p[j*cout+o] = 0
		}
	}
	s := Layer{Layer: l, Criterion: CriterionVariance, Filters: c, FVFull: 1, Threshold: opts.Threshold}
	s.Scores = d.pixelVariance(n)
	for j := range c {
		w := 0.0
		for o := range cout {
			w += p[j*cout+o] * p[j*cout+o]
		}
		s.Scores[j] *= w
	}
	order := ascending(s.Scores)
	// gq[j,k] = G[j,k]·(P·Pᵀ)[j,k] in the sorted order: the sum of squares of the removed set's
	// contribution is the sum of gq over its pairs.
	g := d.covariance()
	gq := make([]float64, c*c)
	total := 0.0
	for a, j := range order {
		for b, k := range order {
			q := 0.0
			for o := range cout {
				q += p[j*cout+o] * p[k*cout+o]
			}
			gq[a*c+b] = g[j*c+k] * q
			total += gq[a*c+b]
		}
	}
	if !(total > 0) {
		return s, fmt.Errorf("the pointwise output of layer %d has no variance over the held-out images: %w", l+1, ErrInput)
	}
	fv := func(k int) (float64, error) {
		ss := 0.0
		for a := range k {
			for b := range k {
				ss += gq[a*c+b]
			}
		}
		return 1 - ss/total, nil
	}
	var err error
	if s.Count, s.Stop, s.Tested, err = searchCount(c, opts.Threshold, opts.Exact, fv); err != nil {
		return s, err
	}
	s.finish(order, opts.MinFilters)
	return s, nil
}
