package npy

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"compactv4/internal/npy/safepickle/pickletest"
)

// elem is one element of a hand-built object array: a numeric array as numpy pickles it.
type elem struct {
	typ     string // numpy.dtype argument, e.g. "f4"
	order   string // byte order of the dtype state
	shape   []int
	fortran bool
	raw     []byte
}

func f4elem(shape []int, values ...float64) elem {
	return elem{"f4", "<", shape, false, encode(Float32, shape, values, false)}
}

// objectPickle writes a protocol-3 pickle of an object array of elems with the opcodes np.save
// uses for it (NumPy additionally memoizes most objects and shares the element dtype through the
// memo; TestNumPyCompatibility reads NumPy's own files). edit, if non-nil, is called after each
// element is written, to corrupt the stream.
func objectPickle(elems []elem, edit func(i int, w *pickletest.Writer)) []byte {
	w := &pickletest.Writer{}
	w.Proto(3).Global("numpy.core.multiarray", "_reconstruct").Put(0).Global("numpy", "ndarray").Put(1).
		Int(0).Tuple(1).Put(2).Bin([]byte("b")).Put(3).Tuple(3).Reduce().Put(5).
		Mark().Int(1).IntTuple(len(elems)).Global("numpy", "dtype").Put(7).Str("O8").Bool(false).Bool(true).Tuple(3).Reduce().
		Mark().Int(3).Str("|").None().None().None().Int(-1).Int(-1).Int(63).Tuple(-1).Build().
		Bool(false).EmptyList().Mark()
	for i, e := range elems {
		w.Get(0).Get(1).Int(0).Tuple(1).Get(3).Tuple(3).Reduce().
			Mark().Int(1).IntTuple(e.shape...).Get(7).Str(e.typ).Bool(false).Bool(true).Tuple(3).Reduce().
			Mark().Int(3).Str(e.order).None().None().None().Int(-1).Int(-1).Int(0).Tuple(-1).Build().
			Bool(e.fortran).Bin(e.raw).Tuple(-1).Build()
		if edit != nil {
			edit(i, w)
		}
	}
	return w.Appends().Tuple(-1).Build().Stop().Bytes()
}

func objectFile(n int, pickle []byte) []byte {
	return npyFile(1, dict("|O", false, fmt.Sprintf("(%d,)", n)), pickle)
}

func TestReadObjectArray(t *testing.T) {
	col := []float64{1, 2, 3, 4, 5, 6} // C order of a (2,3) array
	elems := []elem{
		f4elem([]int{5, 5, 3, 2}, testValues(Float32, 150)...),
		f4elem([]int{2}, 0.5, -0.25),
		{"f4", ">", []int{3}, false, encode(Dtype{'>', 'f', 4}, []int{3}, []float64{1, -2, 3}, false)},
		{"f8", "<", []int{2}, false, encode(Float64, []int{2}, []float64{math.Pi, -1e300}, false)},
		{"i8", "<", []int{2}, false, encode(Int64, []int{2}, []float64{-5, 1 << 40}, false)},
		{"u1", "|", []int{2}, false, []byte{7, 255}},
		{"f4", "<", []int{2, 3}, true, encode(Float32, []int{2, 3}, col, true)},
		f4elem(nil, 42),     // 0-d
		f4elem([]int{0, 3}), // empty
	}
	arrs, err := ReadObjectArray(bytes.NewReader(objectFile(len(elems), objectPickle(elems, nil))))
	if err != nil {
		t.Fatal(err)
	}
	if len(arrs) != len(elems) {
		t.Fatalf("%d arrays, want %d", len(arrs), len(elems))
	}
	want := []string{
		fmt.Sprint([]int{5, 5, 3, 2}, testValues(Float32, 150)),
		"[2] [0.5 -0.25]", "[3] [1 -2 3]", fmt.Sprint([]int{2}, []float64{math.Pi, -1e300}),
		"[2] [-5 1099511627776]", "[2] [7 255]", "[2 3] [1 2 3 4 5 6]", "[] [42]", "[0 3] []",
	}
	for i, a := range arrs {
		vals := fmt.Sprint(a.Float64)
		if a.Float64 == nil {
			vals = fmt.Sprint(a.Int64)
		}
		if got := fmt.Sprint(a.Shape) + " " + vals; got != want[i] {
			t.Errorf("element %d (%s): got %s, want %s", i, a.Dtype, got, want[i])
		}
	}
	if arrs[2].Dtype.String() != ">f4" || arrs[5].Dtype.String() != "|u1" || !arrs[6].FortranOrder {
		t.Errorf("dtypes %v %v, fortran %v", arrs[2].Dtype, arrs[5].Dtype, arrs[6].FortranOrder)
	}

	ts, err := ReadTensors(bytes.NewReader(objectFile(2, objectPickle(elems[:2], nil))))
	if err != nil || len(ts) != 2 || fmt.Sprint(ts[1].Shape, ts[1].Data) != "[2] [0.5 -0.25]" {
		t.Errorf("ReadTensors = %v, %v", ts, err)
	}
	if _, err := ReadTensors(bytes.NewReader(objectFile(4, objectPickle(elems[:4], nil)))); err == nil ||
		!strings.Contains(err.Error(), "element 3 has dtype <f8, want float32") {
		t.Errorf("ReadTensors with an f8 element: err = %v", err)
	}
}

