package safepickle_test

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nlpodyssey/gopickle/types"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/npy/safepickle"
	"compactv4/internal/npy/safepickle/pickletest"
)

func pk() *pickletest.Writer { return &pickletest.Writer{} }

// callable is a trusted global for the tests: it returns its arguments as a tuple.
type callable struct{}

func (callable) Call(args ...any) (any, error) { return types.NewTupleFromSlice(args), nil }

var testOpts = safepickle.Options{
	Globals: map[safepickle.Global]any{
		safepickle.OrderedDict:      nil,
		{Module: "test", Name: "f"}: callable{},
	},
	PersistentLoad: func(pid any) (any, error) { return "loaded", nil },
}

func TestLoadValid(t *testing.T) {
	tests := []struct {
		name   string
		pickle []byte
		check  func(any) error
	}{
		{"protocol 2 OrderedDict", pk().Proto(2).Global("collections", "OrderedDict").Put(0).Tuple(0).Reduce().
			Mark().Str("a").Int(1).Str("b").Int(-70000).SetItems().Stop().Bytes(),
			func(v any) error {
				d, ok := v.(*types.OrderedDict)
				if !ok || d.Len() != 2 {
					return fmt.Errorf("got %T", v)
				}
				if a, _ := d.Get("a"); a != 1 {
					return fmt.Errorf("a = %v", a)
				}
				if b, _ := d.Get("b"); b != -70000 {
					return fmt.Errorf("b = %v", b)
				}
				return nil
			}},
		{"call of allowed global, memo, DUP, POP", pk().Proto(3).Global("test", "f").Put(7).Get(7).Raw('0').
			Int(300).Raw('2').Bin([]byte("xy")).Tuple(3).Reduce().Stop().Bytes(),
			func(v any) error {
				tu, ok := v.(*types.Tuple)
				if !ok || tu.Len() != 3 || tu.Get(0) != 300 || tu.Get(1) != 300 || string(tu.Get(2).([]byte)) != "xy" {
					return fmt.Errorf("got %#v", v)
				}
				return nil
			}},
		{"persistent id", pk().Proto(2).Str("id").BinPersID().Stop().Bytes(),
			func(v any) error {
				if v != "loaded" {
					return fmt.Errorf("got %v", v)
				}
				return nil
			}},
		{"protocol 4 frame, STACK_GLOBAL, MEMOIZE", framed(pk().ShortStr("test").Raw(0x94).ShortStr("f").Raw(0x94).
			Raw(0x93).Raw(0x94).Tuple(0).Reduce().Stop().Bytes()),
			func(v any) error {
				if tu, ok := v.(*types.Tuple); !ok || tu.Len() != 0 {
					return fmt.Errorf("got %#v", v)
				}
				return nil
			}},
		{"dict and list", pk().Proto(2).Mark().Str("k").EmptyList().Mark().Int(1).Int(2).Appends().Raw('d').Stop().Bytes(),
			func(v any) error {
				d, ok := v.(*types.Dict)
				if !ok || d.Len() != 1 {
					return fmt.Errorf("got %T", v)
				}
				if l, _ := d.Get("k"); l.(*types.List).Len() != 2 {
					return fmt.Errorf("list %v", l)
				}
				return nil
			}},
		{"bytes after STOP ignored", append(pk().Proto(2).None().Stop().Bytes(), "garbage"...),
			func(v any) error {
				if v != nil {
					return fmt.Errorf("got %v", v)
				}
				return nil
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, n, err := safepickle.Load(tt.pickle, testOpts)
			if err != nil {
				t.Fatal(err)
			}
			if n > len(tt.pickle) || tt.pickle[n-1] != '.' {
				t.Errorf("n = %d does not end at STOP", n)
			}
			if err := tt.check(v); err != nil {
				t.Error(err)
			}
		})
	}
}

