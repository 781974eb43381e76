package torchpt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
)

// The fuzz targets follow the layers of a checkpoint: FuzzReadStateDict the zip and everything
// in it, FuzzStateDictPickle the data.pkl inside a fixed valid zip (mutating a whole checkpoint
// rarely gets past the zip's CRC-32 checks to the unpickler). Their seeds are small: the
// checkpoints of testdata (a few kilobytes, written by torch.save), Go-built ones, and the pickles
// of those. The real checkpoints are regression cases (TestFuzzChecksRealFile), not seeds: the
// fuzzer crawls on inputs of hundreds of kilobytes.

func FuzzReadStateDict(f *testing.F) {
	f.Add(synthetic(f, binary.LittleEndian))
	f.Add(synthetic(f, binary.BigEndian))
	for _, pattern := range []string{"*.pt", filepath.Join("seeds", "*.pt")} {
		for _, b := range fuzzseed.Files(f, filepath.Join("testdata", pattern)) {
			f.Add(b)
		}
	}
	fuzzbound.Fuzz(f, checkStateDict)
}

// checkStateDict reads a checkpoint and checks what ReadStateDict and Compact return.
func checkStateDict(t *testing.T, data []byte) {
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
}

// TestFuzzChecksRealFile runs FuzzReadStateDict's checks on a real checkpoint.
func TestFuzzChecksRealFile(t *testing.T) {
	data, err := os.ReadFile(datadirtest.File(t, "data_compact_models/models_torch/compact_model_211022_neuron27.pt"))
	if err != nil {
		t.Fatal(err)
	}
	checkStateDict(t, data)
}

// TestSeedsRead checks that the torch-written seed is a compact model Compact converts.
func TestSeedsRead(t *testing.T) {
	sd, err := readFixture(t, filepath.Join("seeds", "compact.pt"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compact(sd); err != nil {
		t.Fatal(err)
	}
}

// TestSeedsReproduce checks that testdata/gen_seeds.py writes the committed seed byte for byte.
func TestSeedsReproduce(t *testing.T) {
	fuzzseed.Reproduce(t, "torch", filepath.Join("testdata", "gen_seeds.py"), filepath.Join("testdata", "seeds"))
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
	// The pickles torch.save wrote (their storages beyond storageZip's 0-6 are missing).
	for _, name := range []string{"views.pt", "views_proto4.pt", filepath.Join("seeds", "compact.pt")} {
		f.Add(zipEntry(f, filepath.Join("testdata", name), "data.pkl"))
	}
	fuzzbound.Fuzz(f, func(t *testing.T, pkl []byte) { checkStateDict(t, storageZip(t, pkl)) })
}

// zipEntry returns the content of the entry of the zip file whose name ends in /suffix.
func zipEntry(tb testing.TB, path, suffix string) []byte {
	tb.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		if strings.HasSuffix(zf.Name, "/"+suffix) {
			rc, err := zf.Open()
			if err != nil {
				tb.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				tb.Fatal(err)
			}
			return b
		}
	}
	tb.Fatalf("%s: no entry */%s", path, suffix)
	return nil
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
