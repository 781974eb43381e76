package sharedfilters

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// Tolerances of golden values. Kernel statistics are computed from the published weights (dot
// products in float32 by nn.Sgemm, whose assembly and pure-Go kernels round differently);
// activations and predictions go through the float32 inference kernels.
const (
	tolSim    = 1e-5 // similarities, AUCs, fractions
	tolPRRel  = 1e-4 // participation ratios (relative)
	tolMedian = 1e-5 // accuracy medians and CIs
	tolFit    = 1e-6 // k-means fits and silhouettes (float64 on the weights)
)

// deciles are the quantiles recorded for every distribution a histogram shows.
var deciles = []float64{0, 0.1, 0.25, 0.5, 0.75, 0.9, 1}

func layerKey(ls *layerSim) string { return fmt.Sprintf("similarity/layer%d_%s", ls.Layer, ls.Kind) }

func recordSimilarity(res *harness.Result, sim *similarity) error {
	v := &res.Values
	v.Exact("similarity/patches", float64(sim.Patches))
	for i := 0; i < 3 && i < len(sim.VarianceShare); i++ {
		v.Num(fmt.Sprintf("similarity/patch_variance_share_pc%d", i+1), sim.VarianceShare[i], tolSim, 0)
	}
	for _, ls := range sim.Layers {
		key := layerKey(ls)
		for _, d := range ls.Dists {
			dk := key + "/" + distKeys[d.Kind]
			v.Exact(dk+"/kernels", float64(d.Vectors))
			v.Exact(dk+"/excluded", float64(d.Excluded))
			for _, q := range deciles {
				v.Num(fmt.Sprintf("%s/filter_median_q%02.0f", dk, 100*q), metrics.Quantile(d.FilterMedian, q), tolSim, 0)
			}
			v.Num(dk+"/pair_median", metrics.Median(d.PairVals), tolSim, 0)
		}
		for _, t := range ls.Tests {
			tk := key + "/vs_" + distKeys[t.Kind]
			v.Num(tk+"/auc", t.AUC, tolSim, 0)
			v.Exact(tk+"/models_above", float64(t.Wins))
			v.Exact(tk+"/models_below", float64(t.Losses))
			v.Num(tk+"/sign_test_log10p", math.Log10(t.P), 1e-6, 0)
			v.Num(tk+"/pairs_above_null_q99", t.AboveQ99, tolSim, 0)
		}
	}
	c, err := c6Claim(sim)
	if err != nil {
		return err
	}
	res.Claims = append(res.Claims, c)
	res.Notes = append(res.Notes, "C6: "+c.Value+" — "+c.Detail)
	return nil
}

// supported reports whether a layer's observed kernels are more similar across models than under
// every null (see aboveNull).
func supported(ls *layerSim) bool {
	for i := range ls.Tests {
		if !aboveNull(ls, i) {
			return false
		}
	}
	return true
}

func findLayer(sim *similarity, layer int, kind string) *layerSim {
	for _, ls := range sim.Layers {
		if ls.Layer == layer && ls.Kind == kind {
			return ls
		}
	}
	return nil
}

func describeLayer(ls *layerSim) string {
	obs := ls.Dists[0]
	var parts []string
	for i, t := range ls.Tests {
		parts = append(parts, fmt.Sprintf("%s null %.3f (AUC %.3f, %d of %d models above, sign test p = %.1e, %.0f %% of pairs above its 99th percentile)",
			strings.ReplaceAll(distKeys[t.Kind], "_", " "), metrics.Median(ls.Dists[i+1].FilterMedian), t.AUC, t.Wins, t.Wins+t.Losses, t.P, 100*t.AboveQ99))
	}
	return fmt.Sprintf("median best match %.3f vs %s", metrics.Median(obs.FilterMedian), strings.Join(parts, "; "))
}

// aboveNull reports whether the observed kernels beat one null: median per-kernel best match
// above the null's, AUC of pair similarities > 0.5, and more models above their null
// counterpart than below with a sign-test p < 0.01.
func aboveNull(ls *layerSim, i int) bool {
	t := ls.Tests[i]
	return metrics.Median(ls.Dists[0].FilterMedian) > metrics.Median(ls.Dists[i+1].FilterMedian) &&
		t.AUC > 0.5 && t.Wins > t.Losses && t.P < 0.01
}

