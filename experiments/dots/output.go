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
	"compactv4/internal/metrics"
	"compactv4/internal/plots"
)

var ff = harness.FormatFloat

// writeTables writes the stimulus set (zip and CSV), the per-model indices, every model's
// responses, the ablations and the hypothesis test.
func writeTables(env *harness.Env, res *harness.Result, set []artificial.Stimulus, scr *screening, dis []*dissection, preds []prediction) error {
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

	var abl, hyp, modes [][]string
	for _, first := range dis {
		id := []string{first.S.M.ID.Session, strconv.Itoa(first.S.M.ID.Neuron)}
		for _, ds := range append([]*dissection{first}, first.Other...) {
			for _, a := range ds.Ablations {
				role := "before"
				if a.Layer == ds.Layer {
					role = "consolidation"
				}
				abl = append(abl, append(append([]string(nil), id...), ds.Mode, strconv.Itoa(a.Layer), strconv.Itoa(a.Filter), role,
					ff(a.Necessity), ff(a.NaturalChange), ff(a.SizeInvariance), ff(a.DotDrive), ff(float64(ds.Means[a.Layer][a.Filter]))))
			}
			t := ds.Test
			hyp = append(hyp, append(append([]string(nil), id...), ds.Mode, strconv.Itoa(ds.Before), strconv.Itoa(ds.Layer),
				strconv.Itoa(ds.S.M.Filters[ds.Before]), strconv.Itoa(ds.S.M.Filters[ds.Layer]),
				ff(t.MaxBefore), strconv.Itoa(t.ArgBefore), strconv.Itoa(t.Carriers), strconv.Itoa(t.Carrier),
				ff(t.MaxCarrier), ff(ds.of(ds.Layer)[t.Carrier].SizeInvariance), ff(maxOf(ds.of(ds.Before), func(a ablation) float64 { return a.SizeInvariance })),
				strconv.FormatBool(t.Holds), strconv.Itoa(ds.Needed), ff(ds.Cumulative[len(ds.Cumulative)-1]),
				strconv.Itoa(len(ds.Excitatory.Filters)), ff(ds.Excitatory.Necessity), ff(ds.Excitatory.Selectivity),
				strconv.Itoa(len(ds.Inhibitory.Filters)), ff(ds.Inhibitory.Necessity), ff(ds.Inhibitory.Selectivity)))
			row := append(append([]string(nil), id...), ds.Mode, ff(t.MaxBefore), strconv.Itoa(t.ArgBefore), strconv.Itoa(t.Carriers), strconv.Itoa(t.Carrier),
				ff(t.MaxCarrier), strconv.FormatBool(t.Holds), strconv.Itoa(ds.Needed), ff(ds.Excitatory.Necessity), ff(ds.Inhibitory.Necessity), ff(ds.Inhibitory.Selectivity))
			for _, l := range []int{ds.Before, ds.Layer} {
				row = append(row, ff(necessityCorrelation(first, ds, l)))
			}
			modes = append(modes, row)
		}
	}
	var inp, con, grp [][]string
	for _, ds := range dis {
		id := []string{ds.S.M.ID.Session, strconv.Itoa(ds.S.M.ID.Neuron)}
		for _, c := range ds.Split.Inputs {
			inp = append(inp, append(append([]string(nil), id...), strconv.Itoa(ds.Split.Layer), strconv.Itoa(ds.Split.Filter),
				strconv.Itoa(c.Input), ff(c.Weight), ff(c.Dot), ff(c.Control), role(c.Dot),
				strconv.Itoa(c.TapY), strconv.Itoa(c.TapX), ff(c.Distance), ff(c.Radii)))
		}
		for _, c := range ds.Contributors {
			con = append(con, append(append([]string(nil), id...), strconv.Itoa(ds.Split.Layer), strconv.Itoa(ds.Split.Filter),
				strconv.Itoa(c.Input), role(c.Dot), ff(c.Dot), strconv.Itoa(c.TapY), strconv.Itoa(c.TapX), ff(c.Distance), ff(c.Radii),
				ff(c.Synth.Response), strconv.Itoa(c.Synth.BestStep)))
		}
		unit := ds.S.Ix.NatMax - ds.S.Ix.NatMedian
		for _, ab := range append([]*dissection{ds}, ds.Other...) {
			for _, g := range []struct {
				name string
				g    group
			}{{"intact", intactGroup(ds.S)}, {"excitatory", ab.Excitatory}, {"inhibitory", ab.Inhibitory}} {
				if g.name == "intact" && ab != ds {
					continue
				}
				mode := ab.Mode
				if g.name == "intact" {
					mode = ""
				}
				row := append(append([]string(nil), id...), mode, g.name, strconv.Itoa(len(g.g.Filters)), ff(g.g.Necessity), ff(g.g.Selectivity),
					ff(g.g.Ix.SizeSuppression), ff(g.g.Probe.Suppression), ff(g.g.Ix.PreferredRadius))
				for k := range dotsel.Radii() {
					v := math.NaN()
					if k < len(g.g.Ix.SizeTuning) {
						v = (g.g.Ix.SizeTuning[k] + g.g.Blank - ds.S.Blank) / unit
					}
					row = append(row, ff(v))
				}
				grp = append(grp, row)
			}
		}
	}
	var prd [][]string
	for _, pr := range preds {
		over := "dot-like"
		if pr.Dissected {
			over = "dissected"
		}
		for _, pv := range pr.Values {
			prd = append(prd, []string{strconv.Itoa(pr.ID), pv.S.M.ID.Session, strconv.Itoa(pv.S.M.ID.Neuron), ff(pv.Value), strconv.FormatBool(pv.Shares),
				strconv.Itoa(pr.shared()), strconv.Itoa(len(pr.Values)), over, pr.Statement, pr.Metric, pr.Criterion})
		}
	}
	ghead := []string{"session", "neuron", "mode", "group", "filters", "necessity", "selectivity", "size_suppression", "bar_suppression", "preferred_radius"}
	for _, r := range dotsel.Radii() {
		ghead = append(ghead, "r"+ff(r))
	}
	for _, t := range []struct {
		name string
		head []string
		rows [][]string
	}{
		{"inputs.csv", []string{"session", "neuron", "layer", "filter", "input", "pointwise_weight", "dot_contribution", "control_contribution", "role", "tap_y", "tap_x", "distance_px", "distance_radii"}, inp},
		{"contributors.csv", []string{"session", "neuron", "layer", "filter", "input", "role", "dot_contribution", "tap_y", "tap_x", "distance_px", "distance_radii", "synth_response", "synth_best_step"}, con},
		{"groups.csv", ghead, grp},
		{"ablations.csv", []string{"session", "neuron", "mode", "layer", "filter", "role", "necessity", "natural_change", "size_invariance", "dot_drive", "mean_activation"}, abl},
		{"ablation_modes.csv", []string{"session", "neuron", "mode", "max_necessity_before", "argmax_before", "carriers", "carrier", "carrier_necessity", "holds", "consolidated_needed",
			"excitatory_group_necessity", "inhibitory_group_necessity", "selectivity_without_inhibitory", "necessity_correlation_before", "necessity_correlation_consolidation"}, modes},
		{"predictions.csv", []string{"prediction", "session", "neuron", "value", "shares", "shared", "of", "models", "statement", "metric", "criterion"}, prd},
	} {
		if err := res.AddTable(env.WriteCSV(t.name, t.head, t.rows)); err != nil {
			return err
		}
	}
	return res.AddTable(env.WriteCSV("hypothesis.csv", []string{
		"session", "neuron", "mode", "before_layer", "consolidation_layer", "filters_before", "filters_consolidation",
		"max_necessity_before", "argmax_before", "carriers", "carrier", "carrier_necessity",
		"carrier_size_invariance", "max_size_invariance_before", "holds",
		"consolidated_needed", "consolidated_group_necessity",
		"excitatory_inputs", "excitatory_group_necessity", "selectivity_without_excitatory",
		"inhibitory_inputs", "inhibitory_group_necessity", "selectivity_without_inhibitory",
	}, hyp))
}

