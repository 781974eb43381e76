package nn

import (
	"fmt"
	"math"

	"compactv4/internal/model"
)

// ref64 is the float64 twin of the training engine: a plain, layer-by-layer forward and backward
// pass straight from the formulas (reference/upstream.md §4.2; batchnorm in training mode as Keras 3 computes it),
// with the weights as float64 slices in model.Network.Weights() order so that finite differences
// can perturb them exactly. It is what the float32 kernels are checked against, and it is itself
// checked against central finite differences.
type ref64 struct {
	net    *model.Network
	shapes []model.Shape
	w      [][]float64 // every weight tensor, Weights() order
	first  []int       // index in w of layer i's first tensor
	train  bool        // batchnorm uses batch statistics
}

func newRef64(n *model.Network, train bool) (*ref64, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	shapes, err := n.Shapes()
	if err != nil {
		return nil, err
	}
	r := &ref64{net: n, shapes: shapes, train: train}
	for i := range n.Layers {
		r.first = append(r.first, len(r.w))
		for _, t := range n.Layers[i].Weights {
			r.w = append(r.w, f64(t))
		}
	}
	return r, nil
}

// pass64 holds what the backward pass needs: the input of every layer (acts[i]) and the output
// (acts[len]), and per batchnorm layer the statistics used.
type pass64 struct {
	batch      int
	acts       [][]float64
	mean, vari map[int][]float64 // batch statistics (training mode)
}

func (r *ref64) forward(x []float64, batch int) (*pass64, error) {
	if len(x) != batch*r.shapes[0].Size() {
		return nil, fmt.Errorf("ref64: %d inputs for %d images of %v", len(x), batch, r.shapes[0])
	}
	p := &pass64{batch: batch, acts: [][]float64{x}, mean: map[int][]float64{}, vari: map[int][]float64{}}
	cur := x
	for i := range r.net.Layers {
		l := &r.net.Layers[i]
		in, o := r.shapes[i], r.shapes[i+1]
		w := r.w[r.first[i] : r.first[i]+len(l.Weights)]
		var next []float64
		switch l.Class {
		case model.InputLayer, model.Flatten:
			next = append([]float64(nil), cur...)
		case model.Activation:
			next = append([]float64(nil), cur...)
			if l.Activation == model.ReLU {
				for j, v := range next {
					if !(v > 0) {
						next[j] = 0
					}
				}
			}
		case model.BatchNormalization:
			g, b, mm, mv := w[0], w[1], w[2], w[3]
			c := in.C
			mean, vari := mm, mv
			if r.train {
				mean, vari = moments64(cur, c)
				p.mean[i], p.vari[i] = mean, vari
			}
			next = make([]float64, len(cur))
			for j, v := range cur {
				ch := j % c
				next[j] = g[ch]*(v-mean[ch])/math.Sqrt(vari[ch]+l.Epsilon) + b[ch]
			}
		case model.Conv2D:
			next = conv64(cur, batch, in, o, l, w[0], false)
			bias64(next, l, w, 1)
		case model.DepthwiseConv2D:
			next = conv64(cur, batch, in, o, l, w[0], true)
			bias64(next, l, w, 1)
		case model.SeparableConv2D:
			mid := model.Shape{H: o.H, W: o.W, C: in.C}
			z := conv64(cur, batch, in, mid, l, w[0], true)
			next = refDense(z, batch*o.H*o.W, in.C, o.C, w[1])
			bias64(next, l, w, 2)
		case model.Dense:
			next = refDense(cur, batch, in.C, o.C, w[0])
			bias64(next, l, w, 1)
		default:
			return nil, fmt.Errorf("ref64: layer %q: unsupported class %q", l.Name, l.Class)
		}
		cur = next
		p.acts = append(p.acts, cur)
	}
	return p, nil
}

