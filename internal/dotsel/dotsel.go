// Package dotsel measures how much a model behaves as a dot detector, from its responses to the
// artificial stimuli of internal/artificial (artificial.Standard's families) and to natural
// images, and ranks models by it. It also holds the indices of the dissection of a dot-like
// model (ablation necessity, dot-size invariance) and the test of the consolidation hypothesis.
//
// # Indices of one model
//
// r(s) is the model's response to stimulus s, r₀ its response to the blank background, and the
// natural-image range is the median m and maximum M of its responses to its session's natural
// images. With the natural range as the unit (the models' output scales are arbitrary):
//
//   - DotNatural = (max over dots r − m)/(M − m): 1 when the best dot drives the model as much
//     as its best natural image, 0 as much as a typical one.
//   - Selectivity, the dot-selectivity index = (max over dots r − max over controls r)/(M − m):
//     positive when some dot beats every control. The controls include large discs up to the
//     full field, so a model that prefers discs larger than the largest dot (radius 16) or a
//     uniform field is not selective: size tuning is part of the index.
//   - Polarity: the polarity of the best single centred dot (family "size"); the size, position
//     and number indices below use that polarity.
//   - PreferredRadius: the radius of that dot. SizeTuning: r(radius) − r₀ over
//     artificial.DotRadii then artificial.DiscRadii (single centred dots, then discs).
//   - SizeSuppression = (r(preferred) − r(full field))/(r(preferred) − r₀), the full field being
//     the disc of radius 80: 0 when a uniform field drives the model as much as its preferred
//     dot, 1 when it is back to the blank's response (more than 1: below it).
//   - SizeInvariance = mean over DotRadii of a(r) / max over DotRadii of a(r) with
//     a = max(r − r₀, 0): 1 when every dot size drives the model equally, 1/11 when one does.
//   - PositionInvariance: the same over the 25 positions of family "position".
//   - NumberInvariance: the mean of a over the grids of family "number" divided by the largest
//     a among them and the single dots of the same radii (2 and 4).
//
// Invariances are NaN when no stimulus raises the response above the blank's.
//
// # Ranking
//
// Rank orders models by their dot-selectivity index, the larger first, a NaN last; ties go to
// the larger Blob, the blobness of their preferred images (internal/blob; the caller says which
// images), then to the earlier model. Blob is the stimulus-preference criterion the paper names
// alongside the dot responses, but it is only a tie-break: the blobness of the most driving
// natural images of the 33 models of session 190923 spans 0.37-0.95 (15 above 0.8) and does not
// follow the dot responses (the most salient structure of a natural image is often blob-like
// whatever the model prefers: the model with the largest blobness has a control that beats every
// dot), so averaging its rank with selectivity's chose models whose best control beats every
// dot.
package dotsel

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"compactv4/internal/artificial"
	"compactv4/internal/metrics"
)

// Indices are the dot indices of one model (see the package doc).
type Indices struct {
	Blank                float64
	NatMedian, NatMax    float64
	BestDot, BestControl int // stimulus indices
	DotNatural           float64
	Selectivity          float64
	Polarity             int
	PreferredRadius      float64
	SizeTuning           []float64 // r − r₀ over Radii()
	SizeSuppression      float64
	SizeInvariance       float64
	PositionInvariance   float64
	NumberInvariance     float64
}

// Radii are the radii of Indices.SizeTuning: artificial.DotRadii then artificial.DiscRadii.
func Radii() []float64 {
	return append(append([]float64(nil), artificial.DotRadii...), artificial.DiscRadii...)
}

// centred reports whether s is a single achromatic full-contrast disc at the image centre.
func centred(s artificial.Stimulus) bool {
	c := float64(artificial.Size / 2)
	return s.X == c && s.Y == c && s.Contrast == 1 && s.Color == "achromatic" &&
		(s.Kind == artificial.Disc || (s.Kind == artificial.Dot && s.Number == 1))
}

