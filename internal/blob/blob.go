// Package blob measures how much an image's most salient structure looks like a blob (a dot)
// rather than an edge, a line or a grating: the stimulus-preference criterion of the dot
// experiment (do a model's preferred images look like dots?).
//
// The measure is taken in the scale space of the image's luminance L (the mean of R, G and B):
// at scales σ ∈ Scales the image is smoothed by a Gaussian (internal/gauss, scipy's filter with
// mode 'reflect'), and its Hessian H = (Lxx, Lxy; Lxy, Lyy) is taken by central differences.
// The most salient structure is the point and scale where the scale-normalised Laplacian
// |σ²(Lxx + Lyy)| is largest (Lindeberg's blob detector), ignoring a margin of Margin pixels
// along the border. There the blobness is
//
//	B = 4·det H / (tr H)² = 1 − ((λ₁ − λ₂)/(λ₁ + λ₂))²,
//
// 1 for an isotropic blob (both principal curvatures equal), 0 for a straight line, an edge or
// a grating (one curvature vanishes), negative for a saddle. B ignores the sign of the blob
// (bright or dark) and its size.
package blob

import (
	"fmt"
	"math"

	"compactv4/internal/gauss"
)

// Scales are the Gaussian σ, in pixels, of the scale space: dots of radius 1.4 to 11 pixels
// (a disc of radius r is found at σ = r/√2).
var Scales = []float64{1, 1.5, 2, 3, 4, 6, 8}

// Margin is the border, in pixels, that the search for the most salient point ignores.
const Margin = 8

// Measure is where an image's most salient structure is and how blob-like it is.
type Measure struct {
	Blobness  float64 // 4·det H / (tr H)² at the most salient point
	Laplacian float64 // σ²(Lxx + Lyy) there: negative for a bright blob, positive for a dark one
	Sigma     float64 // its scale
	X, Y      int     // its pixel (column, row)
}

// Of measures an h×w RGB image (HWC, values in any range; float64 so that synthesised images
// are measured before their conversion to uint8).
func Of(img []float64, h, w int) (Measure, error) {
	if h <= 2*Margin || w <= 2*Margin || len(img) != h*w*3 {
		return Measure{}, fmt.Errorf("blob: %d values for a %d×%d RGB image (sides above %d)", len(img), h, w, 2*Margin)
	}
	lum := make([]float64, h*w)
	for p := range lum {
		v := (img[3*p] + img[3*p+1] + img[3*p+2]) / 3
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return Measure{}, fmt.Errorf("blob: pixel %d is %v", p, v)
		}
		lum[p] = v
	}
	best := Measure{Blobness: math.NaN(), Laplacian: 0}
	bestAbs := -1.0
	sm := make([]float64, h*w)
	tmp := make([]float64, h*w)
	for _, s := range Scales {
		k, err := gauss.Kernel(s, 4)
		if err != nil {
			return Measure{}, fmt.Errorf("blob: %w", err)
		}
		if err := gauss.FilterHWScratch(sm, lum, tmp, h, w, 1, k); err != nil {
			return Measure{}, fmt.Errorf("blob: %w", err)
		}
		at := func(y, x int) float64 { return sm[y*w+x] }
		for y := Margin; y < h-Margin; y++ {
			for x := Margin; x < w-Margin; x++ {
				c := at(y, x)
				lxx := at(y, x+1) - 2*c + at(y, x-1)
				lyy := at(y+1, x) - 2*c + at(y-1, x)
				lxy := (at(y+1, x+1) - at(y+1, x-1) - at(y-1, x+1) + at(y-1, x-1)) / 4
				tr := lxx + lyy
				if a := math.Abs(s * s * tr); a > bestAbs {
					bestAbs = a
					best = Measure{Laplacian: s * s * tr, Sigma: s, X: x, Y: y, Blobness: math.NaN()}
					if tr != 0 {
						best.Blobness = 4 * (lxx*lyy - lxy*lxy) / (tr * tr)
					}
				}
			}
		}
	}
	return best, nil
}

// Uint8 converts uint8 RGB pixels for Of.
func Uint8(pix []uint8) []float64 {
	out := make([]float64, len(pix))
	for i, p := range pix {
		out[i] = float64(p)
	}
	return out
}