// moments64 returns the per-channel mean and biased variance over all positions.
func moments64(x []float64, c int) (mean, vari []float64) {
	mean, vari = make([]float64, c), make([]float64, c)
	n := float64(len(x) / c)
	for j, v := range x {
		mean[j%c] += v
	}
	for ch := range mean {
		mean[ch] /= n
	}
	for j, v := range x {
		d := v - mean[j%c]
		vari[j%c] += d * d
	}
	for ch := range vari {
		vari[ch] /= n
	}
	return mean, vari
}

func bias64(y []float64, l *model.Layer, w [][]float64, idx int) {
	if !l.UseBias {
		return
	}
	b := w[idx]
	for j := range y {
		y[j] += b[j%len(b)]
	}
}

// conv64 is refConv (a full or depthwise cross-correlation without bias).
func conv64(x []float64, batch int, in, out model.Shape, l *model.Layer, w []float64, depthwise bool) []float64 {
	return refConv(x, batch, in, out, l, w, depthwise)
}

// convGeom returns kernel, strides and leading padding of a convolution layer.
func convGeom(l *model.Layer, in model.Shape) (kh, kw, sh, sw, pt, pl int) {
	kh, kw, sh, sw = l.Kernel[0], l.Kernel[1], l.Strides[0], l.Strides[1]
	if l.Padding == model.PaddingSame {
		_, pt, _ = model.SamePadding(in.H, kh, sh)
		_, pl, _ = model.SamePadding(in.W, kw, sw)
	}
	return
}

// convBack64 is the backward of conv64: given dy, it adds the kernel gradient to dw and returns
// the input gradient.
func convBack64(x, dy []float64, batch int, in, out model.Shape, l *model.Layer, w, dw []float64, depthwise bool) []float64 {
	kh, kw, sh, sw, pt, pl := convGeom(l, in)
	dx := make([]float64, len(x))
	for b := 0; b < batch; b++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				g := dy[((b*out.H+oy)*out.W+ox)*out.C:][:out.C]
				for i := 0; i < kh; i++ {
					iy := sh*oy + i - pt
					if iy < 0 || iy >= in.H {
						continue
					}
					for j := 0; j < kw; j++ {
						ix := sw*ox + j - pl
						if ix < 0 || ix >= in.W {
							continue
						}
						p := ((b*in.H+iy)*in.W + ix) * in.C
						for c := 0; c < in.C; c++ {
							if depthwise {
								k := (i*kw+j)*in.C + c
								dw[k] += x[p+c] * g[c]
								dx[p+c] += w[k] * g[c]
								continue
							}
							k := ((i*kw+j)*in.C + c) * out.C
							for o, gv := range g {
								dw[k+o] += x[p+c] * gv
								dx[p+c] += w[k+o] * gv
							}
						}
					}
				}
			}
		}
	}
	return dx
}

// denseBack64 is the backward of refDense (rows×k times k×n): adds xᵀ·dy to dw and returns dy·Wᵀ.
func denseBack64(x, dy []float64, rows, k, n int, w, dw []float64) []float64 {
	dx := make([]float64, rows*k)
	for r := 0; r < rows; r++ {
		g := dy[r*n : (r+1)*n]
		for q := 0; q < k; q++ {
			xv := x[r*k+q]
			var s float64
			for o, gv := range g {
				dw[q*n+o] += xv * gv
				s += w[q*n+o] * gv
			}
			dx[r*k+q] = s
		}
	}
	return dx
}

func biasBack64(dy []float64, db []float64) {
	for j, v := range dy {
		db[j%len(db)] += v
	}
}

// backward returns the input gradient and the gradient of every weight tensor (Weights() order;
// nil for batchnorm moving statistics) of Σ dOut·out.
// mseWeightGrads runs forward in training mode and returns the weight gradients of the MSE loss
// mean((out-y)²) over all outputs (the loss the Trainer minimises).
func (r *ref64) mseWeightGrads(x []float64, batch int, y []float64) ([][]float64, error) {
	p, err := r.forward(x, batch)
	if err != nil {
		return nil, err
	}
	out := p.acts[len(p.acts)-1]
	dOut := make([]float64, len(out))
	for j := range out {
		dOut[j] = 2 * (out[j] - y[j]) / float64(len(out))
	}
	_, dw := r.backward(p, dOut)
	return dw, nil
}

