package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"testing"
)

// npyFile builds a .npy file by hand: magic, version major.0, header length, the header text
// followed by a newline, and data.
func npyFile(major byte, header string, data []byte) []byte {
	h := header + "\n"
	b := append([]byte(Magic), major, 0)
	if major == 1 {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(h)))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(h)))
	}
	return append(append(b, h...), data...)
}

func dict(descr string, fortran bool, shape string) string {
	f := "False"
	if fortran {
		f = "True"
	}
	return fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, f, shape)
}

// encode writes values (given in C order) as items of dt, in Fortran order when fortran is set.
// The Fortran offset of each element is computed by division, independently of fortranToC.
func encode(dt Dtype, shape []int, values []float64, fortran bool) []byte {
	n := len(values)
	order := binary.ByteOrder(binary.LittleEndian)
	if dt.Order == '>' {
		order = binary.BigEndian
	}
	raw := make([]byte, n*dt.Size)
	for c, v := range values {
		pos := c
		if fortran {
			// multi-index of C position c, then its column-major offset
			rem, f, stride := c, 0, 1
			idx := make([]int, len(shape))
			for k := len(shape) - 1; k >= 0; k-- {
				idx[k] = rem % shape[k]
				rem /= shape[k]
			}
			for k := range shape {
				f += idx[k] * stride
				stride *= shape[k]
			}
			pos = f
		}
		b := raw[pos*dt.Size:]
		switch {
		case dt.Kind == 'f' && dt.Size == 4:
			order.PutUint32(b, math.Float32bits(float32(v)))
		case dt.Kind == 'f':
			order.PutUint64(b, math.Float64bits(v))
		case dt.Size == 1:
			b[0] = byte(int64(v))
		case dt.Size == 2:
			order.PutUint16(b, uint16(int64(v)))
		case dt.Size == 4:
			order.PutUint32(b, uint32(int64(v)))
		default:
			order.PutUint64(b, uint64(int64(v)))
		}
	}
	return raw
}

// testValues returns n values representable in dt, with negatives for signed kinds.
func testValues(dt Dtype, n int) []float64 {
	v := make([]float64, n)
	for k := range v {
		switch dt.Kind {
		case 'f':
			v[k] = float64(k)*1.25 - 3.5
		case 'i':
			v[k] = float64(k*7%200 - 100)
		case 'u':
			v[k] = float64(k * 13 % 256)
		case 'b':
			v[k] = float64(k % 2)
		}
	}
	return v
}

func TestReadDtypesOrdersVersions(t *testing.T) {
	dtypes := []string{"<f8", ">f8", "<f4", ">f4", "<i8", ">i8", "<i4", ">i2", "|i1", "|u1", "<u2", ">u4", "<u8", "|b1"}
	shapes := []struct {
		repr  string
		shape []int
	}{{"()", nil}, {"(0,)", []int{0}}, {"(7,)", []int{7}}, {"(2, 3)", []int{2, 3}}, {"(2, 3, 4)", []int{2, 3, 4}}, {"(3, 0, 2)", []int{3, 0, 2}}}
	for _, descr := range dtypes {
		dt, err := ParseDtype(descr)
		if err != nil {
			t.Fatal(err)
		}
		for _, sh := range shapes {
			for _, fortran := range []bool{false, true} {
				for _, major := range []byte{1, 2, 3} {
					name := fmt.Sprintf("%s/%s/fortran=%v/v%d", descr, sh.repr, fortran, major)
					n := 1
					for _, d := range sh.shape {
						n *= d
					}
					want := testValues(dt, n)
					file := npyFile(major, dict(descr, fortran, sh.repr), encode(dt, sh.shape, want, fortran))
					a, err := Read(bytes.NewReader(file))
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					if fmt.Sprint(a.Shape) != fmt.Sprint(sh.shape) && !(len(a.Shape) == 0 && len(sh.shape) == 0) {
						t.Fatalf("%s: shape %v", name, a.Shape)
					}
					if a.Dtype != dt || a.FortranOrder != fortran || a.Size() != n {
						t.Fatalf("%s: dtype %v fortran %v size %d", name, a.Dtype, a.FortranOrder, a.Size())
					}
					for k, w := range want {
						var got float64
						if dt.Kind == 'f' {
							got = a.Float64[k]
						} else {
							got = float64(a.Int64[k])
						}
						if got != w {
							t.Fatalf("%s: item %d = %v, want %v", name, k, got, w)
						}
					}
				}
			}
		}
	}
}