// role names a contribution's sign.
func role(dot float64) string {
	if dot < 0 {
		return "inhibitory"
	}
	return "excitatory"
}

// intactGroup describes the intact model as a group of no ablated filter.
func intactGroup(s *screened) group {
	return group{Necessity: 0, Selectivity: s.Ix.Selectivity, Blank: s.Blank, Ix: s.Ix, Probe: s.Probe}
}

// necessityCorrelation is the Pearson correlation of the single-filter necessities of layer l
// in two dissections of the same model (NaN when it is undefined).
func necessityCorrelation(a, b *dissection, l int) float64 {
	var x, y []float64
	for _, v := range a.of(l) {
		x = append(x, v.Necessity)
	}
	for _, v := range b.of(l) {
		y = append(y, v.Necessity)
	}
	r, err := metrics.Pearson(x, y)
	if err != nil {
		return math.NaN()
	}
	return r
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
		// The main inputs' preferred stimuli: titles give the sign, the input, its
		// contribution and where the filter takes it from, in dot radii from the dot's centre.
		var imgs []image.Image
		var titles []string
		for _, c := range ds.Contributors {
			cy, err := unitCentre(ds.S.M.Net, ds.Before, c.TapY)
			if err != nil {
				return err
			}
			cx, err := unitCentre(ds.S.M.Net, ds.Before, c.TapX)
			if err != nil {
				return err
			}
			px, h, w := crop(c.Synth.Uint8(), c.Synth.H, c.Synth.W, int(cy), int(cx), contributorCrop)
			im, err := plots.RGB(px, h, w)
			if err != nil {
				return err
			}
			imgs = append(imgs, im)
			titles = append(titles, fmt.Sprintf("%s %d: %.2f at %.1f R", map[bool]string{true: "exc.", false: "inh."}[c.Excitatory], c.Input, c.Dot, c.Radii))
		}
		if len(imgs) == 0 {
			continue
		}
		g, err := plots.ImageGrid(imgs, plots.ImageGridOptions{Cols: len(imgs), Titles: titles, Title: fmt.Sprintf("Preferred stimuli of the main layer-%d inputs (%d×%d pixels around where the filter takes each from)", ds.Before, contributorCrop, contributorCrop)})
		if err != nil {
			return err
		}
		panels = append(panels, g)
	}
	g, err = plots.Grid(panels, plots.GridOptions{Cols: 1, Letters: len(panels) > 1})
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(g, "carrier_inputs", plots.DoubleColumn, plots.SingleColumn*0.55*vg.Length(len(panels)))); err != nil {
		return err
	}
	if err := hypothesisFigure(env, res, dis); err != nil {
		return err
	}

	// Ablation map: necessity of every filter of the layer before and of the consolidation step,
	// in each ablation mode.
	width := 0
	for _, ds := range dis {
		width = max(width, len(ds.of(ds.Before)), len(ds.of(ds.Layer)))
	}
	m, labels = nil, nil
	for _, first := range dis {
		for _, l := range []int{first.Before, first.Layer} {
			for _, ds := range append([]*dissection{first}, first.Other...) {
				row := make([]float64, width)
				for i := range row {
					row[i] = math.NaN()
				}
				for _, a := range ds.of(l) {
					row[a.Filter] = a.Necessity
				}
				m = append(m, row)
				labels = append(labels, fmt.Sprintf("%s n%d layer %d, %s", ds.S.M.ID.Session, ds.S.M.ID.Neuron, l, ds.Mode))
			}
		}
	}
	hm, err = plots.Heatmap(m, plots.HeatmapOptions{
		XLabel: "Filter", RowLabels: labels, Diverging: true, Range: plots.Limits{Min: -1, Max: 1},
		ColorBarLabel: "Necessity",
	})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(hm, "ablation_map", plots.DoubleColumn, 18*vg.Millimeter+3*vg.Millimeter*vg.Length(len(m))))
}

