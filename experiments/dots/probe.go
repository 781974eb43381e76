package dots

import (
	"context"
	"fmt"
	"math"

	"compactv4/eval"
	"compactv4/internal/artificial"
	"compactv4/internal/dotsel"
)

// probe is a model's responses to the bar probe: its preferred centred dot alone, the blank, the
// dot with each full-length centred bar of the same polarity through it (artificial.Overlay),
// and each bar alone.
type probe struct {
	Bars        []artificial.Stimulus
	Dot, Blank  float64
	DotBar, Bar []float64
	// Suppression is the mean over the bars of (Dot − DotBar)/(Dot − Blank): the fraction of
	// the dot response a bar through the dot takes away (1: back to the blank's). NaN when
	// Dot equals Blank.
	Suppression float64
}

// probeBars are the bars of the probe: the set's centred bars as long as the image, of the
// dot's polarity.
func probeBars(set []artificial.Stimulus, polarity int) []artificial.Stimulus {
	var out []artificial.Stimulus
	for _, s := range set {
		if s.Family == "bar" && s.Length == artificial.Size && s.Polarity == polarity {
			out = append(out, s)
		}
	}
	return out
}

// preferredDot returns the centred dot of family "size" with the preferred radius and polarity.
func preferredDot(set []artificial.Stimulus, ix dotsel.Indices) (artificial.Stimulus, error) {
	for _, s := range set {
		if s.Family == "size" && s.Polarity == ix.Polarity && s.Radius == ix.PreferredRadius {
			return s, nil
		}
	}
	return artificial.Stimulus{}, fmt.Errorf("no centred dot of polarity %d and radius %v", ix.Polarity, ix.PreferredRadius)
}

// barProbe shows m the bar probe of the preferred dot of ix (a cached prediction).
func barProbe(ctx context.Context, d *eval.Data, m eval.Model, set []artificial.Stimulus, ix dotsel.Indices) (probe, error) {
	pr := probe{Bars: probeBars(set, ix.Polarity), Suppression: math.NaN()}
	dot, err := preferredDot(set, ix)
	if err != nil {
		return pr, err
	}
	if len(pr.Bars) == 0 {
		return pr, fmt.Errorf("bar probe: the set has no centred bar %d pixels long of polarity %d", artificial.Size, ix.Polarity)
	}
	pix, err := dot.Render()
	if err != nil {
		return pr, err
	}
	pix = append(pix, blankImage()...)
	for _, b := range pr.Bars {
		px, err := artificial.Overlay(dot, b)
		if err != nil {
			return pr, err
		}
		pix = append(pix, px...)
	}
	for _, b := range pr.Bars {
		px, err := b.Render()
		if err != nil {
			return pr, err
		}
		pix = append(pix, px...)
	}
	n := 2 + 2*len(pr.Bars)
	out, err := d.PredictImages(ctx, m, fmt.Sprintf("bar_probe_polarity%d_radius%v", ix.Polarity, ix.PreferredRadius), pix, n)
	if err != nil {
		return pr, err
	}
	pr.Dot, pr.Blank = float64(out[0]), float64(out[1])
	nb := len(pr.Bars)
	sum := 0.0
	for i := range nb {
		pr.DotBar = append(pr.DotBar, float64(out[2+i]))
		pr.Bar = append(pr.Bar, float64(out[2+nb+i]))
		sum += (pr.Dot - pr.DotBar[i]) / (pr.Dot - pr.Blank)
	}
	if pr.Dot != pr.Blank {
		pr.Suppression = sum / float64(nb)
	}
	return pr, nil
}
