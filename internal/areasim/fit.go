package areasim

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"

	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/statefile"
)

// Width is the number of filters of the student's third convolution, whatever K.
const Width = 32

// Student returns a small shared model for Side×Side RGB images, the compact architecture of
// reference/upstream.md §4.6 scaled down: K filters in layers 0 (Conv2D 5×5, stride 1) and 1
// (SeparableConv2D 5×5, stride 2), Width in layer 2 (SeparableConv2D 5×5, stride 1), each with
// batchnorm and ReLU, then a 1×1 mixing stage to the outputs and a depthwise spatial pool over
// the whole 8×8 map, with Keras' initial weights drawn with seed (nn.InitKeras).
func Student(k, outputs int, seed uint64) (*model.Network, error) {
	if k < 1 || outputs < 1 {
		return nil, fmt.Errorf("student: K = %d, %d outputs", k, outputs)
	}
	n := &model.Network{Name: fmt.Sprintf("student_K%d", k), Input: [3]int{Side, Side, 3}}
	for i, f := range []int{k, k, Width} {
		conv := model.Layer{
			Name: fmt.Sprintf("layer%d_conv", i), Class: model.SeparableConv2D, DepthMultiplier: 1,
			Filters: f, Kernel: [2]int{ksize, ksize}, Strides: [2]int{1, 1}, Padding: model.PaddingSame,
			Activation: model.Linear, UseBias: true,
		}
		if i == 0 {
			conv.Class, conv.DepthMultiplier = model.Conv2D, 0
		}
		if i == 1 {
			conv.Strides = [2]int{2, 2}
		}
		n.Layers = append(n.Layers, conv,
			model.Layer{Name: fmt.Sprintf("layer%d_bn", i), Class: model.BatchNormalization, Epsilon: model.BNEpsilon, Momentum: model.BNMomentum},
			model.Layer{Name: fmt.Sprintf("layer%d_act", i), Class: model.Activation, Activation: model.ReLU})
	}
	half := Side / 2
	n.Layers = append(n.Layers,
		model.Layer{Name: "mixing_stage", Class: model.Conv2D, Filters: outputs, Kernel: [2]int{1, 1}, Strides: [2]int{1, 1}, Padding: model.PaddingSame, Activation: model.Linear, UseBias: true},
		model.Layer{Name: "spatial_pool_stage", Class: model.DepthwiseConv2D, Kernel: [2]int{half, half}, Strides: [2]int{1, 1}, Padding: model.PaddingValid, DepthMultiplier: 1, Activation: model.Linear, UseBias: true},
		model.Layer{Name: "output_responses", Class: model.Flatten},
	)
	if err := nn.InitKeras(n, seed); err != nil {
		return nil, err
	}
	return n, nil
}

// Schedule is how a student is fitted: Epochs passes over the fit images in a seeded order, in
// batches of Batch, with Adam at LearningRate.
type Schedule struct {
	Epochs, Batch int
	LearningRate  float64
	Seed          uint64 // order of the images in each epoch
	// Progress, when not nil, is called after each step with the steps taken and the steps of
	// the whole fit (for progress lines; it does not change the fit).
	Progress func(step, steps int)
	// Checkpoint, when not empty, is a file that holds the fit's state after each epoch but the
	// last. A fit that finds it resumes after that epoch and ends with the bytes of a fit never
	// stopped; a finished fit removes it. A fit stopped by its context loses at most the epoch
	// under way.
	Checkpoint string
}

// fitState is a fit's checkpoint: the trainer's weights (batchnorm statistics included) and
// Adam state after Epoch epochs.
type fitState struct {
	Fingerprint string
	Epoch       int
	Weights     []model.Tensor
	Iter        int64
	OptState    [][]float32
}

