// Package artificial draws the parametric artificial stimuli of the dot experiment (Fig. 4b,
// Extended Data Fig. 8b): dots (discs of a given radius, number, spacing, position, contrast
// polarity, achromatic or coloured) and shapes that are not dots (large discs up to the full
// field, rings, oriented bars, edges, gratings, curved contours), as 112×112 uint8 RGB images on
// a uniform grey background, and writes a set of them as a zip of PNGs with a CSV of their
// parameters so that the same set can be shown in other experiments.
//
// # Pixels
//
// Images are uint8 RGB in HWC order, the layout of internal/imagezip and of eval.Model.Predict.
// The background of channel c is round(mean_c) of model.MeanPixel, (116, 109, 100): the uint8
// grey nearest to the mean pixel that the compact models subtract (reference/upstream.md §3.1),
// so the models see the background as (−0.222, −0.270, −0.381), the nearest to zero that an
// 8-bit image can be. A stimulus moves channel c away from the background by
//
//	Polarity · Contrast · A_c · u_c · m(pixel),   A_c = min(bg_c, 255 − bg_c) = (116, 109, 100),
//
// rounded to the nearest integer (half away from zero), where u is the colour direction
// (achromatic (1, 1, 1); red (1, −1, −1), green (−1, 1, −1), blue (−1, −1, 1), yellow
// (1, 1, −1)) and m is the shape's mean over the pixel (its area fraction, for a grating the
// pixel's mean of the cosine). A_c is the largest excursion that both polarities can take, so a
// dark stimulus is exactly the bright one mirrored about the background (bg − Δ against bg + Δ,
// pixel by pixel): a full-contrast dark achromatic dot is black (0, 0, 0), a bright one
// (232, 218, 200); a coloured stimulus of polarity −1 is the complementary colour (red turns
// cyan).
//
// # Geometry
//
// Coordinates are continuous pixels: x to the right, y downwards, pixel (row i, column j) covers
// [j, j+1) × [i, i+1), so the image's centre is (56, 56) and a shape centred there is symmetric
// under horizontal and vertical flips. A pixel's value is the mean over 4×4 sample points at
// ((j + (a + ½)/4), (i + (b + ½)/4)), a = 0…3, b = 0…3 (antialiasing; boundaries on integer
// coordinates are exact). Orientations are degrees counter-clockwise on the screen from the
// rightward horizontal: the unit vector of orientation θ is n = (cos θ, −sin θ) in image
// coordinates.
//
// Every Stimulus is checked (Validate) before it is drawn: a parameter out of range is an error
// that names it. Random layouts draw from PCG(Seed, 0), so a stimulus depends only on its
// parameters.
package artificial

import (
	"fmt"
	"math"
	"math/rand/v2"

	"compactv4/internal/model"
)

// Size is the side of a stimulus image, the compact models' input size.
const Size = model.ImageSize

// samples is the number of sample points per pixel side (samples² per pixel).
const samples = 4

// Kind is the shape of a stimulus.
type Kind string

// The kinds of stimuli. Dot is the only kind of dot; the others are controls.
const (
	// Dot: Number discs of Radius, in a grid of pitch Spacing centred at (X, Y), or scattered at
	// random (Layout "random") in the Spread × Spread square centred at (X, Y), at least Spacing
	// apart.
	Dot Kind = "dot"
	// Disc: one disc of Radius centred at (X, Y); a radius of 80 or more covers the whole image
	// (full field) when centred.
	Disc Kind = "disc"
	// Ring: the annulus of outer radius Radius and thickness Width centred at (X, Y).
	Ring Kind = "ring"
	// Bar: a Length × Width rectangle centred at (X, Y), its long axis along Orientation.
	Bar Kind = "bar"
	// Edge: the half-plane on the side Orientation points to, from the line through (X, Y) at
	// Orientation + 90°.
	Edge Kind = "edge"
	// Grating: a full-field sinusoid cos(2π·((p − (X, Y))·n)/Period + Phase) varying along
	// Orientation.
	Grating Kind = "grating"
	// Curve: an arc of the circle of radius Radius, Width thick, spanning Extent degrees, whose
	// midpoint is (X, Y) and which bulges towards Orientation.
	Curve Kind = "curve"
)

// Layouts of a Dot stimulus's discs.
const (
	Grid   = "grid"
	Random = "random"
)

// colours maps a colour name to its direction u in RGB.
var colours = map[string][3]float64{
	"achromatic": {1, 1, 1},
	"red":        {1, -1, -1},
	"green":      {-1, 1, -1},
	"blue":       {-1, -1, 1},
	"yellow":     {1, 1, -1},
}

