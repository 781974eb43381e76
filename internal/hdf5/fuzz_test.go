package hdf5

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
)

// fuzzLimit bounds the data one fuzz input may make the reader decode. The seeds' datasets are
// a few hundred bytes; a larger bound only makes the fuzzer spend its time converting the huge
// arrays that mutated sizes declare.
const fuzzLimit = 64 << 10

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

var errStop = os.ErrDeadlineExceeded // any sentinel: ends a walk early

// seedPattern names the fuzz seeds: tiny files, one structure each, written by
// testdata/gen_seeds.py. The larger files of testdata/gen.py and the real weight files are
// regression cases (TestExerciseFiles), not seeds: the fuzzer mutates and minimises a
// 100-kilobyte seed so slowly that it stops exploring.
var seedPattern = filepath.Join("testdata", "seeds", "*.h5")

func FuzzOpen(f *testing.F) {
	for _, s := range fuzzseed.Files(f, seedPattern) {
		f.Add(s)
	}
	f.Add([]byte(signature))
	f.Add([]byte("not an HDF5 file at all"))
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) { exercise(data) })
}

// FuzzOpenNoChecksums is FuzzOpen with metadata checksums ignored, so that mutations reach the
// parsers of checksummed structures (version 2 object headers, fractal heaps, v2 B-trees, fixed
// and extensible arrays) instead of stopping at the checksum.
func FuzzOpenNoChecksums(f *testing.F) {
	for _, s := range fuzzseed.Files(f, seedPattern) {
		f.Add(s)
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		exerciseOpts(data, &Options{MaxDataBytes: fuzzLimit, skipChecksums: true})
	})
}

// TestExerciseFiles runs the fuzz targets' work on the regression files of testdata, the seeds
// and, when the data directory is present, three real weight files, within the fuzz bounds.
func TestExerciseFiles(t *testing.T) {
	var names []string
	for _, pattern := range []string{"*.h5", "*.nc", "seeds/*.h5"} {
		m, _ := filepath.Glob(filepath.Join("testdata", pattern))
		names = append(names, m...)
	}
	files := map[string][]byte{}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		files[name] = b
	}
	real := []string{benchWeights,
		"data_compact_models/model_weights_h5/compact_model_201025_neuron5.weights.h5",
		"data_compact_models/model_weights_h5/compact_model_210225_neuron3.weights.h5"}
	for i, b := range datadirtest.Seeds(t, real...) {
		files[real[i]] = b
	}
	for name, b := range files {
		t.Run(name, func(t *testing.T) {
			fuzzbound.Run(t, func() {
				exercise(b)
				exerciseOpts(b, &Options{MaxDataBytes: fuzzLimit, skipChecksums: true})
			})
		})
	}
}

// TestSeedsReproduce checks that testdata/gen_seeds.py writes the committed seeds byte for byte.
func TestSeedsReproduce(t *testing.T) {
	fuzzseed.Reproduce(t, "h5py, numpy", filepath.Join("testdata", "gen_seeds.py"), filepath.Join("testdata", "seeds"))
}

// TestSeedsRead checks that every seed is a file the reader understands entirely (so that the
// fuzzer starts from inputs that reach deep into the reader), except the datasets of
// sb3_unsupported.h5 whose type or filter the reader rejects. (Its enum reads as integers, its
// array type as the flattened elements, and h5py's lzf filter is optional: HDF5 stored the chunks
// unfiltered.)
func TestSeedsRead(t *testing.T) {
	names, _ := filepath.Glob(seedPattern)
	for _, name := range names {
		t.Run(filepath.Base(name), func(t *testing.T) {
			var unsupported map[string]bool
			if filepath.Base(name) == "sb3_unsupported.h5" {
				unsupported = map[string]bool{"compound": true, "opaque": true, "ref": true, "scaleoffset": true}
			}
			data, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Open(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			type value interface {
				ReadFloat64() ([]float64, error)
				ReadStrings() ([]string, error)
			}
			check := func(what string, v value, dt Datatype) {
				var err error
				if dt.Class == ClassString || dt.Class == ClassVarLen && dt.VarString {
					_, err = v.ReadStrings()
				} else {
					_, err = v.ReadFloat64()
				}
				if (err != nil) != unsupported[what] {
					t.Errorf("%s: %v", what, err)
				}
			}
			datasets := 0
			err = f.Walk(func(path string, obj Object) error {
				attrs, err := obj.Attrs()
				if err != nil {
					return err
				}
				for _, a := range attrs {
					check(path+" attribute "+a.Name(), a, a.Type())
				}
				if d, ok := obj.(*Dataset); ok {
					datasets++
					check(strings.TrimPrefix(path, "/"), d, d.Type())
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d datasets", datasets)
		})
	}
}
