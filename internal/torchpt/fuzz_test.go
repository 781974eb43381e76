package torchpt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

func FuzzReadStateDict(f *testing.F) {
	f.Add(synthetic(f, binary.LittleEndian))
	f.Add(synthetic(f, binary.BigEndian))
	for _, name := range []string{"views.pt", "views_proto4.pt", "expand.pt", "parameter.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if dir := datadirtest.Lookup(); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "data_compact_models/models_torch/compact_model_211022_neuron27.pt"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := ReadStateDict(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if strings.Contains(err.Error(), "unpickler failed") {
				t.Fatalf("gopickle panicked on a pickle the scan accepted: %v", err)
			}
			return
		}
		for _, k := range sd.Keys {
			tt := sd.Tensors[k]
			n := 1
			for _, d := range tt.Shape {
				n *= d
			}
			if len(tt.Float)+len(tt.Int) != n || (tt.Float == nil) == (tt.Int == nil) {
				t.Fatalf("%s: shape %v with %d float and %d int values", k, tt.Shape, len(tt.Float), len(tt.Int))
			}
		}
		Compact(sd) // must not panic
	})
}

// storageZip wraps a fuzzed data.pkl into a checkpoint whose storages are those of synthetic, so
// that mutations reach persistent_load and _rebuild_tensor_v2 instead of failing the zip's CRCs.
func storageZip(tb testing.TB, pkl []byte) []byte {
	big := make([]float64, 784)
	for k := range big {
		big[k] = 1 + float64(k)/1024
	}
	return ptZip(tb, "m/data.pkl", "m/data/0", "m/data/1", "m/data/2", "m/data/3", "m/data/4", "m/data/5", "m/data/6")(
		pkl, f64bytes(binary.LittleEndian, 1, 2, 3, 4, 5, 6), f64bytes(binary.LittleEndian, 10, 11, 12, 13, 14),
		f32bytes(1.5, -0.25), i64bytes(7), nil, f64bytes(binary.LittleEndian, 8, 9), f64bytes(binary.LittleEndian, big...))
}

func FuzzStateDictPickle(f *testing.F) {
	f.Add(stateDictPickle([]tensorSpec{
		{name: "w", class: "DoubleStorage", key: "0", numel: 6, size: []int{2, 3}, stride: []int{1, 2}},
		{name: "t", class: "DoubleStorage", key: "1", numel: 5, offset: 2, size: []int{3}, stride: []int{1}},
		{name: "f", class: "FloatStorage", key: "2", numel: 2, size: []int{2}, stride: []int{1}},
		{name: "n", class: "LongStorage", key: "3", numel: 1, size: []int{}, stride: []int{}},
		{name: "r", class: "DoubleStorage", key: "5", numel: 2, size: []int{1, 2}, stride: []int{0, 1}},
	}))
	f.Add(compactPickle([5]int{1, 1, 1, 1, 1}))
	f.Fuzz(func(t *testing.T, pkl []byte) {
		data := storageZip(t, pkl)
		sd, err := ReadStateDict(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			if strings.Contains(err.Error(), "unpickler failed") {
				t.Fatalf("gopickle panicked on a pickle the scan accepted: %v", err)
			}
			return
		}
		for _, k := range sd.Keys {
			tt := sd.Tensors[k]
			n := 1
			for _, d := range tt.Shape {
				n *= d
			}
			if len(tt.Float)+len(tt.Int) != n {
				t.Fatalf("%s: shape %v with %d values", k, tt.Shape, len(tt.Float)+len(tt.Int))
			}
		}
		Compact(sd)
	})
}

// compactPickle is the pickle of a compact model's state dict with filters f (784·F4 <= 784)
// whose tensors all view the start of storage 6 of storageZip, so that Compact can be fuzzed
// through a checkpoint.
func compactPickle(f [5]int) []byte {
	var specs []tensorSpec
	zero := func(name string, shape ...int) {
		stride := make([]int, len(shape))
		s := 1
		for k := len(shape) - 1; k >= 0; k-- {
			stride[k] = s
			s *= shape[k]
		}
		specs = append(specs, tensorSpec{name: name, class: "DoubleStorage", key: "6", numel: 784, size: shape, stride: stride})
	}
	zero("layers.layer0_conv.weight", f[0], 3, 5, 5)
	zero("layers.layer0_conv.bias", f[0])
	for l := 0; l < 5; l++ {
		if l > 0 {
			zero(fmt.Sprintf("layers.layer%d_conv_depth.weight", l), f[l-1], 1, 5, 5)
			zero(fmt.Sprintf("layers.layer%d_conv_point.weight", l), f[l], f[l-1], 1, 1)
			zero(fmt.Sprintf("layers.layer%d_conv_point.bias", l), f[l])
		}
		for _, p := range []string{"weight", "bias", "running_mean", "running_var"} {
			zero(fmt.Sprintf("layers.layer%d_bn.%s", l, p), f[l])
		}
	}
	zero("layers.Beta.weight", 1, 784*f[4])
	zero("layers.Beta.bias", 1)
	return stateDictPickle(specs)
}

// BenchmarkReadStateDict reads and converts one compact model's checkpoint (a median-sized file)
// from memory.
func BenchmarkReadStateDict(b *testing.B) {
	data, err := os.ReadFile(datadirtest.File(b, "data_compact_models/models_torch/compact_model_201025_neuron10.pt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sd, err := ReadStateDict(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compact(sd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompactAll219 reads and converts the checkpoints of all 219 compact models from memory.
func BenchmarkCompactAll219(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(datadirtest.Dir(b), "data_compact_models/models_torch/*.pt"))
	if err != nil || len(files) != 219 {
		b.Fatalf("%d files, %v", len(files), err)
	}
	var all [][]byte
	var n int64
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, d)
		n += int64(len(d))
	}
	b.SetBytes(n)
	for b.Loop() {
		for _, d := range all {
			sd, err := ReadStateDict(bytes.NewReader(d), int64(len(d)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Compact(sd); err != nil {
				b.Fatal(err)
			}
		}
	}
}
