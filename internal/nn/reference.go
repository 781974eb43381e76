package nn

import (
	"errors"
	"fmt"
	"math"

	"compactv4/internal/model"
)

// ForwardFloat64 evaluates n on batch recentred NHWC images x in float64, one Keras layer after
// another, straight from reference/upstream.md §4.2: TF 'same' padding, cross-correlation, batchnorm in inference
// mode as x·inv + (β − μ·inv) with inv = γ/sqrt(σ²+ε) (not folded), ReLU, NHWC Flatten, Dense;
// for graphs also Add (the sum of the inputs), ZeroPadding2D and MaxPooling2D (the maximum over
// the window's pixels inside the input, TF's rule for 'same'). It is the slow reference the
// float32 kernels are tested against. It returns batch·outputs values
// and, when keep is set, the output of every layer of n (batch images, NHWC, one after another).
func ForwardFloat64(n *model.Network, x []float32, batch int, keep bool) (out []float64, layers [][]float64, err error) {
	if n == nil {
		return nil, nil, errors.New("reference forward: nil network")
	}
	if err := n.Validate(); err != nil {
		return nil, nil, fmt.Errorf("reference forward: %w", err)
	}
	shapes, err := n.Shapes()
	if err != nil {
		return nil, nil, fmt.Errorf("reference forward: %w", err)
	}
	src, err := n.Sources()
	if err != nil {
		return nil, nil, fmt.Errorf("reference forward: %w", err)
	}
	if batch < 0 || len(x) != batch*shapes[0].Size() {
		return nil, nil, fmt.Errorf("reference forward %s: input has %d values for %d images of %v: %w", n.Name, len(x), batch, shapes[0], ErrInput)
	}
	cur := make([]float64, len(x))
	for i, v := range x {
		cur[i] = float64(v)
	}
	outs := [][]float64{cur}
	for i := range n.Layers {
		l := &n.Layers[i]
		in, o := shapes[src[i][0]], shapes[i+1]
		cur = outs[src[i][0]]
		var next []float64
		switch l.Class {
		case model.Add:
			next = append([]float64(nil), cur...)
			for _, j := range src[i][1:] {
				for k, v := range outs[j] {
					next[k] += v
				}
			}
		case model.ZeroPadding2D:
			next = make([]float64, batch*o.Size())
			for b := 0; b < batch; b++ {
				for y := 0; y < in.H; y++ {
					for xx := 0; xx < in.W; xx++ {
						copy(next[((b*o.H+y+l.Pad[0])*o.W+xx+l.Pad[2])*o.C:][:o.C], cur[((b*in.H+y)*in.W+xx)*in.C:][:in.C])
					}
				}
			}
		case model.MaxPooling2D:
			next = refMaxPool(cur, batch, in, o, l)
		case model.InputLayer, model.Flatten:
			next = cur
		case model.Activation:
			next = cur
			if l.Activation == model.ReLU {
				next = make([]float64, len(cur))
				for j, v := range cur {
					next[j] = math.Max(v, 0)
					if v != v {
						next[j] = v
					}
				}
			}
		case model.BatchNormalization:
			inv, shift := bnCoefficients(l)
			next = make([]float64, len(cur))
			for j, v := range cur {
				c := j % in.C
				next[j] = v*inv[c] + shift[c]
			}
		case model.Conv2D:
			next = refConv(cur, batch, in, o, l, f64(l.Weights[0]), false)
			addBias(next, l, 1)
		case model.DepthwiseConv2D:
			next = refConv(cur, batch, in, o, l, f64(l.Weights[0]), true)
			addBias(next, l, 1)
		case model.SeparableConv2D:
			mid := model.Shape{H: o.H, W: o.W, C: in.C}
			z := refConv(cur, batch, in, mid, l, f64(l.Weights[0]), true)
			next = refDense(z, batch*o.H*o.W, in.C, o.C, f64(l.Weights[1]))
			addBias(next, l, 2)
		case model.Dense:
			next = refDense(cur, batch, in.C, o.C, f64(l.Weights[0]))
			addBias(next, l, 1)
		default:
			return nil, nil, fmt.Errorf("reference forward %s: layer %q: unsupported class %q", n.Name, l.Name, l.Class)
		}
		outs = append(outs, next)
	}
	if keep {
		layers = outs[1:]
	}
	return outs[len(outs)-1], layers, nil
}

// refMaxPool is the maximum over each window's pixels that lie inside the input.
func refMaxPool(x []float64, batch int, in, out model.Shape, l *model.Layer) []float64 {
	kh, kw, sh, sw := l.Kernel[0], l.Kernel[1], l.Strides[0], l.Strides[1]
	pt, pl := 0, 0
	if l.Padding == model.PaddingSame {
		_, pt, _ = model.SamePadding(in.H, kh, sh)
		_, pl, _ = model.SamePadding(in.W, kw, sw)
	}
	y := make([]float64, batch*out.Size())
	for b := 0; b < batch; b++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				m := y[((b*out.H+oy)*out.W+ox)*out.C:][:out.C]
				for c := range m {
					m[c] = math.Inf(-1)
				}
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
						for c, v := range x[((b*in.H+iy)*in.W+ix)*in.C:][:in.C] {
							m[c] = math.Max(m[c], v)
						}
					}
				}
			}
		}
	}
	return y
}

func addBias(y []float64, l *model.Layer, idx int) {
	if !l.UseBias {
		return
	}
	b := l.Weights[idx].Data
	for j := range y {
		y[j] += float64(b[j%len(b)])
	}
}

// refConv is a full (depthwise=false, kernel (kh,kw,Cin,Cout)) or depthwise (kernel (kh,kw,C,1))
// cross-correlation with the layer's strides and padding, without bias.
func refConv(x []float64, batch int, in, out model.Shape, l *model.Layer, w []float64, depthwise bool) []float64 {
	kh, kw, sh, sw := l.Kernel[0], l.Kernel[1], l.Strides[0], l.Strides[1]
	pt, pl := 0, 0
	if l.Padding == model.PaddingSame {
		_, pt, _ = model.SamePadding(in.H, kh, sh)
		_, pl, _ = model.SamePadding(in.W, kw, sw)
	}
	y := make([]float64, batch*out.H*out.W*out.C)
	for b := 0; b < batch; b++ {
		for oy := 0; oy < out.H; oy++ {
			for ox := 0; ox < out.W; ox++ {
				acc := y[((b*out.H+oy)*out.W+ox)*out.C:][:out.C]
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
						px := x[((b*in.H+iy)*in.W+ix)*in.C:][:in.C]
						for c, v := range px {
							if depthwise {
								acc[c] += v * w[(i*kw+j)*in.C+c]
								continue
							}
							wr := w[((i*kw+j)*in.C+c)*out.C:][:out.C]
							for o, wv := range wr {
								acc[o] += v * wv
							}
						}
					}
				}
			}
		}
	}
	return y
}

// refDense is rows×k times k×n.
func refDense(x []float64, rows, k, n int, w []float64) []float64 {
	y := make([]float64, rows*n)
	for r := 0; r < rows; r++ {
		acc := y[r*n : (r+1)*n]
		for q, v := range x[r*k : (r+1)*k] {
			for o, wv := range w[q*n : (q+1)*n] {
				acc[o] += v * wv
			}
		}
	}
	return y
}
