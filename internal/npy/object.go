package npy

import (
	"errors"
	"fmt"
	"io"
	"strconv"

	"github.com/nlpodyssey/gopickle/types"

	"compactv4/internal/model"
	"compactv4/internal/npy/safepickle"
)

// MaxPickleLen bounds the pickle of an object array that ReadObjectArray reads into memory.
const MaxPickleLen = 1 << 30

// numpyGlobals are the only globals a pickled object array may use: the three NumPy names that
// np.save's pickle of an array of arrays needs (NumPy 1.x and 2.x module paths).
var numpyGlobals = map[safepickle.Global]any{
	{Module: "numpy.core.multiarray", Name: "_reconstruct"}:  reconstructFunc{},
	{Module: "numpy._core.multiarray", Name: "_reconstruct"}: reconstructFunc{},
	{Module: "numpy", Name: "ndarray"}:                       ndarrayClass{},
	{Module: "numpy", Name: "dtype"}:                         dtypeClass{},
}

// ndarrayClass stands for numpy.ndarray; it is only ever an argument of _reconstruct.
type ndarrayClass struct{}

// reconstructFunc implements numpy.core.multiarray._reconstruct(subtype, shape, dtype): it
// returns an empty array that the following BUILD fills through __setstate__.
type reconstructFunc struct{}

func (reconstructFunc) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("numpy _reconstruct: %d arguments, want 3", len(args))
	}
	if _, ok := args[0].(ndarrayClass); !ok {
		return nil, fmt.Errorf("numpy _reconstruct: subtype is %T, want numpy.ndarray", args[0])
	}
	return &ndarray{}, nil
}

// dtypeClass implements numpy.dtype(obj, align, copy) for the numeric types of ParseDtype, the
// object type 'O' and the fixed-width string types 'U' and 'S' (whose arrays are kept as shapes
// only, see ndarray.text); the byte order comes from the BUILD state that follows.
type dtypeClass struct{}

// pdtype is an unpickled numpy.dtype.
type pdtype struct {
	object bool
	text   bool  // 'U<n>' or 'S<n>'
	size   int64 // item size of a text type, from the state
	num    Dtype
	built  bool
}

func (dtypeClass) Call(args ...any) (any, error) {
	if len(args) != 3 {
		return nil, fmt.Errorf("numpy.dtype: %d arguments, want 3", len(args))
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, fmt.Errorf("numpy.dtype: type argument is %T, want str", args[0])
	}
	switch s {
	case "O", "O4", "O8", "|O":
		return &pdtype{object: true}, nil
	}
	if len(s) >= 2 && (s[0] == 'U' || s[0] == 'S') {
		if n, err := strconv.Atoi(s[1:]); err == nil && n > 0 {
			return &pdtype{text: true}, nil
		}
	}
	d, err := ParseDtype(s)
	if err != nil {
		return nil, fmt.Errorf("numpy.dtype: %w", err)
	}
	return &pdtype{num: d}, nil
}

// PySetState applies numpy.dtype.__setstate__ for state versions 3 and 4:
// (version, byteorder, subarray, names, fields, elsize, alignment, flags[, metadata]).
func (d *pdtype) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy.dtype state is %T, want tuple", state)
	}
	if d.built {
		return errors.New("numpy.dtype state set twice")
	}
	version, _ := item(t, 0).(int)
	if !(version == 3 && t.Len() == 8) && !(version == 4 && t.Len() == 9) {
		return fmt.Errorf("numpy.dtype state version %v with %d fields is not supported", item(t, 0), t.Len())
	}
	order, ok := t.Get(1).(string)
	if !ok || len(order) != 1 || !(order == "<" || order == ">" || order == "|" || order == "=") {
		return fmt.Errorf("numpy.dtype byte order %v is not one of < > | =", t.Get(1))
	}
	for k, name := range map[int]string{2: "subarray", 3: "names", 4: "fields"} {
		if t.Get(k) != nil {
			return fmt.Errorf("numpy.dtype with %s (structured or sub-array dtypes) is not supported", name)
		}
	}
	for k := 5; k <= 7; k++ {
		if _, ok := t.Get(k).(int); !ok {
			return fmt.Errorf("numpy.dtype state field %d is %T, want int", k, t.Get(k))
		}
	}
	d.built = true
	if d.text {
		d.size = int64(t.Get(5).(int))
		if d.size <= 0 || d.size > 1<<20 {
			return fmt.Errorf("numpy.dtype string type of item size %d", d.size)
		}
		return nil
	}
	if d.object {
		if order != "|" {
			return fmt.Errorf("numpy.dtype object type with byte order %q", order)
		}
		return nil
	}
	if d.num.Size == 1 {
		d.num.Order = '|'
		return nil
	}
	if order == "|" {
		return fmt.Errorf("numpy.dtype %c%d with byte order '|'", d.num.Kind, d.num.Size)
	}
	d.num.Order = order[0]
	return nil
}

