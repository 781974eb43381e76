package nn

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"

	"compactv4/internal/model"
)

// Trainer trains a network by minibatch gradient descent as Keras' model.fit does one batch at a
// time: forward pass in training mode (batchnorm normalises with the batch's statistics and
// updates its moving statistics), mean squared error, backward pass, optimizer step.
//
// It accepts the chains the paper trains: convolution stages (Conv2D, SeparableConv2D or
// DepthwiseConv2D, each optionally followed by BatchNormalization and a ReLU or linear
// Activation), then Flatten, then optionally one Dense layer. A Conv2D other than 1×1 with stride
// 1 must be the first layer (no input gradient is computed for it). This covers the compact
// model (reference/upstream.md §4.1) and the shared compact model (reference/upstream.md §4.6: the 1×1 mixing stage and the 28×28
// 'valid' spatial pool are stages without batchnorm).
//
// # Batchnorm in training mode (Keras 3 BatchNormalization.call with training=True)
//
// Mean μ and variance σ² over the batch and all pixels of each channel, σ² biased (divided by
// the count N = batch·H·W: tf.nn.moments, which Keras 3 calls through ops.moments); output
// y = x·a + (β − μ·a) with a = γ/sqrt(σ² + ε); then moving_mean ← moving_mean·m + μ·(1 − m) and
// moving_variance ← moving_variance·m + σ²·(1 − m) with m the layer's momentum (0.99), also with
// the biased σ² (Keras 3 applies no Bessel correction; tf.keras 2's fused batchnorm did). The
// statistics are computed in float64 from per-row means and sums of squared deviations
// (Chan et al.'s pairwise combination), which loses nothing to cancellation.
//
// # Determinism
//
// Work is split over images, never over a reduction. Batch statistics and their backward sums are
// kept per image in float64 and combined in image order. Weight gradients are accumulated in
// float32 per unit, a fixed group of consecutive images whose count depends only on the batch
// size (at most 16 units), and the units' partial sums are added in float64 in unit order. The
// bytes of the weights after any number of steps therefore do not depend on the number of
// goroutines (SetWorkers, runtime.GOMAXPROCS). They do depend on the kernels (assembly or pure
// Go, which round fused multiply-adds differently).
type Trainer struct {
	net     *model.Network // working copy: its tensors are the trained weights
	opt     Optimizer
	in      *value // one input image, padded for the first stage
	stages  []*tstage
	dense   *tdense // nil when the network ends with Flatten
	nout    int
	params  []*param
	iter    int64 // optimizer steps done
	workers int

	cap  int // images the batch buffers hold
	ws   []*tworker
	grab sync.Mutex
}

// tstage is one convolution with its optional batchnorm and ReLU.
type tstage struct {
	conv           *model.Layer
	bn             *model.Layer
	relu           bool
	kind           model.Class
	in, z, y, out  *value
	kh, kw, sh, sw int
	row16          bool // Conv2D weight gradient by 16-float windows of kernel rows (small cin)

	pK, pPW, pB, pG, pBeta *param
	mm, mv                 *model.Tensor

	// Derived from the weights at the start of each step.
	fwd rowGemm // Conv2D kernel or pointwise kernel
	dwf rowDW   // depthwise kernel (SeparableConv2D, DepthwiseConv2D)
	pwT rowGemm // transposed pointwise / 1×1 kernel (input gradient)
	dwb *dwBackData

	// Batchnorm of the current step.
	a, b              []float32 // forward affine map per channel (pitch long, zero padded)
	mu, ca, cb, cc    []float32 // backward: dy = ca·dz + (cc·(y − mu) + cb)
	invstd            []float64
	imMean, imM2      [][]float64 // per image and channel
	imS1, imS2        [][]float64
	ybuf, zbuf, obuf  []float32 // the whole batch
	ysize, zsize, osz int
}

// tdense is the final Dense layer reading the flattened output of the last stage.
type tdense struct {
	layer  *model.Layer
	in     *value // the last stage's output
	units  int
	wt     []float32 // units rows of in.size() floats: the kernel in the buffer layout
	pK, pB *param
}

// param is a trainable tensor with its gradient and optimizer state.
type param struct {
	t     *model.Tensor
	grad  []float32   // gradient of the last step, Keras layout
	parts [][]float32 // per unit partial sums, internal layout (nil: reduced otherwise)
	sum   []float64
	keras func(sum []float64, dst []float32) // internal layout → Keras layout
	state []float32
	l2    float64 // Keras L2 kernel regularizer λ (0: none)
	l1    float64 // Keras L1 regularizer λ (0: none)
	// gl1 is the factor λ of a group-lasso penalty (0: none) whose groups are the channels of
	// the flattened map a Dense kernel reads: weight i belongs to group (i/units) mod channels.
	gl1             float64
	units, channels int
	rate            float64 // multiplier of the optimizer's learning rate (1 unless SetRateScale)
}

// tworker is one goroutine's scratch memory.
type tworker struct {
	img    []float32 // the current image, padded for the first stage
	dz     []float32 // padded gradient of a depthwise output
	dy     []float32 // one row of a pre-batchnorm gradient
	row    []float32 // one row of an input gradient
	full   []float32 // a whole input gradient (scatter mode)
	sc     *scratch
	mean   []float32
	m2     []float32
	s1, s2 []float32
}

// ErrTrain reports a training step that cannot be taken: bad input, or a loss that is no longer
// finite.
var ErrTrain = errors.New("training step failed")

// pitchFor is the channel pitch of the trainer's buffers: a multiple of 16, the kernels' block.
// A weight-gradient GEMM tile reads 6 channels at a time, so the last tile of a pixel may read up
// to 5 floats past its channels (the next pixel's, or the nr floats of slack every buffer ends
// with); they only reach rows of the gradient tile that are discarded.
func pitchFor(c int) int { return roundUp(c, nr) }

// NewTrainer prepares to train a copy of net with opt, from net's current weights (InitKeras
// draws Keras' initial weights with an explicit seed). Training has no randomness of its own:
// batches are the caller's, so a step is a deterministic function of the weights, the optimizer
// state and the batch.
func NewTrainer(net *model.Network, opt Optimizer) (*Trainer, error) {
	if net == nil {
		return nil, errors.New("trainer: nil network")
	}
	if opt == nil {
		return nil, errors.New("trainer: nil optimizer")
	}
	if err := opt.check(); err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	if err := net.Validate(); err != nil {
		return nil, fmt.Errorf("trainer: %w", err)
	}
	if !net.IsChain() {
		return nil, fmt.Errorf("trainer %s: only chains of layers are trained", net.Name)
	}
	t := &Trainer{net: net.Clone(), opt: opt}
	if err := t.build(); err != nil {
		return nil, fmt.Errorf("trainer %s: %w", net.Name, err)
	}
	return t, nil
}

