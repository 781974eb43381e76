package sharedfilters

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"sync"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// Null populations of the filter comparison.
const (
	nullGlorot      = 1 // kernels drawn from the upstream initialiser (GlorotUniform)
	nullShuffled    = 2 // the model's own kernels, spatial positions shuffled
	nullSmoothed    = 3 // initialiser kernels smoothed once as the upstream training smoothed them
	nullSmoothedAll = 4 // initialiser kernels smoothed as often as the upstream training smoothed them
)

// upstreamSmoothings is how often the upstream training smoothed the depthwise kernels of layers
// 1-4 (reference/upstream.md §8): after each of the 24 image zips of the distillation and again of the retraining
// after pruning.
const upstreamSmoothings = 48

// Dist keys and labels, in the order the figures show them.
var distKeys = map[int]string{0: "observed", nullGlorot: "initialiser", nullShuffled: "shuffled",
	nullSmoothed: "initialiser_smoothed1", nullSmoothedAll: "initialiser_smoothed48"}
var distLabels = map[int]string{0: "compact models", nullGlorot: "null: initialiser", nullShuffled: "null: spatially shuffled",
	nullSmoothed: "null: initialiser, smoothed once", nullSmoothedAll: "null: initialiser, smoothed 48×"}

// initShape is the shape of a layer's kernel in the network the upstream distillation started
// from (100 filters in every layer, reference/upstream.md §8), whose GlorotUniform limit the null draws use.
// (The limit only scales the kernels, which the comparison normalises away.)
func initShape(l int) []int {
	if l == 0 {
		return []int{kernelSize, kernelSize, 3, 100}
	}
	return []int{kernelSize, kernelSize, 100, 1}
}

func nullSource(kind, layer, index int) *rand.Rand {
	return rand.New(metrics.NewSource(nullSeed + uint64(kind)<<32 + uint64(layer)<<24 + uint64(index)))
}

// Dist is the similarity structure of one population of kernels (observed or null).
type simDist struct {
	Kind     int
	Vectors  int
	Excluded int // kernels without a direction (constant after removing the mean)
	// FilterMedian holds, for every kernel, the median over the other models of its best match
	// in that model: the distribution the similarity figure shows.
	FilterMedian []float64
	// Pair is the model-by-model similarity (mean best match, symmetrised); ModelMean its row
	// means (NaN for a model without kernels).
	Pair      [][]float64
	ModelMean []float64
	PairVals  []float64 // the upper triangle of Pair
}

// NullTest compares the observed population with one null population.
type nullResult struct {
	Kind int
	// AUC is the probability that an observed model pair is more similar than a null pair.
	AUC float64
	// Wins counts models whose mean similarity to the other models exceeds that of their own
	// null counterpart (same filter count), Losses the reverse; P is the two-sided sign test.
	Wins, Losses int
	P            float64
	// AboveQ99 is the fraction of observed pairs more similar than the null's 99th percentile.
	AboveQ99 float64
}

// LayerSim is the comparison of one layer's kernels.
type layerSim struct {
	Layer int
	Kind  string // "kernel": centred kernels, |cos|; "response": |r| of responses to image patches
	Dists []*simDist
	Tests []nullResult
}

// Similarity holds every layer's comparison.
type similarity struct {
	Layers        []*layerSim
	Patches       int       // image patches of the response-based comparison
	VarianceShare []float64 // of the patches' principal components, largest first
}

// analyseSimilarity compares the kernels of layers 0-4 across models, and layer 0 also by
// responses to natural-image patches.
func analyseSimilarity(ctx context.Context, env *harness.Env, models []*eval.Compact, pm *patchSpace) (*similarity, error) {
	sim := &similarity{Patches: pm.Patches, VarianceShare: pm.VarianceShare}
	type job struct {
		layer int
		kind  string
	}
	jobs := []job{{0, "kernel"}, {0, "response"}}
	for l := 1; l < model.NumLayers; l++ {
		jobs = append(jobs, job{l, "kernel"})
	}
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kinds := []int{0, nullGlorot, nullShuffled}
		if j.layer > 0 {
			kinds = append(kinds, nullSmoothed, nullSmoothedAll)
		}
		ls := &layerSim{Layer: j.layer, Kind: j.kind}
		for _, kind := range kinds {
			vecs, excluded, err := layerVectors(models, j.layer, kind, j.kind, pm)
			if err != nil {
				return nil, err
			}
			d, err := similarityDist(vecs)
			if err != nil {
				return nil, err
			}
			d.Kind, d.Excluded = kind, excluded
			ls.Dists = append(ls.Dists, d)
		}
		obs := ls.Dists[0]
		for _, d := range ls.Dists[1:] {
			t, err := nullTest(obs, d)
			if err != nil {
				return nil, fmt.Errorf("layer %d %s vs %s: %w", j.layer, j.kind, distKeys[d.Kind], err)
			}
			ls.Tests = append(ls.Tests, t)
		}
		sim.Layers = append(sim.Layers, ls)
		env.Logf("similarity layer %d (%s): median best match %.3f; %s", j.layer, j.kind,
			metrics.Median(obs.FilterMedian), testsString(ls))
	}
	return sim, nil
}

