package sharedfilters

import (
	"fmt"
	"image"
	"math"
	"slices"
	"sort"
	"strconv"

	"gonum.org/v1/plot/vg"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/plots"
)

func writeTables(env *harness.Env, res *harness.Result, sim *similarity, cr *clusterResult, c *consolidation, sh *sharedEval) error {

	// Shared models, per neuron.
	var rows [][]string
	for _, m := range sh.Models {
		i := 0
		for s, ev := range sh.Sessions {
			for n := range m.Pred[s] {
				r2er := math.NaN()
				if m.R2ER != nil {
					r2er = m.R2ER[i]
				}
				rows = append(rows, []string{m.Teacher, strconv.Itoa(m.K), ev.Session.ID, strconv.Itoa(n), harness.FormatFloat(m.R[i]), harness.FormatFloat(m.R2[i]), harness.FormatFloat(r2er)})
				i++
			}
		}
	}
	if err := res.AddTable(env.WriteCSV("shared_models.csv", []string{"teacher", "K", "session", "neuron", "r_eval", "r2_eval", "r2er_eval"}, rows)); err != nil {
		return err
	}
	rows = rows[:0]
	i := 0
	for s, ev := range sh.Sessions {
		for n := range sh.CompactPred[s] {
			r2er := math.NaN()
			if sh.Compact.R2ER != nil {
				r2er = sh.Compact.R2ER[i]
			}
			rows = append(rows, []string{ev.Session.ID, strconv.Itoa(n), harness.FormatFloat(sh.Compact.R[i]), harness.FormatFloat(sh.Compact.R2[i]), harness.FormatFloat(r2er)})
			i++
		}
	}
	if err := res.AddTable(env.WriteCSV("compact_models.csv", []string{"session", "neuron", "r_eval", "r2_eval", "r2er_eval"}, rows)); err != nil {
		return err
	}
	sums, ref, err := summaries(sh)
	if err != nil {
		return err
	}
	rows = rows[:0]
	ci := func(s *metrics.MedianCI) []string {
		if s == nil {
			nan := harness.FormatFloat(math.NaN())
			return []string{nan, nan, nan}
		}
		return []string{harness.FormatFloat(s.Median), harness.FormatFloat(s.Lo), harness.FormatFloat(s.Hi)}
	}
	for i, m := range sh.Models {
		r := []string{m.Teacher, strconv.Itoa(m.K), strconv.Itoa(m.Params.Total)}
		if sums == nil {
			r = append(r, "0")
			for range 11 {
				r = append(r, harness.FormatFloat(math.NaN()))
			}
		} else {
			s := sums[i]
			r = append(r, strconv.Itoa(s.R.N))
			r = append(r, ci(&s.R)...)
			r = append(r, ci(&s.R2)...)
			r = append(r, ci(s.R2ER)...)
			r = append(r, harness.FormatFloat(m.MapAligned), harness.FormatFloat(m.MapShifted))
		}
		rows = append(rows, r)
	}
	if sums != nil {
		r := []string{"compact_models", "", "", strconv.Itoa(ref.R.N)}
		r = append(r, ci(&ref.R)...)
		r = append(r, ci(&ref.R2)...)
		r = append(r, ci(ref.R2ER)...)
		nan := harness.FormatFloat(math.NaN())
		rows = append(rows, append(r, nan, nan))
	}
	if err := res.AddTable(env.WriteCSV("shared_summary.csv", []string{"teacher", "K", "n_params", "n_neurons",
		"median_r", "r_ci90_lo", "r_ci90_hi", "median_r2", "r2_ci90_lo", "r2_ci90_hi", "median_r2er", "r2er_ci90_lo", "r2er_ci90_hi",
		"mapping_aligned_median_r", "mapping_shifted_median_r"}, rows)); err != nil {
		return err
	}

	// Consolidation, per model.
	rows = rows[:0]
	for i, m := range c.Models {
		r := []string{m.ID.Session, strconv.Itoa(m.ID.Neuron)}
		for _, f := range m.Filters {
			r = append(r, strconv.Itoa(f))
		}
		for _, p := range c.PR[i] {
			r = append(r, harness.FormatFloat(p))
		}
		r = append(r, strconv.Itoa(c.FilterNarrow[i]), strconv.Itoa(c.PRNarrow[i]))
		rows = append(rows, r)
	}
	if err := res.AddTable(env.WriteCSV("consolidation.csv", []string{"session", "neuron", "f0", "f1", "f2", "f3", "f4",
		"pr0", "pr1", "pr2", "pr3", "pr4", "sharpest_filter_narrowing_layer", "sharpest_pr_narrowing_layer"}, rows)); err != nil {
		return err
	}

	// Similarity summaries.
	type distJSON struct {
		Population        string    `json:"population"`
		Kernels           int       `json:"kernels"`
		Excluded          int       `json:"excluded_constant_kernels"`
		FilterMedianQuant []float64 `json:"per_kernel_median_best_match_quantiles"`
		PairMedian        float64   `json:"median_pair_similarity"`
	}
	type testJSON struct {
		Null     string  `json:"null"`
		AUC      float64 `json:"auc_pairs"`
		Above    int     `json:"models_above_null"`
		Below    int     `json:"models_below_null"`
		P        float64 `json:"sign_test_p"`
		AboveQ99 float64 `json:"fraction_pairs_above_null_q99"`
	}
	type layerJSON struct {
		Layer       int        `json:"layer"`
		Comparison  string     `json:"comparison"`
		Populations []distJSON `json:"populations"`
		Tests       []testJSON `json:"tests"`
	}
	var layers []layerJSON
	for _, ls := range sim.Layers {
		lj := layerJSON{Layer: ls.Layer, Comparison: ls.Kind}
		for _, d := range ls.Dists {
			q := make([]float64, len(deciles))
			for i, p := range deciles {
				q[i] = metrics.Quantile(d.FilterMedian, p)
			}
			lj.Populations = append(lj.Populations, distJSON{distKeys[d.Kind], d.Vectors, d.Excluded, q, metrics.Median(d.PairVals)})
		}
		for _, t := range ls.Tests {
			lj.Tests = append(lj.Tests, testJSON{distKeys[t.Kind], t.AUC, t.Wins, t.Losses, t.P, t.AboveQ99})
		}
		layers = append(layers, lj)
	}
	if err := res.AddTable(env.WriteJSON("filter_similarity.json", map[string]any{
		"method": "best match of every kernel in every other model by |cos| of mean-removed kernels (layer 0: 5x5x3 conv kernels; layers 1-4: 5x5 depthwise kernels), " +
			"or by |Pearson r| of layer-0 responses to natural-image patches; pair similarity = mean best match, symmetrised",
		"quantiles":     deciles,
		"patches":       sim.Patches,
		"patch_images":  fmt.Sprintf("session %s images 1-%d, recentred, every 5x5 valid position", dimSession, dimImages),
		"null_seed":     nullSeed,
		"layers":        layers,
		"cluster_seeds": []uint64{clusterSeed, silhouetteSeed},
	})); err != nil {
		return err
	}
	if l0 := findLayer(sim, 0, "kernel"); l0 != nil {
		if err := res.AddTable(env.WriteNPY("pair_similarity_layer0.npy", []int{len(l0.Dists[0].Pair), len(l0.Dists[0].Pair)}, flat32(l0.Dists[0].Pair))); err != nil {
			return err
		}
	}

	// Clusters.
	rows = rows[:0]
	for i, k := range cr.Ks {
		rows = append(rows, []string{strconv.Itoa(k), harness.FormatFloat(cr.Fit[i]), harness.FormatFloat(cr.Silhouette[i]), harness.FormatFloat(cr.NullFit[i]), harness.FormatFloat(cr.NullSilh[i])})
	}
	if err := res.AddTable(env.WriteCSV("cluster_choice.csv", []string{"k", "mean_abs_cos_to_centre", "silhouette", "null_mean_abs_cos_to_centre", "null_silhouette"}, rows)); err != nil {
		return err
	}
	rows = rows[:0]
	for j := range cr.Centres {
		rows = append(rows, []string{strconv.Itoa(j), strconv.Itoa(cr.Filters[j]), strconv.Itoa(cr.ModelsUsed[j])})
	}
	if err := res.AddTable(env.WriteCSV("clusters.csv", []string{"cluster", "kernels", "models"}, rows)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteNPY("cluster_centres.npy", []int{len(cr.Centres), kernelSize, kernelSize, 3}, flat32(cr.Centres))); err != nil {
		return err
	}
	return res.AddTable(env.WriteNPY("cluster_usage.npy", []int{len(cr.Usage), len(cr.Centres)}, flat32(cr.Usage)))
}

