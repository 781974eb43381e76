package prune

import (
	"fmt"
	"math"

	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// stats are the sums over the held-out images that every decision of step 1 needs. They depend
// only on the student as distilled: pruning a layer changes no activation of the layers before
// it, and each layer is pruned before the one in front of it, so the activations each rule reads
// are those of the unpruned student.
type stats struct {
	n int // images
	// contrib[img·F4 + c] is u_c(img) = Σ_{Y,X} Beta[Y,X,c]·act4[img,Y,X,c].
	contrib []float64
	// dw[l] for l = 0…3 describes z, the depthwise output of layer l+1 on act_l (no bias).
	dw [model.NumLayers - 1]*dwStats
}

// dwStats holds, for the depthwise output z (pixels × c per image) of one layer:
//   - per pixel and channel the sums over images of z − shift and of its square (shift: the
//     value in the first image), for the variance around each pixel's mean over images;
//   - per channel pair the sum over images and pixels of (z_j − m_j)(z_k − m_k), m the channel's
//     shift (the channel's mean in the first image), and per channel the sum of z − m, for the
//     covariance around each channel's mean over images and pixels.
type dwStats struct {
	pixels, c int
	first     []float32 // z of the first image
	s1, s2    []float64 // pixels·c
	shift     []float32 // c
	sum       []float64 // c
	gram      []float64 // c·c
	rows      int       // images·pixels
	gramPart  []float32 // c·c, one block's product
	centred   []float32 // rows of one block, centred by shift
}

// gramBlock is the number of rows whose products are summed in float32 before being added to the
// float64 sums: short enough to keep the float32 rounding near 1e-7 relative.
const gramBlock = 784

func newDWStats(pixels, c int) *dwStats {
	return &dwStats{
		pixels: pixels, c: c,
		s1: make([]float64, pixels*c), s2: make([]float64, pixels*c),
		sum: make([]float64, c), gram: make([]float64, c*c),
		gramPart: make([]float32, c*c),
	}
}

// add accumulates batch images of z (NHWC, batch·pixels·c values).
func (d *dwStats) add(z []float32, batch int) {
	per := d.pixels * d.c
	if d.first == nil {
		d.first = append([]float32(nil), z[:per]...)
		d.shift = make([]float32, d.c)
		m := make([]float64, d.c)
		for r := range d.pixels {
			for j := range d.c {
				m[j] += float64(z[r*d.c+j])
			}
		}
		for j := range d.c {
			d.shift[j] = float32(m[j] / float64(d.pixels))
		}
	}
	for b := range batch {
		img := z[b*per : (b+1)*per]
		for i, v := range img {
			dv := float64(v) - float64(d.first[i])
			d.s1[i] += dv
			d.s2[i] += dv * dv
		}
	}
	rows := batch * d.pixels
	if cap(d.centred) < gramBlock*d.c {
		d.centred = make([]float32, gramBlock*d.c)
	}
	for r0 := 0; r0 < rows; r0 += gramBlock {
		nr := min(gramBlock, rows-r0)
		blk := d.centred[:nr*d.c]
		for r := range nr {
			for j := range d.c {
				v := z[(r0+r)*d.c+j] - d.shift[j]
				blk[r*d.c+j] = v
				d.sum[j] += float64(v)
			}
		}
		nn.Sgemm(true, false, d.c, d.c, nr, 1, blk, d.c, blk, d.c, 0, d.gramPart, d.c)
		for i, v := range d.gramPart {
			d.gram[i] += float64(v)
		}
	}
	d.rows += rows
}

// pixelVariance returns per channel Σ_{img,Y,X} (z − mean over images at (Y,X))², the first
// factor of prune_layer's score.
func (d *dwStats) pixelVariance(n int) []float64 {
	v := make([]float64, d.c)
	for i := range d.s1 {
		s := d.s2[i] - d.s1[i]*d.s1[i]/float64(n)
		v[i%d.c] += max(s, 0)
	}
	return v
}

// covariance returns the c×c matrix Σ_{img,Y,X} (z_j − μ_j)(z_k − μ_k), μ the channel means over
// images and pixels.
func (d *dwStats) covariance() []float64 {
	g := make([]float64, d.c*d.c)
	n := float64(d.rows)
	for j := range d.c {
		for k := range d.c {
			g[j*d.c+k] = d.gram[j*d.c+k] - d.sum[j]*d.sum[k]/n
		}
	}
	return g
}

// depthwiseNet is the depthwise stage of layer l+1 of the student on its own: input act_l, no
// bias, as upstream's make_one_layer_models builds it.
func depthwiseNet(student *model.Network, shapes []model.Shape, l int) (*nn.Net, error) {
	name := fmt.Sprintf("layer%d_conv", l+1)
	conv := student.Layer(name)
	act := fmt.Sprintf("layer%d_act", l)
	var in model.Shape
	for i := range student.Layers {
		if student.Layers[i].Name == act {
			in = shapes[i+1]
		}
	}
	if conv == nil || conv.Class != model.SeparableConv2D || len(conv.Weights) < 1 || in.C == 0 {
		return nil, fmt.Errorf("student has no %s (SeparableConv2D) after %s", name, act)
	}
	dw := &model.Network{
		Name:  "depthwise_" + name,
		Input: [3]int{in.H, in.W, in.C},
		Layers: []model.Layer{{
			Name: "depth_layer", Class: model.DepthwiseConv2D, Kernel: conv.Kernel, Strides: conv.Strides,
			Padding: conv.Padding, DepthMultiplier: 1, Activation: model.Linear,
			Weights: []model.Tensor{conv.Weights[0].Clone()},
		}},
	}
	net, err := nn.Compile(dw)
	if err != nil {
		return nil, fmt.Errorf("depthwise stage of %s: %w", name, err)
	}
	return net, nil
}

// collect runs the student on the n images pix (uint8 RGB, NHWC) in batches and accumulates stats.
func collect(student *model.Network, pix []uint8, n, batch, workers int) (*stats, error) {
	shapes, err := student.Shapes()
	if err != nil {
		return nil, err
	}
	net, err := nn.Compile(student)
	if err != nil {
		return nil, err
	}
	net.SetWorkers(workers)
	in := net.InputShape()
	if in.C != 3 || len(pix) != n*in.Size() {
		return nil, fmt.Errorf("%d bytes of images for %d images of %v", len(pix), n, in)
	}
	var stages [model.NumLayers]int
	var sizes [model.NumLayers]int
	for l := range model.NumLayers {
		if stages[l], err = net.StageOf(fmt.Sprintf("layer%d_act", l)); err != nil {
			return nil, err
		}
		sizes[l] = net.Stages()[stages[l]].Size()
	}
	var dws [model.NumLayers - 1]*nn.Net
	st := &stats{n: n}
	for l := range model.NumLayers - 1 {
		if dws[l], err = depthwiseNet(student, shapes, l); err != nil {
			return nil, err
		}
		dws[l].SetWorkers(workers)
		out := dws[l].Stages()[len(dws[l].Stages())-1].Shape
		st.dw[l] = newDWStats(out.H*out.W, out.C)
	}
	beta := student.Layer("Beta")
	a4 := net.Stages()[stages[4]].Shape
	if beta == nil || len(beta.Weights) < 1 || beta.Weights[0].Size() != a4.Size() {
		return nil, fmt.Errorf("student has no Beta readout of its %v layer-4 output", a4)
	}
	f4 := a4.C
	st.contrib = make([]float64, n*f4)
	x := make([]float32, batch*in.Size())
	acts := make([][]float32, model.NumLayers)
	zs := make([][]float32, model.NumLayers-1)
	for i0 := 0; i0 < n; i0 += batch {
		b := min(batch, n-i0)
		if err := nn.Recenter(pix[i0*in.Size():(i0+b)*in.Size()], x[:b*in.Size()]); err != nil {
			return nil, err
		}
		for l := range acts {
			acts[l] = grow(acts[l], b*sizes[l])
		}
		if err := net.Activations(x[:b*in.Size()], b, stages[:], acts); err != nil {
			return nil, fmt.Errorf("student on images %d-%d: %w", i0, i0+b-1, err)
		}
		for l := range zs {
			zs[l] = grow(zs[l], b*dws[l].Outputs())
			if err := dws[l].Forward(acts[l], b, zs[l]); err != nil {
				return nil, fmt.Errorf("depthwise stage of layer %d on images %d-%d: %w", l+1, i0, i0+b-1, err)
			}
			st.dw[l].add(zs[l], b)
		}
		px := a4.H * a4.W
		for k := range b {
			a := acts[4][k*a4.Size() : (k+1)*a4.Size()]
			u := st.contrib[(i0+k)*f4 : (i0+k+1)*f4]
			for p := range px {
				for c := range f4 {
					u[c] += float64(beta.Weights[0].Data[p*f4+c]) * float64(a[p*f4+c])
				}
			}
		}
	}
	for _, v := range st.contrib {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("the student's layer-4 contributions hold %v", v)
		}
	}
	return st, nil
}

func grow(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	return s[:n]
}
