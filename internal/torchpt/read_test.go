package torchpt

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"strings"
	"testing"

	"compactv4/internal/npy/safepickle/pickletest"
)

// tensorSpec describes one tensor of a hand-built checkpoint.
type tensorSpec struct {
	name    string
	class   string // storage class, e.g. "DoubleStorage"
	key     string // storage key
	numel   int    // storage elements
	offset  int
	size    []int
	stride  []int
	noHooks bool // write None instead of an empty OrderedDict as backward_hooks
}

// stateDictPickle writes the protocol-2 pickle torch.save writes for a state dict: an
// OrderedDict of _rebuild_tensor_v2 calls on persistent storages, then its _metadata attribute.
func stateDictPickle(specs []tensorSpec) []byte {
	w := &pickletest.Writer{}
	w.Proto(2).Global("collections", "OrderedDict").Put(0).Tuple(0).Reduce().Put(1).Mark()
	for _, s := range specs {
		w.Str(s.name).Global("torch._utils", "_rebuild_tensor_v2").Mark().
			Mark().Str("storage").Global("torch", s.class).Str(s.key).Str("cpu").Int(int64(s.numel)).Tuple(-1).BinPersID().
			Int(int64(s.offset)).IntTuple(s.size...).IntTuple(s.stride...).Bool(false)
		if s.noHooks {
			w.None()
		} else {
			w.Get(0).Tuple(0).Reduce()
		}
		w.Tuple(-1).Reduce()
	}
	w.SetItems()
	// state dict metadata, as torch writes it: BUILD with {'_metadata': OrderedDict(...)}
	w.EmptyDict().Str("_metadata").Get(0).Tuple(0).Reduce().Mark().Str("").EmptyDict().Str("version").Int(1).SetItem().SetItems().SetItem().Build()
	return w.Stop().Bytes()
}

// ptZip writes a checkpoint zip with entries in the given order (stored, as torch writes them).
func ptZip(t testing.TB, entries ...string) func(contents ...[]byte) []byte {
	return func(contents ...[]byte) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		for i, name := range entries {
			w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
			if err != nil {
				t.Fatal(err)
			}
			w.Write(contents[i])
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
}

func f64bytes(order binary.ByteOrder, v ...float64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		order.PutUint64(b[8*i:], math.Float64bits(x))
	}
	return b
}

func f32bytes(v ...float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func i64bytes(v ...int64) []byte {
	b := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(x))
	}
	return b
}

func read(data []byte) (StateDict, error) {
	return ReadStateDict(bytes.NewReader(data), int64(len(data)))
}

// synthetic is a small checkpoint exercising views: a transposed (2,3) view of a 6-element
// storage, two views with offsets into one storage, a float32 tensor, an int64 scalar, an empty
// tensor, and a stride-0 view that repeats storage elements without exceeding their number.
func synthetic(t testing.TB, order binary.ByteOrder) []byte {
	specs := []tensorSpec{
		{name: "w", class: "DoubleStorage", key: "0", numel: 6, size: []int{2, 3}, stride: []int{1, 2}},
		{name: "head", class: "DoubleStorage", key: "1", numel: 5, offset: 0, size: []int{2}, stride: []int{1}},
		{name: "tail", class: "DoubleStorage", key: "1", numel: 5, offset: 2, size: []int{3}, stride: []int{1}},
		{name: "f", class: "FloatStorage", key: "2", numel: 2, size: []int{2}, stride: []int{1}},
		{name: "n", class: "LongStorage", key: "3", numel: 1, size: []int{}, stride: []int{}},
		{name: "empty", class: "DoubleStorage", key: "4", numel: 0, size: []int{0, 3}, stride: []int{3, 1}},
		{name: "rep", class: "DoubleStorage", key: "5", numel: 2, size: []int{1, 2}, stride: []int{0, 1}},
	}
	pkl := stateDictPickle(specs)
	bo := []byte("little")
	if order == binary.BigEndian {
		bo = []byte("big")
	}
	f32 := f32bytes(1.5, -0.25)
	i64 := i64bytes(7)
	if order == binary.BigEndian {
		binary.BigEndian.PutUint32(f32, math.Float32bits(1.5))
		binary.BigEndian.PutUint32(f32[4:], math.Float32bits(-0.25))
		binary.BigEndian.PutUint64(i64, 7)
	}
	return ptZip(t, "m/data.pkl", "m/byteorder", "m/data/0", "m/data/1", "m/data/2", "m/data/3", "m/data/4", "m/data/5", "m/version")(
		pkl, bo, f64bytes(order, 1, 2, 3, 4, 5, 6), f64bytes(order, 10, 11, 12, 13, 14), f32, i64, nil, f64bytes(order, 8, 9), []byte("3\n"))
}