func testsString(ls *layerSim) string {
	s := ""
	for i, t := range ls.Tests {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("vs %s: median %.3f, AUC %.3f, %d/%d models above", distKeys[t.Kind],
			metrics.Median(ls.Dists[i+1].FilterMedian), t.AUC, t.Wins, t.Wins+t.Losses)
	}
	return s
}

// layerVectors builds the normalised kernels of every model for one layer and population.
func layerVectors(models []*eval.Compact, layer, kind int, how string, pm *patchSpace) ([][][]float64, int, error) {
	limit, err := nn.GlorotLimit(initShape(layer))
	if err != nil {
		return nil, 0, err
	}
	per := make([][][]float64, len(models))
	excluded := 0
	for i, m := range models {
		ks, err := trunkKernels(m.Net, layer)
		if err != nil {
			return nil, 0, err
		}
		channels := 1
		if layer == 0 {
			channels = 3
		}
		dim := spatial * channels
		var raw [][]float64
		switch kind {
		case 0:
			raw = ks
		case nullGlorot, nullSmoothed, nullSmoothedAll:
			raw = glorotKernels(nullSource(nullGlorot, layer, m.Index), len(ks), dim, limit)
			passes := 0
			switch kind {
			case nullSmoothed:
				passes = 1
			case nullSmoothedAll:
				passes = upstreamSmoothings
			}
			for p := 0; p < passes; p++ {
				for j := range raw {
					if raw[j], err = smooth5x5(raw[j]); err != nil {
						return nil, 0, err
					}
				}
			}
		case nullShuffled:
			src := nullSource(nullShuffled, layer, m.Index)
			raw = make([][]float64, len(ks))
			for j, k := range ks {
				if raw[j], err = shuffleSpatial(src, k, channels); err != nil {
					return nil, 0, err
				}
			}
		default:
			return nil, 0, fmt.Errorf("unknown population %d", kind)
		}
		for _, v := range raw {
			var u []float64
			if how == "response" {
				u, err = pm.Transform(v)
			} else {
				u, err = unitCentred(v)
			}
			if errors.Is(err, metrics.ErrZeroVector) {
				excluded++
				continue
			}
			if err != nil {
				return nil, 0, fmt.Errorf("%s layer %d: %w", m.ID.Stem(), layer, err)
			}
			per[i] = append(per[i], u)
		}
	}
	return per, excluded, nil
}

func similarityDist(per [][][]float64) (*simDist, error) {
	dim := 0
	for _, vs := range per {
		if len(vs) > 0 {
			dim = len(vs[0])
			break
		}
	}
	if dim == 0 {
		return nil, fmt.Errorf("no kernels to compare")
	}
	fs, err := newFilterSet(dim, per)
	if err != nil {
		return nil, err
	}
	bm := bestMatches(fs, runtime.GOMAXPROCS(0))
	d := &simDist{Vectors: fs.Len(), FilterMedian: bm.FilterMedians()}
	d.Pair = bm.PairSimilarity()
	d.ModelMean = rowMeans(d.Pair)
	d.PairVals = upperTriangle(d.Pair)
	if len(d.PairVals) == 0 {
		return nil, fmt.Errorf("fewer than two models with kernels")
	}
	return d, nil
}

// FilterMedians returns, for every vector, the median of its best matches over the other models
// (NaN when no other model has vectors).
func (bm *bestMatch) FilterMedians() []float64 {
	nm := bm.Set.Models()
	out := make([]float64, bm.Set.Len())
	buf := make([]float64, 0, nm)
	for i := range out {
		buf = buf[:0]
		for _, x := range bm.Best[i*nm : (i+1)*nm] {
			if !math.IsNaN(x) {
				buf = append(buf, x)
			}
		}
		out[i] = metrics.Median(buf)
	}
	return out
}