func TestReadSpecialValues(t *testing.T) {
	f8 := []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), math.SmallestNonzeroFloat64, math.MaxFloat64}
	a, err := Read(bytes.NewReader(npyFile(1, dict("<f8", false, "(6,)"), encode(Float64, []int{6}, f8, false))))
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range f8 {
		if math.Float64bits(a.Float64[k]) != math.Float64bits(w) {
			t.Errorf("f8 item %d = %v, want %v", k, a.Float64[k], w)
		}
	}
	i8 := make([]byte, 16)
	binary.LittleEndian.PutUint64(i8, 1<<63)       // math.MinInt64
	binary.LittleEndian.PutUint64(i8[8:], 1<<63-1) // math.MaxInt64
	_, got, err := ReadInt64(bytes.NewReader(npyFile(1, dict("<i8", false, "(2,)"), i8)))
	if err != nil || got[0] != math.MinInt64 || got[1] != math.MaxInt64 {
		t.Errorf("i8 extremes: %v %v", got, err)
	}
	_, got, err = ReadInt64(bytes.NewReader(npyFile(1, dict("|b1", false, "(3,)"), []byte{0, 1, 7})))
	if err != nil || fmt.Sprint(got) != "[0 1 1]" {
		t.Errorf("bool with byte 7 (NumPy reads True): %v %v", got, err)
	}
}

func TestReadHeaderVariants(t *testing.T) {
	data := encode(Float64, []int{2, 2}, []float64{1, 2, 3, 4}, false)
	for _, h := range []string{
		"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }",
		"{'shape': (2, 2), 'fortran_order': False, 'descr': '<f8'}", // any key order
		`{"descr": "<f8", "fortran_order": False, "shape": (2,2)}`,  // double quotes
		"{'descr':'<f8','fortran_order':False,'shape':(2L, 2L)}",    // Python 2 longs
		"  {  'descr' : '<f8' ,\n 'fortran_order' : False , 'shape' : ( 2 , 2 , ) ,  }   \t",
	} {
		a, err := Read(bytes.NewReader(npyFile(1, h, data)))
		if err != nil {
			t.Errorf("%q: %v", h, err)
			continue
		}
		if fmt.Sprint(a.Shape, a.Float64) != "[2 2] [1 2 3 4]" {
			t.Errorf("%q: got %v %v", h, a.Shape, a.Float64)
		}
	}
	// No trailing newline at all (npyio panics on this).
	h := "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"
	b := append([]byte(Magic), 1, 0, byte(len(h)), 0)
	b = append(b, h...)
	b = append(b, make([]byte, 8)...)
	if _, err := Read(bytes.NewReader(b)); err != nil {
		t.Errorf("header without newline: %v", err)
	}
}

