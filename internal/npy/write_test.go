package npy

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// writeCase is an array the writer tests write. values(k) gives element k in C order.
type writeCase struct {
	name  string
	shape []int
	f32   bool
}

var writeCases = []writeCase{
	{"f8_scalar", nil, false},
	{"f8_empty", []int{0}, false},
	{"f8_5", []int{5}, false},
	{"f8_2x3", []int{2, 3}, false},
	{"f8_0x4", []int{0, 4}, false},
	{"f8_1000000x0", []int{1000000, 0}, false}, // a 7-digit first dimension shortens the growth padding
	{"f8_2x3x4x5", []int{2, 3, 4, 5}, false},
	{"f4_3x2", []int{3, 2}, true},
	{"f4_scalar", nil, true},
}

// caseValue is the value of element k; NumPy computes the same in the Python test.
func caseValue(k int) float64 { return float64(k)*0.37 - 5 }

func (c writeCase) size() int {
	n := 1
	for _, d := range c.shape {
		n *= d
	}
	return n
}

func (c writeCase) write(t testing.TB) []byte {
	var buf bytes.Buffer
	n := c.size()
	var err error
	if c.f32 {
		data := make([]float32, n)
		for k := range data {
			data[k] = float32(caseValue(k))
		}
		err = WriteFloat32(&buf, c.shape, data)
	} else {
		data := make([]float64, n)
		for k := range data {
			data[k] = caseValue(k)
		}
		err = WriteFloat64(&buf, c.shape, data)
	}
	if err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
	return buf.Bytes()
}

// TestWriteGolden compares the writer's bytes with testdata/golden/*.npy, which the Python test
// (TestNumPyCompatibility) shows to be np.save's bytes. go test -update rewrites them.
func TestWriteGolden(t *testing.T) {
	for _, c := range writeCases {
		got := c.write(t)
		path := filepath.Join("testdata", "golden", c.name+".npy")
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: written bytes differ from %s", c.name, path)
		}
	}
}

func TestWriteHeaderLayout(t *testing.T) {
	for _, c := range writeCases {
		b := c.write(t)
		h, err := ReadHeader(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if h.Major != 1 || h.Len%64 != 0 || b[h.Len-1] != '\n' {
			t.Errorf("%s: version %d, header of %d bytes ending in %q", c.name, h.Major, h.Len, b[h.Len-1])
		}
		itemSize := 8
		if c.f32 {
			itemSize = 4
		}
		if len(b) != h.Len+itemSize*c.size() {
			t.Errorf("%s: %d bytes, want %d", c.name, len(b), h.Len+itemSize*c.size())
		}
	}
	// A header exactly at a multiple of 64 gets 64 more spaces, as NumPy pads.
	for ndim := 1; ndim <= MaxDims; ndim++ {
		shape := make([]int, ndim)
		for i := range shape {
			shape[i] = 1
		}
		h := header(Float64, shape)
		dictLen := strings.IndexByte(string(h), '}') + 1
		if len(h)%64 != 0 || len(h)-1-dictLen < 1 {
			t.Fatalf("ndim %d: header of %d bytes, %d spaces", ndim, len(h), len(h)-1-dictLen)
		}
	}
}

func TestWriteRoundTrip(t *testing.T) {
	special := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 5e-324, math.MaxFloat64, 1, 2, 3, 4, 5, 6}
	for _, shape := range [][]int{{12}, {3, 4}, {2, 3, 2}, {1, 1, 12}} {
		var buf bytes.Buffer
		if err := WriteFloat64(&buf, shape, special); err != nil {
			t.Fatal(err)
		}
		a, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for k := range special {
			if math.Float64bits(a.Float64[k]) != math.Float64bits(special[k]) {
				t.Errorf("shape %v item %d = %v, want %v", shape, k, a.Float64[k], special[k])
			}
		}
		f32 := make([]float32, len(special))
		for k, v := range special {
			f32[k] = float32(v)
		}
		buf.Reset()
		if err := WriteFloat32(&buf, shape, f32); err != nil {
			t.Fatal(err)
		}
		s, got, err := ReadFloat32(&buf)
		if err != nil || len(s) != len(shape) {
			t.Fatal(s, err)
		}
		for k := range f32 {
			if math.Float32bits(got[k]) != math.Float32bits(f32[k]) {
				t.Errorf("float32 shape %v item %d = %v, want %v", shape, k, got[k], f32[k])
			}
		}
	}
}

func TestWriteErrors(t *testing.T) {
	for _, tt := range []struct {
		shape []int
		n     int
		want  string
	}{
		{[]int{2, 3}, 5, "holds 6 values, got 5"},
		{[]int{-1}, 0, "negative dimension"},
		{nil, 0, "holds 1 values, got 0"},
		{[]int{1 << 40, 1 << 40}, 0, "overflows"},
		{make([]int, 65), 0, "65 dimensions"},
	} {
		var buf bytes.Buffer
		err := WriteFloat64(&buf, tt.shape, make([]float64, tt.n))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("shape %v with %d values: err = %v, want %q", tt.shape, tt.n, err, tt.want)
		}
		err = WriteFloat32(&buf, tt.shape, make([]float32, tt.n))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("float32 shape %v with %d values: err = %v, want %q", tt.shape, tt.n, err, tt.want)
		}
	}
}

type failWriter struct{}

func (failWriter) Write(p []byte) (int, error) { return 0, os.ErrClosed }

func TestWriteReportsWriterError(t *testing.T) {
	if err := WriteFloat64(failWriter{}, []int{1}, []float64{1}); err == nil {
		t.Error("no error from a failing writer")
	}
}