func nullsBeaten(ls *layerSim) (beaten, failed []string) {
	for i, t := range ls.Tests {
		name := strings.ReplaceAll(distKeys[t.Kind], "_", " ")
		if aboveNull(ls, i) {
			beaten = append(beaten, name)
		} else {
			failed = append(failed, name)
		}
	}
	return beaten, failed
}

func c6Claim(sim *similarity) (harness.ClaimResult, error) {
	l0 := findLayer(sim, 0, "kernel")
	r0 := findLayer(sim, 0, "response")
	if l0 == nil || r0 == nil {
		return harness.ClaimResult{}, fmt.Errorf("layer-0 comparison missing")
	}
	n := len(l0.Dists[0].ModelMean)
	verdict := "supported: early filters are more similar across models than under both null models"
	if !supported(l0) {
		verdict = "NOT supported: early filters are not more similar across models than under both null models"
	}
	value := fmt.Sprintf("%d compact models, %d layer-0 kernels; %s. Kernels (|cos| after removing each kernel's mean): %s",
		n, l0.Dists[0].Vectors, verdict, describeLayer(l0))
	var detail []string
	beaten, failed := nullsBeaten(r0)
	check := fmt.Sprintf("Check by |r| of layer-0 responses to %d natural-image patches: %s", sim.Patches, describeLayer(r0))
	if len(failed) == 0 {
		check += " — agrees"
	} else {
		check += fmt.Sprintf(" — above the %s null(s) but not the %s null(s)", orNone(beaten), strings.Join(failed, ", "))
		if len(sim.VarianceShare) >= 3 {
			check += fmt.Sprintf(": the first three principal components of the patches carry %.0f %%, %.0f %% and %.0f %% of their variance, so the responses of unrelated filters (random ones in particular) are strongly correlated and this measure hardly tells filters apart",
				100*sim.VarianceShare[0], 100*sim.VarianceShare[1], 100*sim.VarianceShare[2])
		}
	}
	detail = append(detail, check)
	var deeper []string
	for l := 1; l < model.NumLayers; l++ {
		ls := findLayer(sim, l, "kernel")
		b, f := nullsBeaten(ls)
		s := fmt.Sprintf("layer %d %.3f", l, metrics.Median(ls.Dists[0].FilterMedian))
		for i := range ls.Tests {
			s += fmt.Sprintf(", %s %.3f", strings.ReplaceAll(distKeys[ls.Tests[i].Kind], "_", " "), metrics.Median(ls.Dists[i+1].FilterMedian))
		}
		if len(f) == 0 {
			s += " (above every null)"
		} else {
			s += fmt.Sprintf(" (above %s; not above %s)", orNone(b), strings.Join(f, ", "))
		}
		deeper = append(deeper, s)
	}
	l1, l2 := findLayer(sim, 1, "kernel"), findLayer(sim, 2, "kernel")
	l3, l4 := findLayer(sim, 3, "kernel"), findLayer(sim, 4, "kernel")
	med := func(ls *layerSim) float64 { return metrics.Median(ls.Dists[0].FilterMedian) }
	detail = append(detail, fmt.Sprintf("Depthwise kernels, median best match: %s. The upstream training smoothed these kernels %d times (reference/upstream.md §8), which alone makes random kernels alike, so their similarity shows learned sharing only where it exceeds the %d-times-smoothed null; but all four layers were smoothed equally often, and layers 1-2 (%.3f, %.3f) are far more alike across models than layers 3-4 (%.3f, %.3f)",
		strings.Join(deeper, "; "), upstreamSmoothings, upstreamSmoothings, med(l1), med(l2), med(l3), med(l4)))
	detail = append(detail, "'Above a null' means: median per-kernel best match above the null's, AUC of model-pair similarities > 0.5, and a sign test over models (each against its own null with the same filter counts) with p < 0.01. The paper's statistics are not available")
	return harness.ClaimResult{ID: "C6", Status: harness.Computed, Value: value, Detail: strings.Join(detail, ". "),
		Figures: []string{"filter_similarity", "similarity_by_layer", "filter_clusters", "layer0_filters"}}, nil
}

func orNone(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, ", ")
}