func nullTest(obs, null *simDist) (nullResult, error) {
	t := nullResult{Kind: null.Kind}
	var err error
	if t.AUC, err = metrics.AUC(obs.PairVals, null.PairVals); err != nil {
		return t, err
	}
	var a, b []float64
	for i := range obs.ModelMean {
		if !math.IsNaN(obs.ModelMean[i]) && !math.IsNaN(null.ModelMean[i]) {
			a, b = append(a, obs.ModelMean[i]), append(b, null.ModelMean[i])
		}
	}
	if t.Wins, t.Losses, t.P, err = metrics.SignTest(a, b); err != nil {
		return t, err
	}
	q := metrics.Quantile(null.PairVals, 0.99)
	above := 0
	for _, x := range obs.PairVals {
		if x > q {
			above++
		}
	}
	t.AboveQ99 = float64(above) / float64(len(obs.PairVals))
	return t, nil
}

// Cluster analysis parameters.
const (
	clusterKMin       = 2
	clusterKMax       = 16
	clusterRestarts   = 3
	silhouetteSamples = 1500
)

// ClusterResult is the clustering of the pooled layer-0 kernels.
type clusterResult struct {
	Ks                  []int
	Fit, Silhouette     []float64 // observed kernels, per k
	NullFit, NullSilh   []float64 // initialiser null, per k
	Chosen              int       // k with the largest observed silhouette
	Vectors, Excluded   int
	Sample              int // kernels in the silhouette sample
	Centres             [][]float64
	Filters, ModelsUsed []int       // per cluster
	Usage               [][]float64 // [model][cluster]: fraction of the model's kernels
	ClustersPerModel    []int
	Kernels             *filterSet // the centred, normalised kernels clustered
	Assign              []int      // cluster of every kernel (labels as in Centres)
	Names               []string   // model stems
}

// analyseClusters clusters the pooled, centred layer-0 kernels for k = ClusterKMin…ClusterKMax,
// chooses k by the silhouette width, and reports how the models use the clusters.
func analyseClusters(ctx context.Context, env *harness.Env, models []*eval.Compact) (*clusterResult, error) {
	obsV, excl, err := layerVectors(models, 0, 0, "kernel", nil)
	if err != nil {
		return nil, err
	}
	nullV, _, err := layerVectors(models, 0, nullGlorot, "kernel", nil)
	if err != nil {
		return nil, err
	}
	obs, err := newFilterSet(spatial*3, obsV)
	if err != nil {
		return nil, err
	}
	null, err := newFilterSet(spatial*3, nullV)
	if err != nil {
		return nil, err
	}
	cr := &clusterResult{Vectors: obs.Len(), Excluded: excl, Kernels: obs}
	for _, m := range models {
		cr.Names = append(cr.Names, m.ID.Stem())
	}
	kmax := min(clusterKMax, obs.Len()-1)
	if kmax < clusterKMin {
		return nil, fmt.Errorf("%d kernels are too few to cluster", obs.Len())
	}
	for k := clusterKMin; k <= kmax; k++ {
		cr.Ks = append(cr.Ks, k)
	}
	fits := func(fs *filterSet, seedOff uint64) ([]*metrics.Clustering, []float64, int, error) {
		idx := sampleIndices(fs.Len(), silhouetteSamples, silhouetteSeed+seedOff)
		m := len(idx)
		dist := metrics.AxialDistances(fs.Vectors, idx)
		cls := make([]*metrics.Clustering, len(cr.Ks))
		sil := make([]float64, len(cr.Ks))
		errs := make([]error, len(cr.Ks))
		var wg sync.WaitGroup
		sem := make(chan struct{}, runtime.GOMAXPROCS(0))
		for i, k := range cr.Ks {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				if ctx.Err() != nil {
					errs[i] = ctx.Err()
					return
				}
				c, err := metrics.AxialKMeans(fs.Vectors, k, clusterRestarts, rand.New(metrics.NewSource(clusterSeed+seedOff+uint64(k))))
				if err != nil {
					errs[i] = err
					return
				}
				cls[i] = c
				sil[i], errs[i] = metrics.SilhouetteFromDistances(dist, m, c.Assign, k, idx)
			}()
		}
		wg.Wait()
		return cls, sil, m, errors.Join(errs...)
	}
	cls, sil, m, err := fits(obs, 0)
	if err != nil {
		return nil, err
	}
	ncls, nsil, _, err := fits(null, 1000)
	if err != nil {
		return nil, err
	}
	cr.Sample, cr.Silhouette, cr.NullSilh = m, sil, nsil
	best := 0
	for i := range cls {
		cr.Fit = append(cr.Fit, cls[i].Fit)
		cr.NullFit = append(cr.NullFit, ncls[i].Fit)
		if sil[i] > sil[best] {
			best = i
		}
	}
	cr.Chosen = cr.Ks[best]
	c := cls[best]

	// Relabel clusters by the number of models using them, then of kernels (descending).
	k := c.K
	filters := make([]int, k)
	users := make([]map[int]bool, k)
	for j := range users {
		users[j] = map[int]bool{}
	}
	for i, a := range c.Assign {
		filters[a]++
		users[a][obs.Owner(i)] = true
	}
	order := make([]int, k)
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool {
		ua, ub := len(users[order[a]]), len(users[order[b]])
		if ua != ub {
			return ua > ub
		}
		return filters[order[a]] > filters[order[b]]
	})
	newLabel := make([]int, k)
	for nl, old := range order {
		newLabel[old] = nl
		cr.Centres = append(cr.Centres, displaySign(c.Centres[old]))
		cr.Filters = append(cr.Filters, filters[old])
		cr.ModelsUsed = append(cr.ModelsUsed, len(users[old]))
	}
	for _, a := range c.Assign {
		cr.Assign = append(cr.Assign, newLabel[a])
	}
	cr.Usage = make([][]float64, obs.Models())
	cr.ClustersPerModel = make([]int, obs.Models())
	for mi := range cr.Usage {
		cr.Usage[mi] = make([]float64, k)
		n := obs.Start[mi+1] - obs.Start[mi]
		for i := obs.Start[mi]; i < obs.Start[mi+1]; i++ {
			cr.Usage[mi][newLabel[c.Assign[i]]] += 1 / float64(n)
		}
		for _, u := range cr.Usage[mi] {
			if u > 0 {
				cr.ClustersPerModel[mi]++
			}
		}
	}
	env.Logf("clusters: k = %d by silhouette (%.3f; initialiser null %.3f), models per cluster %v",
		cr.Chosen, sil[best], nsil[best], cr.ModelsUsed)
	return cr, nil
}

