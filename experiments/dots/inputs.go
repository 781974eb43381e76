package dots

import (
	"fmt"
	"math"
	"sort"

	"compactv4/internal/artificial"
	"compactv4/internal/model"
)

// contribution is one input channel's share of a consolidated filter's response: the channel's
// depthwise-filtered activation at the filter's peak times the filter's pointwise weight for it,
// for a stimulus minus the same for the blank.
type contribution struct {
	Input   int
	Weight  float64 // pointwise weight
	Dot     float64 // for the model's preferred centred dot
	Control float64 // for its best control
	// TapY, TapX are the position, in the input layer's map, of the depthwise tap that
	// contributes most to Dot (of Dot's sign): where the filter takes this input from. Distance
	// is the distance in pixels from the centre of that unit's receptive field to the dot's
	// centre, Radii the same in units of the dot's radius.
	TapY, TapX      int
	Distance, Radii float64
}

// inputSplit splits a consolidated filter's response to the preferred dot, where the dot changes
// it most from the blank's, into its inputs' contributions: excitatory (Dot > 0) and inhibitory
// (Dot < 0).
type inputSplit struct {
	Layer, Filter int
	Y, X          int            // output position where the preferred dot changes the filter's activation most
	Inputs        []contribution // by Dot, the largest first
	Excitatory    float64        // sum of the positive Dot contributions
	Inhibitory    float64        // sum of the negative ones
	// Activation is the filter's activation there (the network's), Reconstructed the same
	// computed from the inputs, the bias and the batchnorm: a check of the split.
	Activation, Reconstructed float64
}