func (t *Trainer) build() error {
	n := t.net
	shapes, err := n.Shapes()
	if err != nil {
		return err
	}
	newValue := func(s model.Shape, pitch int) *value {
		v := &value{h: s.H, w: s.W, c: s.C, pitch: pitch}
		if s.Flat {
			v.h, v.w = 1, 1
		}
		v.setPad(0, 0, 0, 0)
		return v
	}
	i := 0
	for i < len(n.Layers) && n.Layers[i].Class == model.InputLayer {
		i++
	}
	var prev *value
	for i < len(n.Layers) {
		l := &n.Layers[i]
		if l.Class == model.Flatten {
			break
		}
		switch l.Class {
		case model.Conv2D, model.SeparableConv2D, model.DepthwiseConv2D:
		default:
			return fmt.Errorf("layer %q (%s): expected a convolution or Flatten here", l.Name, l.Class)
		}
		if l.Class != model.Conv2D && l.DepthMultiplier != 1 {
			return fmt.Errorf("layer %q: depth multiplier %d (only 1 is supported)", l.Name, l.DepthMultiplier)
		}
		st := &tstage{conv: l, kind: l.Class, kh: l.Kernel[0], kw: l.Kernel[1], sh: l.Strides[0], sw: l.Strides[1]}
		inS, outS := shapes[i], shapes[i+1]
		if prev == nil {
			pitch := pitchFor(inS.C)
			if l.Class == model.Conv2D {
				pitch = inS.C // a full convolution reads the image's channels as they are
			}
			prev = newValue(inS, pitch)
			t.in = prev
		} else if l.Class == model.Conv2D && (st.kh > 1 || st.kw > 1 || st.sh > 1 || st.sw > 1) {
			return fmt.Errorf("layer %q: a Conv2D after the first layer must be 1×1 with stride 1 (it is %d×%d, stride %v)", l.Name, st.kh, st.kw, l.Strides)
		}
		st.in = prev
		if l.Padding == model.PaddingSame {
			_, pt, pb := model.SamePadding(prev.h, st.kh, st.sh)
			_, pl, pr := model.SamePadding(prev.w, st.kw, st.sw)
			prev.setPad(pt, pb, pl, pr)
		}
		st.y = newValue(outS, pitchFor(outS.C))
		if l.Class == model.SeparableConv2D {
			st.z = newValue(model.Shape{H: outS.H, W: outS.W, C: inS.C}, prev.pitch)
		}
		i++
		if i < len(n.Layers) && n.Layers[i].Class == model.BatchNormalization {
			st.bn = &n.Layers[i]
			i++
		}
		if i < len(n.Layers) && n.Layers[i].Class == model.Activation {
			st.relu = n.Layers[i].Activation == model.ReLU
			i++
		}
		st.out = st.y
		if st.bn != nil {
			st.out = newValue(outS, st.y.pitch)
		}
		st.row16 = l.Class == model.Conv2D && st.kw*st.in.c < nr && st.in.pitch == st.in.c
		t.stages = append(t.stages, st)
		prev = st.out
	}
	if len(t.stages) == 0 {
		return errors.New("no convolution to train")
	}
	if i >= len(n.Layers) || n.Layers[i].Class != model.Flatten {
		return errors.New("the network must end with Flatten, optionally followed by one Dense layer")
	}
	i++
	last := t.stages[len(t.stages)-1].out
	t.nout = last.count()
	if i < len(n.Layers) {
		l := &n.Layers[i]
		if l.Class != model.Dense || i != len(n.Layers)-1 {
			return fmt.Errorf("layer %q (%s): only one Dense layer may follow Flatten", l.Name, l.Class)
		}
		t.dense = &tdense{layer: l, in: last, units: l.Filters}
		t.nout = l.Filters
	}
	t.makeParams()
	return nil
}

// makeParams lists the trainable tensors and their internal gradient layouts.
func (t *Trainer) makeParams() {
	add := func(tn *model.Tensor, keras func(sum []float64, dst []float32), internal int) *param {
		p := &param{t: tn, grad: make([]float32, len(tn.Data)), keras: keras, state: make([]float32, t.opt.stateLen()*len(tn.Data)), rate: 1}
		if internal > 0 {
			p.sum = make([]float64, internal)
		}
		t.params = append(t.params, p)
		return p
	}
	identity := func(sum []float64, dst []float32) {
		for i := range dst {
			dst[i] = float32(sum[i])
		}
	}
	for _, st := range t.stages {
		l := st.conv
		cin, cout := st.in.c, st.y.c
		switch st.kind {
		case model.Conv2D:
			kh, kw := st.kh, st.kw
			if st.row16 {
				ldc := kh * nr
				st.pK = add(&l.Weights[0], func(sum []float64, dst []float32) {
					for i := 0; i < kh; i++ {
						for j := 0; j < kw; j++ {
							for c := 0; c < cin; c++ {
								for o := 0; o < cout; o++ {
									dst[((i*kw+j)*cin+c)*cout+o] = float32(sum[o*ldc+i*nr+j*cin+c])
								}
							}
						}
					}
				}, roundUp(cout, mr)*ldc)
			} else {
				ldc := roundUp(cout, nr)
				rows := roundUp(cin, mr)
				st.pK = add(&l.Weights[0], func(sum []float64, dst []float32) {
					for tp := 0; tp < kh*kw; tp++ {
						for c := 0; c < cin; c++ {
							for o := 0; o < cout; o++ {
								dst[(tp*cin+c)*cout+o] = float32(sum[(tp*rows+c)*ldc+o])
							}
						}
					}
				}, kh*kw*rows*ldc)
			}
		case model.SeparableConv2D, model.DepthwiseConv2D:
			kh, kw, pitch := st.kh, st.kw, st.in.pitch
			st.pK = add(&l.Weights[0], func(sum []float64, dst []float32) {
				for tp := 0; tp < kh*kw; tp++ {
					for c := 0; c < cin; c++ {
						dst[tp*cin+c] = float32(sum[tp*pitch+c])
					}
				}
			}, kh*kw*pitch)
			if st.kind == model.SeparableConv2D {
				ldc := roundUp(cout, nr)
				st.pPW = add(&l.Weights[1], func(sum []float64, dst []float32) {
					for c := 0; c < cin; c++ {
						for o := 0; o < cout; o++ {
							dst[c*cout+o] = float32(sum[c*ldc+o])
						}
					}
				}, roundUp(cin, mr)*ldc)
			}
		}
		if l.UseBias {
			st.pB = add(&l.Weights[len(l.Weights)-1], identity, st.y.pitch)
		}
		if st.bn != nil {
			st.pG = add(&st.bn.Weights[0], nil, 0)
			st.pBeta = add(&st.bn.Weights[1], nil, 0)
			st.mm, st.mv = &st.bn.Weights[2], &st.bn.Weights[3]
		}
	}
	if d := t.dense; d != nil {
		size, units, in := d.in.size(), d.units, d.in
		d.pK = add(&d.layer.Weights[0], func(sum []float64, dst []float32) {
			for j := 0; j < units; j++ {
				for y := 0; y < in.h; y++ {
					for x := 0; x < in.w; x++ {
						for c := 0; c < in.c; c++ {
							dst[((y*in.w+x)*in.c+c)*units+j] = float32(sum[j*size+in.off(y, x)+c])
						}
					}
				}
			}
		}, units*size)
		if d.layer.UseBias {
			d.pB = add(&d.layer.Weights[1], identity, units)
		}
	}
}