func (r *ref64) backward(p *pass64, dOut []float64) (dx []float64, dw [][]float64) {
	dw = make([][]float64, len(r.w))
	for i, w := range r.w {
		dw[i] = make([]float64, len(w))
	}
	g := append([]float64(nil), dOut...)
	for i := len(r.net.Layers) - 1; i >= 0; i-- {
		l := &r.net.Layers[i]
		in, o := r.shapes[i], r.shapes[i+1]
		x := p.acts[i]
		w := r.w[r.first[i] : r.first[i]+len(l.Weights)]
		d := dw[r.first[i] : r.first[i]+len(l.Weights)]
		switch l.Class {
		case model.InputLayer, model.Flatten:
		case model.Activation:
			if l.Activation == model.ReLU {
				for j, v := range x {
					if !(v > 0) {
						g[j] = 0
					}
				}
			}
		case model.BatchNormalization:
			gam, c := w[0], in.C
			n := float64(len(x) / c)
			if !r.train {
				mm, mv := w[2], w[3]
				for j, v := range x {
					ch := j % c
					s := 1 / math.Sqrt(mv[ch]+l.Epsilon)
					d[0][ch] += g[j] * (v - mm[ch]) * s
					d[1][ch] += g[j]
					g[j] *= gam[ch] * s
				}
				break
			}
			mean, vari := p.mean[i], p.vari[i]
			sumG, sumGX := make([]float64, c), make([]float64, c)
			xhat := make([]float64, len(x))
			for j, v := range x {
				ch := j % c
				xhat[j] = (v - mean[ch]) / math.Sqrt(vari[ch]+l.Epsilon)
				d[0][ch] += g[j] * xhat[j]
				d[1][ch] += g[j]
				dxh := g[j] * gam[ch]
				sumG[ch] += dxh
				sumGX[ch] += dxh * xhat[j]
			}
			for j := range x {
				ch := j % c
				s := 1 / math.Sqrt(vari[ch]+l.Epsilon)
				dxh := g[j] * gam[ch]
				g[j] = s * (dxh - sumG[ch]/n - xhat[j]*sumGX[ch]/n)
			}
		case model.Conv2D:
			if l.UseBias {
				biasBack64(g, d[1])
			}
			g = convBack64(x, g, p.batch, in, o, l, w[0], d[0], false)
		case model.DepthwiseConv2D:
			if l.UseBias {
				biasBack64(g, d[1])
			}
			g = convBack64(x, g, p.batch, in, o, l, w[0], d[0], true)
		case model.SeparableConv2D:
			if l.UseBias {
				biasBack64(g, d[2])
			}
			mid := model.Shape{H: o.H, W: o.W, C: in.C}
			z := conv64(x, p.batch, in, mid, l, w[0], true)
			dz := denseBack64(z, g, p.batch*o.H*o.W, in.C, o.C, w[1], d[1])
			g = convBack64(x, dz, p.batch, in, mid, l, w[0], d[0], true)
		case model.Dense:
			if l.UseBias {
				biasBack64(g, d[1])
			}
			g = denseBack64(x, g, p.batch, in.C, o.C, w[0], d[0])
		}
	}
	for i := range r.net.Layers {
		if r.net.Layers[i].Class == model.BatchNormalization {
			dw[r.first[i]+2], dw[r.first[i]+3] = nil, nil
		}
	}
	return g, dw
}

// objective64 is Σ dOut·f(x) in float64.
func (r *ref64) objective64(x []float64, batch int, dOut []float64) float64 {
	p, err := r.forward(x, batch)
	if err != nil {
		panic(err)
	}
	var s float64
	for i, v := range p.acts[len(p.acts)-1] {
		s += dOut[i] * v
	}
	return s
}
