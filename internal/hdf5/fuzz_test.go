package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"compactv4/internal/datadir/datadirtest"
)

// fuzzLimit bounds the data one fuzz input may make the reader decode.
const fuzzLimit = 1 << 20

// exercise opens data and reads everything it can reach: every object, attribute, link target and
// dataset, in every conversion. Errors are expected for corrupt input; panics are not.
func exercise(data []byte) { exerciseOpts(data, &Options{MaxDataBytes: fuzzLimit}) }

func exerciseOpts(data []byte, opts *Options) {
	f, err := OpenOptions(bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return
	}
	objects := 0
	read := func(v interface {
		ReadFloat64() ([]float64, error)
		ReadFloat32() ([]float32, error)
		ReadInt64() ([]int64, error)
		ReadStrings() ([]string, error)
	}) {
		v.ReadFloat64()
		v.ReadFloat32()
		v.ReadInt64()
		v.ReadStrings()
	}
	visit := func(obj Object) {
		if attrs, err := obj.Attrs(); err == nil {
			for _, a := range attrs {
				_ = a.Type().String()
				a.Shape()
				read(a)
			}
		}
		switch o := obj.(type) {
		case *Dataset:
			o.Layout()
			_ = o.Type().String()
			o.ReadRaw()
			read(o)
		case *Group:
			for _, l := range o.Links() {
				if l.Type != HardLink {
					o.Object(l.Name) // soft and external links
				}
			}
		}
	}
	visit(f.Root())
	f.Walk(func(_ string, obj Object) error {
		objects++
		if objects > 10000 {
			return errStop
		}
		visit(obj)
		return nil
	})
}

// fuzzDeadline is how long one fuzz input may take. The reader must give up on a corrupt file,
// not loop over it: the go fuzzer reports crashes but not hangs, so the target fails an input
// that exceeds this (its inputs take well under a millisecond).
const fuzzDeadline = 10 * time.Second

// withinDeadline runs fn and fails t when it has not returned within fuzzDeadline; the fuzzer
// then saves the input under testdata/fuzz.
func withinDeadline(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(fuzzDeadline):
		t.Fatalf("input not finished after %v: the reader hangs or loops on it", fuzzDeadline)
	}
}

var errStop = os.ErrDeadlineExceeded // any sentinel: ends a walk early

// fuzzSeeds returns the synthetic files and, when the data directory is present, three real
// weight files (read from it, never copied into testdata).
func fuzzSeeds(tb testing.TB) [][]byte {
	var seeds [][]byte
	for _, pattern := range []string{"*.h5", "*.nc"} {
		m, _ := filepath.Glob(filepath.Join("testdata", pattern))
		for _, p := range m {
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			seeds = append(seeds, b)
		}
	}
	return append(seeds, datadirtest.Seeds(tb, benchWeights,
		"data_compact_models/model_weights_h5/compact_model_201025_neuron5.weights.h5",
		"data_compact_models/model_weights_h5/compact_model_210225_neuron3.weights.h5")...)
}

func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Add([]byte(signature))
	f.Add([]byte("not an HDF5 file at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		withinDeadline(t, func() { exercise(data) })
	})
}

// FuzzOpenNoChecksums is FuzzOpen with metadata checksums ignored, so that mutations reach the
// parsers of checksummed structures (version 2 object headers, fractal heaps, v2 B-trees, fixed
// and extensible arrays) instead of stopping at the checksum.
func FuzzOpenNoChecksums(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		withinDeadline(t, func() { exerciseOpts(data, &Options{MaxDataBytes: fuzzLimit, skipChecksums: true}) })
	})
}
