// Package areasim is a simulated visual area with known ground truth, the check of the
// compression-versus-filters analysis (internal/filtercurve): populations of model neurons of
// graded complexity respond to images, spike counts with Poisson trial noise are drawn for
// repeated presentations, and small shared models with K early filters are fitted to the
// neurons' expected responses. The simpler a population, the fewer early filters its models
// need; and because each neuron's expected response is known, the noise-corrected r²_ER can be
// compared with the true r² of a prediction.
//
// # Images
//
// The session images (112×112 RGB) are reduced to Side×Side by 7×7 block means (Downsample), so
// that fitting a model takes seconds.
//
// # Populations
//
// Every neuron has the same two stages: F filters of 5×5×3 pixels are applied to the recentred
// image ('same' zero padding, model.MeanPixel subtracted, values divided by 64), the filter
// outputs are rectified (or, for an energy unit, squared and summed over a quadrature pair), and
// a Gaussian receptive field pools them with the neuron's weights; the pooled drive, standardised
// over the images the population is calibrated on, gives the expected count
// MeanRate·softplus(1.5·z + 1)/softplus(1). The populations differ in their filters:
//
//   - V1: 2 Gabor filters (one orientation, a quadrature pair, luminance); half the neurons are
//     linear-nonlinear units (one of the two filters, rectified), half energy units (the pair).
//   - V4: up to 8 layer-0 kernels of a published single-neuron compact model (those of largest
//     norm), each neuron a random signed mixture of all of them.
//   - Wide: 24 Gabor filters (6 orientations × 2 phases × luminance and red-green), each neuron a
//     random signed mixture of all of them: the widest first stage.
//
// Receptive fields are Gaussians of σ = 2 pixels centred uniformly in the central 8×8 pixels.
package areasim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"

	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

// Factor is the block size of Downsample and Side the side of its images.
const (
	Factor = 7
	Side   = model.ImageSize / Factor
)

// ksize is the side of every first-stage filter.
const ksize = 5

// Downsample reduces n images of 112×112×3 uint8 (NHWC) to Side×Side×3 by the mean of each
// Factor×Factor block, rounded to the nearest integer (halves up).
func Downsample(pix []uint8, n int) ([]uint8, error) {
	const big = model.ImageSize
	if n < 1 || len(pix) != n*big*big*3 {
		return nil, fmt.Errorf("downsample: %d bytes for %d images of %d×%d×3", len(pix), n, big, big)
	}
	out := make([]uint8, n*Side*Side*3)
	for i := range n {
		src := pix[i*big*big*3:]
		for y := range Side {
			for x := range Side {
				for c := range 3 {
					s := 0
					for dy := range Factor {
						for dx := range Factor {
							s += int(src[((y*Factor+dy)*big+x*Factor+dx)*3+c])
						}
					}
					out[((i*Side+y)*Side+x)*3+c] = uint8((2*s + Factor*Factor) / (2 * Factor * Factor))
				}
			}
		}
	}
	return out, nil
}

// Filter is a 5×5×3 kernel, element [y][x][c] at (y·5+x)·3+c.
type Filter [ksize * ksize * 3]float64

// colour directions of the Gabor filters.
var (
	luminance = [3]float64{1, 1, 1}
	redGreen  = [3]float64{1, -1, 0}
)

// gabor returns a Gabor filter of orientation theta, phase phi, 0.25 cycles per pixel and an
// envelope of σ = 1.2 pixels along colour direction col, with zero mean per channel and unit
// norm.
func gabor(theta, phi float64, col [3]float64) Filter {
	var f Filter
	for y := range ksize {
		for x := range ksize {
			u, v := float64(x-ksize/2), float64(y-ksize/2)
			g := math.Exp(-(u*u+v*v)/(2*1.2*1.2)) * math.Cos(2*math.Pi*0.25*(u*math.Cos(theta)+v*math.Sin(theta))+phi)
			for c := range 3 {
				f[(y*ksize+x)*3+c] = g * col[c]
			}
		}
	}
	return normalise(f)
}

// normalise removes each channel's spatial mean and scales to unit norm.
func normalise(f Filter) Filter {
	for c := range 3 {
		m := 0.0
		for k := 0; k < ksize*ksize; k++ {
			m += f[k*3+c]
		}
		m /= ksize * ksize
		for k := 0; k < ksize*ksize; k++ {
			f[k*3+c] -= m
		}
	}
	s := 0.0
	for _, v := range f {
		s += v * v
	}
	if s > 0 {
		for i := range f {
			f[i] /= math.Sqrt(s)
		}
	}
	return f
}

// Kind names a population.
type Kind string

// The populations, simplest first.
const (
	V1   Kind = "V1-like"
	V4   Kind = "V4 compact"
	Wide Kind = "wide"
)

