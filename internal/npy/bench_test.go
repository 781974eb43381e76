package npy

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// BenchmarkReadTensors reads one compact model's pickled weights (a median-sized file) from memory.
func BenchmarkReadTensors(b *testing.B) {
	data, err := os.ReadFile(datadirtest.File(b, "data_compact_models/model_weights_npy/compact_model_201025_neuron10.npy"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := ReadTensors(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTensorsAll219 reads the pickled weights of all 219 compact models from memory.
func BenchmarkReadTensorsAll219(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(datadirtest.Dir(b), "data_compact_models/model_weights_npy/*.npy"))
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
			if _, err := ReadTensors(bytes.NewReader(d)); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReadFloat64 reads the largest repeat-averaged response file from memory.
func BenchmarkReadFloat64(b *testing.B) {
	data, err := os.ReadFile(datadirtest.File(b, "data_V4_responses/responses_repeat_averaged/responses_201025.npy"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := ReadFloat64(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteFloat64(b *testing.B) {
	data := make([]float64, 89*1200)
	b.SetBytes(int64(8 * len(data)))
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := WriteFloat64(&buf, []int{89, 1200}, data); err != nil {
			b.Fatal(err)
		}
	}
}