func TestReadStateDictSynthetic(t *testing.T) {
	for _, order := range []binary.ByteOrder{binary.LittleEndian, binary.BigEndian} {
		sd, err := read(synthetic(t, order))
		if err != nil {
			t.Fatalf("%v: %v", order, err)
		}
		if got := strings.Join(sd.Keys, ","); got != "w,head,tail,f,n,empty,rep" {
			t.Errorf("keys %s", got)
		}
		want := map[string]string{
			"w":     "[2 3] float64 [1 3 5 2 4 6] []", // storage (3,2) row-major, viewed transposed
			"head":  "[2] float64 [10 11] []",
			"tail":  "[3] float64 [12 13 14] []",
			"f":     "[2] float32 [1.5 -0.25] []",
			"n":     "[] int64 [] [7]",
			"empty": "[0 3] float64 [] []",
			"rep":   "[1 2] float64 [8 9] []",
		}
		for name, w := range want {
			tt := sd.Tensors[name]
			if got := fmt.Sprint(tt.Shape, " ", tt.Dtype, " ", tt.Float, " ", tt.Int); got != w {
				t.Errorf("%v %s: got %s, want %s", order, name, got, w)
			}
		}
	}
}

func TestReadStateDictErrors(t *testing.T) {
	one := func(spec tensorSpec, storage []byte) []byte {
		return ptZip(t, "a/data.pkl", "a/data/0")(stateDictPickle([]tensorSpec{spec}), storage)
	}
	vec := tensorSpec{name: "x", class: "DoubleStorage", key: "0", numel: 3, size: []int{3}, stride: []int{1}}
	with := func(edit func(*tensorSpec)) tensorSpec { s := vec; edit(&s); return s }
	three := f64bytes(binary.LittleEndian, 1, 2, 3)
	pickleWith := func(body func(w *pickletest.Writer)) []byte {
		w := &pickletest.Writer{}
		w.Proto(2)
		body(w)
		return ptZip(t, "a/data.pkl")(w.Stop().Bytes())
	}
	tests := []struct {
		name string
		file []byte
		want string
	}{
		{"not a zip", []byte("not a zip at all"), "not a zip checkpoint"},
		{"legacy format", append([]byte{0x80, 2, 0x8a, 0x0a}, make([]byte, 64)...), "not a zip checkpoint"},
		{"no data.pkl", ptZip(t, "a/other")(nil), "found 0"},
		{"two data.pkl", ptZip(t, "a/data.pkl", "b/data.pkl")(nil, nil), "found 2"},
		{"nested data.pkl", ptZip(t, "a/b/data.pkl")(nil), "found 0"},
		{"duplicate entry", ptZip(t, "a/data.pkl", "a/data.pkl")(nil, nil), "appears twice"},
		{"bad byteorder", ptZip(t, "a/data.pkl", "a/byteorder")(stateDictPickle(nil), []byte("middle")), `byteorder "middle"`},
		{"missing storage", ptZip(t, "a/data.pkl")(stateDictPickle([]tensorSpec{vec})), "no zip entry a/data/0"},
		{"storage too short", one(vec, three[:16]), "need 24 bytes, entry holds 16"},
		{"negative numel", one(with(func(s *tensorSpec) { s.numel = -1 }), three), "numel is not a non-negative int"},
		{"huge numel", one(with(func(s *tensorSpec) { s.numel = 1 << 62 }), three), "numel 4611686018427387904 overflows"},
		{"unknown storage class", one(with(func(s *tensorSpec) { s.class = "HalfStorage" }), three), "global torch.HalfStorage is not allowed"},
		{"offset past storage", one(with(func(s *tensorSpec) { s.offset = 1 }), three), "run past storage 0"},
		{"stride past storage", one(with(func(s *tensorSpec) { s.size = []int{2}; s.stride = []int{3} }), three), "run past storage 0"},
		{"huge stride", one(with(func(s *tensorSpec) { s.size = []int{2}; s.stride = []int{1 << 62} }), three), "run past storage 0"},
		{"huge offset", one(with(func(s *tensorSpec) { s.offset = 1<<63 - 1 }), three), "run past storage 0"},
		{"more elements than storage", one(with(func(s *tensorSpec) { s.size = []int{4, 1000}; s.stride = []int{0, 0} }), three), "more elements than storage 0"},
		{"size/stride lengths", one(with(func(s *tensorSpec) { s.stride = []int{1, 1} }), three), "differ in length"},
		{"negative size", one(with(func(s *tensorSpec) { s.size = []int{-3} }), three), "size[0] is not a non-negative int"},
		{"hooks not an OrderedDict", one(with(func(s *tensorSpec) { s.noHooks = true }), three), "backward_hooks must be an empty OrderedDict"},
		{"storage reused as another type", ptZip(t, "a/data.pkl", "a/data/0")(stateDictPickle([]tensorSpec{vec,
			with(func(s *tensorSpec) { s.name = "y"; s.class = "LongStorage" })}), three), "used as float64[3] and int64[3]"},
		{"disallowed global", pickleWith(func(w *pickletest.Writer) { w.Global("torch._utils", "_rebuild_parameter") }), "global torch._utils._rebuild_parameter is not allowed"},
		{"not a dict", pickleWith(func(w *pickletest.Writer) { w.EmptyList() }), "holds a *types.List, not a state dict"},
		{"value not a tensor", pickleWith(func(w *pickletest.Writer) { w.EmptyDict().Str("x").Int(1).SetItem() }), `entry "x" is a int`},
		{"key not a str", pickleWith(func(w *pickletest.Writer) { w.EmptyDict().Int(1).Int(1).SetItem() }), "key of type int"},
		{"persistent id not a tuple", pickleWith(func(w *pickletest.Writer) { w.Str("x").BinPersID() }), "want a 5-tuple"},
		{"persistent id of another kind", pickleWith(func(w *pickletest.Writer) {
			w.Mark().Str("module").Global("torch", "DoubleStorage").Str("0").Str("cpu").Int(1).Tuple(-1).BinPersID()
		}), `kind string "module"`},
		{"storage class not a class", pickleWith(func(w *pickletest.Writer) {
			w.Mark().Str("storage").Str("torch.DoubleStorage").Str("0").Str("cpu").Int(1).Tuple(-1).BinPersID()
		}), "storage type is a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := read(tt.file)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrFormat) {
				t.Errorf("error %v does not wrap ErrFormat", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

// TestReadEntryLimits checks the zip-level bounds with entries whose headers lie.
func TestReadEntryLimits(t *testing.T) {
	raw := func(method uint16, compressed []byte, size uint64) []byte {
		var buf bytes.Buffer
		zw := zip.NewWriter(&buf)
		w, err := zw.CreateRaw(&zip.FileHeader{Name: "a/data.pkl", Method: method, CRC32: crc32.ChecksumIEEE(compressed),
			CompressedSize64: uint64(len(compressed)), UncompressedSize64: size})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(compressed)
		zw.Close()
		return buf.Bytes()
	}
	for _, tt := range []struct {
		name string
		file []byte
		want string
	}{
		{"deflate bomb claim", raw(zip.Deflate, []byte{3, 0}, 1<<24), "claims 16777216 bytes from 2 compressed"},
		{"over the pickle limit", raw(zip.Deflate, make([]byte, 10), MaxPickleLen+1), "more than the 67108864 expected"},
		{"stored size mismatch", raw(zip.Store, make([]byte, 10), 20), "compressed size 10 != size 20"},
	} {
		_, err := read(tt.file)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestCorruptions checks that every truncation and every single-byte corruption of a small
// checkpoint is handled without a panic, and every truncation is an error.
func TestCorruptions(t *testing.T) {
	file := synthetic(t, binary.LittleEndian)
	for n := range len(file) {
		if _, err := read(file[:n]); err == nil {
			t.Fatalf("prefix of %d of %d bytes read without error", n, len(file))
		}
	}
	c := append([]byte{}, file...)
	for i := range c {
		for _, x := range []byte{0xff, 0x01} {
			c[i] ^= x
			read(c)
			c[i] ^= x
		}
	}
}
