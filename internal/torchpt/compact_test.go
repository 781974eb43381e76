package torchpt

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"compactv4/internal/model"
)

// compactStateDict builds the state dict of a compact model with filters f in PyTorch layout,
// every value distinct: entry number e, element k holds e*1000 + k + 0.5 (exact in float32);
// running variances are 2 + k/8.
func compactStateDict(f [5]int) StateDict {
	sd := StateDict{Tensors: map[string]*Tensor{}}
	add := func(name string, shape ...int) {
		n := 1
		for _, d := range shape {
			n *= d
		}
		t := &Tensor{Shape: shape, Dtype: Float64, Float: make([]float64, n)}
		for k := range t.Float {
			if strings.HasSuffix(name, "running_var") {
				t.Float[k] = 2 + float64(k)/8
			} else {
				t.Float[k] = float64(len(sd.Keys)*1000+k) + 0.5
			}
		}
		sd.Keys = append(sd.Keys, name)
		sd.Tensors[name] = t
	}
	bn := func(l int) {
		for _, p := range []string{"weight", "bias", "running_mean", "running_var"} {
			add(fmt.Sprintf("layers.layer%d_bn.%s", l, p), f[l])
		}
		name := fmt.Sprintf("layers.layer%d_bn.num_batches_tracked", l)
		sd.Keys = append(sd.Keys, name)
		sd.Tensors[name] = &Tensor{Shape: []int{}, Dtype: Int64, Int: []int64{0}}
	}
	add("layers.layer0_conv.weight", f[0], 3, 5, 5)
	add("layers.layer0_conv.bias", f[0])
	bn(0)
	for l := 1; l < 5; l++ {
		add(fmt.Sprintf("layers.layer%d_conv_depth.weight", l), f[l-1], 1, 5, 5)
		add(fmt.Sprintf("layers.layer%d_conv_point.weight", l), f[l], f[l-1], 1, 1)
		add(fmt.Sprintf("layers.layer%d_conv_point.bias", l), f[l])
		bn(l)
	}
	add("layers.Beta.weight", 1, 784*f[4])
	add("layers.Beta.bias", 1)
	return sd
}

// kerasWeights computes the expected Keras weights from the state dict with explicit index
// arithmetic (independent of Compact's strided copy).
func kerasWeights(sd StateDict, f [5]int) []model.Tensor {
	v := func(name string) []float64 { return sd.Tensors[name].Float }
	vec := func(name string, shift float64) model.Tensor {
		t := model.NewTensor(len(v(name)))
		for k, x := range v(name) {
			t.Data[k] = float32(x - shift)
		}
		return t
	}
	bn := func(l int) []model.Tensor {
		p := fmt.Sprintf("layers.layer%d_bn.", l)
		shift := RunningVarShift
		if l == 0 {
			shift = 0
		}
		return []model.Tensor{vec(p+"weight", 0), vec(p+"bias", 0), vec(p+"running_mean", 0), vec(p+"running_var", shift)}
	}
	conv := model.NewTensor(5, 5, 3, f[0])
	w := v("layers.layer0_conv.weight")
	for o := 0; o < f[0]; o++ {
		for i := 0; i < 3; i++ {
			for h := 0; h < 5; h++ {
				for x := 0; x < 5; x++ {
					conv.Data[((h*5+x)*3+i)*f[0]+o] = float32(w[((o*3+i)*5+h)*5+x])
				}
			}
		}
	}
	ws := []model.Tensor{conv, vec("layers.layer0_conv.bias", 0)}
	ws = append(ws, bn(0)...)
	for l := 1; l < 5; l++ {
		cin, cout := f[l-1], f[l]
		dw := model.NewTensor(5, 5, cin, 1)
		d := v(fmt.Sprintf("layers.layer%d_conv_depth.weight", l))
		for c := 0; c < cin; c++ {
			for h := 0; h < 5; h++ {
				for x := 0; x < 5; x++ {
					dw.Data[(h*5+x)*cin+c] = float32(d[(c*5+h)*5+x])
				}
			}
		}
		pw := model.NewTensor(1, 1, cin, cout)
		p := v(fmt.Sprintf("layers.layer%d_conv_point.weight", l))
		for o := 0; o < cout; o++ {
			for i := 0; i < cin; i++ {
				pw.Data[i*cout+o] = float32(p[o*cin+i])
			}
		}
		ws = append(ws, dw, pw, vec(fmt.Sprintf("layers.layer%d_conv_point.bias", l), 0))
		ws = append(ws, bn(l)...)
	}
	beta := vec("layers.Beta.weight", 0)
	beta.Shape = []int{784 * f[4], 1}
	return append(ws, beta, vec("layers.Beta.bias", 0))
}