// displaySign flips a centre so that its largest-magnitude entry is positive (a centre's sign is
// arbitrary in the sign-invariant clustering).
func displaySign(c []float64) []float64 {
	out := slices.Clone(c)
	big := 0
	for i, x := range c {
		if math.Abs(x) > math.Abs(c[big]) {
			big = i
		}
	}
	if c[big] < 0 {
		for i := range out {
			out[i] = -out[i]
		}
	}
	return out
}

// Consolidation is the per-layer width of every model: filters and effective dimensionality.
type consolidation struct {
	Models        []*eval.Compact
	PR            [][model.NumLayers]float64
	MedianFilters [model.NumLayers]float64
	MedianPR      [model.NumLayers]float64
	// Narrowing transitions (1-4) of each model, and counts per transition (index 1-4).
	FilterNarrow, PRNarrow       []int
	FilterNarrowN, PRNarrowN     [transitions + 1]int
	ThreeInLayer2                int
	MedianPRPerFilter            [model.NumLayers]float64 // median of PR / filters
	MedianFilterRatio, MedianPRR [transitions + 1]float64 // median ratio x[l]/x[l−1]
}

func summariseConsolidation(models []*eval.Compact, pr [][model.NumLayers]float64) (*consolidation, error) {
	if len(models) != len(pr) {
		return nil, fmt.Errorf("%d models, %d dimensionalities", len(models), len(pr))
	}
	c := &consolidation{Models: models, PR: pr}
	for i, m := range models {
		f := make([]float64, model.NumLayers)
		for l := range f {
			f[l] = float64(m.Filters[l])
		}
		t, _, err := metrics.SharpestNarrowing(f)
		if err != nil {
			return nil, fmt.Errorf("%s filters: %w", m.ID.Stem(), err)
		}
		c.FilterNarrow = append(c.FilterNarrow, t)
		c.FilterNarrowN[t]++
		t, _, err = metrics.SharpestNarrowing(pr[i][:])
		if err != nil {
			return nil, fmt.Errorf("%s effective dimensionality: %w", m.ID.Stem(), err)
		}
		c.PRNarrow = append(c.PRNarrow, t)
		c.PRNarrowN[t]++
		if m.Filters[2] == 3 {
			c.ThreeInLayer2++
		}
	}
	for l := 0; l < model.NumLayers; l++ {
		var f, p, pf, rf, rp []float64
		for i, m := range models {
			f = append(f, float64(m.Filters[l]))
			p = append(p, pr[i][l])
			pf = append(pf, pr[i][l]/float64(m.Filters[l]))
			if l > 0 {
				rf = append(rf, float64(m.Filters[l])/float64(m.Filters[l-1]))
				rp = append(rp, pr[i][l]/pr[i][l-1])
			}
		}
		c.MedianFilters[l] = metrics.Median(f)
		c.MedianPR[l] = metrics.Median(p)
		c.MedianPRPerFilter[l] = metrics.Median(pf)
		if l > 0 {
			c.MedianFilterRatio[l] = metrics.Median(rf)
			c.MedianPRR[l] = metrics.Median(rp)
		}
	}
	return c, nil
}
