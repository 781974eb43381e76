package dots

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/imagezip"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// c8Session is the session of the artificial and maximising images, most likely the one of
// Extended Data Fig. 7's test: the only session whose readme line lists both (normal 233,
// maximizing 150, gaudy 233, artificial 1,384 images; 54 neurons; 16 repeats).
const c8Session = "211025"

// readmePath is the data folder's readme, whose table gives each session's image types.
const readmePath = "data_V4_responses/readme.txt"

// c8Seed is the base of the permutation tests' seeds (set k uses c8Seed + k).
const c8Seed = 0xd075_c8c8

// c8Plan is how C8's test runs.
type c8Plan struct {
	// Permutations is the number of permutations of each test (10,000).
	Permutations int    `json:"permutations"`
	Seed         uint64 `json:"seed"`
	// SetSize is how many maximising images of each model its test compares with the natural
	// images: the paper's n = 10. The session has 150 maximising images, 30 per model if the
	// five had equal shares; the test takes the SetSize that the model drives most among those
	// assigned to it (0: all of them).
	SetSize int `json:"set_size"`
	// Alpha is the significance level the paper reports (p < 0.02).
	Alpha float64 `json:"alpha"`
}

// imageGroup is a run of a session's images of one type: images Lo…Hi−1, 0-based.
type imageGroup struct {
	Name   string
	Lo, Hi int
}

// sessionLayout is what the readme's table says of a session. The groups are consecutive
// blocks in the order the readme lists the types: the readme gives counts only, so the order of
// the blocks is an assumption (checked against the data by layoutStats).
type sessionLayout struct {
	Session                  string
	Neurons, Repeats, Images int
	Groups                   []imageGroup
}

// group returns the group of a type.
func (l sessionLayout) group(name string) (imageGroup, error) {
	for _, g := range l.Groups {
		if g.Name == name {
			return g, nil
		}
	}
	return imageGroup{}, fmt.Errorf("session %s: no %q images in the readme's line", l.Session, name)
}

// readmeType matches one "type (count)" item of a readme line; counts may have thousands
// separators ("artificial (1,384)") and names commas ("Bashivan et al., 2019 (600)").
var readmeType = regexp.MustCompile(`([^()]+)\(([0-9][0-9,]*)\)`)

// parseLayout reads a session's line of the readme's table: "id animal split neurons repeats
// images type (count), type (count), ...". The counts must add up to the images.
func parseLayout(readme []byte, session string) (sessionLayout, error) {
	l := sessionLayout{Session: session}
	found := false
	for i, line := range strings.Split(string(readme), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != session {
			continue
		}
		if found {
			return l, fmt.Errorf("%s line %d: session %s listed twice", readmePath, i+1, session)
		}
		found = true
		if len(f) < 7 {
			return l, fmt.Errorf("%s line %d: %d fields, want id, animal, split, neurons, repeats, images and the image types", readmePath, i+1, len(f))
		}
		for k, p := range []*int{&l.Neurons, &l.Repeats, &l.Images} {
			v, err := strconv.Atoi(f[3+k])
			if err != nil || v < 1 {
				return l, fmt.Errorf("%s line %d: field %d is %q, want a positive count", readmePath, i+1, 4+k, f[3+k])
			}
			*p = v
		}
		types := strings.Join(f[6:], " ")
		at := 0
		for _, m := range readmeType.FindAllStringSubmatchIndex(types, -1) {
			if strings.Trim(types[at:m[0]], ", ") != "" {
				return l, fmt.Errorf("%s line %d: unexpected %q in the image types", readmePath, i+1, types[at:m[0]])
			}
			at = m[1]
			name := strings.Trim(types[m[2]:m[3]], ", ")
			n, err := strconv.Atoi(strings.ReplaceAll(types[m[4]:m[5]], ",", ""))
			if err != nil || n < 1 || name == "" {
				return l, fmt.Errorf("%s line %d: image type %q", readmePath, i+1, types[m[0]:m[1]])
			}
			if _, err := l.group(name); err == nil {
				return l, fmt.Errorf("%s line %d: image type %q listed twice", readmePath, i+1, name)
			}
			lo := 0
			if k := len(l.Groups); k > 0 {
				lo = l.Groups[k-1].Hi
			}
			if lo+n > l.Images {
				return l, fmt.Errorf("%s line %d: the image types count more than %d images", readmePath, i+1, l.Images)
			}
			l.Groups = append(l.Groups, imageGroup{Name: name, Lo: lo, Hi: lo + n})
		}
		if strings.Trim(types[at:], ", ") != "" {
			return l, fmt.Errorf("%s line %d: unexpected %q in the image types", readmePath, i+1, types[at:])
		}
		if len(l.Groups) == 0 || l.Groups[len(l.Groups)-1].Hi != l.Images {
			return l, fmt.Errorf("%s line %d: the image types do not add up to %d images", readmePath, i+1, l.Images)
		}
	}
	if !found {
		return l, fmt.Errorf("%s: no line for session %s", readmePath, session)
	}
	return l, nil
}

