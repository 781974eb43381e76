package npy

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/model"
	"compactv4/internal/pyref"
)

// TestWriteTensorsPublished reads every published model_weights_npy file, writes its arrays
// back and requires the same bytes: the writer is np.save's pickle of a get_weights() list.
func TestWriteTensorsPublished(t *testing.T) {
	dir := filepath.Join(datadirtest.Dir(t), "data_compact_models", "model_weights_npy")
	names, err := filepath.Glob(filepath.Join(dir, "*.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Skipf("no .npy files in %s", dir)
	}
	for _, name := range names {
		want, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		ts, err := ReadTensors(bytes.NewReader(want))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		if err := WriteTensors(&buf, ts); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := buf.Bytes(); !bytes.Equal(got, want) {
			n := 0
			for n < min(len(got), len(want)) && got[n] == want[n] {
				n++
			}
			t.Fatalf("%s: written %d bytes, published %d; first difference at byte %d", filepath.Base(name), len(got), len(want), n)
		}
	}
	t.Logf("%d published files written back byte for byte", len(names))
}

// TestWriteNumsFiltersPublished writes a published nums_filters file's counts back.
func TestWriteNumsFiltersPublished(t *testing.T) {
	path := datadirtest.File(t, "data_compact_models/nums_filters/compact_model_190923_neuron0.npy")
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	shape, data, err := ReadInt64(bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteInt64(&buf, shape, data); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("written %q, published %q", buf.Bytes(), want)
	}
}

func seqTensor(shape []int, start float32) model.Tensor {
	t := model.NewTensor(shape...)
	for i := range t.Data {
		t.Data[i] = start + float32(i)*0.25
	}
	return t
}

// TestWriteTensorsRoundTrip writes lists that exercise every branch of the pickler (memo indices
// past 255, a 0-d array, dimensions needing 2 and 4 bytes, one element, no element, more than one
// batch of 1000 appends) and reads them back.
func TestWriteTensorsRoundTrip(t *testing.T) {
	many := func(n int) []model.Tensor {
		ts := make([]model.Tensor, n)
		for i := range ts {
			ts[i] = seqTensor([]int{1 + i%3, 2}, float32(i))
		}
		return ts
	}
	tests := []struct {
		name string
		ts   []model.Tensor
	}{
		{"none", nil},
		{"one", []model.Tensor{seqTensor([]int{3}, 1)}},
		{"scalar and empty", []model.Tensor{seqTensor(nil, 7), seqTensor([]int{0, 4}, 0), seqTensor([]int{2, 2}, -1)}},
		{"wide dimensions", []model.Tensor{seqTensor([]int{300, 1}, 0), seqTensor([]int{70000}, 0), seqTensor([]int{1, 1, 1, 1, 2}, 0)}},
		{"long memo", many(80)},
		{"two batches", many(1003)},
		{"special values", []model.Tensor{{Shape: []int{5}, Data: []float32{float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), math.MaxFloat32}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteTensors(&buf, tt.ts); err != nil {
				t.Fatal(err)
			}
			got, err := ReadTensors(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := sameTensors(got, tt.ts); err != "" {
				t.Fatal(err)
			}
		})
	}
}

// sameTensors describes the first difference between two tensor lists ("" if none); NaNs match
// any NaN (a conversion through float64 quiets a signalling NaN).
func sameTensors(got, want []model.Tensor) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d tensors, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.Equal(got[i].Shape, want[i].Shape) && !(len(got[i].Shape) == 0 && len(want[i].Shape) == 0) {
			return fmt.Sprintf("tensor %d has shape %v, want %v", i, got[i].Shape, want[i].Shape)
		}
		if len(got[i].Data) != len(want[i].Data) {
			return fmt.Sprintf("tensor %d has %d values, want %d", i, len(got[i].Data), len(want[i].Data))
		}
		for k, v := range want[i].Data {
			g := got[i].Data[k]
			if math.Float32bits(g) != math.Float32bits(v) && !(v != v && g != g) {
				return fmt.Sprintf("tensor %d value %d is %v, want %v", i, k, g, v)
			}
		}
	}
	return ""
}

func TestWriteTensorsErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		ts   []model.Tensor
		want string
	}{
		{"short data", []model.Tensor{{Shape: []int{2, 2}, Data: make([]float32, 3)}}, "tensor 0"},
		{"negative dimension", []model.Tensor{seqTensor([]int{1}, 0), {Shape: []int{-1}, Data: nil}}, "tensor 1"},
	} {
		var buf bytes.Buffer
		err := WriteTensors(&buf, tt.ts)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one naming %q", tt.name, err, tt.want)
		}
		if buf.Len() != 0 {
			t.Errorf("%s: %d bytes written before the error", tt.name, buf.Len())
		}
	}
}

// FuzzWriteTensors builds tensors from the input (a shape byte per tensor, then its values) and
// checks that what WriteTensors writes, ReadTensors reads back bit for bit.
func FuzzWriteTensors(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x12, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 9, 9, 9, 9})
	f.Add(bytes.Repeat([]byte{0x21, 0x7f, 0xc0, 0, 0, 1, 2, 3, 4}, 40))
	fuzzbound.Fuzz(f, checkWriteTensors)
}

func checkWriteTensors(t *testing.T, data []byte) {
	var ts []model.Tensor
	for len(data) > 0 && len(ts) < 64 {
		// Bits 4-5 are the number of dimensions (0-3), bits 0-2 each dimension's size (0-7).
		rank, size := int(data[0]>>4)%4, int(data[0]&0x07)
		data = data[1:]
		shape := make([]int, rank)
		for i := range shape {
			shape[i] = size
		}
		tt := model.NewTensor(shape...)
		for k := range tt.Data {
			if len(data) >= 4 {
				tt.Data[k] = math.Float32frombits(binary.LittleEndian.Uint32(data))
				data = data[4:]
			}
		}
		ts = append(ts, tt)
	}
	var buf bytes.Buffer
	if err := WriteTensors(&buf, ts); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTensors(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if msg := sameTensors(got, ts); msg != "" {
		t.Fatal(msg)
	}
}

// loadScript loads a Go-written weight list with NumPy, checks every array, and, with NumPy 1.x
// (whose pickles name numpy.core; NumPy 2 writes numpy._core), that np.save writes the same bytes.
const loadScript = `
import sys
import numpy as np
path = sys.argv[1]
a = np.load(path, allow_pickle=True)
assert a.dtype == object and a.shape == (3,), (a.dtype, a.shape)
want = [np.arange(150, dtype=np.float32).reshape(5, 5, 3, 2) * np.float32(0.25) + np.float32(1),
        np.array([-2.5, 0, 3e38], dtype=np.float32),
        np.arange(784 * 3, dtype=np.float32).reshape(784 * 3, 1) * np.float32(0.25)]
for g, w in zip(a, want):
    assert g.dtype == np.float32 and g.shape == w.shape and np.array_equal(g, w), (g.shape, w.shape)
if np.__version__.startswith("1."):
    o = np.empty(3, dtype=object)
    for i, w in enumerate(want):
        o[i] = w
    np.save(path + ".ref.npy", o, allow_pickle=True)
    assert open(path + ".ref.npy", "rb").read() == open(path, "rb").read(), "bytes differ from np.save"
    print("same bytes as np.save", np.__version__)
else:
    print("loaded by numpy", np.__version__)
`

// TestNumPyLoadsTensors has NumPy (when installed) load a weight list written by WriteTensors.
func TestNumPyLoadsTensors(t *testing.T) {
	py := pyref.Need(t, "numpy")
	a := seqTensor([]int{5, 5, 3, 2}, 1)
	b := model.Tensor{Shape: []int{3}, Data: []float32{-2.5, 0, 3e38}}
	c := seqTensor([]int{784 * 3, 1}, 0)
	path := filepath.Join(t.TempDir(), "w.npy")
	var buf bytes.Buffer
	if err := WriteTensors(&buf, []model.Tensor{a, b, c}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", loadScript, path).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