func flat32(m [][]float64) []float32 {
	var out []float32
	for _, r := range m {
		for _, x := range r {
			out = append(out, float32(x))
		}
	}
	return out
}

const panelHeight = 60 * vg.Millimeter

func drawFigures(env *harness.Env, res *harness.Result, sim *similarity, cr *clusterResult, c *consolidation, sh *sharedEval) error {

	// Filter similarity: one histogram per layer and comparison.
	var panels []plots.Drawer
	for _, ls := range sim.Layers {
		var ds []plots.Distribution
		for _, d := range ls.Dists {
			if d.Kind == nullSmoothed {
				continue // recorded in the numbers; the 48-times-smoothed null bounds it in the figure
			}
			ds = append(ds, plots.Distribution{Label: distLabels[d.Kind], Values: d.FilterMedian, Null: d.Kind != 0})
		}
		title := fmt.Sprintf("Layer %d kernels (5×5×3)", ls.Layer)
		xl := "Median best match in another model (|cos|)"
		switch {
		case ls.Kind == "response":
			title = "Layer 0 responses to image patches"
			xl = "Median best match in another model (|r|)"
		case ls.Layer > 0:
			title = fmt.Sprintf("Layer %d depthwise kernels (5×5)", ls.Layer)
		}
		p, err := plots.Histogram(ds, plots.HistOptions{
			Axes: plots.Axes{Title: fmt.Sprintf("%s, AUC vs nulls %s", title, aucs(ls)), XLabel: xl, YLabel: "Density"},
			Bins: 40, Range: plots.Limits{Min: 0, Max: 1}, Density: true, Legend: plots.TopLeft,
		})
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	g, err := plots.Grid(panels, plots.GridOptions{Cols: 2, Letters: true})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(g, "filter_similarity", plots.DoubleColumn, 3*panelHeight)); err != nil {
		return err
	}

	// Similarity by layer: the median best match of the observed kernels and of each null.
	var bySeries []plots.Series
	for _, kind := range []int{0, nullGlorot, nullShuffled, nullSmoothedAll} {
		s := plots.Series{Label: distLabels[kind]}
		for _, ls := range sim.Layers {
			if ls.Kind != "kernel" {
				continue
			}
			for _, d := range ls.Dists {
				if d.Kind == kind {
					s.X = append(s.X, float64(ls.Layer))
					s.Y = append(s.Y, metrics.Median(d.FilterMedian))
					s.Lo = append(s.Lo, metrics.Quantile(d.FilterMedian, 0.25))
					s.Hi = append(s.Hi, metrics.Quantile(d.FilterMedian, 0.75))
				}
			}
		}
		bySeries = append(bySeries, s)
	}
	byLayer, err := plots.Lines(bySeries, plots.LineOptions{
		Axes: plots.Axes{Title: "Kernel similarity across models, by layer (median, quartiles)", XLabel: "Layer (0: 5×5×3 kernels; 1-4: 5×5 depthwise)",
			YLabel: "Median best match in another model (|cos|)", YLim: plots.Limits{Min: 0, Max: 1}},
		Legend: plots.BottomLeft,
	})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(byLayer, "similarity_by_layer", plots.SingleColumn, 75*vg.Millimeter)); err != nil {
		return err
	}

	// Clusters: the choice of k, the centres, and their use by the models.
	ks := make([]float64, len(cr.Ks))
	for i, k := range cr.Ks {
		ks[i] = float64(k)
	}
	ch := cr.Silhouette[slices.Index(cr.Ks, cr.Chosen)]
	silP, err := plots.Lines([]plots.Series{
		{Label: "compact models", X: ks, Y: cr.Silhouette},
		{Label: "null: initialiser", X: ks, Y: cr.NullSilh},
	}, plots.LineOptions{
		Axes:   plots.Axes{Title: fmt.Sprintf("Choice of k: largest silhouette at k = %d (%.3f)", cr.Chosen, ch), XLabel: "Clusters k", YLabel: "Mean silhouette width"},
		VLines: []plots.RefLine{{Value: float64(cr.Chosen), Label: "chosen"}}, Legend: plots.TopLeft,
	})
	if err != nil {
		return err
	}
	fitP, err := plots.Lines([]plots.Series{
		{Label: "compact models", X: ks, Y: cr.Fit},
		{Label: "null: initialiser", X: ks, Y: cr.NullFit},
	}, plots.LineOptions{
		Axes:   plots.Axes{Title: "Fit of the clustering", XLabel: "Clusters k", YLabel: "Mean |cos| to cluster centre"},
		Legend: plots.BottomRight,
	})
	if err != nil {
		return err
	}
	scale := kernelScale(spatial * 3)
	var imgs []image.Image
	var titles []string
	for j, ctr := range cr.Centres {
		im, err := plots.Signed(ctr, kernelSize, kernelSize, 3, scale)
		if err != nil {
			return err
		}
		imgs = append(imgs, im)
		titles = append(titles, fmt.Sprintf("%d: %d models", j, cr.ModelsUsed[j]))
	}
	cent, err := plots.ImageGrid(imgs, plots.ImageGridOptions{Titles: titles, Title: fmt.Sprintf("Cluster centres (%d kernels of %d models)", cr.Vectors, len(cr.Usage))})
	if err != nil {
		return err
	}
	// Clusters as rows, models as columns (a wide strip: many more models than clusters).
	rowLabels := make([]string, len(cr.Centres))
	usage := make([][]float64, len(cr.Centres))
	for j := range usage {
		rowLabels[j] = strconv.Itoa(j)
		usage[j] = make([]float64, len(cr.Usage))
		for m := range cr.Usage {
			usage[j][m] = cr.Usage[m][j]
		}
	}
	use, err := plots.Heatmap(usage, plots.HeatmapOptions{
		Title: "Use of the clusters by each model", XLabel: "Compact model", YLabel: "Cluster",
		RowLabels: rowLabels, ColorBarLabel: "Fraction of kernels",
	})
	if err != nil {
		return err
	}
	g, err = plots.Grid([]plots.Drawer{silP, fitP, cent, use}, plots.GridOptions{Cols: 2, Letters: true})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(g, "filter_clusters", plots.DoubleColumn, 2*panelHeight+20*vg.Millimeter)); err != nil {
		return err
	}

	// Example models' layer-0 kernels, ordered by cluster and by closeness to its centre.
	ex, err := exampleFilters(cr)
	if err != nil {
		return fmt.Errorf("figure layer0_filters: %w", err)
	}
	if err := res.AddFigure(env.SaveFigure(ex, "layer0_filters", plots.DoubleColumn, 2*panelHeight)); err != nil {
		return err
	}

	// Consolidation: filters and effective dimensionality per layer, and where each narrows most.
	var fg, pg []plots.Group
	for l := 0; l < model.NumLayers; l++ {
		f := plots.Group{Label: fmt.Sprintf("%d", l)}
		p := plots.Group{Label: fmt.Sprintf("%d", l)}
		for i, m := range c.Models {
			f.Values = append(f.Values, float64(m.Filters[l]))
			p.Values = append(p.Values, c.PR[i][l])
		}
		fg, pg = append(fg, f), append(pg, p)
	}
	fp, err := plots.Groups(fg, plots.GroupOptions{
		Axes:           plots.Axes{Title: fmt.Sprintf("Filters (%d compact models)", len(c.Models)), XLabel: "Layer", YLabel: "Filters", LogY: true},
		ConnectMedians: true, Seed: 1,
	})
	if err != nil {
		return err
	}
	pp, err := plots.Groups(pg, plots.GroupOptions{
		Axes:           plots.Axes{Title: fmt.Sprintf("Effective dimensionality (%d images)", dimImages), XLabel: "Layer", YLabel: "Participation ratio", LogY: true},
		ConnectMedians: true, Seed: 2,
	})
	if err != nil {
		return err
	}
	tx := []float64{1, 2, 3, 4}
	fy, py := make([]float64, 4), make([]float64, 4)
	for t := 1; t <= transitions; t++ {
		fy[t-1] = float64(c.FilterNarrowN[t]) / float64(len(c.Models))
		py[t-1] = float64(c.PRNarrowN[t]) / float64(len(c.Models))
	}
	np, err := plots.Lines([]plots.Series{{Label: "filters", X: tx, Y: fy}, {Label: "effective dimensionality", X: tx, Y: py}}, plots.LineOptions{
		Axes:   plots.Axes{Title: "Where each model narrows most", XLabel: "Transition to layer", YLabel: "Fraction of models", YLim: plots.Limits{Min: 0, Max: 1}},
		Legend: plots.TopRight,
	})
	if err != nil {
		return err
	}
	g, err = plots.Grid([]plots.Drawer{fp, pp, np}, plots.GridOptions{Cols: 3, Letters: true})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(g, "consolidation", plots.DoubleColumn, panelHeight)); err != nil {
		return err
	}

	// Shared models versus K (Fig. 3d): every teacher's median r² against K, then one panel per
	// teacher with its 90 % confidence band and the compact models' median and band.
	sums, ref, err := summaries(sh)
	if err != nil || sums == nil {
		return err
	}
	var overview []plots.Series
	var perTeacher []plots.Drawer
	for ti, t := range teachersIn(sh) {
		s := plots.Series{Label: teacherLabel[t]}
		for i, m := range sh.Models {
			if m.Teacher == t {
				s.X = append(s.X, float64(m.K))
				s.Y = append(s.Y, sums[i].R2.Median)
				s.Lo = append(s.Lo, sums[i].R2.Lo)
				s.Hi = append(s.Hi, sums[i].R2.Hi)
			}
		}
		overview = append(overview, plots.Series{Label: teacherLabel[t], X: s.X, Y: s.Y})
		refS := plots.Series{Label: "compact models", X: []float64{s.X[0], s.X[len(s.X)-1]}}
		refS.Y = []float64{ref.R2.Median, ref.R2.Median}
		refS.Lo = []float64{ref.R2.Lo, ref.R2.Lo}
		refS.Hi = []float64{ref.R2.Hi, ref.R2.Hi}
		legend := plots.NoLegend
		if ti == 0 {
			legend = plots.BottomRight
		}
		s.Label = "shared, " + teacherLabel[t]
		p, err := plots.Lines([]plots.Series{s, refS}, plots.LineOptions{
			Axes:   plots.Axes{Title: teacherLabel[t], XLabel: "Early filters K", YLabel: "Median r² (90 % CI)", LogX: true},
			Legend: legend,
		})
		if err != nil {
			return err
		}
		perTeacher = append(perTeacher, p)
	}
	ov, err := plots.Lines(overview, plots.LineOptions{
		Axes: plots.Axes{Title: fmt.Sprintf("Shared compact models (%d neurons)", ref.R2.N), XLabel: "Early filters K",
			YLabel: "Median r² (not noise-corrected)", LogX: true},
		HLines: []plots.RefLine{{Value: ref.R2.Median, Label: "compact models"}}, Legend: plots.BottomRight,
	})
	if err != nil {
		return err
	}
	g, err = plots.Grid(append([]plots.Drawer{ov}, perTeacher...), plots.GridOptions{Cols: 4, Letters: true, ShareY: true})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(g, "shared_models", plots.DoubleColumn, 2*panelHeight))
}