// SetWorkers sets the number of goroutines a step uses (0: runtime.GOMAXPROCS). The results do
// not depend on it.
func (t *Trainer) SetWorkers(n int) { t.workers = max(n, 0) }

func (t *Trainer) workerCount() int {
	if t.workers > 0 {
		return t.workers
	}
	return runtime.GOMAXPROCS(0)
}

// Outputs is the number of outputs per image.
func (t *Trainer) Outputs() int { return t.nout }

// InputShape is the shape of one input image.
func (t *Trainer) InputShape() model.Shape { return model.Shape{H: t.in.h, W: t.in.w, C: t.in.c} }

// Iterations is the number of optimizer steps taken (Keras' optimizer.iterations).
func (t *Trainer) Iterations() int64 { return t.iter }

// OptimizerState returns a copy of the optimizer's state, for a checkpoint: the steps taken and,
// per trainable tensor (in the order the trainer keeps them), the optimizer's floats. A trainer
// built from the network of Network() and given this state by SetOptimizerState continues
// exactly as this one would.
func (t *Trainer) OptimizerState() (iter int64, state [][]float32) {
	state = make([][]float32, len(t.params))
	for i, p := range t.params {
		state[i] = append([]float32(nil), p.state...)
	}
	return t.iter, state
}

// SetOptimizerState restores a state that OptimizerState returned from a trainer of the same
// architecture and optimizer; anything else is an error and changes nothing.
func (t *Trainer) SetOptimizerState(iter int64, state [][]float32) error {
	if iter < 0 || len(state) != len(t.params) {
		return fmt.Errorf("trainer %s: optimizer state of %d tensors after %d steps, want %d tensors", t.net.Name, len(state), iter, len(t.params))
	}
	for i, p := range t.params {
		if len(state[i]) != len(p.state) {
			return fmt.Errorf("trainer %s: optimizer state of tensor %d has %d values, want %d", t.net.Name, i, len(state[i]), len(p.state))
		}
	}
	for i, p := range t.params {
		copy(p.state, state[i])
	}
	t.iter = iter
	return nil
}

// NonFinite returns the name of the first layer whose weights or batchnorm statistics hold a NaN
// or an infinity, or "" when all are finite.
func (t *Trainer) NonFinite() string {
	for _, l := range t.net.Layers {
		for _, w := range l.Weights {
			for _, x := range w.Data {
				if x != x || math.IsInf(float64(x), 0) {
					return l.Name
				}
			}
		}
	}
	return ""
}

// SmoothWeights applies the upstream weight smoothing (package function SmoothWeights, reference/upstream.md §8)
// to the weights being trained, as upstream does after each pass over an image zip. The optimizer
// state is kept.
func (t *Trainer) SmoothWeights() error { return SmoothWeights(t.net) }

// Network returns a copy of the network with the current weights and batchnorm moving
// statistics, ready to be compiled for inference or saved.
func (t *Trainer) Network() *model.Network { return t.net.Clone() }

// WriteTo copies the current weights and batchnorm moving statistics into n, which must have the
// architecture the trainer was built from (same weight shapes, in Weights() order).
func (t *Trainer) WriteTo(n *model.Network) error {
	if n == nil {
		return errors.New("trainer: write to nil network")
	}
	src := t.net.Weights()
	ws := make([]model.Tensor, len(src))
	for i, w := range src {
		ws[i] = w.Clone()
	}
	if err := n.SetWeights(ws); err != nil {
		return fmt.Errorf("trainer: write weights to %s: %w", n.Name, err)
	}
	return nil
}

// Step takes one training step on batch images x (NHWC, recentred as reference/upstream.md
// §3.1) with targets y (batch × Outputs()): forward pass in training mode (which updates the
// batchnorm moving statistics), loss = mean over the batch and outputs of (f(x) − y)² (Keras
// MeanSquaredError) plus the penalties of SetL2, SetGammaL1 and SetReadoutGroupL1, backward
// pass, optimizer update. It returns the loss of the batch before the update. Bad input
// (lengths, NaN or infinite values) or a loss that is not finite gives an error wrapping
// ErrTrain, and leaves the weights, moving statistics and optimizer state as they were.
func (t *Trainer) Step(x, y []float32, batch int) (float64, error) {
	saved := t.saveMoving()
	loss, err := t.gradients(x, y, batch)
	if err != nil {
		t.restoreMoving(saved)
		return loss, err
	}
	loss += t.addRegularizers()
	t.iter++
	for _, p := range t.params {
		t.opt.update(p.t.Data, p.grad, p.state, t.iter, p.rate)
	}
	return loss, nil
}

// SetL2 gives layer's kernel Keras' L2 regularizer (kernel_regularizer=L2(lambda)): each Step
// adds λ·Σw² (in float64) to the loss it returns and λ·(2w) (in float32, as TF's gradient of
// λ·sum(square(w))) to the kernel's gradient before the optimizer clips and applies it.
// lambda 0 removes it. The layer must be a Conv2D, DepthwiseConv2D or Dense layer.
func (t *Trainer) SetL2(layer string, lambda float64) error {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return fmt.Errorf("trainer %s: L2 factor %v for %s: %w", t.net.Name, lambda, layer, ErrTrain)
	}
	p, err := t.kernel(layer)
	if err != nil {
		return err
	}
	p.l2 = lambda
	return nil
}

// SetGammaL1 gives layer's batchnorm scale γ Keras' L1 regularizer
// (gamma_regularizer=L1(lambda)): each Step adds λ·Σ|γ| (in float64) to the loss it returns and
// λ·sign(γ) (in float32, 0 at γ = 0, as TF's gradient of λ·sum(abs(γ))) to γ's gradient. lambda
// 0 removes it. The layer must be a BatchNormalization layer of the network. An L1 penalty on the
// batchnorm scales drives the scales of the channels that the loss does not need towards 0
// (Liu et al. 2017, "network slimming"), which leaves those channels' outputs constant.
func (t *Trainer) SetGammaL1(layer string, lambda float64) error {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return fmt.Errorf("trainer %s: L1 factor %v for %s: %w", t.net.Name, lambda, layer, ErrTrain)
	}
	for _, st := range t.stages {
		if st.bn != nil && st.bn.Name == layer {
			st.pG.l1 = lambda
			return nil
		}
	}
	return fmt.Errorf("trainer %s: no BatchNormalization layer %q: %w", t.net.Name, layer, ErrTrain)
}