func TestCompactSynthetic(t *testing.T) {
	for _, f := range [][5]int{{2, 3, 2, 2, 1}, {4, 1, 5, 3, 2}} {
		sd := compactStateDict(f)
		net, err := Compact(sd)
		if err != nil {
			t.Fatal(err)
		}
		got, err := model.CompactFilters(net)
		if err != nil || got != f {
			t.Fatalf("filters %v, %v; want %v", got, err, f)
		}
		want := kerasWeights(sd, f)
		ws := net.Weights()
		if len(ws) != 36 || len(want) != 36 {
			t.Fatalf("%d weights, want 36", len(ws))
		}
		for i := range want {
			if fmt.Sprint(ws[i].Shape) != fmt.Sprint(want[i].Shape) {
				t.Fatalf("weight %d: shape %v, want %v", i, ws[i].Shape, want[i].Shape)
			}
			for k := range want[i].Data {
				if math.Float32bits(ws[i].Data[k]) != math.Float32bits(want[i].Data[k]) {
					t.Fatalf("filters %v weight %d value %d = %v, want %v", f, i, k, ws[i].Data[k], want[i].Data[k])
				}
			}
		}
		// The shift: layer 0's variance is taken as is, layers 1-4 lose 0.001.
		if ws[5].Data[0] != 2 || ws[12].Data[0] != float32(2-0.001) || ws[33].Data[0] != float32(2-0.001) {
			t.Errorf("variances %v %v %v", ws[5].Data[0], ws[12].Data[0], ws[33].Data[0])
		}
		for _, l := range net.Layers {
			if l.Class == model.BatchNormalization && l.Epsilon != 1e-3 {
				t.Errorf("%s epsilon %v, want Keras' 1e-3", l.Name, l.Epsilon)
			}
		}
	}
}

func TestCompactErrors(t *testing.T) {
	f := [5]int{2, 3, 2, 2, 1}
	tests := []struct {
		name string
		edit func(sd *StateDict)
		want string
	}{
		{"missing key", func(sd *StateDict) { delete(sd.Tensors, "layers.layer3_conv_point.bias") }, "missing key layers.layer3_conv_point.bias"},
		{"extra key", func(sd *StateDict) {
			sd.Keys = append(sd.Keys, "layers.extra")
			sd.Tensors["layers.extra"] = &Tensor{Shape: []int{1}, Dtype: Float64, Float: []float64{1}}
		}, `unexpected keys ["layers.extra"]`},
		{"conv input channels", func(sd *StateDict) {
			sd.Tensors["layers.layer0_conv.weight"] = &Tensor{Shape: []int{2, 4, 5, 5}, Dtype: Float64, Float: make([]float64, 200)}
		}, "layers.layer0_conv.weight has shape [2 4 5 5], want [-1 3 5 5]"},
		{"depthwise channels", func(sd *StateDict) {
			sd.Tensors["layers.layer2_conv_depth.weight"] = &Tensor{Shape: []int{2, 1, 5, 5}, Dtype: Float64, Float: make([]float64, 50)}
		}, "layers.layer2_conv_depth.weight has shape [2 1 5 5], want [3 1 5 5]"},
		{"readout size", func(sd *StateDict) {
			sd.Tensors["layers.Beta.weight"] = &Tensor{Shape: []int{1, 100}, Dtype: Float64, Float: make([]float64, 100)}
		}, "layers.Beta.weight has shape [1 100], want [1 784]"},
		{"int weight", func(sd *StateDict) {
			sd.Tensors["layers.layer0_conv.bias"] = &Tensor{Shape: []int{2}, Dtype: Int64, Int: []int64{1, 2}}
		}, "layers.layer0_conv.bias is a int64 tensor, want float"},
		{"negative variance", func(sd *StateDict) { sd.Tensors["layers.layer2_bn.running_var"].Float[1] = -1 }, "running_var[1] = -1"},
		{"NaN variance", func(sd *StateDict) { sd.Tensors["layers.layer0_bn.running_var"].Float[0] = math.NaN() }, "running_var[0] = NaN"},
		{"NaN weight", func(sd *StateDict) { sd.Tensors["layers.layer1_bn.weight"].Float[0] = math.NaN() }, "is NaN"},
		{"float num_batches_tracked", func(sd *StateDict) {
			sd.Tensors["layers.layer4_bn.num_batches_tracked"] = &Tensor{Shape: []int{}, Dtype: Float64, Float: []float64{0}}
		}, "want an int64 scalar"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sd := compactStateDict(f)
			tt.edit(&sd)
			_, err := Compact(sd)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
		})
	}
}

// TestCompactThroughCheckpoint converts a hand-built checkpoint end to end: zip, pickle, views,
// Compact (the fuzz target FuzzStateDictPickle starts from this file).
func TestCompactThroughCheckpoint(t *testing.T) {
	data := storageZip(t, compactPickle([5]int{1, 1, 1, 1, 1}))
	sd, err := ReadStateDict(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	net, err := Compact(sd)
	if err != nil {
		t.Fatal(err)
	}
	if got := net.Params().Total; got != model.CompactParams([5]int{1, 1, 1, 1, 1}) {
		t.Errorf("%d params", got)
	}
	// Beta.weight (1,784) views storage 6 contiguously: value q is 1 + q/1024.
	beta := net.Layer("Beta").Weights[0]
	if beta.Data[783] != float32(1+783.0/1024) {
		t.Errorf("Beta kernel[783] = %v", beta.Data[783])
	}
}