// framed wraps a protocol-4 body in PROTO 4 and one FRAME.
func framed(body []byte) []byte {
	w := pk().Proto(4).Raw(0x95)
	n := uint64(len(body))
	w.Raw(byte(n), byte(n>>8), byte(n>>16), byte(n>>24), byte(n>>32), byte(n>>40), byte(n>>48), byte(n>>56))
	return append(w.Bytes(), body...)
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name   string
		pickle []byte
		want   string
	}{
		{"empty", nil, "without a STOP"},
		{"no STOP", pk().Proto(2).None().Bytes(), "without a STOP"},
		{"disallowed GLOBAL", pk().Proto(2).Global("os", "system").Stop().Bytes(), "global os.system is not allowed"},
		{"disallowed STACK_GLOBAL", pk().Proto(4).ShortStr("os").ShortStr("system").Raw(0x93).Stop().Bytes(), "global os.system is not allowed"},
		{"STACK_GLOBAL of non-strings", pk().Proto(4).Int(1).ShortStr("f").Raw(0x93).Stop().Bytes(), "must be str"},
		{"gopickle builtin not allowed", pk().Proto(2).Global("builtins", "list").Stop().Bytes(), "global builtins.list is not allowed"},
		{"unterminated GLOBAL", pk().Proto(2).Raw('c').Raw([]byte("test\nf")...).Bytes(), "unterminated line"},
		{"REDUCE of a list", pk().Proto(2).EmptyList().Bin([]byte("x")).Tuple(1).Reduce().Stop().Bytes(), "only allowed globals may be called"},
		{"REDUCE without tuple", pk().Proto(2).Global("test", "f").Int(1).Reduce().Stop().Bytes(), "with a int"},
		{"STOP on empty stack", pk().Proto(2).Stop().Bytes(), "stack is empty"},
		{"TUPLE without MARK", pk().Proto(2).Int(1).Raw('t').Stop().Bytes(), "no MARK"},
		{"TUPLE3 short", pk().Proto(2).Int(1).Int(2).Tuple(3).Stop().Bytes(), "stack is empty"},
		{"odd DICT", pk().Proto(2).Mark().Str("a").Raw('d').Stop().Bytes(), "odd number"},
		{"odd SETITEMS", pk().Proto(2).EmptyDict().Mark().Str("a").SetItems().Stop().Bytes(), "odd number"},
		{"bytes dict key", pk().Proto(3).EmptyDict().Bin([]byte("k")).Int(1).SetItem().Stop().Bytes(), "dict key of type bytes"},
		{"bytes key in OrderedDict", pk().Proto(3).Global("collections", "OrderedDict").Tuple(0).Reduce().
			Mark().Bin([]byte("k")).Int(1).SetItems().Stop().Bytes(), "dict key of type bytes"},
		{"SETITEM short", pk().Proto(2).EmptyDict().Str("a").SetItem().Stop().Bytes(), "needs a dict"},
		{"APPEND to tuple", pk().Proto(2).Tuple(0).Int(1).Raw('a').Stop().Bytes(), "append to a tuple"},
		{"memo miss", pk().Proto(2).Get(3).Stop().Bytes(), "memo key 3 was never stored"},
		{"PUT on empty stack", pk().Proto(2).Put(0).None().Stop().Bytes(), "stack is empty"},
		{"empty LONG1", pk().Proto(2).Raw(0x8a, 0).Stop().Bytes(), "zero-length integer"},
		{"LONG4 too long", pk().Proto(2).Raw(0x8b, 0xff, 0xff, 0xff, 0x7f, 1).Stop().Bytes(), "argument of 2147483647 bytes"},
		{"BINBYTES too long", pk().Proto(3).Raw('B', 0xff, 0xff, 0xff, 0xff).Stop().Bytes(), "argument of 4294967295 bytes"},
		{"BINUNICODE8 huge", pk().Proto(4).Raw(0x8d, 0, 0, 0, 0, 0, 0, 0, 0x80).Stop().Bytes(), "argument of 9223372036854775808 bytes"},
		{"BINBYTES8 huge", pk().Proto(4).Raw(0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff).Stop().Bytes(), "argument of 18446744073709551615 bytes"},
		{"truncated BININT", pk().Proto(2).Raw('J', 1, 2).Bytes(), "argument of 4 bytes, only 2 left"},
		{"huge FRAME", pk().Proto(4).Raw(0x95, 0, 0, 0, 0, 0, 0, 0, 1).Stop().Bytes(), "frame of"},
		{"op straddles frame", pk().Proto(4).Raw(0x95, 2, 0, 0, 0, 0, 0, 0, 0).Raw('J', 1, 2, 3, 4).Stop().Bytes(), "straddles"},
		{"frame in frame", pk().Proto(4).Raw(0x95, 10, 0, 0, 0, 0, 0, 0, 0).Raw(0x95, 0, 0, 0, 0, 0, 0, 0, 0).None().Stop().Bytes(), "new frame before the end"},
		{"protocol 6", pk().Proto(6).None().Stop().Bytes(), "unsupported protocol 6"},
		{"opcode 0xff (gopickle's dispatch table is 255 long)", []byte{0xff}, "unknown pickle opcode 0xff"},
		{"unknown opcode", []byte{0x80, 2, 'z'}, "unknown pickle opcode 0x7a"},
		{"refused NEWOBJ", pk().Proto(2).Global("test", "f").Tuple(0).Raw(0x81).Stop().Bytes(), "NEWOBJ"},
		{"refused INST", []byte("(itest\nf\n."), "INST"},
		{"refused protocol 0 INT", []byte("I1\n."), "INT"},
		{"refused EXT1", []byte{0x80, 2, 0x82, 1, '.'}, "EXT1"},
		{"refused EMPTY_SET", []byte{0x80, 4, 0x8f, '.'}, "EMPTY_SET"},
		{"refused NEXT_BUFFER", []byte{0x80, 5, 0x97, '.'}, "NEXT_BUFFER"},
		{"POP_MARK without mark", pk().Proto(2).Raw('1').None().Stop().Bytes(), "no MARK"},
		{"POP on empty", pk().Proto(2).Raw('0').None().Stop().Bytes(), "no MARK"},
		{"BUILD on empty", pk().Proto(2).None().Build().Stop().Bytes(), "stack is empty"},
		{"callable error", pk().Proto(2).Global("collections", "OrderedDict").Int(1).Tuple(1).Reduce().Stop().Bytes(), "OrderedDictClass.Call args"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := safepickle.Load(tt.pickle, testOpts)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, safepickle.ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func TestPersistentRefused(t *testing.T) {
	_, _, err := safepickle.Load(pk().Proto(2).Str("id").BinPersID().Stop().Bytes(), safepickle.Options{})
	if err == nil || !strings.Contains(err.Error(), "persistent ids are not expected") {
		t.Fatalf("err = %v", err)
	}
}

func TestOptionsMisuse(t *testing.T) {
	for _, g := range []map[safepickle.Global]any{
		{safepickle.OrderedDict: callable{}},          // gopickle would ignore the value
		{{Module: "test", Name: "f"}: nil},            // nothing would resolve it
		{{Module: "builtins", Name: "list"}: "value"}, // gopickle would ignore the value
	} {
		_, _, err := safepickle.Load(pk().Proto(2).None().Stop().Bytes(), safepickle.Options{Globals: g})
		if err == nil || errors.Is(err, safepickle.ErrMalformed) {
			t.Errorf("globals %v: err = %v, want a usage error", g, err)
		}
	}
}

// TestEveryPrefix checks that every proper prefix of a valid pickle is an error, not a panic.
func TestEveryPrefix(t *testing.T) {
	check := func(t *testing.T, pickles [][]byte) {
		for _, p := range pickles {
			if _, _, err := safepickle.Load(p, fuzzOpts); err != nil {
				t.Fatalf("seed does not load: %v", err)
			}
			for n := 0; n < len(p); n++ {
				if n > 1024 && n < len(p)-1024 {
					n += 96 // every 97th prefix in the middle of a large pickle
				}
				if _, _, err := safepickle.Load(p[:n], fuzzOpts); err == nil {
					t.Fatalf("prefix of %d of %d bytes loaded without error", n, len(p))
				}
			}
		}
	}
	check(t, syntheticSeeds())
	check(t, torchPickles(t))
	t.Run("real", func(t *testing.T) { check(t, realPickles(t, datadirtest.Dir(t))) })
}

func syntheticSeeds() [][]byte {
	return [][]byte{
		pk().Proto(2).Global("collections", "OrderedDict").Put(0).Tuple(0).Reduce().
			Mark().Str("a").Int(1).Str("b").Int(-70000).SetItems().Stop().Bytes(),
		pk().Proto(3).Global("test", "f").Put(7).Get(7).Raw('0').Int(300).Raw('2').Bin([]byte("xy")).Tuple(3).Reduce().Stop().Bytes(),
		framed(pk().ShortStr("test").Raw(0x94).ShortStr("f").Raw(0x94).Raw(0x93).Raw(0x94).Tuple(0).Reduce().Stop().Bytes()),
		pk().Proto(2).Mark().Str("k").EmptyList().Mark().Int(1).Int(2).Appends().Raw('d').Stop().Bytes(),
		pk().Proto(2).Str("id").BinPersID().Stop().Bytes(),
	}
}

// realPickles returns the pickle of a real .pt checkpoint and of a real pickled .npy file of the
// data directory dir ("" for none).
func realPickles(tb testing.TB, dir string) [][]byte {
	if dir == "" {
		return nil
	}
	var s [][]byte
	pt, err := ptPickle(filepath.Join(dir, "data_compact_models/models_torch/compact_model_211022_neuron27.pt"))
	if err != nil {
		tb.Fatalf("real .pt seed: %v", err)
	}
	s = append(s, pt)
	b, err := os.ReadFile(filepath.Join(dir, "data_compact_models/model_weights_npy/compact_model_211022_neuron27.npy"))
	if err != nil || len(b) < 10 {
		tb.Fatalf("real .npy seed: %v", err)
	}
	hlen := 10 + int(b[8]) + int(b[9])<<8 // format 1.0 header
	return append(s, b[hlen:])
}

func ptPickle(path string) ([]byte, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			rc, err := f.Open()
			if err != nil {
				return nil, err
			}
			defer rc.Close()
			return io.ReadAll(rc)
		}
	}
	return nil, fmt.Errorf("%s: no data.pkl", path)
}