// SetReadoutGroupL1 gives the Dense layer's kernel a group-lasso penalty λ·Σ_c ‖K_c‖₂, where K_c
// holds the kernel's weights that read channel c of the flattened map (for the compact model's
// readout Beta, the 28×28 spatial map of layer-4 filter c): each Step adds it (in float64) to the
// loss it returns and λ·w/‖K_c‖ (nothing for a group whose weights are all 0) to each weight's
// gradient. lambda 0 removes it. The network must end in Flatten and Dense. The penalty drives
// the readout maps of the filters that the loss does not need towards 0 together (Yuan & Lin
// 2006; Wen et al. 2016 on channels), which is what the last layer's pruning criterion measures.
func (t *Trainer) SetReadoutGroupL1(lambda float64) error {
	if !(lambda >= 0) || math.IsInf(lambda, 0) {
		return fmt.Errorf("trainer %s: group-lasso factor %v: %w", t.net.Name, lambda, ErrTrain)
	}
	if t.dense == nil {
		return fmt.Errorf("trainer %s: no Dense readout for a group lasso: %w", t.net.Name, ErrTrain)
	}
	p := t.dense.pK
	p.gl1, p.units, p.channels = lambda, t.dense.units, t.dense.in.c
	return nil
}

// SetRateScale multiplies the optimizer's learning rate for layer's kernel by scale (1, the
// default, leaves it as the optimizer has it, bit for bit). The layer must be a Conv2D,
// DepthwiseConv2D or Dense layer; its bias keeps the optimizer's rate.
func (t *Trainer) SetRateScale(layer string, scale float64) error {
	if !(scale > 0) || math.IsInf(scale, 0) {
		return fmt.Errorf("trainer %s: learning-rate scale %v for %s: %w", t.net.Name, scale, layer, ErrTrain)
	}
	p, err := t.kernel(layer)
	if err != nil {
		return err
	}
	p.rate = scale
	return nil
}

// kernel returns the trainable kernel of a Conv2D, DepthwiseConv2D or Dense layer.
func (t *Trainer) kernel(layer string) (*param, error) {
	l := t.net.Layer(layer)
	if l == nil || len(l.Weights) == 0 || (l.Class != model.Conv2D && l.Class != model.DepthwiseConv2D && l.Class != model.Dense) {
		return nil, fmt.Errorf("trainer %s: no Conv2D, DepthwiseConv2D or Dense layer %q: %w", t.net.Name, layer, ErrTrain)
	}
	for _, p := range t.params {
		if p.t == &l.Weights[0] {
			return p, nil
		}
	}
	return nil, fmt.Errorf("trainer %s: layer %q has no trainable kernel: %w", t.net.Name, layer, ErrTrain)
}

// addRegularizers adds the penalties' gradients (L2, L1, group lasso) and returns their loss.
func (t *Trainer) addRegularizers() float64 {
	var loss float64
	for _, p := range t.params {
		if p.l2 != 0 {
			lam := float32(p.l2)
			var ss float64
			for i, w := range p.t.Data {
				ss += float64(w) * float64(w)
				p.grad[i] += lam * (2 * w)
			}
			loss += p.l2 * ss
		}
		if p.l1 != 0 {
			lam := float32(p.l1)
			var sa float64
			for i, w := range p.t.Data {
				sa += math.Abs(float64(w))
				switch {
				case w > 0:
					p.grad[i] += lam
				case w < 0:
					p.grad[i] -= lam
				}
			}
			loss += p.l1 * sa
		}
		if p.gl1 != 0 {
			loss += p.gl1 * p.addGroupL1()
		}
	}
	return loss
}

// addGroupL1 adds the group lasso's gradient, λ·w/‖K_c‖, to p.grad and returns Σ_c ‖K_c‖.
func (p *param) addGroupL1() float64 {
	norm := make([]float64, p.channels)
	for i, w := range p.t.Data {
		norm[(i/p.units)%p.channels] += float64(w) * float64(w)
	}
	var sum float64
	scale := make([]float32, p.channels)
	for c, ss := range norm {
		n := math.Sqrt(ss)
		sum += n
		if n > 0 {
			scale[c] = float32(p.gl1 / n)
		}
	}
	for i, w := range p.t.Data {
		p.grad[i] += scale[(i/p.units)%p.channels] * w
	}
	return sum
}

func (t *Trainer) saveMoving() [][]float32 {
	var s [][]float32
	for _, st := range t.stages {
		if st.bn != nil {
			s = append(s, append([]float32(nil), st.mm.Data...), append([]float32(nil), st.mv.Data...))
		}
	}
	return s
}

func (t *Trainer) restoreMoving(s [][]float32) {
	k := 0
	for _, st := range t.stages {
		if st.bn != nil {
			copy(st.mm.Data, s[k])
			copy(st.mv.Data, s[k+1])
			k += 2
		}
	}
}

// gradients runs the forward and backward passes and leaves the gradient of the loss in every
// param's grad. It updates the batchnorm moving statistics, as Keras' forward pass does.
func (t *Trainer) gradients(x, y []float32, batch int) (float64, error) {
	per := t.in.h * t.in.w * t.in.c
	if batch < 1 || len(x) != batch*per {
		return 0, fmt.Errorf("trainer %s: %d input values for %d images of %d: %w", t.net.Name, len(x), batch, per, ErrTrain)
	}
	if len(y) != batch*t.nout {
		return 0, fmt.Errorf("trainer %s: %d targets for %d images × %d outputs: %w", t.net.Name, len(y), batch, t.nout, ErrTrain)
	}
	for i, v := range x {
		if v != v || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("trainer %s: input value %d (image %d) is %v: %w", t.net.Name, i, i/per, v, ErrTrain)
		}
	}
	for i, v := range y {
		if v != v || math.IsInf(float64(v), 0) {
			return 0, fmt.Errorf("trainer %s: target %d is %v: %w", t.net.Name, i, v, ErrTrain)
		}
	}
	t.grab.Lock()
	defer t.grab.Unlock()
	t.prepare(batch)
	units := unitCount(batch)
	// Forward, stage by stage; each image's work also applies the previous stage's batchnorm.
	for s := range t.stages {
		t.parallel(batch, func(w *tworker, b int) { t.forwardImage(w, s, b, x) })
		t.batchStats(s, batch)
	}
	out := make([]float32, batch*t.nout)
	t.parallel(batch, func(w *tworker, b int) { t.readout(w, b, out) })
	var loss float64
	scale := 2 / float64(batch*t.nout)
	dOut := make([]float32, len(out))
	for i, o := range out {
		d := float64(o) - float64(y[i])
		loss += d * d
		dOut[i] = float32(d * scale)
	}
	loss /= float64(batch * t.nout)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, fmt.Errorf("trainer %s: loss is %v: %w", t.net.Name, loss, ErrTrain)
	}
	// Backward.
	t.clearParts(units)
	t.parallel(units, func(w *tworker, u int) {
		for b := unitStart(u, units, batch); b < unitStart(u+1, units, batch); b++ {
			t.headBackward(w, u, b, dOut)
		}
	})
	for s := len(t.stages) - 1; s >= 0; s-- {
		t.bnBackwardCoefficients(s, batch)
		t.parallel(units, func(w *tworker, u int) {
			for b := unitStart(u, units, batch); b < unitStart(u+1, units, batch); b++ {
				t.backwardImage(w, s, u, b, x)
			}
		})
	}
	t.reduce(units)
	return loss, nil
}

