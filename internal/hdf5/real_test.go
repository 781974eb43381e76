package hdf5

import (
	"archive/zip"
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// The real files are the Keras weight files of the data directory (never copied into testdata).
// testdata/real_checksums.json, written by testdata/gen_real.py with h5py, records the shape,
// dtype, SHA-256 and exact sum of every dataset of three of them.

// openHDF5 opens an HDF5 file, or the model.weights.h5 entry of a .keras zip (whose entries are
// stored uncompressed, so the entry is read in place through a section reader, as the Keras
// loader does). It returns the file and the bytes of the container (for its checksum).
func openHDF5(t testing.TB, path string) (*File, []byte) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r io.ReaderAt = bytes.NewReader(raw)
	size := int64(len(raw))
	if strings.HasSuffix(path, ".keras") {
		r, size, err = zipEntry(bytes.NewReader(raw), int64(len(raw)), "model.weights.h5")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	f, err := Open(r, size)
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	return f, raw
}

// zipEntry returns a reader over a stored (uncompressed) zip entry.
func zipEntry(r io.ReaderAt, size int64, name string) (io.ReaderAt, int64, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, 0, err
	}
	for _, zf := range zr.File {
		if zf.Name != name {
			continue
		}
		if zf.Method != zip.Store {
			return nil, 0, fmt.Errorf("zip entry %s is compressed (method %d), want stored", name, zf.Method)
		}
		off, err := zf.DataOffset()
		if err != nil {
			return nil, 0, err
		}
		return io.NewSectionReader(r, off, int64(zf.UncompressedSize64)), int64(zf.UncompressedSize64), nil
	}
	return nil, 0, fmt.Errorf("no zip entry %s", name)
}

func gitBlobSHA1(b []byte) string {
	h := sha1.New()
	fmt.Fprintf(h, "blob %d\x00", len(b))
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// datasets returns every dataset reached by Walk, by relative path.
func datasets(t testing.TB, f *File) map[string]*Dataset {
	t.Helper()
	out := map[string]*Dataset{}
	if err := f.Walk(func(p string, obj Object) error {
		if ds, ok := obj.(*Dataset); ok {
			out[p] = ds
		}
		_, err := obj.Attrs()
		return err
	}); err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}

func TestRealFileChecksums(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "real_checksums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp map[string]struct {
		GitBlobSHA1 string `json:"git_blob_sha1"`
		Datasets    map[string]struct {
			Shape  []int
			Dtype  string
			SHA256 string
			Fsum   float64
		}
	}
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp) != 3 {
		t.Fatalf("real_checksums.json lists %d files, want 3", len(exp))
	}
	for rel, ef := range exp {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			f, raw := openHDF5(t, datadirtest.File(t, rel))
			if got := gitBlobSHA1(raw); got != ef.GitBlobSHA1 {
				t.Fatalf("%s has git blob SHA-1 %s, the checksums were recorded for %s", rel, got, ef.GitBlobSHA1)
			}
			all := datasets(t, f)
			if len(all) != len(ef.Datasets) {
				t.Errorf("%d datasets, want %d", len(all), len(ef.Datasets))
			}
			for p, ed := range ef.Datasets {
				ds, ok := all[p]
				if !ok {
					t.Errorf("dataset %s not walked", p)
					continue
				}
				if !slices.Equal(ds.Shape(), ed.Shape) && len(ed.Shape)+len(ds.Shape()) > 0 {
					t.Errorf("%s: shape %v, want %v", p, ds.Shape(), ed.Shape)
				}
				if ds.Type().String() != ed.Dtype {
					t.Errorf("%s: dtype %s, want %s", p, ds.Type(), ed.Dtype)
				}
				rawData, err := ds.ReadRaw()
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				if h := sha256.Sum256(rawData); hex.EncodeToString(h[:]) != ed.SHA256 {
					t.Errorf("%s: SHA-256 of the data differs from h5py's", p)
				}
				vals, err := ds.ReadFloat64()
				if err != nil {
					t.Fatalf("%s: %v", p, err)
				}
				var sum, abs, c float64
				for _, v := range vals { // Neumaier summation
					s := sum + v
					if math.Abs(sum) >= math.Abs(v) {
						c += (sum - s) + v
					} else {
						c += (v - s) + sum
					}
					sum = s
					abs += math.Abs(v)
				}
				sum += c
				if math.Abs(sum-ed.Fsum) > 1e-12*math.Max(1, abs) {
					t.Errorf("%s: sum %.17g, h5py %.17g", p, sum, ed.Fsum)
				}
			}
		})
	}
}