// Measure computes a model's indices from its responses resp to the stimuli of set (the same
// order), its response to the blank background and its responses to natural images. The set
// must hold the families "size", "disc", "position" and "number" of artificial.Standard.
func Measure(set []artificial.Stimulus, resp []float64, blank float64, natural []float64) (Indices, error) {
	var ix Indices
	if len(set) != len(resp) {
		return ix, fmt.Errorf("dot indices: %d responses for %d stimuli", len(resp), len(set))
	}
	if len(natural) < 2 {
		return ix, fmt.Errorf("dot indices: %d natural-image responses, want at least 2", len(natural))
	}
	for i, v := range append(append([]float64{blank}, resp...), natural...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ix, fmt.Errorf("dot indices: response %d is %v", i, v)
		}
	}
	ix.Blank = blank
	ix.NatMedian = metrics.Median(natural)
	ix.NatMax = slices.Max(natural)
	unit := ix.NatMax - ix.NatMedian
	ix.BestDot, ix.BestControl = -1, -1
	for i, s := range set {
		if s.IsDot() {
			if ix.BestDot < 0 || resp[i] > resp[ix.BestDot] {
				ix.BestDot = i
			}
		} else if ix.BestControl < 0 || resp[i] > resp[ix.BestControl] {
			ix.BestControl = i
		}
	}
	if ix.BestDot < 0 || ix.BestControl < 0 {
		return ix, fmt.Errorf("dot indices: the set needs both dots and controls")
	}
	ix.DotNatural = (resp[ix.BestDot] - ix.NatMedian) / unit
	ix.Selectivity = (resp[ix.BestDot] - resp[ix.BestControl]) / unit

	// The best single centred dot and its polarity.
	pref := -1
	for i, s := range set {
		if s.Family == "size" && centred(s) && (pref < 0 || resp[i] > resp[pref]) {
			pref = i
		}
	}
	if pref < 0 {
		return ix, fmt.Errorf("dot indices: the set has no family \"size\" of centred dots")
	}
	ix.Polarity, ix.PreferredRadius = set[pref].Polarity, set[pref].Radius
	byRadius := map[float64]float64{}
	for i, s := range set {
		if (s.Family == "size" || s.Family == "disc") && centred(s) && s.Polarity == ix.Polarity {
			byRadius[s.Radius] = resp[i] - blank
		}
	}
	for _, r := range Radii() {
		v, ok := byRadius[r]
		if !ok {
			return ix, fmt.Errorf("dot indices: no centred disc of radius %v and polarity %d", r, ix.Polarity)
		}
		ix.SizeTuning = append(ix.SizeTuning, v)
	}
	full := byRadius[artificial.DiscRadii[len(artificial.DiscRadii)-1]]
	ix.SizeSuppression = (resp[pref] - blank - full) / (resp[pref] - blank)
	ix.SizeInvariance = Invariance(ix.SizeTuning[:len(artificial.DotRadii)], 0)

	var pos, num, single []float64
	for i, s := range set {
		if s.Polarity != ix.Polarity {
			continue
		}
		switch {
		case s.Family == "position":
			pos = append(pos, resp[i])
		case s.Family == "number":
			num = append(num, resp[i])
		case s.Family == "size" && centred(s) && (s.Radius == 2 || s.Radius == 4):
			single = append(single, resp[i])
		}
	}
	if len(pos) == 0 || len(num) == 0 || len(single) != 2 {
		return ix, fmt.Errorf("dot indices: the set lacks the families \"position\" or \"number\" of artificial.Standard")
	}
	ix.PositionInvariance = Invariance(pos, blank)
	ix.NumberInvariance = math.NaN()
	top := 0.0
	for _, v := range append(append([]float64(nil), num...), single...) {
		top = math.Max(top, v-blank)
	}
	if top > 0 {
		mean := 0.0
		for _, v := range num {
			mean += math.Max(v-blank, 0)
		}
		ix.NumberInvariance = mean / float64(len(num)) / top
	}
	return ix, nil
}

// Invariance is mean(a)/max(a) with a = max(x − ref, 0): 1 when every x is the same, 1/len(x)
// when only one exceeds ref; NaN when none does.
func Invariance(x []float64, ref float64) float64 {
	mean, top := 0.0, 0.0
	for _, v := range x {
		a := math.Max(v-ref, 0)
		mean += a
		top = math.Max(top, a)
	}
	if !(top > 0) {
		return math.NaN()
	}
	return mean / float64(len(x)) / top
}

// Ranked is a model's place in Rank.
type Ranked struct {
	Index int     // the model's position in Rank's input
	Score float64 // its selectivity
}

// Rank orders models by dot-likeness (see the package doc): selectivity[i] and blob[i] are
// model i's Selectivity and preferred-image blobness. The first of the result is the most
// dot-like.
func Rank(selectivity, blob []float64) ([]Ranked, error) {
	n := len(selectivity)
	if n == 0 || len(blob) != n {
		return nil, fmt.Errorf("rank: %d selectivities and %d blobnesses", n, len(blob))
	}
	key := func(x float64) float64 {
		if math.IsNaN(x) {
			return math.Inf(-1)
		}
		return x
	}
	out := make([]Ranked, n)
	for i := range out {
		out[i] = Ranked{Index: i, Score: selectivity[i]}
	}
	sort.SliceStable(out, func(a, b int) bool {
		sa, sb := key(selectivity[out[a].Index]), key(selectivity[out[b].Index])
		if sa != sb {
			return sa > sb
		}
		return key(blob[out[a].Index]) > key(blob[out[b].Index])
	})
	return out, nil
}
