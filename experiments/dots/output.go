package dots

import (
	"bytes"
	"fmt"
	"image"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot/vg"

	"compactv4/harness"
	"compactv4/internal/artificial"
	"compactv4/internal/dotsel"
	"compactv4/internal/plots"
)

var ff = harness.FormatFloat

// writeTables writes the stimulus set (zip and CSV), the per-model indices, every model's
// responses, the ablations and the hypothesis test.
func writeTables(env *harness.Env, res *harness.Result, set []artificial.Stimulus, scr *screening, dis []*dissection) error {
	var zb bytes.Buffer
	if err := artificial.WriteZip(&zb, set); err != nil {
		return err
	}
	if err := res.AddTable("artificial.zip", harness.WriteFileAtomic(filepath.Join(env.Out, "artificial.zip"), zb.Bytes())); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("artificial.csv", artificial.CSVHeader, artificial.Rows(set))); err != nil {
		return err
	}

	chosen := map[*screened]bool{}
	for _, s := range scr.Chosen {
		chosen[s] = true
	}
	var rows, resp [][]string
	for _, s := range scr.Ranked {
		ix := s.Ix
		rows = append(rows, []string{
			s.M.ID.Session, strconv.Itoa(s.M.ID.Neuron), strconv.Itoa(s.Rank), ff(s.Score), strconv.FormatBool(chosen[s]),
			ff(ix.Selectivity), ff(ix.DotNatural), strconv.Itoa(ix.Polarity), ff(ix.PreferredRadius),
			ff(ix.SizeSuppression), ff(ix.SizeInvariance), ff(ix.PositionInvariance), ff(ix.NumberInvariance),
			ff(s.BlobNatural), ff(s.SynthBlob.Blobness), ff(s.Synth.Response),
			ff(ix.NatMax), ff(ix.NatMedian), ff(s.Blank), strconv.Itoa(ix.BestDot), strconv.Itoa(ix.BestControl),
			strconv.Itoa(s.Consolidation), fmt.Sprint(s.M.Filters[0], s.M.Filters[1], s.M.Filters[2], s.M.Filters[3], s.M.Filters[4]),
		})
		r := []string{s.M.ID.Session, strconv.Itoa(s.M.ID.Neuron), ff(s.Blank)}
		for _, v := range s.Resp {
			r = append(r, ff(v))
		}
		resp = append(resp, r)
	}
	if err := res.AddTable(env.WriteCSV("models.csv", []string{
		"session", "neuron", "rank", "score", "chosen",
		"selectivity", "dot_natural", "polarity", "preferred_radius",
		"size_suppression", "size_invariance", "position_invariance", "number_invariance",
		"blob_natural", "blob_synth", "synth_response",
		"natural_max", "natural_median", "blank", "best_dot", "best_control",
		"consolidation_layer", "filters",
	}, rows)); err != nil {
		return err
	}
	head := []string{"session", "neuron", "blank"}
	for i := range set {
		head = append(head, fmt.Sprintf("s%04d", i))
	}
	if err := res.AddTable(env.WriteCSV("responses.csv", head, resp)); err != nil {
		return err
	}

	var abl, hyp [][]string
	for _, ds := range dis {
		id := []string{ds.S.M.ID.Session, strconv.Itoa(ds.S.M.ID.Neuron)}
		for _, a := range ds.Ablations {
			role := "before"
			if a.Layer == ds.Layer {
				role = "consolidation"
			}
			abl = append(abl, append(append([]string(nil), id...), strconv.Itoa(a.Layer), strconv.Itoa(a.Filter), role,
				ff(a.Necessity), ff(a.NaturalChange), ff(a.SizeInvariance), ff(a.DotDrive)))
		}
		t := ds.Test
		hyp = append(hyp, append(append([]string(nil), id...), strconv.Itoa(ds.Before), strconv.Itoa(ds.Layer),
			strconv.Itoa(ds.S.M.Filters[ds.Before]), strconv.Itoa(ds.S.M.Filters[ds.Layer]),
			ff(t.MaxBefore), strconv.Itoa(t.ArgBefore), strconv.Itoa(t.Carriers), strconv.Itoa(t.Carrier),
			ff(t.MaxCarrier), ff(ds.of(ds.Layer)[t.Carrier].SizeInvariance), ff(maxOf(ds.of(ds.Before), func(a ablation) float64 { return a.SizeInvariance })),
			strconv.FormatBool(t.Holds), strconv.Itoa(ds.Needed), ff(ds.Cumulative[len(ds.Cumulative)-1]),
			strconv.Itoa(len(ds.Excitatory.Filters)), ff(ds.Excitatory.Necessity), ff(ds.Excitatory.Selectivity),
			strconv.Itoa(len(ds.Inhibitory.Filters)), ff(ds.Inhibitory.Necessity), ff(ds.Inhibitory.Selectivity)))
	}
	var inp [][]string
	for _, ds := range dis {
		for _, c := range ds.Split.Inputs {
			role := "excitatory"
			if c.Dot < 0 {
				role = "inhibitory"
			}
			inp = append(inp, []string{ds.S.M.ID.Session, strconv.Itoa(ds.S.M.ID.Neuron), strconv.Itoa(ds.Split.Layer), strconv.Itoa(ds.Split.Filter),
				strconv.Itoa(c.Input), ff(c.Weight), ff(c.Dot), ff(c.Control), role})
		}
	}
	if err := res.AddTable(env.WriteCSV("inputs.csv", []string{
		"session", "neuron", "layer", "filter", "input", "pointwise_weight", "dot_contribution", "control_contribution", "role",
	}, inp)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteCSV("ablations.csv", []string{
		"session", "neuron", "layer", "filter", "role", "necessity", "natural_change", "size_invariance", "dot_drive",
	}, abl)); err != nil {
		return err
	}
	return res.AddTable(env.WriteCSV("hypothesis.csv", []string{
		"session", "neuron", "before_layer", "consolidation_layer", "filters_before", "filters_consolidation",
		"max_necessity_before", "argmax_before", "carriers", "carrier", "carrier_necessity",
		"carrier_size_invariance", "max_size_invariance_before", "holds",
		"consolidated_needed", "consolidated_group_necessity",
		"excitatory_inputs", "excitatory_group_necessity", "selectivity_without_excitatory",
		"inhibitory_inputs", "inhibitory_group_necessity", "selectivity_without_inhibitory",
	}, hyp))
}