func aucs(ls *layerSim) string {
	s := ""
	for _, t := range ls.Tests {
		if t.Kind == nullSmoothed {
			continue
		}
		if s != "" {
			s += "/"
		}
		s += fmt.Sprintf("%.2f", t.AUC)
	}
	return s
}

// exampleModels picks up to four models spread over the profile's list: the first, the last and
// two between.
func exampleModels(n int) []int {
	var out []int
	for _, q := range []int{0, 1, 2, 3} {
		i := q * (n - 1) / 3
		if len(out) == 0 || out[len(out)-1] != i {
			out = append(out, i)
		}
	}
	return out
}

// exampleFilters shows the centred, normalised layer-0 kernels of a few models, each model's
// kernels ordered by cluster and, within a cluster, by closeness to the centre, on one scale.
func exampleFilters(cr *clusterResult) (plots.Drawer, error) {
	fs := cr.Kernels
	scale := kernelScale(fs.Dim)
	var panels []plots.Drawer
	for _, m := range exampleModels(fs.Models()) {
		idx := make([]int, 0, fs.Start[m+1]-fs.Start[m])
		for i := fs.Start[m]; i < fs.Start[m+1]; i++ {
			idx = append(idx, i)
		}
		closeness := func(i int) float64 { return math.Abs(metrics.Dot(fs.Row(i), cr.Centres[cr.Assign[i]])) }
		sort.SliceStable(idx, func(a, b int) bool {
			if cr.Assign[idx[a]] != cr.Assign[idx[b]] {
				return cr.Assign[idx[a]] < cr.Assign[idx[b]]
			}
			return closeness(idx[a]) > closeness(idx[b])
		})
		var imgs []image.Image
		for _, i := range idx {
			v := fs.Row(i)
			if metrics.Dot(v, cr.Centres[cr.Assign[i]]) < 0 {
				v = displayFlip(v)
			}
			im, err := plots.Signed(v, kernelSize, kernelSize, 3, scale)
			if err != nil {
				return nil, err
			}
			imgs = append(imgs, im)
		}
		g, err := plots.ImageGrid(imgs, plots.ImageGridOptions{Cols: 10,
			Title: fmt.Sprintf("%s: %d kernels, %d clusters", cr.Names[m], len(idx), cr.ClustersPerModel[m])})
		if err != nil {
			return nil, err
		}
		panels = append(panels, g)
	}
	return plots.Grid(panels, plots.GridOptions{Cols: 2, Letters: true})
}

// kernelScale is the value shown at full intensity for unit-norm kernels of dim values: three
// times their root-mean-square entry 1/√dim, so that every kernel and centre is shown on one
// scale with good contrast (the rare larger entries saturate).
func kernelScale(dim int) float64 { return 3 / math.Sqrt(float64(dim)) }

func displayFlip(v []float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = -x
	}
	return out
}

func teachersIn(sh *sharedEval) []string {
	var out []string
	for _, m := range sh.Models {
		if len(out) == 0 || out[len(out)-1] != m.Teacher {
			out = append(out, m.Teacher)
		}
	}
	return out
}
