package model_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// randomCompact is a small compact model with random weights and batchnorm statistics.
func randomCompact(t *testing.T) *model.Network {
	t.Helper()
	n, err := model.NewCompact([model.NumLayers]int{4, 5, 3, 4, 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(n, 3); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(4, 0))
	for i := range n.Layers {
		l := &n.Layers[i]
		if l.Class != model.BatchNormalization {
			continue
		}
		for j, w := range l.Weights {
			for k := range w.Data {
				switch j {
				case 0:
					w.Data[k] = float32(1 + 0.3*rng.NormFloat64())
				case 1, 2:
					w.Data[k] = float32(0.3 * rng.NormFloat64())
				case 3:
					w.Data[k] = float32(0.5 + rng.Float64())
				}
			}
		}
	}
	return n
}

func forward(t *testing.T, n *model.Network, pix []uint8, count int, layer string) ([]float32, []float32) {
	t.Helper()
	c, err := nn.Compile(n)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Predict(pix, count)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.StageOf(layer)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, len(pix))
	if err := nn.Recenter(pix, x); err != nil {
		t.Fatal(err)
	}
	act := make([]float32, count*c.Stages()[st].Size())
	if err := c.Activations(x, count, []int{st}, [][]float32{act}); err != nil {
		t.Fatal(err)
	}
	return out, act
}

func TestAblate(t *testing.T) {
	n := randomCompact(t)
	rng := rand.New(rand.NewPCG(5, 0))
	const count = 3
	pix := make([]uint8, count*model.ImageSize*model.ImageSize*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	intact, _ := forward(t, n, pix, count, "layer1_act")

	same, err := model.Ablate(n, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := forward(t, same, pix, count, "layer1_act"); !slices.Equal(out, intact) {
		t.Error("ablating no filter changes the outputs")
	}

	for l := range model.NumLayers - 1 {
		f := 1
		abl, err := model.Ablate(n, l, f)
		if err != nil {
			t.Fatal(err)
		}
		layer := "layer" + string(rune('0'+l)) + "_act"
		out, act := forward(t, abl, pix, count, layer)
		ch := n.Layer("layer" + string(rune('0'+l)) + "_conv").Filters
		for i := f; i < len(act); i += ch {
			if act[i] != 0 {
				t.Fatalf("layer %d: ablated filter %d outputs %v", l, f, act[i])
			}
		}
		// Recompute directly: the intact network with filter f's outgoing depthwise kernel
		// (the only path from it to the next layer) set to zero.
		direct := n.Clone()
		dw := direct.Layer("layer" + string(rune('0'+l+1)) + "_conv").Weights[0] // (5, 5, C, 1)
		for k := f; k < len(dw.Data); k += ch {
			dw.Data[k] = 0
		}
		want, _ := forward(t, direct, pix, count, layer)
		for i := range out {
			if out[i] != want[i] {
				t.Fatalf("layer %d: output %d is %v ablated, %v recomputed", l, i, out[i], want[i])
			}
		}
		if slices.Equal(out, intact) {
			t.Errorf("layer %d: ablating filter %d changes nothing", l, f)
		}
	}
	if n.Layer("layer1_bn").Weights[0].Data[1] == 0 {
		t.Error("Ablate changed its input network")
	}
}

// TestClamp clamps a filter of every layer to a constant: its activation is that constant at
// every position, every other activation of the layer is unchanged bit for bit, and clamping
// to zero is Ablate.
func TestClamp(t *testing.T) {
	n := randomCompact(t)
	rng := rand.New(rand.NewPCG(6, 0))
	const count = 2
	pix := make([]uint8, count*model.ImageSize*model.ImageSize*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	for l := range model.NumLayers {
		layer := "layer" + string(rune('0'+l)) + "_act"
		ch := n.Layer("layer" + string(rune('0'+l)) + "_conv").Filters
		intactOut, intact := forward(t, n, pix, count, layer)
		cl, err := model.Clamp(n, l, []int{1}, []float32{0.75})
		if err != nil {
			t.Fatal(err)
		}
		out, act := forward(t, cl, pix, count, layer)
		for i := range act {
			want := intact[i]
			if i%ch == 1 {
				want = 0.75
			}
			if act[i] != want {
				t.Fatalf("layer %d: activation %d is %v clamped, want %v", l, i, act[i], want)
			}
		}
		if slices.Equal(out, intactOut) {
			t.Errorf("layer %d: clamping filter 1 to 0.75 changes nothing", l)
		}
		z, err := model.Clamp(n, l, []int{1}, []float32{0})
		if err != nil {
			t.Fatal(err)
		}
		a, err := model.Ablate(n, l, 1)
		if err != nil {
			t.Fatal(err)
		}
		zo, _ := forward(t, z, pix, count, layer)
		ao, _ := forward(t, a, pix, count, layer)
		if !slices.Equal(zo, ao) {
			t.Errorf("layer %d: clamping to zero differs from ablating", l)
		}
	}
	if n.Layer("layer1_bn").Weights[1].Data[1] == 0.75 {
		t.Error("Clamp changed its input network")
	}
}

func TestAblateErrors(t *testing.T) {
	n := randomCompact(t)
	for _, c := range []struct {
		l       int
		filters []int
		want    string
	}{
		{5, nil, "no layers"},
		{-1, nil, "no layers"},
		{2, []int{3}, "out of range"},
		{0, []int{-1}, "out of range"},
	} {
		if _, err := model.Ablate(n, c.l, c.filters...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("layer %d filters %v: error %v, want %q", c.l, c.filters, err, c.want)
		}
	}
	for _, c := range []struct {
		filters []int
		values  []float32
		want    string
	}{
		{[]int{0}, nil, "values for"},
		{[]int{0}, []float32{-1}, "≥ 0"},
		{[]int{0}, []float32{float32(math.NaN())}, "≥ 0"},
		{[]int{0}, []float32{float32(math.Inf(1))}, "≥ 0"},
	} {
		if _, err := model.Clamp(n, 1, c.filters, c.values); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("clamp %v to %v: error %v, want %q", c.filters, c.values, err, c.want)
		}
	}
}