// Kinds are the populations in order of complexity.
var Kinds = []Kind{V1, V4, Wide}

// Unit is one model neuron.
type Unit struct {
	// Weights holds the weight of each filter's rectified output (LN and mixture units).
	Weights []float64
	// Energy, when set, makes the unit pool the energy of filters Pair and Pair+1 instead (V1:
	// Pair is 0, the population's quadrature pair).
	Energy bool
	Pair   int
	// CX, CY and Sigma place the Gaussian receptive field (pixels of the Side×Side image).
	CX, CY, Sigma float64
}

// Population is a simulated area.
type Population struct {
	Kind    Kind
	Filters []Filter
	Units   []Unit
	// Mean and SD standardise each unit's drive (set by Calibrate); MeanRate scales the counts.
	Mean, SD []float64
	MeanRate float64
}

// MeanRate is the mean spike count per presentation of the simulated neurons, about the mean of
// the upstream raw responses (reference/upstream.md §2; 2.4 and 4.0 in the two raw files).
const MeanRate = 3.0

// New draws a population of n units with the given seed; compact holds the layer-0 kernels of a
// published compact model, needed by V4 alone.
func New(kind Kind, n int, seed uint64, compact []Filter) (*Population, error) {
	if n < 1 {
		return nil, fmt.Errorf("population %s: %d units", kind, n)
	}
	rng := rand.New(metrics.NewSource(seed))
	p := &Population{Kind: kind, MeanRate: MeanRate}
	const sigma = 2.0
	switch kind {
	case V1:
		p.Filters = append(p.Filters, gabor(0, 0, luminance), gabor(0, math.Pi/2, luminance))
	case V4:
		if len(compact) == 0 {
			return nil, errors.New("population V4 compact: no compact-model kernels given")
		}
		p.Filters = append(p.Filters, compact[:min(8, len(compact))]...)
	case Wide:
		for o := range 6 {
			th := float64(o) * math.Pi / 6
			for _, col := range [][3]float64{luminance, redGreen} {
				p.Filters = append(p.Filters, gabor(th, 0, col), gabor(th, math.Pi/2, col))
			}
		}
	default:
		return nil, fmt.Errorf("unknown population %q (want %s, %s or %s)", kind, V1, V4, Wide)
	}
	for i := range n {
		u := Unit{CX: 4 + 8*rng.Float64(), CY: 4 + 8*rng.Float64(), Sigma: sigma, Weights: make([]float64, len(p.Filters))}
		if kind == V1 {
			if i%2 == 1 {
				u.Energy = true
			} else {
				u.Weights[rng.IntN(2)] = 1
			}
		} else {
			for f := range u.Weights {
				u.Weights[f] = rng.NormFloat64()
			}
		}
		p.Units = append(p.Units, u)
	}
	return p, nil
}

// FiltersOf returns the layer-0 kernels of a compact model (Conv2D kernel (5, 5, 3, F)) as
// Filters, normalised, in order of decreasing norm.
func FiltersOf(net *model.Network) ([]Filter, error) {
	if len(net.Layers) == 0 || net.Layers[0].Class != model.Conv2D || len(net.Layers[0].Weights) == 0 {
		return nil, fmt.Errorf("network %s: no Conv2D first layer", net.Name)
	}
	w := net.Layers[0].Weights[0]
	if len(w.Shape) != 4 || w.Shape[0] != ksize || w.Shape[1] != ksize || w.Shape[2] != 3 {
		return nil, fmt.Errorf("network %s: first kernel of shape %v, want (5, 5, 3, F)", net.Name, w.Shape)
	}
	nf := w.Shape[3]
	type nf64 struct {
		f    Filter
		norm float64
	}
	var fs []nf64
	for k := range nf {
		var f Filter
		s := 0.0
		for i := range f {
			f[i] = float64(w.Data[i*nf+k])
			s += f[i] * f[i]
		}
		fs = append(fs, nf64{normalise(f), s})
	}
	// Stable selection sort by decreasing norm (few filters).
	for i := range fs {
		b := i
		for j := i + 1; j < len(fs); j++ {
			if fs[j].norm > fs[b].norm {
				b = j
			}
		}
		fs[i], fs[b] = fs[b], fs[i]
	}
	out := make([]Filter, len(fs))
	for i, x := range fs {
		out[i] = x.f
	}
	return out, nil
}