// unitCount is the number of gradient-accumulation units of a batch (a function of the batch
// size only, so that the reduction order does not depend on the number of workers).
func unitCount(batch int) int { return min(batch, 16) }

func unitStart(u, units, batch int) int { return u * batch / units }

// parallel calls f(w, i) for i < n on up to workerCount goroutines, each with its own scratch.
func (t *Trainer) parallel(n int, f func(w *tworker, i int)) {
	nw := min(len(t.ws), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	run := func(w *tworker) {
		for {
			i := int(next.Add(1) - 1)
			if i >= n {
				return
			}
			f(w, i)
		}
	}
	for k := 1; k < nw; k++ {
		wg.Add(1)
		go func(w *tworker) {
			defer wg.Done()
			run(w)
		}(t.ws[k])
	}
	run(t.ws[0])
	wg.Wait()
}

// prepare packs the current weights for the kernels and makes sure the buffers hold batch images.
func (t *Trainer) prepare(batch int) {
	nw := t.workerCount()
	for len(t.ws) < nw {
		t.ws = append(t.ws, &tworker{sc: &scratch{}})
	}
	t.ws = t.ws[:nw]
	var dz, row, full, maxPitch, dyRow int
	for _, st := range t.stages {
		t.pack(st)
		if st.dwb != nil {
			if st.dwb.scatter {
				full = max(full, st.in.size())
				dz = max(dz, st.y.h*st.y.w*st.y.pitch)
			} else {
				dz = max(dz, st.dwb.size())
			}
		}
		row = max(row, st.in.w*st.in.pitch)
		dyRow = max(dyRow, st.y.w*st.y.pitch)
		maxPitch = max(maxPitch, st.y.pitch, st.in.pitch)
	}
	if d := t.dense; d != nil {
		t.packDense(d)
		full = max(full, d.in.size())
	}
	for _, w := range t.ws {
		if len(w.img) < t.in.size()+nr {
			w.img = make([]float32, t.in.size()+nr)
		}
		w.dz = growZero(w.dz, dz)
		w.row = grow(w.row, row)
		w.dy = grow(w.dy, dyRow+nr)
		w.full = grow(w.full, full)
		w.mean, w.m2 = grow(w.mean, maxPitch), grow(w.m2, maxPitch)
		w.s1, w.s2 = grow(w.s1, maxPitch), grow(w.s2, maxPitch)
	}
	if batch > t.cap {
		for _, st := range t.stages {
			st.ysize = st.y.size() + nr
			st.osz = st.out.size() + nr // row16 windows may end past the last pixel
			st.obuf = make([]float32, batch*st.osz)
			if st.bn != nil {
				st.ybuf = make([]float32, batch*st.ysize)
			}
			if st.z != nil {
				st.zsize = st.z.size() + nr
				st.zbuf = make([]float32, batch*st.zsize)
			}
			if st.bn != nil {
				st.imMean, st.imM2 = make([][]float64, batch), make([][]float64, batch)
				st.imS1, st.imS2 = make([][]float64, batch), make([][]float64, batch)
				for b := 0; b < batch; b++ {
					st.imMean[b], st.imM2[b] = make([]float64, st.y.c), make([]float64, st.y.c)
					st.imS1[b], st.imS2[b] = make([]float64, st.y.c), make([]float64, st.y.c)
				}
			}
		}
		t.cap = batch
	}
	units := unitCount(batch)
	for _, p := range t.params {
		if p.sum == nil {
			continue
		}
		for len(p.parts) < units {
			p.parts = append(p.parts, make([]float32, len(p.sum)))
		}
	}
}

func growZero(s []float32, n int) []float32 {
	if cap(s) < n {
		return make([]float32, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// pack derives the kernels' weight layouts from the current weights of stage st.
func (t *Trainer) pack(st *tstage) {
	l := st.conv
	in, y := st.in, st.y
	flags := 0
	var bias []float64
	if l.UseBias {
		flags |= flagBias
		bias = f64(l.Weights[len(l.Weights)-1])
	} else {
		bias = make([]float64, y.c)
	}
	if st.bn == nil && st.relu {
		flags |= flagReLU
	}
	w0 := f64(l.Weights[0])
	switch st.kind {
	case model.Conv2D:
		b, seglen, np := packConv(w0, st.kh, st.kw, in.c, y.c, in.pitch)
		st.fwd = rowGemm{rs: st.sw * in.pitch, nseg: st.kh, seglen: seglen, segStride: in.wp * in.pitch,
			np: np, b: b, bias: padBias(bias, np*nr), flags: flags}
		if st.kh == 1 && st.kw == 1 && st.sh == 1 && st.sw == 1 {
			st.pwT = transposedPointwise(w0, in, y)
		}
	case model.SeparableConv2D:
		st.dwf = rowDW{kh: st.kh, kw: st.kw, sh: st.sh, sw: st.sw, nblk: in.pitch / nr, w: packDW(w0, st.kh, st.kw, in.c, in.pitch)}
		pw := f64(l.Weights[1])
		b, seglen, np := packConv(pw, 1, 1, in.c, y.c, st.z.pitch)
		st.fwd = rowGemm{rs: st.z.pitch, nseg: 1, seglen: seglen, np: np, b: b, bias: padBias(bias, np*nr), flags: flags}
		st.pwT = transposedPointwise(pw, in, y)
		st.dwb = newDWBack(w0, in, st.z, l, false)
	case model.DepthwiseConv2D:
		st.dwf = rowDW{kh: st.kh, kw: st.kw, sh: st.sh, sw: st.sw, nblk: in.pitch / nr, w: packDW(w0, st.kh, st.kw, in.c, in.pitch),
			bias: padBias(bias, in.pitch), flags: flags}
		st.dwb = newDWBack(w0, in, y, l, true)
	}
}

func (t *Trainer) packDense(d *tdense) {
	size := d.in.size()
	if len(d.wt) != d.units*size {
		d.wt = make([]float32, d.units*size)
	}
	k := d.layer.Weights[0].Data
	in := d.in
	for j := 0; j < d.units; j++ {
		for y := 0; y < in.h; y++ {
			for x := 0; x < in.w; x++ {
				for c := 0; c < in.c; c++ {
					d.wt[j*size+in.off(y, x)+c] = k[((y*in.w+x)*in.c+c)*d.units+j]
				}
			}
		}
	}
}

func (st *tstage) image(buf []float32, size, b int) []float32 { return buf[b*size : (b+1)*size] }

func (st *tstage) yImage(b int) []float32 {
	if st.bn == nil {
		return st.image(st.obuf, st.osz, b)
	}
	return st.image(st.ybuf, st.ysize, b)
}

func (st *tstage) outImage(b int) []float32 { return st.image(st.obuf, st.osz, b) }

// loadImage copies image b of x into the padded input buffer (whose padding and padding
// channels stay zero: nothing else writes them).
func (t *Trainer) loadImage(dst, x []float32, b int) {
	v := t.in
	per := v.h * v.w * v.c
	src := x[b*per : (b+1)*per]
	for yy := 0; yy < v.h; yy++ {
		if v.pitch == v.c {
			copy(dst[v.off(yy, 0):], src[yy*v.w*v.c:(yy+1)*v.w*v.c])
			continue
		}
		for xx := 0; xx < v.w; xx++ {
			copy(dst[v.off(yy, xx):v.off(yy, xx)+v.c], src[(yy*v.w+xx)*v.c:])
		}
	}
}

// stageInput returns the forward input of stage s for image b (loading the image for s = 0).
func (t *Trainer) stageInput(w *tworker, s, b int, x []float32) []float32 {
	if s == 0 {
		t.loadImage(w.img, x, b)
		return w.img
	}
	return t.stages[s-1].outImage(b)
}

// applyBNRows writes rows y0..y1 of the batchnorm (and ReLU) output of stage st for image b.
func (st *tstage) applyBNRows(b, y0, y1 int) {
	if st.bn == nil {
		return
	}
	y, o := st.yImage(b), st.outImage(b)
	v := st.y
	for yy := y0; yy < y1; yy++ {
		bnApply(o[st.out.off(yy, 0):], y[v.off(yy, 0):], v.w, v.pitch, v.pitch/nr, st.a, st.b, st.relu)
	}
}

// forwardImage computes stage s of image b, row by row: the rows of the previous stage's
// batchnorm output that the row needs (so that they are read back while in cache), this stage's
// convolution and, with batchnorm, the row's per-channel mean and sum of squared deviations,
// combined into the image's in float64 (Chan et al.'s pairwise formula).
func (t *Trainer) forwardImage(w *tworker, s, b int, x []float32) {
	st := t.stages[s]
	var prev *tstage
	if s > 0 {
		prev = t.stages[s-1]
	}
	src := t.stageInput(w, s, b, x)
	y := st.yImage(b)
	yv := st.y
	applied := 0
	var mean, m2 []float64
	if st.bn != nil {
		mean, m2 = st.imMean[b], st.imM2[b]
		clear(mean)
		clear(m2)
	}
	nblk := yv.pitch / nr
	inv := float32(1) / float32(yv.w)
	for oy := 0; oy < yv.h; oy++ {
		if prev != nil {
			if need := windowNeed(oy+1, st.sh, st.kh, st.in.pt, st.in.h); need > applied {
				prev.applyBNRows(b, applied, need)
				applied = need
			}
		}
		switch st.kind {
		case model.Conv2D:
			st.fwd.row(src, oy*st.sh*st.in.wp*st.in.pitch, y, yv.off(oy, 0), yv.pitch, yv.w, w.sc)
		case model.SeparableConv2D:
			z := st.image(st.zbuf, st.zsize, b)
			st.dwf.row(src, st.in, oy, z, st.z.off(oy, 0), st.z.pitch, yv.w)
			st.fwd.row(z, st.z.off(oy, 0), y, yv.off(oy, 0), yv.pitch, yv.w, w.sc)
		case model.DepthwiseConv2D:
			st.dwf.row(src, st.in, oy, y, yv.off(oy, 0), yv.pitch, yv.w)
		}
		if st.bn == nil {
			continue
		}
		colMoments(y[yv.off(oy, 0):], yv.w, yv.pitch, nblk, inv, w.mean, w.m2)
		na, nb := float64(oy*yv.w), float64(yv.w)
		nt := na + nb
		for c := 0; c < yv.c; c++ {
			d := float64(w.mean[c]) - mean[c]
			mean[c] += d * nb / nt
			m2[c] += float64(w.m2[c]) + d*d*na*nb/nt
		}
	}
	if prev != nil && applied < prev.y.h {
		prev.applyBNRows(b, applied, prev.y.h)
	}
}

// batchStats combines the images' moments of stage s into the batch statistics, the forward
// affine map and the moving statistics (Keras 3 semantics, see Trainer).
func (t *Trainer) batchStats(s, batch int) {
	st := t.stages[s]
	if st.bn == nil {
		return
	}
	c := st.y.c
	per := float64(st.y.h * st.y.w)
	mean, m2 := make([]float64, c), make([]float64, c)
	for b := 0; b < batch; b++ {
		na := float64(b) * per
		nt := na + per
		for ch := 0; ch < c; ch++ {
			d := st.imMean[b][ch] - mean[ch]
			mean[ch] += d * per / nt
			m2[ch] += st.imM2[b][ch] + d*d*na*per/nt
		}
	}
	n := float64(batch) * per
	p := st.y.pitch
	st.a, st.b = growZero(st.a, p), growZero(st.b, p)
	st.mu = growZero(st.mu, p)
	if len(st.invstd) != c {
		st.invstd = make([]float64, c)
	}
	g, beta := st.bn.Weights[0].Data, st.bn.Weights[1].Data
	mom := float32(st.bn.Momentum)
	omm := float32(1 - st.bn.Momentum)
	for ch := 0; ch < c; ch++ {
		v := m2[ch] / n
		inv := 1 / math.Sqrt(v+st.bn.Epsilon)
		a := float64(g[ch]) * inv
		st.invstd[ch] = inv
		st.a[ch] = float32(a)
		st.b[ch] = float32(float64(beta[ch]) - mean[ch]*a)
		st.mu[ch] = float32(mean[ch])
		st.mm.Data[ch] = float32(st.mm.Data[ch]*mom) + float32(float32(mean[ch])*omm)
		st.mv.Data[ch] = float32(st.mv.Data[ch]*mom) + float32(float32(v)*omm)
	}
}

// readout applies the last stage's batchnorm to image b and evaluates the head.
func (t *Trainer) readout(_ *tworker, b int, out []float32) {
	st := t.stages[len(t.stages)-1]
	st.applyBNRows(b, 0, st.y.h)
	h := st.outImage(b)
	o := out[b*t.nout : (b+1)*t.nout]
	if d := t.dense; d != nil {
		size := d.in.size()
		bias := d.layer.Weights
		for j := 0; j < d.units; j++ {
			v := dot(h[:size], d.wt[j*size:(j+1)*size], size)
			if d.layer.UseBias {
				v += bias[1].Data[j]
			}
			o[j] = v
		}
		return
	}
	st.out.gather(h, o)
}

func (t *Trainer) clearParts(units int) {
	for _, p := range t.params {
		for u := 0; u < units && p.parts != nil; u++ {
			clear(p.parts[u])
		}
	}
}

// headBackward computes the head's gradients for image b (unit u) and the gradient of the last
// stage's output, masked by its ReLU, in place of that output; then the last stage's backward
// batchnorm sums.
func (t *Trainer) headBackward(w *tworker, u, b int, dOut []float32) {
	s := len(t.stages) - 1
	st := t.stages[s]
	h := st.outImage(b)
	g := dOut[b*t.nout : (b+1)*t.nout]
	if d := t.dense; d != nil {
		size := d.in.size()
		dk := d.pK.parts[u]
		for j := 0; j < d.units; j++ {
			axpy(dk[j*size:(j+1)*size], h[:size], g[j])
		}
		if d.pB != nil {
			db := d.pB.parts[u]
			for j := 0; j < d.units; j++ {
				db[j] += g[j]
			}
		}
		dh := w.full[:size]
		clear(dh)
		for j := 0; j < d.units; j++ {
			axpy(dh, d.wt[j*size:(j+1)*size], g[j])
		}
		t.maskedWrite(st, h, dh, 0, size)
	} else {
		v := st.out
		for yy := 0; yy < v.h; yy++ {
			for xx := 0; xx < v.w; xx++ {
				o := v.off(yy, xx)
				src := g[(yy*v.w+xx)*v.c : (yy*v.w+xx+1)*v.c]
				if st.relu {
					for c, gv := range src {
						if !(h[o+c] > 0) {
							gv = 0
						}
						h[o+c] = gv
					}
				} else {
					copy(h[o:o+v.c], src)
				}
			}
		}
	}
	st.reduceImage(w, b)
}

// maskedWrite stores the gradient g of n floats of stage st's output at h[off:], where h holds
// that output: masked by the stage's ReLU (g where h > 0).
func (t *Trainer) maskedWrite(st *tstage, h, g []float32, off, n int) {
	if st.relu {
		reluMask(h[off:off+n], g[:n], h[off:off+n], n)
		return
	}
	copy(h[off:off+n], g[:n])
}

func axpy(dst, x []float32, a float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] += a * v
	}
}

// reduceImage computes image b's backward batchnorm sums of stage st: Σ dz and Σ dz·(y − μ) per
// channel, where dz (the masked output gradient) is in the output buffer.
func (st *tstage) reduceImage(w *tworker, b int) {
	for yy := 0; yy < st.y.h; yy++ {
		st.reduceRow(w, b, yy)
	}
}

// reduceRow adds row yy's backward batchnorm sums to image b's (row 0 starts them).
func (st *tstage) reduceRow(w *tworker, b, yy int) {
	if st.bn == nil {
		return
	}
	dz, y := st.outImage(b), st.yImage(b)
	v := st.y
	s1, s2 := st.imS1[b], st.imS2[b]
	if yy == 0 {
		clear(s1)
		clear(s2)
	}
	clear(w.s1)
	clear(w.s2)
	bnReduce(dz[st.out.off(yy, 0):], y[v.off(yy, 0):], v.w, v.pitch, v.pitch/nr, st.mu, w.s1, w.s2)
	for c := 0; c < v.c; c++ {
		s1[c] += float64(w.s1[c])
		s2[c] += float64(w.s2[c])
	}
}

// bnBackwardCoefficients combines the images' sums of stage s into the γ and β gradients and the
// coefficients of dy = a·(dz − Σdz/N − x̂·Σ(dz·x̂)/N) = ca·dz + (cc·(y − μ) + cb).
func (t *Trainer) bnBackwardCoefficients(s, batch int) {
	st := t.stages[s]
	if st.bn == nil {
		return
	}
	c := st.y.c
	p := st.y.pitch
	st.ca, st.cb, st.cc = growZero(st.ca, p), growZero(st.cb, p), growZero(st.cc, p)
	n := float64(batch * st.y.h * st.y.w)
	for ch := 0; ch < c; ch++ {
		var s1, s2 float64
		for b := 0; b < batch; b++ {
			s1 += st.imS1[b][ch]
			s2 += st.imS2[b][ch]
		}
		inv := st.invstd[ch]
		a := float64(st.bn.Weights[0].Data[ch]) * inv
		st.pBeta.grad[ch] = float32(s1)
		st.pG.grad[ch] = float32(inv * s2)
		st.ca[ch] = float32(a)
		st.cb[ch] = float32(-a * s1 / n)
		st.cc[ch] = float32(-a * inv * inv * s2 / n)
	}
}

// backwardImage computes, for image b of unit u, stage s's pre-batchnorm gradient, its weight
// gradients (added to unit u's partial sums) and, for s > 0, the gradient of the previous stage's
// output (masked by its ReLU, in place of that output) and that stage's batchnorm sums. Each
// output row goes through all the steps that need it while it is in cache.
func (t *Trainer) backwardImage(w *tworker, s, u, b int, x []float32) {
	st := t.stages[s]
	yv, in := st.y, st.in
	nblk := yv.pitch / nr
	yimg := st.yImage(b)
	dz := st.outImage(b)
	src := t.stageInput(w, s, b, x)
	var prev *tstage
	var h []float32
	if s > 0 {
		prev = t.stages[s-1]
		h = prev.outImage(b)
	}
	d := st.dwb
	var dzp []float32 // padded gradient of the depthwise output (gather mode)
	emitted := 0      // input rows whose gradient is written
	if d != nil && !d.scatter {
		dzp = w.dz[:d.size()]
		clear(dzp) // its borders must be zero, and another stage may have used the buffer
	}
	for oy := 0; oy < yv.h; oy++ {
		dy, off := yimg, yv.off(oy, 0)
		if st.bn != nil {
			// The row's pre-batchnorm gradient, into scratch: only this row's steps read it.
			bnBackward(w.dy, dz[st.out.off(oy, 0):], dy[off:], yv.w, yv.pitch, nblk, st.mu, st.ca, st.cb, st.cc)
			dy, off = w.dy, 0
		}
		if st.pB != nil {
			colSum(dy[off:], yv.w, yv.pitch, nblk, st.pB.parts[u])
		}
		switch st.kind {
		case model.Conv2D:
			t.convWgradRow(st, st.pK.parts[u], src, dy, off, oy)
			if prev != nil { // 1×1, stride 1: input row oy, read by this row's gradient only
				st.pwT.row(dy, off, w.row, 0, in.pitch, yv.w, w.sc)
				t.maskedWrite(prev, h, w.row, in.off(oy, 0), in.w*in.pitch)
				prev.reduceRow(w, b, oy)
			}
		case model.SeparableConv2D:
			z := st.image(st.zbuf, st.zsize, b)
			t.tapsWgradRow(st.pPW.parts[u], z, st.z.off(oy, 0), st.z.pitch, yv.w, dy, off, yv.pitch, in.c, yv.c)
			st.pwT.row(dy, off, dzp, d.dzOff(oy, 0), in.pitch, yv.w, w.sc)
			t.dwWgradRow(st, st.pK.parts[u], src, dzp[d.dzOff(oy, 0):], oy)
		case model.DepthwiseConv2D:
			t.dwWgradRow(st, st.pK.parts[u], src, dy[off:], oy)
			if dzp != nil {
				copy(dzp[d.dzOff(oy, 0):d.dzOff(oy, 0)+yv.w*yv.pitch], dy[off:off+yv.w*yv.pitch])
			} else if prev != nil { // scatter mode reads the output gradient unpadded
				copy(w.dz[oy*yv.w*yv.pitch:(oy+1)*yv.w*yv.pitch], dy[off:off+yv.w*yv.pitch])
			}
		}
		// Input rows whose gradient is complete (every output row whose window holds them is
		// done): write them now, while the rows of the previous stage's output are in cache.
		if dzp != nil && prev != nil {
			last := min(oy+1, yv.h) // output rows done
			if oy == yv.h-1 {
				last = math.MaxInt
			}
			for ; emitted < in.h && (emitted+in.pt)/st.sh < last; emitted++ {
				t.dgradRow(w, st, prev, h, dzp, b, emitted)
			}
		}
	}
	if prev == nil || st.kind == model.Conv2D {
		return
	}
	n := in.w * in.pitch
	if d.scatter {
		g := w.dz[:yv.h*yv.w*yv.pitch] // the output gradient, unpadded (copied above)
		full := w.full[:in.size()]
		d.scatterInput(g, full)
		for iy := 0; iy < in.h; iy++ {
			t.maskedWrite(prev, h, full[in.off(iy, 0):], in.off(iy, 0), n)
			prev.reduceRow(w, b, iy)
		}
		return
	}
}

// dgradRow writes row iy of the gradient of the previous stage's output through stage st's
// depthwise kernel (gather mode), masked by that stage's ReLU, in place of that output, and adds
// the row's backward batchnorm sums.
func (t *Trainer) dgradRow(w *tworker, st, prev *tstage, h, dzp []float32, b, iy int) {
	in := st.in
	st.dwb.inputRow(dzp, w.row, 0, iy)
	t.maskedWrite(prev, h, w.row, in.off(iy, 0), in.w*in.pitch)
	prev.reduceRow(w, b, iy)
}

// convWgradRow adds output row oy's contribution to the kernel gradient of a Conv2D stage; the
// row's output gradient is at dy[doff:].
func (t *Trainer) convWgradRow(st *tstage, acc, src, dy []float32, doff, oy int) {
	in, yv := st.in, st.y
	if st.row16 {
		// C[o][i·16 + j·cin + c] += Σ_x dy[oy,x,o]·in[sh·oy+i, sw·x+j, c]: A = dy (rows = output
		// channels), B = 16-float windows of the padded input rows (kernel rows as panels).
		ldc := st.kh * nr
		boff := oy * st.sh * in.wp * in.pitch
		aoff := doff
		if last := boff + (st.kh-1)*in.wp*in.pitch + (yv.w-1)*st.sw*in.c + nr; last > len(src) {
			panic(fmt.Sprintf("nn: internal error: conv weight gradient reads src[%d] of %d", last, len(src)))
		}
		for r0 := 0; r0 < yv.c; r0 += mr {
			gemmSB(dy[aoff+r0:], 1, yv.pitch, yv.w, src[boff:], st.sw*in.c, in.wp*in.pitch, acc[r0*ldc:], ldc, st.kh)
		}
		return
	}
	rows := roundUp(in.c, mr)
	ldc := roundUp(yv.c, nr)
	for i := 0; i < st.kh; i++ {
		for j := 0; j < st.kw; j++ {
			aoff := (oy*st.sh+i)*in.wp*in.pitch + j*in.pitch
			t.tapsWgradRow(acc[(i*st.kw+j)*rows*ldc:], src, aoff, st.sw*in.pitch, yv.w, dy, doff, yv.pitch, in.c, yv.c)
		}
	}
}

// tapsWgradRow adds Σ_x A[x]ᵀ·dy[x] over the wo pixels of one output row to acc
// (roundUp(cin,6) rows of roundUp(cout,16) floats), where A[x] is the cin channels at
// a[aoff + x·ks] and dy[x] the cout channels at dy[doff + x·dpitch].
func (t *Trainer) tapsWgradRow(acc, a []float32, aoff, ks, wo int, dy []float32, doff, dpitch, cin, cout int) {
	ldc := roundUp(cout, nr)
	if last := aoff + (wo-1)*ks + roundUp(cin, mr); last > len(a) {
		panic(fmt.Sprintf("nn: internal error: weight gradient reads a[%d] of %d", last, len(a)))
	}
	if last := doff + (wo-1)*dpitch + ldc; last > len(dy) {
		panic(fmt.Sprintf("nn: internal error: weight gradient reads dy[%d] of %d", last, len(dy)))
	}
	for r0 := 0; r0 < cin; r0 += mr {
		gemmSB(a[aoff+r0:], 1, ks, wo, dy[doff:], dpitch, nr, acc[r0*ldc:], ldc, ldc/nr)
	}
}

// dwWgradRow adds output row oy's contribution to the depthwise kernel gradient of stage st;
// dz holds the row's gradient of the depthwise output, pixels in.pitch apart.
func (t *Trainer) dwWgradRow(st *tstage, acc, src, dz []float32, oy int) {
	in := st.in
	wo := st.y.w
	p := in.pitch
	soff := oy * st.sh * in.wp * p
	if last := soff + (wo-1)*st.sw*p + (st.kh-1)*in.wp*p + (st.kw-1)*p + p; last > len(src) {
		panic(fmt.Sprintf("nn: internal error: depthwise weight gradient reads src[%d] of %d", last, len(src)))
	}
	if last := (wo-1)*p + p; last > len(dz) {
		panic(fmt.Sprintf("nn: internal error: depthwise weight gradient reads dz[%d] of %d", last, len(dz)))
	}
	dwWgrad(acc, src[soff:], st.sw*p, in.wp*p, p, dz, p, wo, st.kh, st.kw, p/nr)
}

// reduce adds the units' partial gradients in float64 in unit order and converts them to Keras
// layout.
func (t *Trainer) reduce(units int) {
	for _, p := range t.params {
		if p.sum == nil {
			continue
		}
		clear(p.sum)
		for u := 0; u < units; u++ {
			for i, v := range p.parts[u] {
				p.sum[i] += float64(v)
			}
		}
		p.keras(p.sum, p.grad)
	}
}