// item returns t[i], or nil when t is too short.
func item(t *types.Tuple, i int) any {
	if i < t.Len() {
		return t.Get(i)
	}
	return nil
}

// ndarray is an unpickled numpy.ndarray: numeric (arr) or object (objects, in C order).
type ndarray struct {
	built   bool
	shape   []int
	arr     *Array
	objects []any
	text    bool // a string array: its shape is kept, its contents are not decoded
}

// PySetState applies numpy.ndarray.__setstate__: (version, shape, dtype, is_fortran, data) or the
// legacy form without version. data is the raw bytes of a numeric array or the list of elements
// of an object array.
func (a *ndarray) PySetState(state any) error {
	t, ok := state.(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy.ndarray state is %T, want tuple", state)
	}
	if a.built {
		return errors.New("numpy.ndarray state set twice")
	}
	f := []any(*t)
	switch len(f) {
	case 5:
		if v, ok := f[0].(int); !ok || v != 1 {
			return fmt.Errorf("numpy.ndarray state version %v is not supported", f[0])
		}
		f = f[1:]
	case 4:
	default:
		return fmt.Errorf("numpy.ndarray state has %d fields, want 4 or 5", len(f))
	}
	shapeT, ok := f[0].(*types.Tuple)
	if !ok {
		return fmt.Errorf("numpy.ndarray shape is %T, want tuple", f[0])
	}
	dt, ok := f[1].(*pdtype)
	if !ok || !dt.built {
		return fmt.Errorf("numpy.ndarray dtype is %T (or has no state), want numpy.dtype", f[1])
	}
	fortran, ok := f[2].(bool)
	if !ok {
		return fmt.Errorf("numpy.ndarray is_fortran is %T, want bool", f[2])
	}
	if shapeT.Len() > MaxDims {
		return fmt.Errorf("numpy.ndarray has %d dimensions, at most %d", shapeT.Len(), MaxDims)
	}
	shape := make([]int, shapeT.Len())
	for k := range shape {
		d, ok := shapeT.Get(k).(int)
		if !ok || d < 0 {
			return fmt.Errorf("numpy.ndarray dimension %d is %s, want a non-negative int", k, describe(shapeT.Get(k)))
		}
		shape[k] = d
	}
	n, err := numElems(shape, MaxPickleLen)
	if err != nil {
		return fmt.Errorf("numpy.ndarray: %w", err)
	}
	a.shape = shape
	if dt.object {
		list, ok := f[3].(*types.List)
		if !ok {
			return fmt.Errorf("numpy.ndarray object data is %T, want list", f[3])
		}
		if list.Len() != n {
			return fmt.Errorf("numpy.ndarray of shape %v holds %d objects", shape, list.Len())
		}
		a.objects = []any(*list)
		a.built = true
		return nil
	}
	raw, ok := f[3].([]byte)
	if !ok {
		return fmt.Errorf("numpy.ndarray %s data is %T, want bytes", dt.num, f[3])
	}
	if dt.text {
		if want := int64(n) * dt.size; int64(len(raw)) != want {
			return fmt.Errorf("numpy.ndarray of strings of shape %v needs %d bytes of data, got %d", shape, want, len(raw))
		}
		a.text = true
		a.built = true
		return nil
	}
	if want := int64(n) * int64(dt.num.Size); int64(len(raw)) != want {
		return fmt.Errorf("numpy.ndarray %s of shape %v needs %d bytes of data, got %d", dt.num, shape, want, len(raw))
	}
	arr, err := newArray(shape, dt.num, fortran, raw)
	if err != nil {
		return err
	}
	a.arr = arr
	a.built = true
	return nil
}

// describe names a pickled value without formatting its contents, which may be large or cyclic.
func describe(v any) string {
	switch v := v.(type) {
	case int:
		return strconv.Itoa(v)
	case nil:
		return "None"
	}
	return fmt.Sprintf("a %T", v)
}

