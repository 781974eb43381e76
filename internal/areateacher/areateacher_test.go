package areateacher

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/areadata"
	"compactv4/internal/imagenet"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

// narrowTrunk is ResNet50 to conv4_block4_out narrowed 16-fold with the random weights of
// internal/imagenet's test file.
func narrowTrunk(t *testing.T) Trunk {
	t.Helper()
	_, g, err := imagenet.LoadResNet50File(filepath.Join("..", "imagenet", "testdata", "resnet50_narrow.h5"), model.ResNet50Output, 16)
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.LayerShape(model.ResNet50Output)
	if err != nil {
		t.Fatal(err)
	}
	return Trunk{Net: g, Shape: s, Batch: 4}
}

// plantedArea is m random side×side images and n neurons whose Poisson counts (4 repeats) grow
// with the mean level of one colour channel in one quadrant.
func plantedArea(m, n, side int, seed uint64) (*areadata.Area, []uint8) {
	rng := rand.New(rand.NewPCG(seed, 1))
	pix := make([]uint8, m*side*side*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	const reps = 4
	raw := metrics.Raw{N: n, M: m, R: reps, Data: make([]float64, n*m*reps)}
	ids := make([]string, m)
	for i := range m {
		ids[i] = strconv.Itoa(i)
		for j := range n {
			s := 0.0
			for y := range side / 2 {
				for x := range side / 2 {
					y0, x0 := (j%2)*side/2, (j/2%2)*side/2
					s += float64(pix[((i*side+y0+y)*side+x0+x)*3+j%3])
				}
			}
			rate := 1 + 8*s/float64(side*side/4)/255
			for r := range reps {
				raw.Data[(j*m+i)*reps+r] = poisson(rng, rate)
			}
		}
	}
	return &areadata.Area{Name: "planted", ImageIDs: ids, Resp: &eval.Responses{Session: "planted", Hi: m, Averaged: raw.Means(), Raw: &raw}}, pix
}

func poisson(rng *rand.Rand, rate float64) float64 {
	k, p := 0.0, math.Exp(-rate)
	for u := rng.Float64(); u > p; u -= p {
		k++
		p *= rate / k
	}
	return k
}

// TestFit fits a teacher with a narrowed random-weight trunk to a planted area: the evaluation
// predictions are finite, the chosen epoch is in range, and the teacher's labels of the
// evaluation images are its evaluation predictions.
func TestFit(t *testing.T) {
	const m, n, side = 24, 3, 32
	a, pix := plantedArea(m, n, side, 7)
	in := Input{Area: a, Pix: pix, Side: side}
	for i := range m {
		switch {
		case i%6 == 0:
			in.Eval = append(in.Eval, i)
		case i%6 == 1:
			in.Val = append(in.Val, i)
		default:
			in.Train = append(in.Train, i)
		}
	}
	opts := mapping.TaskDrivenDefaults()
	opts.Epochs, opts.KerasEpochs, opts.Batch = 4, 1, 8
	tr := narrowTrunk(t)
	te, err := Fit(context.Background(), tr, in, opts)
	if err != nil {
		t.Fatal(err)
	}
	if te.Best < 0 || te.Best >= opts.Epochs || len(te.Scores) != opts.Epochs {
		t.Errorf("best epoch %d of scores %v", te.Best, te.Scores)
	}
	t.Logf("validation scores %v, best epoch %d", te.Scores, te.Best)
	if len(te.Eval) != n {
		t.Fatalf("%d rows of evaluation predictions", len(te.Eval))
	}
	var evPix []uint8
	per := side * side * 3
	for _, i := range in.Eval {
		evPix = append(evPix, pix[i*per:(i+1)*per]...)
	}
	lab, err := te.Label(context.Background(), evPix, len(in.Eval))
	if err != nil {
		t.Fatal(err)
	}
	for j, row := range te.Eval {
		for k, v := range row {
			if math.IsNaN(v) || math.Abs(lab[j][k]-v) > 1e-4*(1+math.Abs(v)) {
				t.Errorf("neuron %d image %d: label %v, evaluation prediction %v", j, k, lab[j][k], v)
			}
		}
	}

	bad := []struct {
		name string
		edit func(*Input)
		want string
	}{
		{"short pixels", func(in *Input) { in.Pix = in.Pix[:len(in.Pix)-1] }, "bytes for 24 images"},
		{"no validation repeats", func(in *Input) {
			r := *in.Area.Resp
			r.Raw = nil
			a := *in.Area
			a.Resp = &r
			in.Area = &a
		}, "no repeats"},
		{"no validation image", func(in *Input) { in.Val = nil }, "validation: no image"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c := in
			tt.edit(&c)
			if _, err := Fit(context.Background(), tr, c, opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one with %q", err, tt.want)
			}
		})
	}
}