// fuzzOpts allows the globals of the real files and of torchpt's checkpoints, resolved to
// harmless callables.
var fuzzOpts = safepickle.Options{
	Globals: map[safepickle.Global]any{
		safepickle.OrderedDict:                                  nil,
		{Module: "test", Name: "f"}:                             callable{},
		{Module: "torch._utils", Name: "_rebuild_tensor_v2"}:    callable{},
		{Module: "torch", Name: "DoubleStorage"}:                callable{},
		{Module: "torch", Name: "LongStorage"}:                  callable{},
		{Module: "torch", Name: "FloatStorage"}:                 callable{},
		{Module: "numpy.core.multiarray", Name: "_reconstruct"}: callable{},
		{Module: "numpy", Name: "ndarray"}:                      callable{},
		{Module: "numpy", Name: "dtype"}:                        callable{},
	},
	PersistentLoad: func(pid any) (any, error) { return "loaded", nil },
}

// FuzzLoad starts from the synthetic pickles and the pickles of the small checkpoints torch.save
// wrote for package torchpt (a few kilobytes). The pickles of real data files are regression
// cases (TestEveryPrefix loads them), not seeds: at tens of kilobytes they make the fuzzer crawl.
func FuzzLoad(f *testing.F) {
	for _, s := range syntheticSeeds() {
		f.Add(s)
	}
	for _, s := range torchPickles(f) {
		f.Add(s)
	}
	fuzzbound.Fuzz(f, checkLoad)
}

// torchPickles returns the pickles of the small checkpoints of torchpt's testdata.
func torchPickles(tb testing.TB) [][]byte {
	var out [][]byte
	for _, name := range []string{"views.pt", "views_proto4.pt", "seeds/compact.pt"} {
		pkl, err := ptPickle(filepath.Join("..", "..", "torchpt", "testdata", filepath.FromSlash(name)))
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, pkl)
	}
	return out
}

// checkLoad loads a pickle and checks what Load returns.
func checkLoad(t *testing.T, data []byte) {
	_, n, err := safepickle.Load(data, fuzzOpts)
	if err != nil {
		if strings.Contains(err.Error(), "unpickler failed") {
			t.Fatalf("gopickle panicked on input the scan accepted: %v", err)
		}
		return
	}
	if n < 1 || n > len(data) || data[n-1] != '.' {
		t.Fatalf("n = %d", n)
	}
}