func TestReadErrors(t *testing.T) {
	good := npyFile(1, dict("<f8", false, "(2, 3)"), make([]byte, 48))
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"empty", nil, "read magic: unexpected EOF"},
		{"short magic", []byte("\x93NUM"), "read magic: unexpected EOF"},
		{"bad magic", append([]byte("PK\x03\x04"), good[4:]...), "bad magic"},
		{"version 4.0", append(append([]byte(Magic), 4, 0), good[8:]...), "unsupported format version 4.0"},
		{"version 1.1", append(append([]byte(Magic), 1, 1), good[8:]...), "unsupported format version 1.1"},
		{"no header length", []byte(Magic + "\x01\x00\x10"), "read header length: unexpected EOF"},
		{"header truncated", good[:40], "read header of 60 bytes: unexpected EOF: want 60 bytes, got 30"},
		{"v2 header too long", append([]byte(Magic), 2, 0, 0, 0, 0, 1), "header length 16777216 exceeds"},
		{"not a dict", npyFile(1, "['descr']", nil), "is not a dict"},
		{"missing key", npyFile(1, "{'descr': '<f8', 'shape': (2,)}", nil), "lacks one of the keys"},
		{"extra key", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), 'x': 1}", nil), `unexpected header key "x"`},
		{"repeated key", npyFile(1, "{'descr': '<f8', 'descr': '<f8', 'fortran_order': False, 'shape': (2,)}", nil), `key "descr" repeated`},
		{"unquoted key", npyFile(1, "{descr: '<f8'}", nil), "expected a quoted string"},
		{"missing colon", npyFile(1, "{'descr' '<f8'}", nil), "missing ':'"},
		{"unterminated string", npyFile(1, "{'descr': '<f8", nil), "unterminated string"},
		{"escape", npyFile(1, `{'descr': '<f\8', 'fortran_order': False, 'shape': (2,)}`, nil), "escape sequences"},
		{"bad fortran_order", npyFile(1, "{'descr': '<f8', 'fortran_order': 0, 'shape': (2,)}", nil), "not True or False"},
		{"text after dict", npyFile(1, dict("<f8", false, "(2,)")+" x", nil), "unexpected text after the dict"},
		{"unclosed dict", npyFile(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,) x", nil), "expected ',' or '}'"},
		{"negative dim", npyFile(1, dict("<f8", false, "(2, -3)"), nil), "negative dimension -3"},
		{"float dim", npyFile(1, dict("<f8", false, "(2.5,)"), nil), "expected ',' or ')'"},
		{"empty dim", npyFile(1, dict("<f8", false, "(,)"), nil), `bad dimension ""`},
		{"dim overflows int", npyFile(1, dict("<f8", false, "(99999999999999999999,)"), nil), "bad dimension"},
		{"shape not a tuple", npyFile(1, dict("<f8", false, "[2]"), nil), "expected a tuple"},
		{"shape (5) is an int", npyFile(1, dict("<f8", false, "(5)"), nil), "one-element tuple without a trailing comma"},
		{"too many dims", npyFile(1, dict("<f8", false, "("+strings.Repeat("1, ", 65)+")"), nil), "more than 64 dimensions"},
		{"bytes overflow", npyFile(1, dict("<f8", false, "(4294967296, 4294967296)"), nil), "exceeds 9223372036854775807 bytes"},
		{"structured dtype", npyFile(1, "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (2,)}", nil), "structured dtypes are not supported"},
		{"complex", npyFile(1, dict("<c16", false, "(2,)"), nil), `unsupported dtype "<c16"`},
		{"half", npyFile(1, dict("<f2", false, "(2,)"), nil), `unsupported dtype "<f2"`},
		{"string", npyFile(1, dict("|S10", false, "(2,)"), nil), `unsupported dtype "|S10"`},
		{"datetime", npyFile(1, dict("<M8[ns]", false, "(2,)"), nil), `unsupported dtype "<M8[ns]"`},
		{"order | on f8", npyFile(1, dict("|f8", false, "(2,)"), nil), "byte order '|' for a 8-byte type"},
		{"object array", npyFile(1, dict("|O", false, "(2,)"), nil), "use ReadObjectArray"},
		{"truncated data", good[:len(good)-8], "want 48 bytes, got 40"},
		{"no data", good[:70], "want 48 bytes, got 0"},
		{"u8 over int64", npyFile(1, dict("<u8", false, "(1,)"), bytes.Repeat([]byte{0xff}, 8)), "does not fit in int64"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read(bytes.NewReader(tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			truncated := errors.Is(err, io.ErrUnexpectedEOF)
			if !truncated && !errors.Is(err, ErrFormat) {
				t.Errorf("error %v wraps neither ErrFormat nor io.ErrUnexpectedEOF", err)
			}
		})
	}
}