// c8Data are session 211025's files, checked against each other and against the readme.
type c8Data struct {
	Layout sessionLayout
	Resp   *eval.Responses // every image, with the raw repeats
	Pix    *imagezip.Images
}

// loadC8 reads the readme's line, the responses (repeat-averaged and raw) and the images of the
// session, and checks that they agree.
func loadC8(s *v4data.Store, session string) (*c8Data, error) {
	readme, err := s.ReadFile(readmePath)
	if err != nil {
		return nil, err
	}
	lay, err := parseLayout(readme, session)
	if err != nil {
		return nil, err
	}
	for _, g := range []string{"normal", "maximizing"} {
		if _, err := lay.group(g); err != nil {
			return nil, fmt.Errorf("%s: %w", readmePath, err)
		}
	}
	resp, err := eval.LoadResponses(s, session, eval.AllImages)
	if err != nil {
		return nil, fmt.Errorf("responses of session %s (%s, %s): %w", session, v4data.AveragedPath(session), v4data.RawPath(session), err)
	}
	if resp.RawMissing != nil {
		return nil, resp.RawMissing
	}
	if resp.Neurons() != lay.Neurons || resp.Images() != lay.Images {
		return nil, fmt.Errorf("%s and %s: %d neurons × %d images, %s says %d × %d",
			v4data.AveragedPath(session), v4data.RawPath(session), resp.Neurons(), resp.Images(), readmePath, lay.Neurons, lay.Images)
	}
	pix, err := v4data.LoadImages(s, session, 0)
	if err != nil {
		return nil, err
	}
	if pix.N != lay.Images || pix.H != model.ImageSize || pix.W != model.ImageSize {
		return nil, fmt.Errorf("%s: %d images of %d×%d, the readme says %d of %d×%d",
			v4data.ImagesPath(session), pix.N, pix.H, pix.W, lay.Images, model.ImageSize, model.ImageSize)
	}
	return &c8Data{Layout: lay, Resp: resp, Pix: pix}, nil
}

// groupStat describes one group of images, to check the assumed layout against the data.
type groupStat struct {
	Group imageGroup
	// MeanResponse is the mean repeat-averaged response over the group's images and all neurons
	// (spikes per 100 ms bin); MeanZ the same of each neuron's responses z-scored over all the
	// session's images.
	MeanResponse, MeanZ float64
	// Uniform is the median over the group's images of the fraction of pixels in the image's
	// most common colour (each channel quantised to 32 levels): large for artificial stimuli on
	// a uniform background, small for photographs. NaN without images.
	Uniform float64
}

// layoutStats measures every group of the layout; pix may be nil.
func layoutStats(lay sessionLayout, avg [][]float64, pix *imagezip.Images) []groupStat {
	z := populationZ(avg)
	var out []groupStat
	for _, g := range lay.Groups {
		st := groupStat{Group: g, Uniform: math.NaN(), MeanZ: metrics.Mean(z[g.Lo:g.Hi])}
		var sr float64
		for n := range avg {
			for i := g.Lo; i < g.Hi; i++ {
				sr += avg[n][i]
			}
		}
		st.MeanResponse = sr / float64(len(avg)*(g.Hi-g.Lo))
		if pix != nil {
			u := make([]float64, 0, g.Hi-g.Lo)
			for i := g.Lo; i < g.Hi; i++ {
				u = append(u, uniformFraction(pix.Image(i)))
			}
			st.Uniform = metrics.Median(u)
		}
		out = append(out, st)
	}
	return out
}

// populationZ returns, per image, the mean over neurons of each neuron's response z-scored over
// all images (a neuron without variance counts as zero).
func populationZ(avg [][]float64) []float64 {
	if len(avg) == 0 {
		return nil
	}
	z := make([]float64, len(avg[0]))
	for _, row := range avg {
		m := metrics.Mean(row)
		sd := math.Sqrt(metrics.NaNVar(row, 0))
		if !(sd > 0) {
			continue
		}
		for i, v := range row {
			z[i] += (v - m) / sd / float64(len(avg))
		}
	}
	return z
}

// stepWindow is how many images on each side of an index responseStep compares.
const stepWindow = 20

// responseStep is the change of the population's mean z-scored response (populationZ) at image
// i: the mean over images i…i+w−1 minus the mean over i−w…i−1, NaN where a window does not fit.
func responseStep(z []float64, i, w int) float64 {
	if i < w || i+w > len(z) {
		return math.NaN()
	}
	return metrics.Mean(z[i:i+w]) - metrics.Mean(z[i-w:i])
}

