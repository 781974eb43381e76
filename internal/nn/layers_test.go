package nn

import (
	"fmt"
	"testing"

	"compactv4/internal/model"
)

func conv(name string, f, k, s int, pad string) model.Layer {
	return model.Layer{Name: name, Class: model.Conv2D, Filters: f, Kernel: [2]int{k, k}, Strides: [2]int{s, s}, Padding: pad, Activation: model.Linear, UseBias: true}
}

func sep(name string, f, k, s int, pad string) model.Layer {
	l := conv(name, f, k, s, pad)
	l.Class, l.DepthMultiplier = model.SeparableConv2D, 1
	return l
}

func dwl(name string, k, s int, pad string) model.Layer {
	l := conv(name, 0, k, s, pad)
	l.Class, l.DepthMultiplier = model.DepthwiseConv2D, 1
	return l
}

func bn(name string) model.Layer {
	return model.Layer{Name: name, Class: model.BatchNormalization, Epsilon: 1e-3, Momentum: 0.99}
}

func act(name, a string) model.Layer {
	return model.Layer{Name: name, Class: model.Activation, Activation: a}
}

// Each kernel alone, and in small chains, on geometries that exercise the edges: widths below
// the 6-pixel GEMM tile and the 4-pixel depthwise group, overlapping last tiles, stride 2 with TF's
// asymmetric padding, 'valid' windows, odd channel counts around the 16-channel blocks, a
// standalone batchnorm and ReLU, Dense layers, a 1×1 input.
func TestLayersMatchFloat64(t *testing.T) {
	nb := func(l model.Layer) model.Layer { l.UseBias = false; return l }
	rect := func(l model.Layer, kh, kw, sh, sw int) model.Layer {
		l.Kernel, l.Strides = [2]int{kh, kw}, [2]int{sh, sw}
		return l
	}
	tests := []struct {
		name   string
		input  [3]int
		layers []model.Layer
	}{
		{"conv5 s1 same 112", [3]int{112, 112, 3}, []model.Layer{conv("c", 48, 5, 1, "same")}},
		{"conv5 s1 same small", [3]int{5, 4, 3}, []model.Layer{conv("c", 17, 5, 1, "same")}},
		{"conv5 s1 same width1", [3]int{3, 1, 2}, []model.Layer{conv("c", 5, 5, 1, "same")}},
		{"conv5 s2 same odd", [3]int{13, 11, 3}, []model.Layer{conv("c", 33, 5, 2, "same")}},
		{"conv3 s2 valid", [3]int{15, 20, 4}, []model.Layer{conv("c", 16, 3, 2, "valid")}},
		{"conv rect", [3]int{14, 19, 3}, []model.Layer{rect(conv("c", 7, 3, 2, "same"), 3, 5, 1, 2)}},
		{"conv no bias + bn + relu", [3]int{9, 8, 3}, []model.Layer{nb(conv("c", 20, 5, 1, "same")), bn("b"), act("a", "relu")}},
		{"conv 1x1 (mixing)", [3]int{7, 13, 100}, []model.Layer{conv("c", 219, 1, 1, "same")}},
		{"sep s1 same", [3]int{28, 28, 16}, []model.Layer{sep("s", 11, 5, 1, "same"), bn("b"), act("a", "relu")}},
		{"sep s2 same", [3]int{56, 56, 48}, []model.Layer{conv("c", 48, 1, 1, "same"), sep("s", 60, 5, 2, "same"), bn("b"), act("a", "relu")}},
		{"sep s2 same odd sizes", [3]int{9, 7, 3}, []model.Layer{conv("c", 21, 3, 1, "same"), sep("s", 5, 5, 2, "same")}},
		{"sep first layer", [3]int{10, 6, 3}, []model.Layer{sep("s", 4, 5, 2, "same")}},
		{"sep valid width 3", [3]int{7, 7, 20}, []model.Layer{sep("s", 3, 5, 1, "valid")}},
		{"dw s1 same", [3]int{12, 9, 19}, []model.Layer{dwl("d", 5, 1, "same"), bn("b")}},
		{"dw s2 same", [3]int{12, 10, 33}, []model.Layer{dwl("d", 5, 2, "same"), act("a", "relu")}},
		{"dw 28x28 valid (pool)", [3]int{28, 28, 219}, []model.Layer{dwl("d", 28, 1, "valid"), {Name: "f", Class: model.Flatten}}},
		{"dw valid narrow", [3]int{6, 5, 16}, []model.Layer{dwl("d", 3, 1, "valid")}},
		{"standalone bn relu", [3]int{5, 6, 7}, []model.Layer{conv("c", 9, 3, 1, "same"), act("a", "relu"), bn("b"), act("a2", "relu"), act("lin", "linear")}},
		{"bn first", [3]int{4, 4, 3}, []model.Layer{bn("b"), conv("c", 3, 3, 1, "same")}},
		{"flatten dense dense", [3]int{6, 5, 3}, []model.Layer{conv("c", 5, 3, 1, "same"), {Name: "f", Class: model.Flatten},
			{Name: "d1", Class: model.Dense, Filters: 37, Activation: model.Linear, UseBias: true}, bn("b"), act("a", "relu"),
			{Name: "d2", Class: model.Dense, Filters: 3, Activation: model.Linear}}},
		{"1x1 input", [3]int{1, 1, 5}, []model.Layer{conv("c", 4, 5, 1, "same"), sep("s", 2, 3, 2, "same")}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mn := &model.Network{Name: tc.name, Input: tc.input, Layers: tc.layers}
			randomize(t, mn, uint64(1000+i))
			const batch = 3
			s := model.Shape{H: tc.input[0], W: tc.input[1], C: tc.input[2]}
			_, x := randomImages(uint64(2000+i), batch, s)
			want, _, err := ForwardFloat64(mn, x, batch, false)
			if err != nil {
				t.Fatal(err)
			}
			net, err := Compile(mn)
			if err != nil {
				t.Fatal(err)
			}
			forEachKernel(t, func(t *testing.T) {
				for _, w := range []int{1, 2, 4} { // 1 and 2 images per worker, and rows split
					net.SetWorkers(w)
					got := make([]float32, batch*net.Outputs())
					if err := net.Forward(x, batch, got); err != nil {
						t.Fatal(err)
					}
					compareScaled(t, fmt.Sprintf("workers=%d", w), got, want, 1, 1, 1e-5)
				}
			})
		})
	}
}
