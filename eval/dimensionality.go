package eval

import (
	"fmt"
	"math"

	"compactv4/internal/metrics"
	"compactv4/internal/nn"
)

// Dimensionality returns, for each named layer of a model, the effective dimensionality of its
// output on n images: the participation ratio (metrics.ParticipationRatio) of the covariance of
// its channels over images and positions. Images are evaluated batch at a time, so memory does not
// grow with n.
func Dimensionality(m Model, pix []uint8, n, batch int, layers []string) ([]float64, error) {
	if n < 1 || batch < 1 || len(pix)%n != 0 {
		return nil, fmt.Errorf("dimensionality of %s: %d bytes for %d images in batches of %d", m.Name(), len(pix), n, batch)
	}
	per := len(pix) / n
	accs := make([]*covAccum, len(layers))
	for b0 := 0; b0 < n; b0 += batch {
		bs := min(batch, n-b0)
		acts, err := m.Activations(pix[b0*per:(b0+bs)*per], bs, layers)
		if err != nil {
			return nil, err
		}
		for l, a := range acts {
			if accs[l] == nil {
				accs[l] = newCovAccum(a.Shape[len(a.Shape)-1])
			}
			if err := accs[l].add(a.Data); err != nil {
				return nil, fmt.Errorf("%s %s: %w", m.Name(), layers[l], err)
			}
		}
	}
	out := make([]float64, len(layers))
	for l, a := range accs {
		cov, err := a.cov()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", m.Name(), layers[l], err)
		}
		if out[l], err = metrics.ParticipationRatio(cov, a.F); err != nil {
			return nil, fmt.Errorf("%s %s: %w", m.Name(), layers[l], err)
		}
	}
	return out, nil
}

// PatchCovariance estimates the covariance (dim×dim, row-major, dim = k·k·c) of all k×k×c
// patches at 'valid' positions (every position where the kernel fits inside the image) of n
// images x (recentred float32, NHWC, h×w×c each), and returns it with the number of patches.
func PatchCovariance(x []float32, n, h, w, c, k int) ([]float64, int, error) {
	if n < 1 || k < 1 || h < k || w < k || c < 1 || len(x) != n*h*w*c {
		return nil, 0, fmt.Errorf("patch covariance: %d values for %d images of %d×%d×%d", len(x), n, h, w, c)
	}
	dim := k * k * c
	acc := newCovAccum(dim)
	oh, ow := h-k+1, w-k+1
	buf := make([]float32, oh*ow*dim)
	for im := 0; im < n; im++ {
		img := x[im*h*w*c : (im+1)*h*w*c]
		p := 0
		for y := 0; y < oh; y++ {
			for xx := 0; xx < ow; xx++ {
				for i := 0; i < k; i++ {
					row := img[((y+i)*w+xx)*c : ((y+i)*w+xx+k)*c]
					p += copy(buf[p:], row)
				}
			}
		}
		if err := acc.add(buf); err != nil {
			return nil, 0, err
		}
	}
	cov, err := acc.cov()
	if err != nil {
		return nil, 0, err
	}
	return cov, acc.N, nil
}

// covAccum accumulates the channel covariance of activations given as rows of F channels (NHWC
// activations: every image and position is a row).
//
// It accumulates the rows minus a shift, the first row it sees: the covariance is unchanged, and
// the cancellation in E[xxᵀ] − E[x]E[x]ᵀ, which in float32 loses everything when channels have
// large means and small variances, is limited to the spread of the data around that row.
type covAccum struct {
	F     int
	N     int       // rows seen
	Sum   []float64 // per channel, of the shifted rows
	SXX   []float64 // F×F, Σ (x−shift)(x−shift)ᵀ
	shift []float32
	buf   []float32
	tmp   []float32
}

func newCovAccum(f int) *covAccum {
	return &covAccum{F: f, Sum: make([]float64, f), SXX: make([]float64, f*f), tmp: make([]float32, f*f)}
}

// add accumulates rows of x (len(x) must be a multiple of F). Σ xxᵀ of the shifted rows is
// computed by nn.Sgemm in float32 and added in float64, so a long stream of batches does not
// lose precision beyond that of one batch.
func (c *covAccum) add(x []float32) error {
	if c.F < 1 || len(x)%c.F != 0 {
		return fmt.Errorf("covariance: %d values are not rows of %d channels", len(x), c.F)
	}
	rows := len(x) / c.F
	if rows == 0 {
		return nil
	}
	for _, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("covariance: activation %v", v)
		}
	}
	if c.shift == nil {
		c.shift = append([]float32(nil), x[:c.F]...)
	}
	if cap(c.buf) < len(x) {
		c.buf = make([]float32, len(x))
	}
	xs := c.buf[:len(x)]
	for i, v := range x {
		d := v - c.shift[i%c.F]
		xs[i] = d
		c.Sum[i%c.F] += float64(d)
	}
	nn.Sgemm(true, false, c.F, c.F, rows, 1, xs, c.F, xs, c.F, 0, c.tmp, c.F)
	for i, v := range c.tmp {
		c.SXX[i] += float64(v)
	}
	c.N += rows
	return nil
}

// cov returns the (population) covariance matrix, F×F row-major.
func (c *covAccum) cov() ([]float64, error) {
	if c.N < 2 {
		return nil, fmt.Errorf("covariance of %d rows", c.N)
	}
	n := float64(c.N)
	out := make([]float64, c.F*c.F)
	for i := 0; i < c.F; i++ {
		for j := 0; j < c.F; j++ {
			out[i*c.F+j] = c.SXX[i*c.F+j]/n - (c.Sum[i]/n)*(c.Sum[j]/n)
		}
	}
	return out, nil
}