func recordClusters(res *harness.Result, cr *clusterResult) {
	v := &res.Values
	v.Exact("clusters/kernels", float64(cr.Vectors))
	v.Exact("clusters/silhouette_sample", float64(cr.Sample))
	for i, k := range cr.Ks {
		key := fmt.Sprintf("clusters/k%d", k)
		v.Num(key+"/fit", cr.Fit[i], tolFit, 0)
		v.Num(key+"/silhouette", cr.Silhouette[i], tolFit, 0)
		v.Num(key+"/null_fit", cr.NullFit[i], tolFit, 0)
		v.Num(key+"/null_silhouette", cr.NullSilh[i], tolFit, 0)
	}
	v.Exact("clusters/chosen_k", float64(cr.Chosen))
	for j := range cr.Centres {
		key := fmt.Sprintf("clusters/cluster%d", j)
		v.Exact(key+"/kernels", float64(cr.Filters[j]))
		v.Exact(key+"/models", float64(cr.ModelsUsed[j]))
	}
	cpm := make([]float64, len(cr.ClustersPerModel))
	for i, x := range cr.ClustersPerModel {
		cpm[i] = float64(x)
	}
	v.Num("clusters/median_clusters_per_model", metrics.Median(cpm), 0, 0)
	res.Notes = append(res.Notes, fmt.Sprintf("Layer-0 clusters: k = %d (largest silhouette width, %.3f; the initialiser null gives %.3f at that k); models using each cluster: %s of %d.",
		cr.Chosen, cr.Silhouette[slices.Index(cr.Ks, cr.Chosen)], cr.NullSilh[slices.Index(cr.Ks, cr.Chosen)], ints(cr.ModelsUsed), len(cr.Usage)))
}

func ints(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}

func recordConsolidation(res *harness.Result, env *harness.Env, p plan, c *consolidation) error {
	v := &res.Values
	for i, m := range c.Models {
		for l := 0; l < model.NumLayers; l++ {
			v.Num(fmt.Sprintf("consolidation/%s/pr%d", m.ID.Stem(), l), c.PR[i][l], 0, tolPRRel)
		}
	}
	for l := 0; l < model.NumLayers; l++ {
		v.Num(fmt.Sprintf("consolidation/median_filters_layer%d", l), c.MedianFilters[l], 0, 0)
		v.Num(fmt.Sprintf("consolidation/median_pr_layer%d", l), c.MedianPR[l], 0, tolPRRel)
		v.Num(fmt.Sprintf("consolidation/median_pr_per_filter_layer%d", l), c.MedianPRPerFilter[l], 0, tolPRRel)
	}
	for t := 1; t <= transitions; t++ {
		key := fmt.Sprintf("consolidation/transition%d_%d", t-1, t)
		v.Exact(key+"/filters_sharpest", float64(c.FilterNarrowN[t]))
		v.Exact(key+"/pr_sharpest", float64(c.PRNarrowN[t]))
		v.Num(key+"/median_filter_ratio", c.MedianFilterRatio[t], 0, 1e-12)
		v.Num(key+"/median_pr_ratio", c.MedianPRR[t], 0, tolPRRel)
	}
	v.Exact("consolidation/models_with_3_filters_in_layer2", float64(c.ThreeInLayer2))

	n := len(c.Models)
	ft, pt := argmaxCount(c.FilterNarrowN[:]), argmaxCount(c.PRNarrowN[:])
	value := fmt.Sprintf("%d models: median filters per layer %s; median effective dimensionality (participation ratio on %d natural images) %s. Sharpest narrowing of filters at layer %d→%d in %d of %d models (%.0f %%); of effective dimensionality at layer %d→%d in %d of %d (%.0f %%); %d models keep 3 filters in layer 2",
		n, floats(c.MedianFilters[:], "%g"), dimImages, floats(c.MedianPR[:], "%.1f"),
		ft-1, ft, c.FilterNarrowN[ft], n, 100*float64(c.FilterNarrowN[ft])/float64(n),
		pt-1, pt, c.PRNarrowN[pt], n, 100*float64(c.PRNarrowN[pt])/float64(n), c.ThreeInLayer2)
	cr := harness.ClaimResult{ID: "C5", Value: value, Figures: []string{"consolidation"}}
	cl, err := env.Claim("C5")
	if err != nil {
		return err
	}
	if len(p.ModelSessions) != len(v4data.TestSessions) {
		cr.Status = harness.Partial
		cr.Detail = fmt.Sprintf("%s profile: the %d compact models of session(s) %s only; the published medians are over all 219 models (run -profile full). The effective dimensionality has no published value", env.Profile, n, sessionsOf(c.Models))
	} else {
		got := map[string]float64{"models_with_3_filters_in_layer2": float64(c.ThreeInLayer2)}
		for l := 0; l < model.NumLayers; l++ {
			got[fmt.Sprintf("median_filters_layer%d", l)] = c.MedianFilters[l]
		}
		if cr.Status, cr.Detail, err = cl.Compare(got); err != nil {
			return err
		}
		if cr.Status == harness.Reproduced {
			cr.Detail = "the filter counts equal the published ones; the effective dimensionality has no published value"
		}
	}
	res.Claims = append(res.Claims, cr)
	res.Notes = append(res.Notes, "C5: "+value+".")
	return nil
}

