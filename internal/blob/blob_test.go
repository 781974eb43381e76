package blob

import (
	"math"
	"strings"
	"testing"

	"compactv4/internal/artificial"
)

func TestBlobness(t *testing.T) {
	achro := func(s artificial.Stimulus) artificial.Stimulus {
		s.X, s.Y, s.Contrast, s.Color = 56, 56, 1, "achromatic"
		if s.Polarity == 0 {
			s.Polarity = 1
		}
		return s
	}
	cases := []struct {
		name   string
		s      artificial.Stimulus
		lo, hi float64 // blobness range
		sign   float64 // sign of the Laplacian
	}{
		{"bright dot", achro(artificial.Stimulus{Kind: artificial.Dot, Radius: 4, Number: 1, Layout: artificial.Grid}), 0.95, 1, -1},
		{"dark dot", achro(artificial.Stimulus{Kind: artificial.Dot, Radius: 6, Number: 1, Layout: artificial.Grid, Polarity: -1}), 0.95, 1, 1},
		{"long bar", achro(artificial.Stimulus{Kind: artificial.Bar, Length: 112, Width: 3, Orientation: 90}), -0.05, 0.05, -1},
		{"edge", achro(artificial.Stimulus{Kind: artificial.Edge, Orientation: 0}), -0.05, 0.05, 0},
		{"grating", achro(artificial.Stimulus{Kind: artificial.Grating, Period: 16, Orientation: 45}), -0.05, 0.05, 0},
	}
	for _, c := range cases {
		px, err := c.s.Render()
		if err != nil {
			t.Fatal(err)
		}
		m, err := Of(Uint8(px), artificial.Size, artificial.Size)
		if err != nil {
			t.Fatal(err)
		}
		if !(m.Blobness >= c.lo && m.Blobness <= c.hi) {
			t.Errorf("%s: blobness %v (σ %v at %d,%d), want [%v, %v]", c.name, m.Blobness, m.Sigma, m.X, m.Y, c.lo, c.hi)
		}
		if c.sign != 0 && math.Signbit(m.Laplacian) != (c.sign < 0) {
			t.Errorf("%s: Laplacian %v, want sign %v", c.name, m.Laplacian, c.sign)
		}
	}
}

func TestDotLocated(t *testing.T) {
	s := artificial.Stimulus{Kind: artificial.Dot, Radius: 3, Number: 1, Layout: artificial.Grid, X: 30, Y: 70, Polarity: 1, Contrast: 1, Color: "achromatic"}
	px, err := s.Render()
	if err != nil {
		t.Fatal(err)
	}
	m, err := Of(Uint8(px), artificial.Size, artificial.Size)
	if err != nil {
		t.Fatal(err)
	}
	// The pixel whose centre is nearest to (30, 70) is (29, 69) or (30, 70) by symmetry.
	if m.X < 29 || m.X > 30 || m.Y < 69 || m.Y > 70 || m.Sigma != 2 {
		t.Errorf("dot of radius 3 at (30, 70) found at (%d, %d), σ %v; want σ 2 (≈ 3/√2)", m.X, m.Y, m.Sigma)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		img  []float64
		h, w int
		want string
	}{
		{make([]float64, 10), 112, 112, "values"},
		{make([]float64, 3*10*10), 10, 10, "sides"},
		{append(make([]float64, 3*20*20-1), math.NaN()), 20, 20, "NaN"},
	} {
		if _, err := Of(c.img, c.h, c.w); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want one mentioning %q", err, c.want)
		}
	}
}