// Stimulus is the parameters of one image. Fields a kind does not use must be zero (Validate
// says which a kind uses).
type Stimulus struct {
	// Family groups the stimuli of one sweep of a set (e.g. "size", "position", "bar"); it does
	// not change the image.
	Family      string
	Kind        Kind
	Radius      float64 // Dot, Disc, Ring, Curve: pixels
	Width       float64 // Ring, Bar, Curve: thickness in pixels
	Length      float64 // Bar: pixels
	Orientation float64 // Bar, Edge, Grating, Curve: degrees in [0, 360)
	Period      float64 // Grating: pixels per cycle
	Phase       float64 // Grating: degrees in [0, 360)
	Extent      float64 // Curve: degrees of arc in (0, 360]
	Number      int     // Dot: number of discs
	Spacing     float64 // Dot: grid pitch, or the least centre distance of a random layout
	Layout      string  // Dot: Grid or Random
	Spread      float64 // Dot, random layout: side of the square the centres fall in
	X, Y        float64 // centre in pixels, in [0, Size]
	Polarity    int     // +1 brighter than the background (for colours: towards the colour), −1 darker
	Contrast    float64 // in (0, 1], the fraction of the largest symmetric excursion
	Color       string  // "achromatic", "red", "green", "blue" or "yellow"
	Seed        uint64  // Dot, random layout: the stream of the centres
}

// Background returns the background pixel, round(model.MeanPixel).
func Background() [3]uint8 {
	var bg [3]uint8
	for c, m := range model.MeanPixel {
		bg[c] = uint8(math.Round(m))
	}
	return bg
}