// hypothesisFigure draws the circuit hypothesis's predicted response curves for each dissected
// model: its size tuning intact and without the consolidated filter's excitatory or inhibitory
// inputs, and its responses to the preferred dot with a long bar through it, intact and without
// the inhibitory inputs (responses minus the intact model's blank, in natural-range units).
func hypothesisFigure(env *harness.Env, res *harness.Result, dis []*dissection) error {
	var panels []plots.Drawer
	for _, ds := range dis {
		s := ds.S
		unit := s.Ix.NatMax - s.Ix.NatMedian
		name := fmt.Sprintf("%s n%d", s.M.ID.Session, s.M.ID.Neuron)
		var size []plots.Series
		for _, g := range []struct {
			label string
			g     group
		}{{"intact", intactGroup(s)}, {"without excitatory inputs", ds.Excitatory}, {"without inhibitory inputs", ds.Inhibitory}} {
			if len(g.g.Ix.SizeTuning) == 0 {
				continue
			}
			y := make([]float64, len(g.g.Ix.SizeTuning))
			for i, v := range g.g.Ix.SizeTuning {
				y[i] = (v + g.g.Blank - s.Blank) / unit
			}
			size = append(size, plots.Series{Label: g.label, X: dotsel.Radii(), Y: y})
		}
		p, err := plots.Lines(size, plots.LineOptions{
			Axes:   plots.Axes{Title: name + ": size tuning", XLabel: "Disc radius (pixels)", YLabel: "Response − blank (natural range)", LogX: true},
			HLines: []plots.RefLine{{Value: 0, Label: "blank"}},
			VLines: []plots.RefLine{{Value: s.Ix.PreferredRadius, Label: "preferred"}},
			Legend: plots.TopRight,
		})
		if err != nil {
			return err
		}
		panels = append(panels, p)
		var bars []plots.Series
		for _, g := range []struct {
			label string
			g     group
		}{{"intact", intactGroup(s)}, {"without inhibitory inputs", ds.Inhibitory}} {
			pr := g.g.Probe
			byWidth := map[float64]*plots.Series{}
			var widths []float64
			for i, b := range pr.Bars {
				sr, ok := byWidth[b.Width]
				if !ok {
					sr = &plots.Series{Label: fmt.Sprintf("%s, bar %v px wide", g.label, b.Width)}
					byWidth[b.Width] = sr
					widths = append(widths, b.Width)
				}
				sr.X = append(sr.X, b.Orientation)
				sr.Y = append(sr.Y, (pr.DotBar[i]-s.Blank)/unit)
			}
			for _, w := range widths {
				bars = append(bars, *byWidth[w])
			}
			if len(pr.Bars) > 0 {
				bars = append(bars, plots.Series{Label: g.label + ", dot alone", X: []float64{0, 135}, Y: []float64{(pr.Dot - s.Blank) / unit, (pr.Dot - s.Blank) / unit}})
			}
		}
		if len(bars) == 0 {
			continue
		}
		p, err = plots.Lines(bars, plots.LineOptions{
			Axes:   plots.Axes{Title: name + ": preferred dot with a bar through it", XLabel: "Bar orientation (degrees)", YLabel: "Response − blank (natural range)"},
			HLines: []plots.RefLine{{Value: 0, Label: "blank"}},
			Legend: plots.TopRight,
		})
		if err != nil {
			return err
		}
		panels = append(panels, p)
	}
	if len(panels) == 0 {
		return nil
	}
	g, err := plots.Grid(panels, plots.GridOptions{Cols: 2, Letters: true})
	if err != nil {
		return err
	}
	return res.AddFigure(env.SaveFigure(g, "hypothesis", plots.DoubleColumn, plots.SingleColumn*0.9*vg.Length((len(panels)+1)/2)))
}

// contributorCrop is the side of the window of a main input's preferred stimulus that the
// figure shows: a layer-1 unit sees 13×13 pixels, a layer-2 unit 29×29.
const contributorCrop = 40

// crop returns the size×size window of an h×w RGB image centred on (cy, cx), shifted to lie
// inside the image (the whole image when it is smaller), and the window's height and width.
func crop(px []uint8, h, w, cy, cx, size int) ([]uint8, int, int) {
	sh, sw := min(size, h), min(size, w)
	y0 := min(max(cy-sh/2, 0), h-sh)
	x0 := min(max(cx-sw/2, 0), w-sw)
	out := make([]uint8, 0, sh*sw*3)
	for y := y0; y < y0+sh; y++ {
		out = append(out, px[(y*w+x0)*3:(y*w+x0+sw)*3]...)
	}
	return out, sh, sw
}