// splitInputs splits the response of filter f of trunk layer l (a separable convolution, its
// batchnorm and ReLU) into the contributions of the channels of layer l−1.
func splitInputs(s *screened, set []artificial.Stimulus, l, f int) (inputSplit, error) {
	sp := inputSplit{Layer: l, Filter: f}
	conv := s.M.Net.Layer(fmt.Sprintf("layer%d_conv", l))
	bn := s.M.Net.Layer(fmt.Sprintf("layer%d_bn", l))
	if l < 1 || conv == nil || bn == nil || conv.Class != model.SeparableConv2D || len(conv.Weights) != 3 || len(bn.Weights) != 4 {
		return sp, fmt.Errorf("layer %d of %s is not a separable convolution with bias and batchnorm", l, s.M.ID.Stem())
	}
	if f < 0 || f >= conv.Filters {
		return sp, fmt.Errorf("filter %d of layer %d out of range [0, %d)", f, l, conv.Filters)
	}
	dot := -1
	for i, st := range set {
		if st.Family == "size" && st.Polarity == s.Ix.Polarity && st.Radius == s.Ix.PreferredRadius {
			dot = i
		}
	}
	if dot < 0 || s.Ix.BestControl < 0 {
		return sp, fmt.Errorf("no preferred dot or best control")
	}
	var pix []uint8
	for _, i := range []int{dot, s.Ix.BestControl} {
		px, err := set[i].Render()
		if err != nil {
			return sp, err
		}
		pix = append(pix, px...)
	}
	pix = append(pix, blankImage()...)
	acts, err := s.M.Activations(pix, 3, []string{fmt.Sprintf("layer%d_act", l-1), fmt.Sprintf("layer%d_act", l)})
	if err != nil {
		return sp, err
	}
	in, out := acts[0], acts[1]
	h, w, c := in.Shape[1], in.Shape[2], in.Shape[3]
	oh, ow, of := out.Shape[1], out.Shape[2], out.Shape[3]
	// Where the preferred dot (image 0) changes filter f's activation most from the blank's
	// (image 2): its peak, or for a filter the dot silences, its trough.
	per := oh * ow * of
	best := -1.0
	for y := range oh {
		for x := range ow {
			o := (y*ow+x)*of + f
			if d := math.Abs(float64(out.Data[o]) - float64(out.Data[2*per+o])); d > best {
				best, sp.Y, sp.X = d, y, x
			}
		}
	}
	sp.Activation = float64(out.Data[(sp.Y*ow+sp.X)*of+f])
	k, pw, bias := conv.Weights[0], conv.Weights[1], conv.Weights[2]
	kh, kw, stride := conv.Kernel[0], conv.Kernel[1], conv.Strides[0]
	_, padT, _ := model.SamePadding(h, kh, stride)
	_, padL, _ := model.SamePadding(w, kw, conv.Strides[1])
	// taps calls f for every depthwise tap (u, v) of the peak's window that falls inside the
	// input, with its input position (iy, ix).
	taps := func(f func(u, v, iy, ix int)) {
		for u := range kh {
			iy := sp.Y*stride - padT + u
			if iy < 0 || iy >= h {
				continue
			}
			for v := range kw {
				ix := sp.X*conv.Strides[1] - padL + v
				if ix >= 0 && ix < w {
					f(u, v, iy, ix)
				}
			}
		}
	}
	// dw returns input channel ch's depthwise-filtered activation at the peak for image img.
	dw := func(img, ch int) float64 {
		sum := 0.0
		taps(func(u, v, iy, ix int) {
			sum += float64(k.Data[(u*kw+v)*c+ch]) * float64(in.Data[((img*h+iy)*w+ix)*c+ch])
		})
		return sum
	}
	// tap returns the input position whose depthwise tap contributes most to input channel ch's
	// change from the blank to the dot, of the sign of sign.
	tap := func(ch int, wt, sign float64) (int, int) {
		best, by, bx := math.Inf(-1), sp.Y*stride, sp.X*conv.Strides[1]
		taps(func(u, v, iy, ix int) {
			x0 := float64(in.Data[(iy*w+ix)*c+ch])
			x2 := float64(in.Data[((2*h+iy)*w+ix)*c+ch])
			if d := sign * wt * float64(k.Data[(u*kw+v)*c+ch]) * (x0 - x2); d > best {
				best, by, bx = d, iy, ix
			}
		})
		return by, bx
	}
	dotX, dotY := set[dot].X, set[dot].Y
	pre := float64(bias.Data[f])
	for ch := range c {
		wt := float64(pw.Data[ch*of+f])
		d0, d1, d2 := dw(0, ch), dw(1, ch), dw(2, ch)
		pre += wt * d0
		ct := contribution{Input: ch, Weight: wt, Dot: wt * (d0 - d2), Control: wt * (d1 - d2)}
		sign := 1.0
		if ct.Dot < 0 {
			sign = -1
		}
		ct.TapY, ct.TapX = tap(ch, wt, sign)
		py, err := unitCentre(s.M.Net, l-1, ct.TapY)
		if err != nil {
			return sp, err
		}
		px, err := unitCentre(s.M.Net, l-1, ct.TapX)
		if err != nil {
			return sp, err
		}
		ct.Distance = math.Hypot(py-dotY, px-dotX)
		ct.Radii = ct.Distance / set[dot].Radius
		if ct.Dot > 0 {
			sp.Excitatory += ct.Dot
		} else {
			sp.Inhibitory += ct.Dot
		}
		sp.Inputs = append(sp.Inputs, ct)
	}
	g, b, mean, vr := float64(bn.Weights[0].Data[f]), float64(bn.Weights[1].Data[f]), float64(bn.Weights[2].Data[f]), float64(bn.Weights[3].Data[f])
	sp.Reconstructed = math.Max(g*(pre-mean)/math.Sqrt(vr+bn.Epsilon)+b, 0)
	sort.SliceStable(sp.Inputs, func(a, b int) bool { return sp.Inputs[a].Dot > sp.Inputs[b].Dot })
	return sp, nil
}

// unitCentre returns the image coordinate (in pixels, pixel i spanning [i, i+1)) of the centre
// of the receptive field of unit i along one axis of trunk layer l's output: each convolution
// maps its output position j to the input position j·stride − padding + (kernel − 1)/2 ("same"
// padding, square kernels and strides as in every compact model).
func unitCentre(n *model.Network, l, i int) (float64, error) {
	sizes := []int{n.Input[0]} // input size of each layer
	for k := 0; k <= l; k++ {
		conv := n.Layer(fmt.Sprintf("layer%d_conv", k))
		if conv == nil {
			return 0, fmt.Errorf("receptive field of layer %d: no layer %q", l, fmt.Sprintf("layer%d_conv", k))
		}
		out, _, _ := model.SamePadding(sizes[k], conv.Kernel[0], conv.Strides[0])
		sizes = append(sizes, out)
	}
	c := float64(i)
	for k := l; k >= 0; k-- {
		conv := n.Layer(fmt.Sprintf("layer%d_conv", k))
		_, before, _ := model.SamePadding(sizes[k], conv.Kernel[0], conv.Strides[0])
		c = c*float64(conv.Strides[0]) - float64(before) + float64(conv.Kernel[0]-1)/2
	}
	return c + 0.5, nil
}
