package artificial

import (
	"fmt"
	"math/rand/v2"
)

// The sweeps of the standard set. The paper does not list its artificial stimuli; these cover
// what it names (dots of several sizes, numbers and positions, both polarities, achromatic and
// coloured) and the controls that separate a dot detector from a detector of luminance, size,
// edges, lines or curvature. A radius of 1-16 pixels is a dot (a unit of a compact model's last
// convolutional layer sees 49×49 pixels, so a dot of radius 16 nearly fills it), 20-80 a large
// disc (80 covers the image: full field).
var (
	// DotRadii is the size sweep of single centred dots.
	DotRadii = []float64{1, 1.5, 2, 3, 4, 5, 6, 8, 10, 12, 16}
	// DiscRadii is the size sweep of large discs, continuing DotRadii up to the full field.
	DiscRadii = []float64{20, 24, 32, 48, 64, 80}
)

const centre = Size / 2

// Standard returns the standard set, in a fixed order; seed draws the random layouts (each
// random stimulus gets its own Seed from PCG(seed, 0)). Families:
//
//   - size: one centred dot of each DotRadii, both polarities (22);
//   - number: grids of 2, 4, 9 and 16 dots of radius 2 and 4, spacing 10, 14 and 20 where the
//     grid fits, both polarities;
//   - scatter: 4, 8 and 16 dots of radius 2 and 4 at random in a 64-pixel square, at least
//     three radii apart, two draws each, both polarities;
//   - position: a dot of radius 3 at each point of the 5×5 grid x, y ∈ {24, 40, 56, 72, 88},
//     both polarities (50);
//   - contrast: a centred dot of radius 3 at contrast 0.25 and 0.5, both polarities (4);
//   - colour: centred dots of radius 2, 4 and 8 in red, green, blue and yellow, both polarities
//     (24);
//   - disc: a centred disc of each DiscRadii, both polarities (12);
//   - ring: centred rings of outer radius 4, 8 and 16, 1 and 2 pixels thick, both polarities (12);
//   - bar: centred bars 8, 16, 32 and 112 long, 2 and 4 wide, at 0°, 45°, 90° and 135°, both
//     polarities (64);
//   - edge: a bright half-field through the centre facing each of 0°, 45°, …, 315° (8; the
//     opposite facing is the opposite polarity);
//   - grating: periods 8, 16 and 32 at 0°, 45°, 90° and 135°, phase 0, both polarities (24);
//   - curve: arcs of radius 6 and 12, 2 thick, 120° long, bulging towards 0°, 90°, 180° and 270°,
//     both polarities (16).
func Standard(seed uint64) ([]Stimulus, error) {
	rng := rand.New(rand.NewPCG(seed, 0))
	var set []Stimulus
	pols := []int{1, -1}
	base := func(family string, k Kind, pol int) Stimulus {
		return Stimulus{Family: family, Kind: k, X: centre, Y: centre, Polarity: pol, Contrast: 1, Color: "achromatic"}
	}
	dot := func(family string, r float64, pol int) Stimulus {
		s := base(family, Dot, pol)
		s.Radius, s.Number, s.Layout = r, 1, Grid
		return s
	}
	for _, r := range DotRadii {
		for _, p := range pols {
			set = append(set, dot("size", r, p))
		}
	}
	for _, n := range []int{2, 4, 9, 16} {
		for _, r := range []float64{2, 4} {
			for _, sp := range []float64{10, 14, 20} {
				for _, p := range pols {
					s := dot("number", r, p)
					s.Number, s.Spacing = n, sp
					if sp < 2*r+2 || s.Validate() != nil {
						continue // the discs would touch or the grid would leave the image
					}
					set = append(set, s)
				}
			}
		}
	}
	for _, n := range []int{4, 8, 16} {
		for _, r := range []float64{2, 4} {
			for range 2 {
				sd := rng.Uint64()
				for _, p := range pols {
					s := dot("scatter", r, p)
					s.Number, s.Layout, s.Spread, s.Spacing, s.Seed = n, Random, 64, 3*r, sd
					set = append(set, s)
				}
			}
		}
	}
	for _, y := range []float64{24, 40, 56, 72, 88} {
		for _, x := range []float64{24, 40, 56, 72, 88} {
			for _, p := range pols {
				s := dot("position", 3, p)
				s.X, s.Y = x, y
				set = append(set, s)
			}
		}
	}
	for _, c := range []float64{0.25, 0.5} {
		for _, p := range pols {
			s := dot("contrast", 3, p)
			s.Contrast = c
			set = append(set, s)
		}
	}
	for _, r := range []float64{2, 4, 8} {
		for _, col := range []string{"red", "green", "blue", "yellow"} {
			for _, p := range pols {
				s := dot("colour", r, p)
				s.Color = col
				set = append(set, s)
			}
		}
	}
	for _, r := range DiscRadii {
		for _, p := range pols {
			s := base("disc", Disc, p)
			s.Radius = r
			set = append(set, s)
		}
	}
	for _, r := range []float64{4, 8, 16} {
		for _, w := range []float64{1, 2} {
			for _, p := range pols {
				s := base("ring", Ring, p)
				s.Radius, s.Width = r, w
				set = append(set, s)
			}
		}
	}
	for _, l := range []float64{8, 16, 32, 112} {
		for _, w := range []float64{2, 4} {
			for _, o := range []float64{0, 45, 90, 135} {
				for _, p := range pols {
					s := base("bar", Bar, p)
					s.Length, s.Width, s.Orientation = l, w, o
					set = append(set, s)
				}
			}
		}
	}
	for o := 0.0; o < 360; o += 45 {
		s := base("edge", Edge, 1)
		s.Orientation = o
		set = append(set, s)
	}
	for _, per := range []float64{8, 16, 32} {
		for _, o := range []float64{0, 45, 90, 135} {
			for _, p := range pols {
				s := base("grating", Grating, p)
				s.Period, s.Orientation = per, o
				set = append(set, s)
			}
		}
	}
	for _, r := range []float64{6, 12} {
		for _, o := range []float64{0, 90, 180, 270} {
			for _, p := range pols {
				s := base("curve", Curve, p)
				s.Radius, s.Width, s.Extent, s.Orientation = r, 2, 120, o
				set = append(set, s)
			}
		}
	}
	for i, s := range set {
		if err := s.Validate(); err != nil {
			return nil, fmt.Errorf("standard set, stimulus %d (%s): %w", i, s.Family, err)
		}
	}
	return set, nil
}

// IsDot reports whether the stimulus is a dot stimulus (as opposed to a control).
func (s Stimulus) IsDot() bool { return s.Kind == Dot }

// File is the name of stimulus i of a set inside its zip: images/%04d_<family>_<kind>.png.
func File(i int, s Stimulus) string {
	return fmt.Sprintf("images/%04d_%s_%s.png", i, s.Family, s.Kind)
}
