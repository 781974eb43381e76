// Package areateacher fits the task-driven teacher of a visual area and labels images with it:
// an ImageNet-trained trunk's features (internal/imagenet: Pillow's bicubic resize to 224×224,
// Keras' caffe preprocessing, the trunk up to its output layer) mapped to the area's neurons by
// the factorized two-stage mapping (internal/mapping, reference/upstream.md §7), trained on the
// area's fit images with early stopping on a validation part of them and scored on its
// evaluation images. The teacher at the chosen epoch then labels any images (the distillation
// images of the area's students).
//
// The early stopping picks the epoch of the best validation score (mapping.TrainFactorized), and
// the teacher is the mapping of that epoch (mapping.FactorizedResult.EpochNetworks).
package areateacher

import (
	"context"
	"fmt"
	"math"

	"compactv4/internal/areadata"
	"compactv4/internal/imagenet"
	"compactv4/internal/mapping"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// Trunk is the task-driven network whose output layer is mapped to the neurons.
type Trunk struct {
	Net   *nn.GraphNet
	Shape model.Shape // shape of the output layer
	// Batch is the number of images evaluated at a time.
	Batch int
}

// Input is an area prepared for its teacher.
type Input struct {
	Area *areadata.Area
	// Pix holds every image of the area in the order of Area.ImageIDs, as Side×Side RGB bytes
	// (NHWC), Side given with it.
	Pix  []uint8
	Side int
	// Train and Val are the fit images the mapping is trained on and stopped on; Eval the images
	// it is scored on (indices into Area.ImageIDs).
	Train, Val, Eval []int
}

// Teacher is a fitted teacher.
type Teacher struct {
	trunk Trunk
	side  int
	net   *model.Network
	// Scores are the validation scores of the mapping's epochs (mapping.FactorizedResult) and
	// Best the chosen one.
	Scores []float64
	Best   int
	// Eval holds the predictions for the evaluation images, [neuron][image], in the units of the
	// responses.
	Eval [][]float64
}

// features returns the trunk's features of n side×side images.
func (t Trunk) features(ctx context.Context, name string, pix []uint8, n, side int) (mapping.Features, error) {
	if err := ctx.Err(); err != nil {
		return mapping.Features{}, err
	}
	x, err := imagenet.Features(t.Net, pix, n, side, t.Batch)
	if err != nil {
		return mapping.Features{}, fmt.Errorf("%s: trunk features: %w", name, err)
	}
	return mapping.Features{N: n, P: t.Net.Outputs(), X: x, Name: name + " " + t.Net.Name()}, nil
}

// Fit computes the trunk's features of every image of in and trains the factorized mapping to
// the repeat-averaged responses of the training images with opts (mapping.TaskDrivenDefaults for
// the teacher of upstream's task-driven models), choosing the epoch by the r²_ER of the
// validation images against their repeats.
func Fit(ctx context.Context, trunk Trunk, in Input, opts mapping.FactorizedOptions) (*Teacher, error) {
	a := in.Area
	n := len(a.ImageIDs)
	if len(in.Pix) != n*in.Side*in.Side*3 {
		return nil, fmt.Errorf("%s teacher: %d bytes for %d images of %d×%d×3", a.Name, len(in.Pix), n, in.Side, in.Side)
	}
	if s := trunk.Shape; s.H*s.W*s.C != trunk.Net.Outputs() {
		return nil, fmt.Errorf("%s teacher: trunk output shape %v for %d outputs", a.Name, s, trunk.Net.Outputs())
	}
	train, err := a.Part("training", in.Train)
	if err != nil {
		return nil, err
	}
	val, err := a.Part("validation", in.Val)
	if err != nil {
		return nil, err
	}
	if val.Raw == nil {
		return nil, fmt.Errorf("%s teacher: the validation images have no repeats to stop on", a.Name)
	}
	for i, row := range train.Averaged {
		for k, v := range row {
			if math.IsNaN(v) {
				return nil, fmt.Errorf("%s teacher: neuron %d has no response to training image %s", a.Name, i, a.ImageIDs[in.Train[k]])
			}
		}
	}
	f, err := trunk.features(ctx, a.Name, in.Pix, n, in.Side)
	if err != nil {
		return nil, err
	}
	s := trunk.Shape
	res, err := mapping.TrainFactorized(f, s.H, s.W, s.C, in.Train, in.Val, in.Eval, train.Averaged, *val.Raw, opts)
	if err != nil {
		return nil, fmt.Errorf("%s teacher: %w", a.Name, err)
	}
	return &Teacher{trunk: trunk, side: in.Side, net: res.EpochNetworks[res.Best], Scores: res.Scores, Best: res.Best, Eval: res.Test}, nil
}

// labelChunk is the number of images whose features Label holds at a time.
const labelChunk = 256

// Label returns the teacher's responses to n images of the side the teacher was fitted on
// (Side×Side RGB bytes, NHWC), [neuron][image], computing the features labelChunk images at a
// time.
func (t *Teacher) Label(ctx context.Context, pix []uint8, n int) ([][]float64, error) {
	per := t.side * t.side * 3
	if n < 1 || len(pix) != n*per {
		return nil, fmt.Errorf("teacher labels: %d bytes for %d images of %d×%d×3", len(pix), n, t.side, t.side)
	}
	var out [][]float64
	for lo := 0; lo < n; lo += labelChunk {
		b := min(labelChunk, n-lo)
		f, err := t.trunk.features(ctx, fmt.Sprintf("distillation images %d–%d", lo+1, lo+b), pix[lo*per:(lo+b)*per], b, t.side)
		if err != nil {
			return nil, err
		}
		rows := make([]int, b)
		for i := range rows {
			rows[i] = i
		}
		y, err := mapping.PredictFactorized(t.net, f, rows)
		if err != nil {
			return nil, fmt.Errorf("teacher labels: %w", err)
		}
		if out == nil {
			out = make([][]float64, len(y))
		}
		for j, row := range y {
			out[j] = append(out[j], row...)
		}
	}
	return out, nil
}
