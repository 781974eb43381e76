package stimuli

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math"
	"path/filepath"
	"strconv"

	"gonum.org/v1/plot/vg"

	"compactv4/harness"
	"compactv4/internal/plots"
	"compactv4/internal/synth"
)

// writeTables writes the per-model table, the images (PNG per model and one .npy), the
// optimisation traces, the natural-image responses and a summary.
func writeTables(env *harness.Env, res *harness.Result, p synth.Params, stims []*stimulus, sum summary) error {
	var rows [][]string
	for _, s := range stims {
		nan := harness.FormatFloat(math.NaN())
		nat := []string{nan, nan, nan, nan, nan, nan} // not computed: the session's images are missing
		if s.HasNatural() {
			norm := (s.Synth.Response - s.NatMedian) / (s.NatMax - s.NatMedian)
			nat = []string{harness.FormatFloat(s.NatMax), strconv.Itoa(s.NatArgmax + 1), harness.FormatFloat(s.NatMedian), harness.FormatFloat(s.Ratio), harness.FormatFloat(norm), strconv.FormatBool(s.Exceeds)}
		}
		rows = append(rows, append([]string{
			s.ID.Session, strconv.Itoa(s.ID.Neuron), s.ID.Stem(), strconv.FormatUint(s.Seed, 10),
			strconv.Itoa(s.Synth.Restart), strconv.Itoa(s.Synth.BestStep),
			harness.FormatFloat(s.Synth.Initial), harness.FormatFloat(s.Synth.Response), harness.FormatFloat(s.Uint8Response),
		}, nat...))
	}
	if err := res.AddTable(env.WriteCSV("stimuli.csv", []string{
		"session", "neuron", "stem", "seed", "restart", "best_step",
		"response_noise", "response_synth", "response_png",
		"natural_max", "natural_argmax_image", "natural_median", "ratio", "normalized_gain", "exceeds_natural_max",
	}, rows)); err != nil {
		return err
	}

	h, w := stims[0].Synth.H, stims[0].Synth.W
	imgs := make([]float32, 0, len(stims)*h*w*3)
	traces := make([]float32, 0, len(stims)*p.Steps)
	for _, s := range stims {
		for _, v := range s.Synth.Image {
			imgs = append(imgs, float32(v))
		}
		traces = append(traces, s.Synth.Trace...)
		b, err := encodePNG(s.Synth.Uint8(), h, w)
		if err != nil {
			return fmt.Errorf("%s: %w", s.ID.Stem(), err)
		}
		name := "images/" + s.ID.Stem() + ".png"
		if err := res.AddTable(name, harness.WriteFileAtomic(filepath.Join(env.Out, filepath.FromSlash(name)), b)); err != nil {
			return err
		}
	}
	if err := res.AddTable(env.WriteNPY("images.npy", []int{len(stims), h, w, 3}, imgs)); err != nil {
		return err
	}
	if err := res.AddTable(env.WriteNPY("traces.npy", []int{len(stims), p.Steps}, traces)); err != nil {
		return err
	}
	var sessions []string
	nat := map[string][]float32{}
	count := map[string]int{}
	for _, s := range stims {
		if !s.HasNatural() {
			continue
		}
		if _, ok := nat[s.ID.Session]; !ok {
			sessions = append(sessions, s.ID.Session)
		}
		nat[s.ID.Session] = append(nat[s.ID.Session], s.Natural...)
		count[s.ID.Session]++
	}
	for _, ss := range sessions {
		n := count[ss]
		if err := res.AddTable(env.WriteNPY("natural_responses_"+ss+".npy", []int{n, len(nat[ss]) / n}, nat[ss])); err != nil {
			return err
		}
	}
	return res.AddTable(env.WriteJSON("summary.json", map[string]any{
		"params":                       p,
		"base_seed":                    uint64(baseSeed),
		"models":                       sum.Models,
		"models_with_natural_images":   sum.WithNatural,
		"models_exceeding_natural_max": sum.Exceed,
		"models_improved":              sum.Improved,
		"ratio": map[string]any{
			"n": sum.Ratios, "median": nanNull(sum.MedianRatio), "min": nanNull(sum.MinRatio), "max": nanNull(sum.MaxRatio),
			"definition": "response to the synthesised image (response_synth, float image before conversion to uint8) / largest response to the session's natural images (natural_max); undefined when natural_max <= 0",
		},
		"files": map[string]string{
			"stimuli.csv":                     "one row per model; normalized_gain = (response_synth - natural_median) / (natural_max - natural_median); response_png = response to the uint8 PNG (truncated as script6's astype('uint8'))",
			"images.npy":                      "float32 (models, 112, 112, 3): the synthesised images, raw RGB in [0, 255] before truncation to uint8, rows in stimuli.csv order",
			"traces.npy":                      "float32 (models, steps): the response after every step (before the periodic image smoothing)",
			"natural_responses_<session>.npy": "float32 (models of the session in stimuli.csv order, images): responses to image0001.jpg...",
			"images/<stem>.png":               "the synthesised image as uint8 RGB",
		},
	}))
}

func nanNull(x float64) any {
	if math.IsNaN(x) {
		return nil
	}
	return x
}

