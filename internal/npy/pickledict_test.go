package npy

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/npy/safepickle/pickletest"
)

// arrayPickle writes, onto w, a numpy array of dtype typ (the numpy.dtype argument), byte order
// order, item size elsize (the dtype state's), shape and raw data, as pickle.dump writes it.
func arrayPickle(w *pickletest.Writer, typ, order string, elsize int64, shape []int, raw []byte) *pickletest.Writer {
	return w.Global("numpy.core.multiarray", "_reconstruct").Global("numpy", "ndarray").Int(0).Tuple(1).Bin([]byte("b")).Tuple(3).Reduce().
		Mark().Int(1).IntTuple(shape...).Global("numpy", "dtype").Str(typ).Bool(false).Bool(true).Tuple(3).Reduce().
		Mark().Int(3).Str(order).None().None().None().Int(elsize).Int(-1).Int(0).Tuple(-1).Build().
		Bool(false).Bin(raw).Tuple(-1).Build()
}

func TestReadPickledDict(t *testing.T) {
	text := make([]byte, 2*12) // two 'U3' strings
	w := (&pickletest.Writer{}).Proto(4).EmptyDict().Mark()
	w.Str("x")
	arrayPickle(w, "f4", "<", 4, []int{2}, encode(Float32, []int{2}, []float64{0.5, -2}, false))
	w.Str("types")
	arrayPickle(w, "U3", "<", 12, []int{2}, text)
	w.Str("count").Int(7)
	data := w.SetItems().Stop().Bytes()
	arrs, skipped, err := ReadPickledDict(data)
	if err != nil {
		t.Fatal(err)
	}
	if x := arrs["x"]; len(arrs) != 1 || x == nil || !reflect.DeepEqual(x.Float64, []float64{0.5, -2}) {
		t.Errorf("arrays %v", arrs)
	}
	if !reflect.DeepEqual(skipped, []string{"types", "count"}) {
		t.Errorf("skipped %v, want [types count]", skipped)
	}
	for n := range len(data) - 1 {
		if _, _, err := ReadPickledDict(data[:n]); err == nil {
			t.Fatalf("a pickle truncated to %d of %d bytes was read", n, len(data))
		}
	}

	for _, tt := range []struct {
		name string
		data []byte
		want string
	}{
		{"not a dict", (&pickletest.Writer{}).Proto(4).Int(1).Stop().Bytes(), "not a dict"},
		{"int key", (&pickletest.Writer{}).Proto(4).EmptyDict().Int(1).Int(2).SetItem().Stop().Bytes(), "not a str"},
		{"string data too short", arrayPickle((&pickletest.Writer{}).Proto(4).EmptyDict().Str("s"), "U3", "<", 12, []int{2}, text[:20]).SetItem().Stop().Bytes(), "needs 24 bytes"},
	} {
		_, _, err := ReadPickledDict(tt.data)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrFormat) {
			t.Errorf("%s: error %v, want %q wrapping ErrFormat", tt.name, err, tt.want)
		}
	}

	// A string array is not an object array.
	top := arrayPickle((&pickletest.Writer{}).Proto(3), "U3", "<", 12, []int{2}, text).Stop().Bytes()
	if _, err := ReadObjectArray(bytes.NewReader(objectFile(2, top))); err == nil || !strings.Contains(err.Error(), "not a numpy object array") {
		t.Errorf("string array read as an object array: %v", err)
	}
}