func TestReadObjectArrayErrors(t *testing.T) {
	two := []elem{f4elem([]int{2}, 1, 2), f4elem([]int{1}, 3)}
	good := objectPickle(two, nil)
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in the pickle", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	// editLast replaces the state of the last element by a BUILD with the given state.
	extraBuild := func(state func(w *pickletest.Writer)) []byte {
		return objectPickle(two, func(i int, w *pickletest.Writer) {
			if i == 1 {
				state(w)
				w.Build()
			}
		})
	}
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"plain array", npyFile(1, dict("<f4", false, "(1,)"), make([]byte, 4)), `descr "<f4" is not a pickled object array`},
		{"no pickle", objectFile(2, nil), "without a STOP"},
		{"evil global", objectFile(2, replace("numpy.core.multiarray\n_reconstruct", "os\nsystem")), "global os.system is not allowed"},
		{"wrong class", objectFile(2, replace("numpy\nndarray", "numpy\ndtype")), "subtype is npy.dtypeClass"},
		{"header shape differs", objectFile(3, good), "pickled object array has shape [2], header says [3]"},
		{"list shorter than shape", objectFile(3, objectPickle(two, func(i int, w *pickletest.Writer) {
			if i == 0 {
				w.Raw('0') // POP the first element: the list holds 1 item for shape (2,)
			}
		})), "of shape [2] holds 1 objects"},
		{"raw too short", objectFile(2, objectPickle([]elem{f4elem([]int{2}, 1, 2), {"f4", "<", []int{2}, false, make([]byte, 7)}}, nil)), "needs 8 bytes of data, got 7"},
		{"unsupported element dtype", objectFile(2, objectPickle([]elem{f4elem([]int{2}, 1, 2), {"c16", "<", []int{1}, false, make([]byte, 16)}}, nil)), `unsupported dtype "c16"`},
		{"order | on f4", objectFile(2, objectPickle([]elem{f4elem([]int{2}, 1, 2), {"f4", "|", []int{1}, false, make([]byte, 4)}}, nil)), "f4 with byte order '|'"},
		{"bad order", objectFile(2, objectPickle([]elem{f4elem([]int{2}, 1, 2), {"f4", "!", []int{1}, false, make([]byte, 4)}}, nil)), "byte order ! is not one of"},
		{"element is an int", objectFile(2, objectPickle(two, func(i int, w *pickletest.Writer) {
			if i == 1 {
				w.Raw('0').Int(5)
			}
		})), "element 1 is 5, not a numeric numpy array"},
		{"state set twice", objectFile(2, extraBuild(func(w *pickletest.Writer) {
			w.Mark().Int(1).IntTuple(1).Get(7).Bool(false).Bin(make([]byte, 4)).Tuple(-1)
		})), "state set twice"},
		{"structured dtype", objectFile(2, replace("\x87R(K\x03X\x01\x00\x00\x00<NNN", "\x87R(K\x03X\x01\x00\x00\x00<N)N")), "structured or sub-array dtypes"},
		{"dtype state version 2", objectFile(2, replace("\x87R(K\x03X\x01\x00\x00\x00<", "\x87R(K\x02X\x01\x00\x00\x00<")), "state version 2 with 8 fields"},
		{"negative dimension", objectFile(2, replace("(K\x01(K\x01t", "(K\x01(J\xff\xff\xff\xfft")), "dimension 0 is -1"},
		{"ndarray state version 2", objectFile(2, replace("(K\x01(K\x01t", "(K\x02(K\x01t")), "ndarray state version 2"},
		{"shape is not a tuple", objectFile(2, replace("(K\x01(K\x01t", "(K\x01K\x01K\x01")), "state has"},
		{"top is numeric", objectFile(1, (&pickletest.Writer{}).Proto(3).
			Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Tuple(1).Bin([]byte("b")).Tuple(3).Reduce().
			Mark().Int(1).IntTuple(1).Global("numpy", "dtype").Str("f4").Bool(false).Bool(true).Tuple(3).Reduce().
			Mark().Int(3).Str("<").None().None().None().Int(-1).Int(-1).Int(0).Tuple(-1).Build().
			Bool(false).Bin(make([]byte, 4)).Tuple(-1).Build().Stop().Bytes()), "not a numpy object array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadObjectArray(bytes.NewReader(tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
		})
	}
}

// TestReadObjectArrayPrefixes checks that every truncation of a valid file is an error.
func TestReadObjectArrayPrefixes(t *testing.T) {
	file := objectFile(3, objectPickle([]elem{f4elem([]int{2}, 1, 2), f4elem([]int{1}, 3), {"f4", "<", []int{2, 2}, true, make([]byte, 16)}}, nil))
	if _, err := ReadObjectArray(bytes.NewReader(file)); err != nil {
		t.Fatal(err)
	}
	for n := range len(file) {
		if _, err := ReadObjectArray(bytes.NewReader(file[:n])); err == nil {
			t.Fatalf("prefix of %d of %d bytes read without error", n, len(file))
		}
	}
}