func argmaxCount(xs []int) int {
	best := 1
	for t := 1; t < len(xs); t++ {
		if xs[t] > xs[best] {
			best = t
		}
	}
	return best
}

func floats(xs []float64, f string) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprintf(f, x)
	}
	return strings.Join(s, ", ")
}

func sessionsOf(ms []*eval.Compact) string {
	var out []string
	for _, m := range ms {
		if len(out) == 0 || out[len(out)-1] != m.ID.Session {
			out = append(out, m.ID.Session)
		}
	}
	return strings.Join(out, ", ")
}

// teacherLabel is the legend name of a teacher folder.
var teacherLabel = map[string]string{
	"from_ensemble_model":        "ensemble",
	"linear_from_ensemble_model": "linear ensemble",
	"from_V4data_direct_fit":     "direct fit to V4",
	"from_resnet50":              "ResNet50",
	"from_resnet50_robust":       "ResNet50-robust",
	"from_vgg19":                 "VGG19",
	"from_cornets":               "CORnet-S",
}

func teacherIndex(t string) int {
	for i, x := range v4data.Teachers {
		if x == t {
			return i
		}
	}
	return len(v4data.Teachers)
}

func kIndex(k int) int {
	for i, x := range v4data.SharedKs {
		if x == k {
			return i
		}
	}
	return len(v4data.SharedKs)
}

// summaries returns the medians of every evaluated shared model and of the compact reference.
func summaries(sh *sharedEval) ([]eval.Summary, eval.Summary, error) {
	if len(sh.Sessions) == 0 {
		return nil, eval.Summary{}, nil
	}
	out := make([]eval.Summary, len(sh.Models))
	for i, m := range sh.Models {
		s, err := eval.Summarize(m.Scores, seeds(bootstrapSeed+uint64(1000*teacherIndex(m.Teacher)+10*kIndex(m.K))))
		if err != nil {
			return nil, eval.Summary{}, fmt.Errorf("%s K=%d: %w", m.Teacher, m.K, err)
		}
		out[i] = s
	}
	ref, err := eval.Summarize(sh.Compact, seeds(bootstrapSeed+100000))
	return out, ref, err
}

// seeds gives a model's r, r² and r²_ER intervals the seeds seed, seed+1 and seed+2.
func seeds(seed uint64) eval.Seeds { return eval.Seeds{R: seed, R2: seed + 1, R2ER: seed + 2} }