// sharpestStep returns the image (0-based, the first after the step) where responseStep is
// largest in absolute value, and that step; −1 when no window fits. Blocks of different image
// types that drive the neurons differently show as steps, so the readme's boundaries are
// expected among the sharpest.
func sharpestStep(z []float64, w int) (int, float64) {
	at, best := -1, math.NaN()
	for i := w; i+w <= len(z); i++ {
		if d := responseStep(z, i, w); at < 0 || math.Abs(d) > math.Abs(best) {
			at, best = i, d
		}
	}
	return at, best
}

// uniformFraction is the fraction of an RGB image's pixels in its most common colour, each
// channel quantised to 32 levels (so that JPEG noise on a flat background stays in one bin).
func uniformFraction(px []uint8) float64 {
	var bins [1 << 15]int32
	best := int32(0)
	for i := 0; i+2 < len(px); i += 3 {
		k := int(px[i]>>3)<<10 | int(px[i+1]>>3)<<5 | int(px[i+2]>>3)
		bins[k]++
		best = max(best, bins[k])
	}
	return float64(best) / float64(len(px)/3)
}

// c8Set is one dot-like model's test.
type c8Set struct {
	// Neuron is the session's neuron the model predicts best on the normal images (largest
	// r²_ER), −1 when no neuron has a finite r²_ER; R2ER its r²_ER.
	Neuron int
	R2ER   float64
	// Assigned is the number of maximising images assigned to the model (those it drives most,
	// relative to its range over the normal images, among the dot-like models); Images the ones
	// tested (0-based session indices, most driving first).
	Assigned int
	Images   []int
	// MedianMax and MedianNatural are the neuron's median repeat-averaged responses to Images
	// and to the normal images; Diff their difference and P the one-sided permutation p-value.
	MedianMax, MedianNatural, Diff, P float64
}

// testC8 runs Extended Data Fig. 7's test: preds[k] are dot-like model k's predictions of every
// image of the session. Each model is matched to the neuron it predicts best on the normal
// images (r²_ER from the raw repeats); each maximising image is assigned to the model whose
// prediction of it is highest relative to that model's range over the normal images ((pred −
// min) / (max − min), ties to the first model); each model's set is its p.SetSize most driving
// assigned images; and the matched neuron's responses to the set are compared with its
// responses to the normal images by metrics.MedianPermutationTest.
func testC8(lay sessionLayout, resp *eval.Responses, preds [][]float64, p c8Plan) ([]c8Set, error) {
	if resp.Raw == nil {
		return nil, fmt.Errorf("session %s: the test needs the raw repeats", lay.Session)
	}
	nat, err := lay.group("normal")
	if err != nil {
		return nil, err
	}
	mx, err := lay.group("maximizing")
	if err != nil {
		return nil, err
	}
	raw, err := resp.Raw.Images(nat.Lo, nat.Hi)
	if err != nil {
		return nil, fmt.Errorf("session %s: %w", lay.Session, err)
	}
	sub := &eval.Responses{Session: resp.Session, Lo: nat.Lo, Hi: nat.Hi, Raw: &raw}
	for _, row := range resp.Averaged {
		sub.Averaged = append(sub.Averaged, row[nat.Lo:nat.Hi])
	}
	sets := make([]c8Set, len(preds))
	unit := make([][]float64, len(preds)) // each model's predictions of the maximising images in its natural range's units
	for k, pr := range preds {
		if len(pr) != lay.Images {
			return nil, fmt.Errorf("model %d: predictions of %d images, the session has %d", k, len(pr), lay.Images)
		}
		rows := make([][]float64, sub.Neurons())
		for n := range rows {
			rows[n] = pr[nat.Lo:nat.Hi]
		}
		sc, err := eval.Score(sub, rows, metrics.R2EROptions{})
		if err != nil {
			return nil, fmt.Errorf("model %d: %w", k, err)
		}
		s := c8Set{Neuron: -1, R2ER: math.NaN(), MedianMax: math.NaN(), MedianNatural: math.NaN(), Diff: math.NaN(), P: math.NaN()}
		for n, v := range sc.R2ER {
			if !math.IsNaN(v) && (s.Neuron < 0 || v > s.R2ER) {
				s.Neuron, s.R2ER = n, v
			}
		}
		sets[k] = s
		lo, hi := slices.Min(pr[nat.Lo:nat.Hi]), slices.Max(pr[nat.Lo:nat.Hi])
		unit[k] = make([]float64, mx.Hi-mx.Lo)
		for i := range unit[k] {
			unit[k][i] = math.NaN()
			if hi > lo {
				unit[k][i] = (pr[mx.Lo+i] - lo) / (hi - lo)
			}
		}
	}
	for i := 0; i < mx.Hi-mx.Lo; i++ {
		best := -1
		for k := range preds {
			if u := unit[k][i]; !math.IsNaN(u) && (best < 0 || u > unit[best][i]) {
				best = k
			}
		}
		if best >= 0 {
			sets[best].Images = append(sets[best].Images, mx.Lo+i)
		}
	}
	for k := range sets {
		s := &sets[k]
		s.Assigned = len(s.Images)
		slices.SortStableFunc(s.Images, func(a, b int) int { return cmpDesc(unit[k][a-mx.Lo], unit[k][b-mx.Lo]) })
		if p.SetSize > 0 && len(s.Images) > p.SetSize {
			s.Images = s.Images[:p.SetSize]
		}
		if s.Neuron < 0 || len(s.Images) == 0 {
			continue
		}
		row := resp.Averaged[s.Neuron]
		x := make([]float64, len(s.Images))
		for j, i := range s.Images {
			x[j] = row[i]
		}
		y := row[nat.Lo:nat.Hi]
		if s.Diff, s.P, err = metrics.MedianPermutationTest(x, y, p.Permutations, p.Seed+uint64(k)); err != nil {
			return nil, fmt.Errorf("model %d, neuron %d: %w", k, s.Neuron, err)
		}
		s.MedianMax, s.MedianNatural = metrics.Median(x), metrics.Median(y)
	}
	return sets, nil
}