func maxOf(as []ablation, f func(ablation) float64) float64 {
	m := math.NaN()
	for _, a := range as {
		if v := f(a); !math.IsNaN(v) && (math.IsNaN(m) || v > m) {
			m = v
		}
	}
	return m
}

// normalised is a response in units of the model's natural-image range above the blank.
func normalised(s *screened, r float64) float64 {
	return (r - s.Blank) / (s.Ix.NatMax - s.Ix.NatMedian)
}

// drawFigures draws the artificial set with the chosen models' responses, their size tuning,
// their preferred images and the ablation map.
func drawFigures(env *harness.Env, res *harness.Result, set []artificial.Stimulus, scr *screening, dis []*dissection) error {
	var ok []*screened
	for _, s := range scr.Chosen {
		if s.Natural != nil {
			ok = append(ok, s)
		}
	}
	if len(ok) == 0 {
		env.Logf("no dot-like model has natural-image responses: no figures")
		return nil
	}
	// The set, one example per family, and the chosen models' responses to every stimulus.
	var imgs []image.Image
	var titles []string
	seen := map[string]bool{}
	for _, s := range set {
		if seen[s.Family] || s.Polarity < 0 && s.Family != "edge" {
			continue
		}
		seen[s.Family] = true
		px, err := s.Render()
		if err != nil {
			return err
		}
		im, err := plots.RGB(px, artificial.Size, artificial.Size)
		if err != nil {
			return err
		}
		imgs, titles = append(imgs, im), append(titles, s.Family)
	}
	grid, err := plots.ImageGrid(imgs, plots.ImageGridOptions{Cols: 6, Titles: titles})
	if err != nil {
		return err
	}
	// Per model and family, the largest response (above the blank, in natural-range units).
	var families []string
	col := map[string]int{}
	for _, s := range set {
		if _, ok := col[s.Family]; !ok {
			col[s.Family] = len(families)
			families = append(families, s.Family)
		}
	}
	var m [][]float64
	var labels []string
	for _, s := range ok {
		row := make([]float64, len(families))
		for i := range row {
			row[i] = math.Inf(-1)
		}
		for i, r := range s.Resp {
			c := col[set[i].Family]
			row[c] = math.Max(row[c], normalised(s, r))
		}
		m = append(m, row)
		labels = append(labels, fmt.Sprintf("%s n%d", s.M.ID.Session, s.M.ID.Neuron))
	}
	hm, err := plots.Heatmap(m, plots.HeatmapOptions{
		XLabel: "Stimulus family (dots: the first six)", RowLabels: labels, ColLabels: families,
		Diverging: true, ColorBarLabel: "Best response − blank (natural range)",
	})
	if err != nil {
		return err
	}
	fig, err := plots.Grid([]plots.Drawer{grid, hm}, plots.GridOptions{Cols: 1, Letters: true})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(fig, "dot_stimuli", plots.DoubleColumn, plots.DoubleColumn*0.75)); err != nil {
		return err
	}

	// Size tuning.
	var series []plots.Series
	for _, s := range ok {
		y := make([]float64, len(s.Ix.SizeTuning))
		for i, v := range s.Ix.SizeTuning {
			y[i] = v / (s.Ix.NatMax - s.Ix.NatMedian)
		}
		pol := "bright"
		if s.Ix.Polarity < 0 {
			pol = "dark"
		}
		series = append(series, plots.Series{Label: fmt.Sprintf("%s n%d (%s)", s.M.ID.Session, s.M.ID.Neuron, pol), X: dotsel.Radii(), Y: y})
	}
	p, err := plots.Lines(series, plots.LineOptions{
		Axes:   plots.Axes{XLabel: "Disc radius (pixels)", YLabel: "Response − blank (natural range)", LogX: true},
		HLines: []plots.RefLine{{Value: 0, Label: "blank"}},
		VLines: []plots.RefLine{{Value: artificial.DotRadii[len(artificial.DotRadii)-1], Label: "largest dot"}},
		Legend: plots.BottomLeft,
	})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(p, "size_tuning", plots.SingleColumn, plots.SingleColumn*0.8)); err != nil {
		return err
	}

	// Preferred images: best natural image, synthesised stimulus, best dot, best control.
	imgs, titles = nil, nil
	for _, s := range ok {
		nat, err := plots.RGB(s.BestNatural, artificial.Size, artificial.Size)
		if err != nil {
			return err
		}
		syn, err := plots.RGB(s.Synth.Uint8(), s.Synth.H, s.Synth.W)
		if err != nil {
			return err
		}
		name := fmt.Sprintf("%s n%d", s.M.ID.Session, s.M.ID.Neuron)
		imgs = append(imgs, nat, syn)
		titles = append(titles, name+": natural", "synthesised")
		for _, i := range []int{s.Ix.BestDot, s.Ix.BestControl} {
			px, err := set[i].Render()
			if err != nil {
				return err
			}
			im, err := plots.RGB(px, artificial.Size, artificial.Size)
			if err != nil {
				return err
			}
			imgs = append(imgs, im)
			titles = append(titles, fmt.Sprintf("best %s (%.2f)", map[bool]string{true: "dot", false: "control"}[set[i].IsDot()], normalised(s, s.Resp[i])))
		}
	}
	g, err := plots.ImageGrid(imgs, plots.ImageGridOptions{Cols: 4, Titles: titles})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(g, "preferred_images", plots.SingleColumn*1.5, plots.SingleColumn*0.4*vg.Length(len(ok)))); err != nil {
		return err
	}

	if len(dis) == 0 {
		return nil
	}
	// The inputs of each dissected model's most necessary consolidated filter, by their
	// contribution to the preferred dot, with their contribution to the best control.
	var panels []plots.Drawer
	for _, ds := range dis {
		var x, yd, yc []float64
		for i, c := range ds.Split.Inputs {
			x = append(x, float64(i+1))
			yd = append(yd, c.Dot)
			yc = append(yc, c.Control)
		}
		p, err := plots.Lines([]plots.Series{{Label: "preferred dot", X: x, Y: yd}, {Label: "best control", X: x, Y: yc}}, plots.LineOptions{
			Axes: plots.Axes{
				Title:  fmt.Sprintf("%s n%d, layer %d filter %d", ds.S.M.ID.Session, ds.S.M.ID.Neuron, ds.Split.Layer, ds.Split.Filter),
				XLabel: fmt.Sprintf("Layer-%d input (by contribution to the dot)", ds.Before), YLabel: "Contribution (minus blank)",
			},
			HLines: []plots.RefLine{{Value: 0}},
			Legend: plots.TopRight,
		})
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	g, err = plots.Grid(panels, plots.GridOptions{Cols: min(len(panels), 2), Letters: len(panels) > 1})
	if err != nil {
		return err
	}
	rows := (len(panels) + 1) / 2
	if err := res.AddFigure(env.SaveFigure(g, "carrier_inputs", plots.DoubleColumn, plots.SingleColumn*0.7*vg.Length(rows))); err != nil {
		return err
	}

	// Ablation map: necessity of every filter of the layer before and of the consolidation step.
	width := 0
	for _, ds := range dis {
		width = max(width, len(ds.of(ds.Before)), len(ds.of(ds.Layer)))
	}
	m, labels = nil, nil
	for _, ds := range dis {
		for _, l := range []int{ds.Before, ds.Layer} {
			row := make([]float64, width)
			for i := range row {
				row[i] = math.NaN()
			}
			for _, a := range ds.of(l) {
				row[a.Filter] = a.Necessity
			}
			m = append(m, row)
			labels = append(labels, fmt.Sprintf("%s n%d layer %d", ds.S.M.ID.Session, ds.S.M.ID.Neuron, l))
		}
	}
	hm, err = plots.Heatmap(m, plots.HeatmapOptions{
		XLabel: "Filter", RowLabels: labels, Diverging: true, Range: plots.Limits{Min: -1, Max: 1},
		ColorBarLabel: "Necessity",
	})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(hm, "ablation_map", plots.DoubleColumn, 30*vg.Millimeter+3*vg.Millimeter*vg.Length(len(m))))
}