// ReadObjectArray reads a .npy file holding a pickled NumPy object array whose elements are
// numeric arrays, as np.save(file, np.array(list_of_arrays, dtype=object)) writes it (the
// model_weights_npy files: 36 float32 arrays). It returns the elements in C order of the object
// array, each with its shape and values in C order (see Array).
//
// The pickle is not executed: the only globals it may name are numpy's _reconstruct, ndarray
// and dtype, implemented here for numeric dtypes (see ParseDtype) in any byte order and either
// memory order, and the opcode stream is checked by package safepickle before it is unpickled.
func ReadObjectArray(r io.Reader) ([]*Array, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	if h.Descr != "|O" {
		return nil, formatErr("descr %q is not a pickled object array ('|O')", h.Descr)
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxPickleLen+1))
	if err != nil {
		return nil, fmt.Errorf("npy: read pickle: %w", err)
	}
	if len(data) > MaxPickleLen {
		return nil, formatErr("pickle exceeds %d bytes", MaxPickleLen)
	}
	obj, _, err := safepickle.Load(data, safepickle.Options{Globals: numpyGlobals})
	if err != nil {
		return nil, fmt.Errorf("%w: object array: %w", ErrFormat, err)
	}
	top, ok := obj.(*ndarray)
	if !ok || !top.built || top.arr != nil || top.text {
		return nil, formatErr("pickle holds %s, not a numpy object array", describe(obj))
	}
	if !sameInts(top.shape, h.Shape) {
		return nil, formatErr("pickled object array has shape %v, header says %v", top.shape, h.Shape)
	}
	out := make([]*Array, len(top.objects))
	for i, o := range top.objects {
		el, ok := o.(*ndarray)
		if !ok || !el.built || el.arr == nil {
			return nil, formatErr("object array element %d is %s, not a numeric numpy array", i, describe(o))
		}
		out[i] = el.arr
	}
	return out, nil
}

// ReadTensors reads a pickled object array of float32 arrays (ReadObjectArray) as model tensors,
// e.g. a model_weights_npy file, whose 36 arrays are a compact model's weights in Keras
// get_weights() order. Elements of any other dtype are refused rather than rounded.
func ReadTensors(r io.Reader) ([]model.Tensor, error) {
	arrs, err := ReadObjectArray(r)
	if err != nil {
		return nil, err
	}
	ts := make([]model.Tensor, len(arrs))
	for i, a := range arrs {
		if a.Dtype.Kind != 'f' || a.Dtype.Size != 4 {
			return nil, formatErr("object array element %d has dtype %s, want float32", i, a.Dtype)
		}
		t := model.Tensor{Shape: append([]int{}, a.Shape...), Data: make([]float32, len(a.Float64))}
		for k, v := range a.Float64 {
			t.Data[k] = float32(v) // exact: the values were float32
		}
		ts[i] = t
	}
	return ts, nil
}

func sameInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// numElems returns the product of the dimensions, refusing products above limit (the caller's
// bound on the data present) so that no later multiplication can overflow.
func numElems(shape []int, limit int) (int, error) {
	n := 1
	for _, d := range shape {
		if d == 0 {
			return 0, nil
		}
	}
	for _, d := range shape {
		if n > limit/d {
			return 0, fmt.Errorf("shape %v has more than %d elements", shape, limit)
		}
		n *= d
	}
	return n, nil
}

// ReadPickledDict reads a pickle of a dict of NumPy arrays, as pickle.dump({"name": array, ...})
// writes it, under the same restrictions as ReadObjectArray (only numpy's _reconstruct, ndarray
// and dtype may be named). It returns the numeric arrays by key; string arrays ('U' and 'S'
// dtypes) and other values are listed in skipped, by key, not decoded. Keys must be str.
func ReadPickledDict(data []byte) (arrays map[string]*Array, skipped []string, err error) {
	if len(data) > MaxPickleLen {
		return nil, nil, formatErr("pickle exceeds %d bytes", MaxPickleLen)
	}
	obj, _, err := safepickle.Load(data, safepickle.Options{Globals: numpyGlobals})
	if err != nil {
		return nil, nil, fmt.Errorf("%w: pickled dict: %w", ErrFormat, err)
	}
	d, ok := obj.(*types.Dict)
	if !ok {
		return nil, nil, formatErr("pickle holds %s, not a dict", describe(obj))
	}
	arrays = map[string]*Array{}
	for _, e := range *d {
		k, ok := e.Key.(string)
		if !ok {
			return nil, nil, formatErr("pickled dict has a key %s, not a str", describe(e.Key))
		}
		if _, dup := arrays[k]; dup {
			return nil, nil, formatErr("pickled dict has the key %q twice", k)
		}
		if a, ok := e.Value.(*ndarray); ok && a.built && a.arr != nil {
			arrays[k] = a.arr
			continue
		}
		skipped = append(skipped, k)
	}
	return arrays, skipped, nil
}