// cmpDesc orders larger values first.
func cmpDesc(a, b float64) int {
	switch {
	case a > b:
		return -1
	case a < b:
		return 1
	}
	return 0
}

// c8Result is C8's test on the session's data.
type c8Result struct {
	Layout sessionLayout
	Stats  []groupStat
	// Step is the sharpest step of the population's response (sharpestStep, image index
	// 0-based) and StepSize its size; Boundaries the step at each boundary of the assumed groups
	// (Stats[g].Group.Lo for g ≥ 1).
	Step       int
	StepSize   float64
	Boundaries []float64
	Sets       []c8Set // one per dot-like model, in scr.Chosen order
}

// runC8 loads the session, logs the layout's check and tests every dot-like model.
func runC8(ctx context.Context, env *harness.Env, d *eval.Data, scr *screening, p c8Plan) (*c8Result, error) {
	cd, err := loadC8(env.Data, c8Session)
	if err != nil {
		return nil, fmt.Errorf("C8: %w", err)
	}
	res := &c8Result{Layout: cd.Layout, Stats: layoutStats(cd.Layout, cd.Resp.Averaged, cd.Pix)}
	z := populationZ(cd.Resp.Averaged)
	res.Step, res.StepSize = sharpestStep(z, stepWindow)
	for _, st := range res.Stats {
		env.Logf("C8: session %s, images %d-%d (%s, the readme's order): mean response %.3f, mean z-scored response %+.3f, median uniform-colour fraction %.3f",
			c8Session, st.Group.Lo+1, st.Group.Hi, st.Group.Name, st.MeanResponse, st.MeanZ, st.Uniform)
		if st.Group.Lo > 0 {
			res.Boundaries = append(res.Boundaries, responseStep(z, st.Group.Lo, stepWindow))
			env.Logf("C8: step of the mean z-scored response at image %d (%d images each side): %+.3f", st.Group.Lo+1, stepWindow, res.Boundaries[len(res.Boundaries)-1])
		}
	}
	env.Logf("C8: the sharpest step of the mean z-scored response is at image %d: %+.3f", res.Step+1, res.StepSize)
	n := cd.Pix.N
	preds := make([][]float64, len(scr.Chosen))
	for k, s := range scr.Chosen {
		out, err := d.PredictImages(ctx, s.M, "session"+c8Session, cd.Pix.Pix, n)
		if err != nil {
			return nil, fmt.Errorf("C8: %w", err)
		}
		preds[k] = eval.Float64s([][]float32{out})[0]
	}
	if res.Sets, err = testC8(cd.Layout, cd.Resp, preds, p); err != nil {
		return nil, fmt.Errorf("C8: %w", err)
	}
	for k, s := range res.Sets {
		env.Logf("C8: %s → neuron %d (r²_ER %.3f), %d maximising images assigned, %d tested: median %.3f against %.3f on natural images, p = %.4g",
			key(scr.Chosen[k]), s.Neuron, s.R2ER, s.Assigned, len(s.Images), s.MedianMax, s.MedianNatural, s.P)
	}
	return res, nil
}

// significant counts the sets with p < alpha.
func (r *c8Result) significant(alpha float64) int {
	n := 0
	for _, s := range r.Sets {
		if s.P < alpha {
			n++
		}
	}
	return n
}