// fitFingerprint names what decides a fit's result: the network's configuration and initial
// weights, the schedule, the images and the targets.
func fitFingerprint(net *model.Network, pix []uint8, targets [][]float64, s Schedule) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %v %d %d %d %v %d %d\n", net.Name, net.Input, len(net.Layers), s.Epochs, s.Batch, s.LearningRate, s.Seed, len(pix))
	for _, l := range net.Layers {
		l.Weights = nil
		fmt.Fprintf(h, "%+v\n", l)
	}
	for _, w := range net.Weights() {
		binary.Write(h, binary.LittleEndian, w.Data)
	}
	h.Write(pix)
	for _, row := range targets {
		binary.Write(h, binary.LittleEndian, row)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// Fit trains net (nn.Trainer: training-mode batchnorm, MSE, Adam) to reproduce targets
// [output][image], each output standardised over the images, on n RGB images of net's input
// shape (NHWC uint8, recentred as the compact models take them: nn.Recenter, one batch at a
// time), and returns the trained network. Epoch e presents the images in the order
// metrics.Permutation(Seed+e, n), the last batch of an epoch possibly short.
func Fit(ctx context.Context, net *model.Network, pix []uint8, n int, targets [][]float64, s Schedule) (*model.Network, error) {
	px := net.Input[0] * net.Input[1] * net.Input[2]
	if n < 1 || px < 1 || len(pix) != n*px {
		return nil, fmt.Errorf("fit %s: %d bytes for %d images of %v", net.Name, len(pix), n, net.Input)
	}
	if s.Epochs < 1 || s.Batch < 1 || !(s.LearningRate > 0) {
		return nil, fmt.Errorf("fit %s: %d epochs, batch %d, learning rate %v", net.Name, s.Epochs, s.Batch, s.LearningRate)
	}
	// A checkpoint, when there is one, gives the weights to start from.
	start, first := net, 0
	var fp string
	var st fitState
	if s.Checkpoint != "" {
		fp = fitFingerprint(net, pix, targets, s)
		found, err := statefile.Read(s.Checkpoint, &st)
		if err != nil {
			return nil, fmt.Errorf("fit %s: %w", net.Name, err)
		}
		if found {
			if st.Fingerprint != fp || st.Epoch < 1 || st.Epoch >= s.Epochs {
				return nil, fmt.Errorf("fit %s: checkpoint %s belongs to another fit (other network, schedule, images or targets); delete it to start over", net.Name, s.Checkpoint)
			}
			start, first = net.Clone(), st.Epoch
			if err := start.SetWeights(st.Weights); err != nil {
				return nil, fmt.Errorf("fit %s: checkpoint %s: %w", net.Name, s.Checkpoint, err)
			}
		}
	}
	tr, err := nn.NewTrainer(start, nn.NewAdam(s.LearningRate, 0))
	if err != nil {
		return nil, err
	}
	if first > 0 {
		if err := tr.SetOptimizerState(st.Iter, st.OptState); err != nil {
			return nil, fmt.Errorf("fit %s: checkpoint %s: %w", net.Name, s.Checkpoint, err)
		}
	}
	outs := tr.Outputs()
	if len(targets) != outs {
		return nil, fmt.Errorf("fit %s: %d target rows for %d outputs", net.Name, len(targets), outs)
	}
	y := make([]float32, n*outs) // [image][output], standardised
	for o, row := range targets {
		if len(row) != n {
			return nil, fmt.Errorf("fit %s: output %d has %d targets for %d images", net.Name, o, len(row), n)
		}
		m, sd := metrics.Mean(row), math.Sqrt(metrics.NaNVar(row, 0))
		if !(sd > 0) {
			return nil, fmt.Errorf("fit %s: output %d has constant targets", net.Name, o)
		}
		for i, v := range row {
			y[i*outs+o] = float32((v - m) / sd)
		}
	}
	perEpoch := (n + s.Batch - 1) / s.Batch
	steps, step := s.Epochs*perEpoch, first*perEpoch
	pb := make([]uint8, s.Batch*px)
	xb := make([]float32, s.Batch*px)
	yb := make([]float32, s.Batch*outs)
	for e := first; e < s.Epochs; e++ {
		order := metrics.Permutation(s.Seed+uint64(e), n)
		for lo := 0; lo < n; lo += s.Batch {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b := min(s.Batch, n-lo)
			for j, i := range order[lo : lo+b] {
				copy(pb[j*px:(j+1)*px], pix[i*px:(i+1)*px])
				copy(yb[j*outs:(j+1)*outs], y[i*outs:(i+1)*outs])
			}
			if err := nn.Recenter(pb[:b*px], xb[:b*px]); err != nil {
				return nil, err
			}
			if _, err := tr.Step(xb[:b*px], yb[:b*outs], b); err != nil {
				return nil, fmt.Errorf("fit %s: epoch %d: %w", net.Name, e+1, err)
			}
			if step++; s.Progress != nil {
				s.Progress(step, steps)
			}
		}
		if s.Checkpoint != "" && e+1 < s.Epochs {
			c := fitState{Fingerprint: fp, Epoch: e + 1}
			c.Iter, c.OptState = tr.OptimizerState()
			for _, w := range tr.Network().Weights() {
				c.Weights = append(c.Weights, *w)
			}
			if err := statefile.Write(s.Checkpoint, &c); err != nil {
				return nil, fmt.Errorf("fit %s: %w", net.Name, err)
			}
		}
	}
	if s.Checkpoint != "" {
		if err := os.Remove(s.Checkpoint); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("fit %s: %w", net.Name, err)
		}
	}
	return tr.Network(), nil
}

// Train fits net to targets [output][image] on the n images fitPix of its input shape (Fit with
// schedule s) and returns its outputs for the nEval images evPix of the same shape, image after
// image (nEval·len(targets) values).
func Train(ctx context.Context, net *model.Network, fitPix []uint8, n int, targets [][]float64, s Schedule, evPix []uint8, nEval int) ([]float32, error) {
	fit, err := Fit(ctx, net, fitPix, n, targets, s)
	if err != nil {
		return nil, err
	}
	c, err := nn.Compile(fit)
	if err != nil {
		return nil, err
	}
	return c.Predict(evPix, nEval)
}

// ByOutput turns outputs image after image (outs per image), as Train returns them, into
// [output][image].
func ByOutput(flat []float32, n, outs int) [][]float64 {
	out := make([][]float64, outs)
	for o := range out {
		out[o] = make([]float64, n)
		for i := range n {
			out[o][i] = float64(flat[i*outs+o])
		}
	}
	return out
}
