package torchpt

import (
	"fmt"
	"math"
	"sort"

	"compactv4/internal/model"
)

// RunningVarShift is what the published .pt checkpoints add to the Keras moving variance of
// batchnorm layers 1-4 (reference/upstream.md §2.2, §4.5): their running_var is
// float32(moving_variance + 0.001), so that torch's batchnorm with eps 1e-5 approximates Keras'
// eps 1e-3. Layer 0's running_var is the Keras value unchanged.
const RunningVarShift = 0.001

// Compact converts the state dict of a published single-neuron compact model
// (class_compact_model_pytorch.PytorchCompactModel, keys of reference/upstream.md §2.2/§4.3) into the Keras
// description of internal/model: model.NewCompact with the filter counts read from the weight
// shapes, and the 36 weights in Keras get_weights() order and layout, as float32. Layouts:
// conv OIHW → HWIO (transpose 2,3,1,0), depthwise (C,1,5,5) → (5,5,C,1) (transpose 2,3,0,1),
// pointwise (Cout,Cin,1,1) → (1,1,Cin,Cout) (transpose 2,3,1,0), Beta (1,N) → (N,1).
//
// It undoes the running-variance shift of the published checkpoints: for layers 1-4 the Keras
// moving variance is recovered as float32(running_var − RunningVarShift), computed in float64
// (layer 0 is taken as is), and the network uses Keras' eps 1e-3. Because the checkpoint stored
// float32(var + 0.001), the recovered variances are not all bit-exact: over the 15,165 shifted
// variances of the 219 published models, 12,892 equal the Keras (.npy/.h5) value and the largest
// difference is 3.7e-9 (absolute; relative to var + eps, 3.7e-6), which TestCompactMatchesNpy
// measures and bounds by 1e-8. Every other weight is bit-identical to the Keras one. Apply Compact only to checkpoints with this convention: a state dict trained in
// PyTorch with eps 1e-5 has no shift to undo.
//
// Missing, unexpected or misshapen keys, int64 weights, and NaN, infinite or negative variances
// are errors; num_batches_tracked entries must be int64 scalars and are otherwise ignored.
func Compact(sd StateDict) (*model.Network, error) {
	c := converter{sd: sd, used: map[string]bool{}}
	conv := c.get("layers.layer0_conv.weight", -1, 3, 5, 5)
	if c.err != nil {
		return nil, c.err
	}
	var f [model.NumLayers]int
	f[0] = conv.Shape[0]
	for l := 1; l < model.NumLayers; l++ {
		pw := c.get(fmt.Sprintf("layers.layer%d_conv_point.weight", l), -1, f[l-1], 1, 1)
		if c.err != nil {
			return nil, c.err
		}
		f[l] = pw.Shape[0]
	}
	net, err := model.NewCompact(f)
	if err != nil {
		return nil, fmt.Errorf("torchpt: %w", err)
	}
	var ws []model.Tensor
	ws = append(ws,
		c.tensor(conv, []int{5, 5, 3, f[0]}, []int{2, 3, 1, 0}),
		c.vector("layers.layer0_conv.bias", f[0]))
	ws = append(ws, c.bn(0, f[0])...)
	for l := 1; l < model.NumLayers; l++ {
		dw := c.get(fmt.Sprintf("layers.layer%d_conv_depth.weight", l), f[l-1], 1, 5, 5)
		pw := c.get(fmt.Sprintf("layers.layer%d_conv_point.weight", l), f[l], f[l-1], 1, 1)
		ws = append(ws,
			c.tensor(dw, []int{5, 5, f[l-1], 1}, []int{2, 3, 0, 1}),
			c.tensor(pw, []int{1, 1, f[l-1], f[l]}, []int{2, 3, 1, 0}),
			c.vector(fmt.Sprintf("layers.layer%d_conv_point.bias", l), f[l]))
		ws = append(ws, c.bn(l, f[l])...)
	}
	n := 28 * 28 * f[4]
	beta := c.get("layers.Beta.weight", 1, n)
	ws = append(ws,
		c.tensor(beta, []int{n, 1}, []int{1, 0}),
		c.vector("layers.Beta.bias", 1))
	for l := 0; l < model.NumLayers; l++ {
		name := fmt.Sprintf("layers.layer%d_bn.num_batches_tracked", l)
		if t, ok := sd.Tensors[name]; ok {
			c.used[name] = true
			if t.Dtype != Int64 || len(t.Shape) != 0 {
				c.fail("%s is a %s tensor of shape %v, want an int64 scalar", name, t.Dtype, t.Shape)
			}
		}
	}
	if c.err != nil {
		return nil, c.err
	}
	var extra []string
	for _, k := range sd.Keys {
		if !c.used[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		return nil, formatErr("not a compact model: unexpected keys %q", extra)
	}
	if err := net.SetWeights(ws); err != nil {
		return nil, fmt.Errorf("torchpt: %w", err)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return net, nil
}

// converter collects the first error, so that the conversion reads as a list of weights.
type converter struct {
	sd   StateDict
	used map[string]bool
	err  error
}

func (c *converter) fail(format string, args ...any) {
	if c.err == nil {
		c.err = formatErr(format, args...)
	}
}

// get returns the float tensor name with the given shape (-1 matches any size), or records an error.
func (c *converter) get(name string, shape ...int) *Tensor {
	if c.err != nil {
		return nil
	}
	t, ok := c.sd.Tensors[name]
	if !ok {
		c.fail("not a compact model: missing key %s", name)
		return nil
	}
	c.used[name] = true
	if t.Float == nil {
		c.fail("%s is a %s tensor, want float", name, t.Dtype)
		return nil
	}
	match := len(t.Shape) == len(shape)
	for i := 0; match && i < len(shape); i++ {
		match = shape[i] == -1 && t.Shape[i] > 0 || shape[i] == t.Shape[i]
	}
	if !match {
		c.fail("%s has shape %v, want %v", name, t.Shape, shape)
		return nil
	}
	return t
}

// tensor transposes t into Keras layout: the result has shape out, and axis i of the result is
// axis perm[i] of t (numpy's t.transpose(perm)). Values become float32.
func (c *converter) tensor(t *Tensor, out, perm []int) model.Tensor {
	if c.err != nil || t == nil {
		return model.Tensor{}
	}
	// Strides of t's axes, taken in the order of the result's axes.
	in := make([]int, len(t.Shape))
	s := 1
	for k := len(t.Shape) - 1; k >= 0; k-- {
		in[k] = s
		s *= t.Shape[k]
	}
	stride := make([]int, len(perm))
	for i, p := range perm {
		stride[i] = in[p]
	}
	res := model.NewTensor(out...)
	vals := gather(t.Float, 0, out, stride, len(res.Data))
	for i, v := range vals {
		res.Data[i] = float32(v)
	}
	return res
}

func (c *converter) vector(name string, n int) model.Tensor {
	t := c.get(name, n)
	return c.tensor(t, []int{n}, []int{0})
}

// bn returns gamma, beta, moving mean and moving variance of batchnorm layer l, undoing the
// variance shift for l >= 1.
func (c *converter) bn(l, n int) []model.Tensor {
	p := fmt.Sprintf("layers.layer%d_bn.", l)
	ws := []model.Tensor{c.vector(p+"weight", n), c.vector(p+"bias", n), c.vector(p+"running_mean", n)}
	v := c.get(p+"running_var", n)
	if c.err != nil {
		return nil
	}
	vr := model.NewTensor(n)
	for i, x := range v.Float {
		if !(x >= 0) || math.IsInf(x, 0) {
			c.fail("%srunning_var[%d] = %v is not a finite non-negative variance", p, i, x)
			return nil
		}
		if l > 0 {
			x -= RunningVarShift
		}
		vr.Data[i] = float32(x)
	}
	return append(ws, vr)
}