func recordShared(res *harness.Result, env *harness.Env, p plan, sh *sharedEval) error {
	v := &res.Values
	cl, err := env.Claim("C7")
	if err != nil {
		return err
	}
	// Parameter counts, per K, identical across teachers.
	params := map[int]int{}
	var diffs []string
	for _, m := range sh.Models {
		v.Exact(fmt.Sprintf("C7/params/%s/K%d", m.Teacher, m.K), float64(m.Params.Total))
		if p, ok := params[m.K]; ok && p != m.Params.Total {
			diffs = append(diffs, fmt.Sprintf("%s K=%d has %d parameters, another teacher's %d", m.Teacher, m.K, m.Params.Total, p))
		}
		params[m.K] = m.Params.Total
	}
	var ks []int
	for k := range params {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	var pstr []string
	for _, k := range ks {
		want, err := cl.Number(fmt.Sprintf("params_K%d", k))
		if err != nil {
			return err
		}
		if float64(params[k]) != want {
			diffs = append(diffs, fmt.Sprintf("K=%d: %d parameters, paper %g", k, params[k], want))
		}
		pstr = append(pstr, fmt.Sprintf("K=%d %s", k, harness.Comma(params[k])))
	}

	sums, ref, err := summaries(sh)
	if err != nil {
		return err
	}
	var sessions []string
	for _, ev := range sh.Sessions {
		sessions = append(sessions, ev.Session.ID)
	}
	cr := harness.ClaimResult{ID: "C7", Figures: []string{"shared_models"}}
	if len(sh.Sessions) == 0 {
		cr.Status = harness.NotRunnable
		cr.Value = "parameters " + strings.Join(pstr, ", ") + "; no test session with images"
		cr.Detail = "the images of every test session of the profile are missing"
		if len(diffs) > 0 {
			cr.Detail += "; " + strings.Join(diffs, "; ")
		}
		res.Claims = append(res.Claims, cr)
		return nil
	}
	for i, m := range sh.Models {
		key := fmt.Sprintf("C7/%s/K%d", m.Teacher, m.K)
		v.CI(key+"/r", sums[i].R, tolMedian)
		v.CI(key+"/r2", sums[i].R2, tolMedian)
		if sums[i].R2ER != nil {
			v.CI(key+"/r2er", *sums[i].R2ER, tolMedian)
		}
		v.Num(key+"/mapping_aligned_median_r", m.MapAligned, tolMedian, 0)
		v.Num(key+"/mapping_shifted_median_r", m.MapShifted, tolMedian, 0)
	}
	v.CI("C7/compact_reference/r", ref.R, tolMedian)
	v.CI("C7/compact_reference/r2", ref.R2, tolMedian)
	if ref.R2ER != nil {
		v.CI("C7/compact_reference/r2er", *ref.R2ER, tolMedian)
	}

	// The best teacher and K by median r² (r²_ER when available).
	metric, get := "r²", func(s eval.Summary) metrics.MedianCI { return s.R2 }
	if ref.R2ER != nil {
		metric, get = "r²_ER", func(s eval.Summary) metrics.MedianCI { return *s.R2ER }
	}
	best := 0
	for i := range sums {
		if get(sums[i]).Median > get(sums[best]).Median {
			best = i
		}
	}
	bm := sh.Models[best]
	v.Text("C7/best", fmt.Sprintf("%s K=%d", bm.Teacher, bm.K))
	// Best K per teacher.
	var perTeacher []string
	for _, t := range p.Teachers {
		bi := -1
		for i, m := range sh.Models {
			if m.Teacher == t && (bi < 0 || get(sums[i]).Median > get(sums[bi]).Median) {
				bi = i
			}
		}
		if bi >= 0 {
			perTeacher = append(perTeacher, fmt.Sprintf("%s K=%d %.3f", teacherLabel[t], sh.Models[bi].K, get(sums[bi]).Median))
		}
	}
	minAl := math.Inf(1)
	maxSh := math.Inf(-1)
	for _, m := range sh.Models {
		minAl = math.Min(minAl, m.MapAligned)
		maxSh = math.Max(maxSh, m.MapShifted)
	}
	cr.Value = fmt.Sprintf("%d shared models on the evaluation half of session(s) %s (%d neurons): best median %s %s with %s K=%d (Pearson r %s); single-neuron compact models of the same neurons %s (r %s). Best K per teacher: %s. Parameters %s",
		len(sh.Models), strings.Join(sessions, ", "), sums[best].R.N, metric, get(sums[best]), teacherLabel[bm.Teacher], bm.K, sums[best].R,
		get(ref), ref.R, strings.Join(perTeacher, "; "), strings.Join(pstr, ", "))
	var detail []string
	if len(diffs) > 0 {
		cr.Status = harness.Differs
		detail = append(detail, strings.Join(diffs, "; "))
	} else {
		cr.Status = harness.Partial
		detail = append(detail, "parameter counts equal the published ones; the paper's R² values are not available")
	}
	if ref.R2ER == nil {
		detail = append(detail, "accuracy is Pearson r / r² against repeat-averaged responses, not the paper's noise-corrected R² (the test sessions' raw repeats are missing, named below)")
	}
	if len(sh.Sessions) < len(p.EvalSessions) {
		detail = append(detail, fmt.Sprintf("%d of %d test sessions evaluated (images missing, named below)", len(sh.Sessions), len(p.EvalSessions)))
	}
	if len(p.Ks) < len(v4data.SharedKs) {
		detail = append(detail, fmt.Sprintf("%s profile: K = %s only", env.Profile, ints(p.Ks)))
	}
	detail = append(detail, fmt.Sprintf("output-row mapping check: median r between output row Offset+n and compact model n ≥ %.2f for every model, ≤ %.2f when shifted by one neuron", minAl, maxSh))
	cr.Detail = strings.Join(detail, "; ")
	res.Claims = append(res.Claims, cr)
	res.Notes = append(res.Notes, "C7: "+cr.Value+".")
	return nil
}
