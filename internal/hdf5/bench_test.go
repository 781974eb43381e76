package hdf5

import (
	"bytes"
	"os"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// benchWeights is a compact model weight file of about 100 KB.
const benchWeights = "data_compact_models/model_weights_h5/compact_model_190923_neuron0.weights.h5"

// readAllFloat32 opens an HDF5 file and reads every dataset as float32 (int64 for integers).
func readAllFloat32(r interface {
	ReadAt([]byte, int64) (int, error)
}, size int64) (int, error) {
	f, err := Open(r, size)
	if err != nil {
		return 0, err
	}
	n := 0
	err = f.Walk(func(_ string, obj Object) error {
		ds, ok := obj.(*Dataset)
		if !ok {
			return nil
		}
		if ds.Type().Class == ClassFixedPoint {
			v, err := ds.ReadInt64()
			n += len(v)
			return err
		}
		v, err := ds.ReadFloat32()
		n += len(v)
		return err
	})
	return n, err
}

// BenchmarkReadKerasWeights opens a ~100 KB .weights.h5 file and reads all its datasets, from
// memory and from an *os.File.
func BenchmarkReadKerasWeights(b *testing.B) {
	path := datadirtest.File(b, benchWeights)
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("memory", func(b *testing.B) {
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := readAllFloat32(bytes.NewReader(raw), int64(len(raw))); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("file", func(b *testing.B) {
		fh, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		defer fh.Close()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			if _, err := readAllFloat32(fh, int64(len(raw))); err != nil {
				b.Fatal(err)
			}
		}
	})
}
