package npy

import (
	"bytes"
	"math"
	"os"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
)

func FuzzRead(f *testing.F) {
	for _, c := range writeCases {
		f.Add(c.write(f))
	}
	f.Add(npyFile(2, dict(">i2", true, "(2, 3)"), make([]byte, 12)))
	f.Add(npyFile(3, dict("|b1", false, "(3,)"), []byte{0, 1, 2}))
	f.Add(npyFile(1, dict("<u8", false, "(1,)"), make([]byte, 8)))
	f.Add(npyFile(1, dict("<f4", true, "(2, 2, 2)"), make([]byte, 32)))
	fuzzbound.Fuzz(f, checkRead)
}

// checkRead reads an .npy file and checks what Read returns.
func checkRead(t *testing.T, data []byte) {
	a, err := Read(bytes.NewReader(data))
	if err != nil {
		return
	}
	n := 1
	for _, d := range a.Shape {
		n *= d
	}
	if a.Size() != n || (a.Float64 == nil) == (a.Int64 == nil) {
		t.Fatalf("shape %v but %d values (float %v, int %v)", a.Shape, a.Size(), a.Float64 != nil, a.Int64 != nil)
	}
	if a.Float64 == nil {
		return
	}
	// A float array written back and read again keeps every bit.
	var buf bytes.Buffer
	if err := WriteFloat64(&buf, a.Shape, a.Float64); err != nil {
		t.Fatal(err)
	}
	b, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for k := range a.Float64 {
		if math.Float64bits(a.Float64[k]) != math.Float64bits(b.Float64[k]) {
			t.Fatalf("value %d: %v became %v", k, a.Float64[k], b.Float64[k])
		}
	}
}

func FuzzReadObjectArray(f *testing.F) {
	f.Add(objectFile(2, objectPickle([]elem{f4elem([]int{2}, 1, 2), f4elem([]int{1}, 3)}, nil)))
	f.Add(objectFile(3, objectPickle([]elem{
		{"f8", ">", []int{2}, false, make([]byte, 16)},
		{"i8", "<", []int{1, 2}, true, make([]byte, 16)},
		{"u1", "|", nil, false, []byte{9}},
	}, nil)))
	fuzzbound.Fuzz(f, checkReadObjectArray)
}

// checkReadObjectArray reads a pickled object-array .npy file and checks what ReadObjectArray
// returns.
func checkReadObjectArray(t *testing.T, data []byte) {
	arrs, err := ReadObjectArray(bytes.NewReader(data))
	if err != nil {
		if strings.Contains(err.Error(), "unpickler failed") {
			t.Fatalf("gopickle panicked on a pickle the scan accepted: %v", err)
		}
		return
	}
	for i, a := range arrs {
		n := 1
		for _, d := range a.Shape {
			n *= d
		}
		if a.Size() != n {
			t.Fatalf("element %d: shape %v but %d values", i, a.Shape, a.Size())
		}
	}
}

// TestFuzzChecksRealFiles runs the fuzz targets' checks on real files of the data directory
// (regression cases: as seeds, files of tens to hundreds of kilobytes make the fuzzer crawl).
func TestFuzzChecksRealFiles(t *testing.T) {
	for _, tc := range []struct {
		rel   string
		check func(*testing.T, []byte)
	}{
		{"data_compact_models/nums_filters/compact_model_190923_neuron0.npy", checkRead},
		{"data_V4_responses/responses_repeat_averaged/responses_210305.npy", checkRead},
		{"data_compact_models/model_weights_npy/compact_model_211022_neuron27.npy", checkReadObjectArray},
		{"data_compact_models/model_weights_npy/compact_model_211022_neuron17.npy", checkReadObjectArray},
	} {
		b, err := os.ReadFile(datadirtest.File(t, tc.rel))
		if err != nil {
			t.Fatal(err)
		}
		tc.check(t, b)
	}
}
