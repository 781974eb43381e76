package areadata

import (
	"fmt"
	"math"

	"compactv4/eval"
	"compactv4/internal/metrics"
	"compactv4/internal/npy"
	"compactv4/internal/pilresize"
)

// Cadena is the V1 data of Cadena et al. 2019: responses of N neurons to M images over R repeat
// slots (the real file: R = 4, M = 7,250, N = 166), NaN where a neuron was not recorded.
type Cadena struct {
	R, M, N int
	// Data holds the file's responses array (R, M, N), row-major.
	Data []float64
	// Images holds the images array (M, H, W), row-major, and H, W its size.
	Images []float64
	H, W   int
}

// ReadCadena reads the pickle of Cadena et al. 2019 (a dict of numpy arrays) with the suite's
// restricted unpickler (npy.ReadPickledDict): it needs a float responses array of three
// dimensions and a float images array of M images; the other arrays are not used.
func ReadCadena(data []byte) (*Cadena, error) {
	arrs, _, err := npy.ReadPickledDict(data)
	if err != nil {
		return nil, fmt.Errorf("cadena: %w", err)
	}
	resp, img := arrs["responses"], arrs["images"]
	switch {
	case resp == nil:
		return nil, fmt.Errorf("cadena: no numeric array \"responses\" in the pickle")
	case img == nil:
		return nil, fmt.Errorf("cadena: no numeric array \"images\" in the pickle")
	case len(resp.Shape) != 3 || resp.Float64 == nil:
		return nil, fmt.Errorf("cadena: responses is %s of shape %v, want floats (repeats, images, neurons)", resp.Dtype, resp.Shape)
	case len(img.Shape) != 3 || img.Float64 == nil:
		return nil, fmt.Errorf("cadena: images is %s of shape %v, want floats (images, height, width)", img.Dtype, img.Shape)
	}
	c := &Cadena{R: resp.Shape[0], M: resp.Shape[1], N: resp.Shape[2], Data: resp.Float64, Images: img.Float64, H: img.Shape[1], W: img.Shape[2]}
	if c.R == 0 || c.M == 0 || c.N == 0 {
		return nil, fmt.Errorf("cadena: responses of shape %v has an empty dimension", resp.Shape)
	}
	if img.Shape[0] != c.M {
		return nil, fmt.Errorf("cadena: %d images but responses to %d", img.Shape[0], c.M)
	}
	for k, v := range c.Data {
		if math.IsInf(v, 0) {
			return nil, fmt.Errorf("cadena: response [%d, %d, %d] is %v", k/(c.M*c.N), k/c.N%c.M, k%c.N, v)
		}
	}
	return c, nil
}

// at returns the response of neuron n to image i in repeat slot r.
func (c *Cadena) at(r, i, n int) float64 { return c.Data[(r*c.M+i)*c.N+n] }

// Complete returns the neurons with at least one recorded response to every image, in file order
// (115 of the 166 neurons of the real file).
func (c *Cadena) Complete() []int {
	var out []int
	for n := range c.N {
		ok := true
		for i := 0; i < c.M && ok; i++ {
			seen := false
			for r := range c.R {
				if !math.IsNaN(c.at(r, i, n)) {
					seen = true
					break
				}
			}
			ok = seen
		}
		if ok {
			out = append(out, n)
		}
	}
	return out
}

// Responses returns the responses of the given neurons (nil means Complete()) to every image:
// the raw repeats as the file holds them (NaN for slots without a response) and their means over
// the recorded repeats, as numpy's nanmean (NaN for an image a neuron did not see). Session is
// set to name; Lo is 0 and Hi the number of images.
func (c *Cadena) Responses(name string, neurons []int) (*eval.Responses, error) {
	if neurons == nil {
		neurons = c.Complete()
	}
	if len(neurons) == 0 {
		return nil, fmt.Errorf("cadena: no neuron selected")
	}
	raw := metrics.Raw{N: len(neurons), M: c.M, R: c.R, Data: make([]float64, len(neurons)*c.M*c.R)}
	avg := make([][]float64, len(neurons))
	for j, n := range neurons {
		if n < 0 || n >= c.N {
			return nil, fmt.Errorf("cadena: neuron %d out of range [0, %d)", n, c.N)
		}
		avg[j] = make([]float64, c.M)
		for i := range c.M {
			var s float64
			var k int
			for r := range c.R {
				v := c.at(r, i, n)
				raw.Data[(j*c.M+i)*c.R+r] = v
				if !math.IsNaN(v) {
					s += v
					k++
				}
			}
			avg[j][i] = math.NaN()
			if k > 0 {
				avg[j][i] = s / float64(k)
			}
		}
	}
	return &eval.Responses{Session: name, Lo: 0, Hi: c.M, Averaged: avg, Raw: &raw}, nil
}

// RGB returns the images as side×side RGB bytes, image after image (NHWC): each grey level
// rounded to the nearest integer, copied to the three channels, and the W×H image resized with
// Pillow's bicubic filter (internal/pilresize). A grey level outside [0, 255] (after rounding) or
// not finite is an error naming the image: the file's levels are taken to be 8-bit.
func (c *Cadena) RGB(side int) ([]uint8, error) {
	if side < 1 {
		return nil, fmt.Errorf("cadena: images of side %d", side)
	}
	hw := c.H * c.W
	out := make([]uint8, 0, c.M*side*side*3)
	grey := make([]uint8, hw*3)
	for i := range c.M {
		for p, v := range c.Images[i*hw : (i+1)*hw] {
			r := math.Round(v)
			if !(r >= 0 && r <= 255) {
				return nil, fmt.Errorf("cadena: image %d pixel (%d, %d) has grey level %v, want 0–255", i, p/c.W, p%c.W, v)
			}
			grey[3*p], grey[3*p+1], grey[3*p+2] = uint8(r), uint8(r), uint8(r)
		}
		im, err := pilresize.Bicubic(grey, c.W, c.H, 3, side, side)
		if err != nil {
			return nil, fmt.Errorf("cadena: image %d: %w", i, err)
		}
		out = append(out, im...)
	}
	return out, nil
}