// Drive returns each unit's pooled drive [unit][image] for n Side×Side×3 images.
func (p *Population) Drive(pix []uint8, n int) ([][]float64, error) {
	const px = Side * Side * 3
	if n < 1 || len(pix) != n*px {
		return nil, fmt.Errorf("population %s: %d bytes for %d images of %d×%d×3", p.Kind, len(pix), n, Side, Side)
	}
	nf := len(p.Filters)
	gauss := make([][]float64, len(p.Units))
	for j, u := range p.Units {
		g := make([]float64, Side*Side)
		s := 0.0
		for y := range Side {
			for x := range Side {
				dx, dy := float64(x)-u.CX, float64(y)-u.CY
				g[y*Side+x] = math.Exp(-(dx*dx + dy*dy) / (2 * u.Sigma * u.Sigma))
				s += g[y*Side+x]
			}
		}
		for i := range g {
			g[i] /= s
		}
		gauss[j] = g
	}
	out := make([][]float64, len(p.Units))
	for j := range out {
		out[j] = make([]float64, n)
	}
	x := make([]float64, px)
	maps := make([]float64, nf*Side*Side) // [filter][y][x]
	for i := range n {
		for k, v := range pix[i*px : (i+1)*px] {
			x[k] = (float64(v) - model.MeanPixel[k%3]) / 64
		}
		for f, flt := range p.Filters {
			for y := range Side {
				for xx := range Side {
					s := 0.0
					for ky := range ksize {
						iy := y + ky - ksize/2
						if iy < 0 || iy >= Side {
							continue
						}
						for kx := range ksize {
							ix := xx + kx - ksize/2
							if ix < 0 || ix >= Side {
								continue
							}
							b := (iy*Side + ix) * 3
							w := (ky*ksize + kx) * 3
							s += flt[w]*x[b] + flt[w+1]*x[b+1] + flt[w+2]*x[b+2]
						}
					}
					maps[(f*Side+y)*Side+xx] = s
				}
			}
		}
		for j, u := range p.Units {
			g := gauss[j]
			d := 0.0
			for q := range Side * Side {
				if u.Energy {
					a, b := maps[u.Pair*Side*Side+q], maps[(u.Pair+1)*Side*Side+q]
					d += g[q] * (a*a + b*b)
					continue
				}
				for f, w := range u.Weights {
					if w != 0 {
						d += g[q] * w * max(maps[f*Side*Side+q], 0)
					}
				}
			}
			out[j][i] = d
		}
	}
	return out, nil
}

// Calibrate sets each unit's Mean and SD from its drive to the given images.
func (p *Population) Calibrate(pix []uint8, n int) error {
	d, err := p.Drive(pix, n)
	if err != nil {
		return err
	}
	p.Mean, p.SD = make([]float64, len(d)), make([]float64, len(d))
	for j, row := range d {
		p.Mean[j] = metrics.Mean(row)
		p.SD[j] = math.Sqrt(metrics.NaNVar(row, 0))
		if !(p.SD[j] > 0) {
			return fmt.Errorf("population %s: unit %d has the same drive for all %d calibration images", p.Kind, j, n)
		}
	}
	return nil
}

// Rates returns each unit's expected spike count [unit][image] for n Side×Side×3 images.
func (p *Population) Rates(pix []uint8, n int) ([][]float64, error) {
	if p.Mean == nil {
		return nil, fmt.Errorf("population %s: not calibrated", p.Kind)
	}
	d, err := p.Drive(pix, n)
	if err != nil {
		return nil, err
	}
	norm := p.MeanRate / softplus(1)
	for j, row := range d {
		for i, v := range row {
			row[i] = norm * softplus(1.5*(v-p.Mean[j])/p.SD[j]+1)
		}
	}
	return d, nil
}

func softplus(x float64) float64 {
	if x > 30 {
		return x
	}
	return math.Log1p(math.Exp(x))
}

// Repeats draws r Poisson spike counts per image from expected counts rates[unit][image], with
// the given seed: the raw responses of a session in which every image was shown r times.
func Repeats(rates [][]float64, r int, seed uint64) (metrics.Raw, error) {
	if len(rates) == 0 || len(rates[0]) == 0 || r < 1 {
		return metrics.Raw{}, fmt.Errorf("repeats: %d units, %d repeats", len(rates), r)
	}
	rng := rand.New(metrics.NewSource(seed))
	m := len(rates[0])
	z := metrics.Raw{N: len(rates), M: m, R: r, Data: make([]float64, 0, len(rates)*m*r)}
	for j, row := range rates {
		if len(row) != m {
			return metrics.Raw{}, fmt.Errorf("repeats: unit %d has %d images, unit 0 %d", j, len(row), m)
		}
		for _, lam := range row {
			if !(lam >= 0) || math.IsInf(lam, 0) {
				return metrics.Raw{}, fmt.Errorf("repeats: unit %d has expected count %v", j, lam)
			}
			for range r {
				z.Data = append(z.Data, float64(poisson(rng, lam)))
			}
		}
	}
	return z, nil
}

// poisson draws a Poisson count of mean lam (< 50 here) by Knuth's product of uniforms.
func poisson(rng *rand.Rand, lam float64) int {
	l, k, p := math.Exp(-lam), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