// amplitudes returns A_c = min(bg_c, 255 − bg_c).
func amplitudes() [3]float64 {
	var a [3]float64
	for c, b := range Background() {
		a[c] = math.Min(float64(b), 255-float64(b))
	}
	return a
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func inRange(name string, x, lo, hi float64) error {
	if !finite(x) || x < lo || x > hi {
		return fmt.Errorf("%s %v out of range [%v, %v]", name, x, lo, hi)
	}
	return nil
}

func mustZero(k Kind, fields map[string]float64) error {
	for _, name := range []string{"radius", "width", "length", "orientation", "period", "phase", "extent", "number", "spacing", "spread", "seed"} {
		if v, ok := fields[name]; ok && v != 0 {
			return fmt.Errorf("%s stimulus: %s %v is not used by this kind and must be 0", k, name, v)
		}
	}
	return nil
}

// Validate checks that the stimulus can be drawn: its kind, colour and polarity are known,
// every parameter its kind uses is in range, the ones it does not use are zero, and every disc
// of a Dot lies inside the image (a random layout must also be placeable, see Centres).
func (s Stimulus) Validate() error {
	if err := s.validate(); err != nil {
		return fmt.Errorf("stimulus %q: %w", s.Kind, err)
	}
	return nil
}

func (s Stimulus) validate() error {
	switch s.Kind {
	case Dot, Disc, Ring, Bar, Edge, Grating, Curve:
	default:
		return fmt.Errorf("unknown kind (want dot, disc, ring, bar, edge, grating or curve)")
	}
	if s.Polarity != 1 && s.Polarity != -1 {
		return fmt.Errorf("polarity %d: want +1 or -1", s.Polarity)
	}
	if !finite(s.Contrast) || s.Contrast <= 0 || s.Contrast > 1 {
		return fmt.Errorf("contrast %v out of range (0, 1]", s.Contrast)
	}
	if _, ok := colours[s.Color]; !ok {
		return fmt.Errorf("colour %q: want achromatic, red, green, blue or yellow", s.Color)
	}
	if err := inRange("x", s.X, 0, Size); err != nil {
		return err
	}
	if err := inRange("y", s.Y, 0, Size); err != nil {
		return err
	}
	unused := map[string]float64{
		"radius": s.Radius, "width": s.Width, "length": s.Length, "orientation": s.Orientation,
		"period": s.Period, "phase": s.Phase, "extent": s.Extent, "number": float64(s.Number),
		"spacing": s.Spacing, "spread": s.Spread, "seed": float64(s.Seed),
	}
	use := func(names ...string) {
		for _, n := range names {
			delete(unused, n)
		}
	}
	if s.Kind != Dot && s.Layout != "" {
		return fmt.Errorf("layout %q is used only by dots", s.Layout)
	}
	var err error
	switch s.Kind {
	case Dot:
		use("radius", "number", "spacing", "spread", "seed")
		err = s.validateDots()
	case Disc:
		use("radius")
		err = inRange("radius", s.Radius, 0.5, 160)
	case Ring:
		use("radius", "width")
		if err = inRange("radius", s.Radius, 0.5, 160); err == nil {
			err = inRange("width", s.Width, 0.5, s.Radius)
		}
	case Bar:
		use("length", "width", "orientation")
		if err = inRange("length", s.Length, 0.5, 2*Size); err == nil {
			if err = inRange("width", s.Width, 0.5, 2*Size); err == nil {
				err = angle("orientation", s.Orientation)
			}
		}
	case Edge:
		use("orientation")
		err = angle("orientation", s.Orientation)
	case Grating:
		use("period", "phase", "orientation")
		if err = inRange("period", s.Period, 2, 4*Size); err == nil {
			if err = angle("orientation", s.Orientation); err == nil {
				err = angle("phase", s.Phase)
			}
		}
	case Curve:
		use("radius", "width", "extent", "orientation")
		if err = inRange("radius", s.Radius, 1, 4*Size); err == nil {
			if err = inRange("width", s.Width, 0.5, s.Radius); err == nil {
				if err = inRange("extent", s.Extent, 1, 360); err == nil {
					err = angle("orientation", s.Orientation)
				}
			}
		}
	}
	if err != nil {
		return err
	}
	return mustZero(s.Kind, unused)
}

func angle(name string, x float64) error {
	if !finite(x) || x < 0 || x >= 360 {
		return fmt.Errorf("%s %v out of range [0, 360)", name, x)
	}
	return nil
}

// maxDots bounds Number.
const maxDots = 64

func (s Stimulus) validateDots() error {
	if err := inRange("radius", s.Radius, 0.5, Size/2); err != nil {
		return err
	}
	if s.Number < 1 || s.Number > maxDots {
		return fmt.Errorf("number %d out of range [1, %d]", s.Number, maxDots)
	}
	switch s.Layout {
	case Grid:
		if s.Spread != 0 || s.Seed != 0 {
			return fmt.Errorf("a grid of dots uses neither spread (%v) nor seed (%d)", s.Spread, s.Seed)
		}
		if s.Number == 1 && s.Spacing != 0 {
			return fmt.Errorf("spacing %v of a single dot must be 0", s.Spacing)
		}
	case Random:
		if err := inRange("spread", s.Spread, 0, Size); err != nil {
			return err
		}
	default:
		return fmt.Errorf("layout %q: want grid or random", s.Layout)
	}
	if s.Number > 1 {
		if err := inRange("spacing", s.Spacing, 2*s.Radius, Size); err != nil {
			return fmt.Errorf("%w (discs of radius %v may not overlap)", err, s.Radius)
		}
	}
	_, err := s.Centres()
	return err
}

// Centres returns the centres of a Dot stimulus's discs. A grid has ⌈√Number⌉ columns and as
// many rows as it needs, filled row by row, pitch Spacing, centred at (X, Y). A random layout
// draws each centre uniformly in the Spread × Spread square around (X, Y) from PCG(Seed, 0),
// redrawing a centre closer than Spacing to an earlier one, up to 10,000 draws per disc. Every
// disc must lie inside the image.
func (s Stimulus) Centres() ([][2]float64, error) {
	if s.Kind != Dot {
		return [][2]float64{{s.X, s.Y}}, nil
	}
	var cs [][2]float64
	switch s.Layout {
	case Grid:
		cols := int(math.Ceil(math.Sqrt(float64(s.Number))))
		rows := (s.Number + cols - 1) / cols
		for k := range s.Number {
			r, c := k/cols, k%cols
			cs = append(cs, [2]float64{
				s.X + (float64(c)-float64(cols-1)/2)*s.Spacing,
				s.Y + (float64(r)-float64(rows-1)/2)*s.Spacing,
			})
		}
	case Random:
		rng := rand.New(rand.NewPCG(s.Seed, 0))
		for k := range s.Number {
			placed := false
			for range 10000 {
				p := [2]float64{s.X + (rng.Float64()-0.5)*s.Spread, s.Y + (rng.Float64()-0.5)*s.Spread}
				ok := true
				for _, q := range cs {
					if math.Hypot(p[0]-q[0], p[1]-q[1]) < s.Spacing {
						ok = false
						break
					}
				}
				if ok {
					cs = append(cs, p)
					placed = true
					break
				}
			}
			if !placed {
				return nil, fmt.Errorf("dot %d of %d: no place at least %v from the others in a square of side %v", k+1, s.Number, s.Spacing, s.Spread)
			}
		}
	default:
		return nil, fmt.Errorf("layout %q: want grid or random", s.Layout)
	}
	for k, c := range cs {
		if c[0]-s.Radius < 0 || c[0]+s.Radius > Size || c[1]-s.Radius < 0 || c[1]+s.Radius > Size {
			return nil, fmt.Errorf("dot %d of %d at (%v, %v) with radius %v leaves the %d×%d image", k+1, s.Number, c[0], c[1], s.Radius, Size, Size)
		}
	}
	return cs, nil
}

// unit is the unit vector of an orientation in image coordinates (y downwards).
func unit(deg float64) (float64, float64) {
	r := deg * math.Pi / 180
	return math.Cos(r), -math.Sin(r)
}

// shape returns the stimulus's value at a point: 1 inside the shape and 0 outside, or the
// cosine of a grating.
func (s Stimulus) shape() (func(x, y float64) float64, error) {
	in := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	nx, ny := unit(s.Orientation)
	switch s.Kind {
	case Dot, Disc:
		cs, err := s.Centres()
		if err != nil {
			return nil, err
		}
		r2 := s.Radius * s.Radius
		return func(x, y float64) float64 {
			for _, c := range cs {
				dx, dy := x-c[0], y-c[1]
				if dx*dx+dy*dy <= r2 {
					return 1
				}
			}
			return 0
		}, nil
	case Ring:
		return func(x, y float64) float64 {
			d := math.Hypot(x-s.X, y-s.Y)
			return in(d <= s.Radius && d >= s.Radius-s.Width)
		}, nil
	case Bar:
		return func(x, y float64) float64 {
			dx, dy := x-s.X, y-s.Y
			along, across := dx*nx+dy*ny, -dx*ny+dy*nx
			return in(math.Abs(along) <= s.Length/2 && math.Abs(across) <= s.Width/2)
		}, nil
	case Edge:
		return func(x, y float64) float64 {
			return in((x-s.X)*nx+(y-s.Y)*ny >= 0)
		}, nil
	case Grating:
		k, ph := 2*math.Pi/s.Period, s.Phase*math.Pi/180
		return func(x, y float64) float64 {
			return math.Cos(k*((x-s.X)*nx+(y-s.Y)*ny) + ph)
		}, nil
	case Curve:
		ox, oy := s.X-s.Radius*nx, s.Y-s.Radius*ny
		cosHalf := math.Cos(s.Extent / 2 * math.Pi / 180)
		return func(x, y float64) float64 {
			dx, dy := x-ox, y-oy
			d := math.Hypot(dx, dy)
			if math.Abs(d-s.Radius) > s.Width/2 || d == 0 {
				return 0
			}
			return in((dx*nx+dy*ny)/d >= cosHalf)
		}, nil
	}
	return nil, fmt.Errorf("unknown kind %q", s.Kind)
}

// Coverage returns the shape's mean over each pixel (Size×Size, row after row): the fraction of
// the pixel's 16 sample points inside the shape, or for a grating the mean of the cosine.
func (s Stimulus) Coverage() ([]float64, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	f, err := s.shape()
	if err != nil {
		return nil, fmt.Errorf("stimulus %q: %w", s.Kind, err)
	}
	out := make([]float64, Size*Size)
	for i := range Size {
		for j := range Size {
			sum := 0.0
			for b := range samples {
				y := float64(i) + (float64(b)+0.5)/samples
				for a := range samples {
					sum += f(float64(j)+(float64(a)+0.5)/samples, y)
				}
			}
			out[i*Size+j] = sum / (samples * samples)
		}
	}
	return out, nil
}

// Render draws the stimulus: Size×Size×3 uint8 RGB values, HWC.
func (s Stimulus) Render() ([]uint8, error) {
	cov, err := s.Coverage()
	if err != nil {
		return nil, err
	}
	bg, amp, u := Background(), amplitudes(), colours[s.Color]
	out := make([]uint8, Size*Size*3)
	for p, m := range cov {
		for c := range 3 {
			d := math.Round(float64(s.Polarity) * s.Contrast * amp[c] * u[c] * m)
			out[3*p+c] = uint8(math.Min(math.Max(float64(bg[c])+d, 0), 255))
		}
	}
	return out, nil
}

// RenderAll draws every stimulus of a set, image after image (the layout of eval.Model.Predict).
func RenderAll(set []Stimulus) ([]uint8, error) {
	out := make([]uint8, 0, len(set)*Size*Size*3)
	for i, s := range set {
		px, err := s.Render()
		if err != nil {
			return nil, fmt.Errorf("stimulus %d: %w", i, err)
		}
		out = append(out, px...)
	}
	return out, nil
}

// Overlay draws several stimuli on one image: each pixel value is the one farthest from the
// background among the stimuli's renderings (the first on ties), so that shapes of the same
// polarity are drawn as their union. It is how a probe such as a bar through a dot is drawn.
func Overlay(ss ...Stimulus) ([]uint8, error) {
	if len(ss) == 0 {
		return nil, fmt.Errorf("overlay: no stimulus")
	}
	bg := Background()
	var out []uint8
	for i, s := range ss {
		px, err := s.Render()
		if err != nil {
			return nil, fmt.Errorf("overlay, stimulus %d: %w", i, err)
		}
		if out == nil {
			out = px
			continue
		}
		for p, v := range px {
			b := int(bg[p%3])
			if abs(int(v)-b) > abs(int(out[p])-b) {
				out[p] = v
			}
		}
	}
	return out, nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