// encodePNG encodes an h×w RGB image (HWC uint8) as PNG; the standard library's encoder writes
// the same bytes for the same pixels.
func encodePNG(pix []uint8, h, w int) ([]byte, error) {
	img, err := plots.RGB(pix, h, w)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// FigureModels returns the indices of the stimuli that the main figure shows: all of them when
// there are at most 8, else 8 per session, evenly spaced over the session's stimuli.
func figureModels(stims []*stimulus) []int {
	if len(stims) <= quickModels {
		out := make([]int, len(stims))
		for i := range out {
			out[i] = i
		}
		return out
	}
	var out []int
	for _, idx := range sessionIndices(stims) {
		n := len(idx)
		k := min(n, quickModels)
		for i := 0; i < k; i++ {
			out = append(out, idx[i*n/k])
		}
	}
	return out
}

// sessionIndices groups stimulus indices by session, in order of first appearance.
func sessionIndices(stims []*stimulus) [][]int {
	pos := map[string]int{}
	var out [][]int
	for i, s := range stims {
		j, ok := pos[s.ID.Session]
		if !ok {
			j = len(out)
			pos[s.ID.Session] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], i)
	}
	return out
}

func drawFigures(env *harness.Env, res *harness.Result, stims []*stimulus) error {
	grid := func(idx []int, cols int, title string, short bool) (plots.Drawer, vg.Length, error) {
		var imgs []image.Image
		var titles []string
		for _, i := range idx {
			s := stims[i]
			img, err := plots.RGB(s.Synth.Uint8(), s.Synth.H, s.Synth.W)
			if err != nil {
				return nil, 0, err
			}
			imgs = append(imgs, img)
			t := fmt.Sprintf("%s n%d: %s", s.ID.Session, s.ID.Neuron, ratioText(s.Ratio))
			if short {
				t = fmt.Sprintf("n%d: %s", s.ID.Neuron, ratioText(s.Ratio))
			}
			titles = append(titles, t)
		}
		cols = min(cols, len(idx))
		d, err := plots.ImageGrid(imgs, plots.ImageGridOptions{Cols: cols, Titles: titles, Title: title})
		if err != nil {
			return nil, 0, err
		}
		rows := (len(idx) + cols - 1) / cols
		cell := plots.DoubleColumn / vg.Length(cols)
		return d, vg.Length(rows)*(cell+4*vg.Millimeter) + 6*vg.Millimeter, nil
	}

	const title = "Preferred stimuli: session, neuron, response / largest natural-image response"
	idx := figureModels(stims)
	cols := 4
	if len(idx) > quickModels {
		cols = quickModels
	}
	d, hgt, err := grid(idx, cols, title, false)
	if err != nil {
		return err
	}
	if err := res.AddFigure(env.SaveFigure(d, "preferred_stimuli", plots.DoubleColumn, hgt)); err != nil {
		return err
	}
	if len(idx) < len(stims) {
		for _, sidx := range sessionIndices(stims) {
			ss := stims[sidx[0]].ID.Session
			d, hgt, err := grid(sidx, 10, fmt.Sprintf("Preferred stimuli of session %s: neuron, response / largest natural-image response", ss), true)
			if err != nil {
				return err
			}
			if err := res.AddFigure(env.SaveFigure(d, "preferred_stimuli_"+ss, plots.DoubleColumn, hgt)); err != nil {
				return err
			}
		}
	}

	// Synthesised versus largest natural-image response, on log axes (the ratios span an order
	// of magnitude); models with a non-positive value cannot be placed and are counted in the
	// title.
	var series []plots.Series
	dropped := 0
	for _, sidx := range sessionIndices(stims) {
		var x, y []float64
		for _, i := range sidx {
			s := stims[i]
			if !s.HasNatural() {
				continue
			}
			if !(s.NatMax > 0 && s.Synth.Response > 0) {
				dropped++
				continue
			}
			x = append(x, s.NatMax)
			y = append(y, s.Synth.Response)
		}
		if len(x) > 0 {
			series = append(series, plots.Series{Label: "session " + stims[sidx[0]].ID.Session, X: x, Y: y})
		}
	}
	if len(series) > 0 {
		t := "Preferred stimulus versus natural images"
		if dropped > 0 {
			t += fmt.Sprintf(" (%d models with a response ≤ 0 not shown)", dropped)
		}
		p, err := plots.Scatter(series, plots.ScatterOptions{
			Axes: plots.Axes{
				Title:  t,
				XLabel: "Largest natural-image response (a.u.)", YLabel: "Response to preferred stimulus (a.u.)",
				LogX: true, LogY: true,
			},
			Unity: true, Legend: plots.BottomRight,
		})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(plots.Square(p), "synth_vs_natural", plots.SingleColumn, plots.SingleColumn)); err != nil {
			return err
		}
	}

	// Optimisation traces of the figure's models, relative to their largest natural response.
	var lines []plots.Series
	for _, i := range idx {
		s := stims[i]
		if !s.HasNatural() || !(s.NatMax > 0) {
			continue
		}
		x := make([]float64, len(s.Synth.Trace))
		y := make([]float64, len(s.Synth.Trace))
		for t, r := range s.Synth.Trace {
			x[t], y[t] = float64(t+1), float64(r)/s.NatMax
		}
		lbl := ""
		if len(idx) <= quickModels {
			lbl = fmt.Sprintf("%s n%d", s.ID.Session, s.ID.Neuron)
		}
		lines = append(lines, plots.Series{Label: lbl, X: x, Y: y})
	}
	if len(lines) > 0 {
		p, err := plots.Lines(lines, plots.LineOptions{
			Axes: plots.Axes{
				Title:  "Optimisation (dashed: largest natural-image response)",
				XLabel: "Step", YLabel: "Response / largest natural-image response",
			},
			HLines:    []plots.RefLine{{Value: 1}},
			NoMarkers: true, Legend: plots.BottomRight,
		})
		if err != nil {
			return err
		}
		if err := res.AddFigure(env.SaveFigure(p, "optimisation", plots.SingleColumn, 70*vg.Millimeter)); err != nil {
			return err
		}
	}
	return nil
}