// kerasFiles lists the weight files of the data directory: the .weights.h5 files and the
// .keras zips of the compact models, and the shared models' .keras zips.
func kerasFiles(t testing.TB) (weights, compactKeras, sharedKeras []string) {
	t.Helper()
	dir := datadirtest.Dir(t)
	glob := func(pattern string) []string {
		m, err := filepath.Glob(filepath.Join(dir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(m)
		return m
	}
	return glob("data_compact_models/model_weights_h5/*.weights.h5"),
		glob("data_compact_models/models_keras/*.keras"),
		glob("data_shared_compact_models/*/*.keras")
}

// TestRealKerasFiles opens every Keras weight file of the data directory, walks every object,
// reads every dataset and attribute, and checks the layout of reference/upstream.md §2.2-§2.3.
func TestRealKerasFiles(t *testing.T) {
	weights, compact, shared := kerasFiles(t)
	if len(weights) == 0 && len(compact) == 0 && len(shared) == 0 {
		t.Skip("no Keras files in the data directory")
	}
	// Counts of the public data (reference/upstream.md §1).
	if len(weights) != 219 || len(compact) != 219 || len(shared) != 56 {
		t.Errorf("found %d .weights.h5, %d compact .keras and %d shared .keras files, want 219, 219 and 56",
			len(weights), len(compact), len(shared))
	}
	byStem := map[string]map[string][]byte{}
	readAll := func(path string) map[string][]byte {
		f, _ := openHDF5(t, path)
		out := map[string][]byte{}
		for p, ds := range datasets(t, f) {
			raw, err := ds.ReadRaw()
			if err != nil {
				t.Fatalf("%s: %s: %v", path, p, err)
			}
			switch ds.Type().Class {
			case ClassFloat:
				if _, err := ds.ReadFloat32(); err != nil {
					t.Fatalf("%s: %s: %v", path, p, err)
				}
			case ClassFixedPoint:
				if _, err := ds.ReadInt64(); err != nil {
					t.Fatalf("%s: %s: %v", path, p, err)
				}
			default:
				t.Errorf("%s: %s: unexpected type %v", path, p, ds.Type())
			}
			out[p] = raw
		}
		return out
	}
	for _, path := range weights {
		got := readAll(path)
		checkCompactLayout(t, path, got)
		byStem[strings.TrimSuffix(filepath.Base(path), ".weights.h5")] = got
	}
	for _, path := range compact {
		got := readAll(path)
		checkCompactLayout(t, path, got)
		// reference/upstream.md §2.2: the .keras file holds the same numbers as the .weights.h5.
		if want, ok := byStem[strings.TrimSuffix(filepath.Base(path), ".keras")]; ok {
			for p, raw := range want {
				if !bytes.Equal(got[p], raw) {
					t.Errorf("%s: %s differs from the .weights.h5 file", path, p)
				}
			}
		}
	}
	for _, path := range shared {
		got := readAll(path)
		for _, p := range []string{"layers/conv2d/vars/0", "layers/conv2d_1/vars/0", "layers/depthwise_conv2d/vars/0", "layers/separable_conv2d_3/vars/2"} {
			if _, ok := got[p]; !ok {
				t.Errorf("%s: no dataset %s", path, p)
			}
		}
	}
}

// checkCompactLayout checks the datasets of a compact model weight file (reference/upstream.md §2.2).
func checkCompactLayout(t *testing.T, path string, got map[string][]byte) {
	t.Helper()
	want := []string{"layers/conv2d/vars/0", "layers/conv2d/vars/1", "layers/dense/vars/0", "layers/dense/vars/1",
		"optimizer/vars/0", "optimizer/vars/1"}
	for _, bn := range []string{"", "_1", "_2", "_3", "_4"} {
		for v := range 4 {
			want = append(want, fmt.Sprintf("layers/batch_normalization%s/vars/%d", bn, v))
		}
	}
	for _, sc := range []string{"", "_1", "_2", "_3"} {
		for v := range 3 {
			want = append(want, fmt.Sprintf("layers/separable_conv2d%s/vars/%d", sc, v))
		}
	}
	sort.Strings(want)
	var names []string
	for p := range got {
		names = append(names, p)
	}
	sort.Strings(names)
	if !slices.Equal(names, want) {
		t.Errorf("%s: datasets %q, want %q", path, names, want)
	}
	if len(got["optimizer/vars/0"]) != 8 {
		t.Errorf("%s: optimizer/vars/0 holds %d bytes, want one int64", path, len(got["optimizer/vars/0"]))
	}
}