// TestHugeShapeSmallAlloc checks that a header claiming terabytes costs no more memory than the
// data that is actually there.
func TestHugeShapeSmallAlloc(t *testing.T) {
	file := npyFile(1, dict("<f8", false, "(1000000000000,)"), make([]byte, 4096))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Read(bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "want 8000000000000 bytes, got 4096") {
		t.Fatalf("err = %v", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("allocated %d bytes for 4 KiB of data", alloc)
	}
}

func TestTypedReaders(t *testing.T) {
	f4 := npyFile(1, dict(">f4", false, "(2,)"), encode(Dtype{'>', 'f', 4}, []int{2}, []float64{1.5, -2}, false))
	f8 := npyFile(1, dict("<f8", false, "(2,)"), encode(Float64, []int{2}, []float64{1.5, -2}, false))
	i8 := npyFile(1, dict("<i8", false, "(2,)"), encode(Int64, []int{2}, []float64{3, -4}, false))
	big := npyFile(1, dict("<i8", false, "(1,)"), encode(Int64, []int{1}, []float64{1<<53 + 2}, false))

	if s, d, err := ReadFloat32(bytes.NewReader(f4)); err != nil || fmt.Sprint(s, d) != "[2] [1.5 -2]" {
		t.Errorf("ReadFloat32(>f4) = %v %v %v", s, d, err)
	}
	if _, _, err := ReadFloat32(bytes.NewReader(f8)); err == nil || !strings.Contains(err.Error(), "not float32") {
		t.Errorf("ReadFloat32(<f8) err = %v", err)
	}
	if s, d, err := ReadFloat64(bytes.NewReader(f4)); err != nil || fmt.Sprint(s, d) != "[2] [1.5 -2]" {
		t.Errorf("ReadFloat64(>f4) = %v %v %v", s, d, err)
	}
	if s, d, err := ReadFloat64(bytes.NewReader(i8)); err != nil || fmt.Sprint(s, d) != "[2] [3 -4]" {
		t.Errorf("ReadFloat64(<i8) = %v %v %v", s, d, err)
	}
	if _, _, err := ReadFloat64(bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "not exactly a float64") {
		t.Errorf("ReadFloat64(2^53+2) err = %v", err)
	}
	if s, d, err := ReadInt64(bytes.NewReader(i8)); err != nil || fmt.Sprint(s, d) != "[2] [3 -4]" {
		t.Errorf("ReadInt64(<i8) = %v %v %v", s, d, err)
	}
	if _, _, err := ReadInt64(bytes.NewReader(f8)); err == nil || !strings.Contains(err.Error(), "not an integer type") {
		t.Errorf("ReadInt64(<f8) err = %v", err)
	}
}

// TestReadLeavesTrailingData checks that Read consumes exactly the array, as NumPy does.
func TestReadLeavesTrailingData(t *testing.T) {
	r := bytes.NewReader(append(npyFile(1, dict("|u1", false, "(2,)"), []byte{1, 2}), "rest"...))
	if _, err := Read(r); err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if string(rest) != "rest" {
		t.Errorf("left %q", rest)
	}
}

func TestParseDtype(t *testing.T) {
	for _, tt := range []struct {
		in, want string
	}{
		{"<f8", "<f8"}, {">f4", ">f4"}, {"=f8", "=f8"}, {"f8", "=f8"}, {"<u1", "|u1"}, {"i1", "|i1"}, {"|b1", "|b1"}, {">i2", ">i2"},
	} {
		d, err := ParseDtype(tt.in)
		if err != nil || d.String() != tt.want {
			t.Errorf("ParseDtype(%q) = %v, %v; want %s", tt.in, d, err, tt.want)
		}
	}
	for _, bad := range []string{"", "<", "<f", "<f16", "<f2", "<i3", "<b2", "<c8", "<U5", "|O", "<f-8", "<f08x", "<M8[ns]"} {
		if d, err := ParseDtype(bad); err == nil {
			t.Errorf("ParseDtype(%q) = %v, want an error", bad, d)
		}
	}
}
