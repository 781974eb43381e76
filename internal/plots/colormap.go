package plots

import (
	"image/color"
	"math"
)

// viridisStops are matplotlib's viridis sampled at i/16.
var viridisStops = [...]uint32{
	0x440154, 0x48186a, 0x472d7b, 0x424086, 0x3b528b, 0x33638d, 0x2c728e, 0x26828e,
	0x21918c, 0x1fa088, 0x28ae80, 0x3fbc73, 0x5ec962, 0x84d44b, 0xaddc30, 0xd8e219,
	0xfde725,
}

// blueRedStops are ColorBrewer's colour-blind-safe 11-class RdBu, from
// blue (negative) through near-white (zero) to red (positive).
var blueRedStops = [...]uint32{
	0x053061, 0x2166ac, 0x4393c3, 0x92c5de, 0xd1e5f0, 0xf7f7f7,
	0xfddbc7, 0xf4a582, 0xd6604d, 0xb2182b, 0x67001f,
}

// viridis maps t in [0, 1] (clamped) to the viridis colour scale.
func viridis(t float64) color.NRGBA { return interpolate(viridisStops[:], t) }

// blueRed maps t in [0, 1] (clamped) to a blue–white–red scale, white at
// t = 0.5.
func blueRed(t float64) color.NRGBA { return interpolate(blueRedStops[:], t) }

// interpolate maps t in [0, 1] linearly between evenly spaced RGB stops.
// NaN maps to the first stop.
func interpolate(stops []uint32, t float64) color.NRGBA {
	if !(t > 0) {
		t = 0
	}
	t = math.Min(t, 1)
	f := t * float64(len(stops)-1)
	i := int(math.Floor(f))
	if i >= len(stops)-1 {
		i = len(stops) - 2
	}
	u := f - float64(i)
	a, b := stops[i], stops[i+1]
	ch := func(shift uint) uint8 {
		x := float64((a >> shift) & 0xff)
		y := float64((b >> shift) & 0xff)
		return uint8(math.Round(x + u*(y-x)))
	}
	return color.NRGBA{R: ch(16), G: ch(8), B: ch(0), A: 0xFF}
}
