package torchpt

import (
	"archive/zip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/nlpodyssey/gopickle/types"

	"compactv4/internal/npy/safepickle"
	"compactv4/internal/readn"
)

// Dtype is the element type of a tensor's storage.
type Dtype int

// The storage types read here.
const (
	Float64 Dtype = iota + 1 // torch.DoubleStorage
	Float32                  // torch.FloatStorage
	Int64                    // torch.LongStorage
)

// String returns the dtype's name: "float64", "float32" or "int64".
func (d Dtype) String() string {
	switch d {
	case Float64:
		return "float64"
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return fmt.Sprintf("Dtype(%d)", int(d))
}

func (d Dtype) size() int {
	if d == Float32 {
		return 4
	}
	return 8
}

// Tensor is one entry of a state dict, copied out of its storage into C (row-major) order.
type Tensor struct {
	Shape []int // empty for a scalar
	Dtype Dtype
	// Float holds the values of a Float64 or Float32 tensor (float32 converted exactly), Int those
	// of an Int64 tensor. Exactly one is non-nil.
	Float []float64
	Int   []int64
}

// StateDict is a PyTorch state dict: tensors by name, in the order of the saved OrderedDict.
type StateDict struct {
	Keys    []string
	Tensors map[string]*Tensor
}

// ErrFormat is wrapped by every error about malformed or unsupported file contents.
var ErrFormat = errors.New("torchpt: invalid or unsupported checkpoint")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Limits on what a checkpoint may claim.
const (
	MaxPickleLen = 64 << 20 // bytes of data.pkl
	// maxDeflateRatio bounds the size a deflated zip entry may claim relative to its compressed
	// size; deflate cannot expand more than about 1032:1.
	maxDeflateRatio = 1100
	maxDims         = 64
)

// ReadStateDict reads a PyTorch checkpoint in the zip format of torch.save (PyTorch >= 1.6) whose
// pickled object is a state dict (an OrderedDict or dict of tensors): <prefix>/data.pkl, the
// storages <prefix>/data/<key>, and the optional <prefix>/byteorder ("little" or "big").
//
// Nothing in the pickle is executed. Its only allowed globals are collections.OrderedDict,
// torch._utils._rebuild_tensor_v2 and the storage types torch.DoubleStorage, torch.FloatStorage
// and torch.LongStorage; its persistent ids must be ('storage', type, key, location, numel). Every
// tensor's offset, size and stride are checked against its storage, each storage's size against
// numel, and no tensor may hold more elements than its storage (stride-0 expansions are refused),
// so that memory use stays proportional to the file. The legacy (non-zip) format is not supported.
func ReadStateDict(r io.ReaderAt, size int64) (StateDict, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return StateDict{}, fmt.Errorf("%w: not a zip checkpoint: %w", ErrFormat, err)
	}
	files := map[string]*zip.File{}
	var pkl []string
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return StateDict{}, formatErr("zip entry %q appears twice", f.Name)
		}
		files[f.Name] = f
		if strings.HasSuffix(f.Name, "/data.pkl") && strings.Count(f.Name, "/") == 1 {
			pkl = append(pkl, f.Name)
		}
	}
	if len(pkl) != 1 {
		return StateDict{}, formatErr("want exactly one <prefix>/data.pkl entry, found %d", len(pkl))
	}
	prefix := strings.TrimSuffix(pkl[0], "data.pkl")
	order := binary.ByteOrder(binary.LittleEndian)
	if f := files[prefix+"byteorder"]; f != nil {
		b, err := readEntry(f, 16)
		if err != nil {
			return StateDict{}, err
		}
		switch string(b) {
		case "little":
		case "big":
			order = binary.BigEndian
		default:
			return StateDict{}, formatErr("byteorder %q is neither little nor big", clip(b))
		}
	}
	data, err := readEntry(files[pkl[0]], MaxPickleLen)
	if err != nil {
		return StateDict{}, err
	}
	ld := &loader{files: files, prefix: prefix, order: order, storages: map[string]*storage{}}
	obj, _, err := safepickle.Load(data, safepickle.Options{
		Globals: map[safepickle.Global]any{
			safepickle.OrderedDict:                               nil,
			{Module: "torch._utils", Name: "_rebuild_tensor_v2"}: rebuildTensorV2{},
			{Module: "torch", Name: "DoubleStorage"}:             storageType{Float64},
			{Module: "torch", Name: "FloatStorage"}:              storageType{Float32},
			{Module: "torch", Name: "LongStorage"}:               storageType{Int64},
		},
		PersistentLoad: ld.persistentLoad,
	})
	if err != nil {
		return StateDict{}, fmt.Errorf("%w: %s: %w", ErrFormat, pkl[0], err)
	}
	return toStateDict(obj)
}

// toStateDict converts the unpickled top-level object into a StateDict.
func toStateDict(obj any) (StateDict, error) {
	sd := StateDict{Tensors: map[string]*Tensor{}}
	add := func(k, v any) error {
		name, ok := k.(string)
		if !ok {
			return formatErr("state dict key of type %T, want str", k)
		}
		t, ok := v.(*Tensor)
		if !ok {
			return formatErr("state dict entry %q is a %T, not a tensor", name, v)
		}
		if _, dup := sd.Tensors[name]; !dup {
			sd.Keys = append(sd.Keys, name)
		}
		sd.Tensors[name] = t
		return nil
	}
	switch d := obj.(type) {
	case *types.OrderedDict:
		for e := d.List.Front(); e != nil; e = e.Next() {
			entry := e.Value.(*types.OrderedDictEntry)
			if err := add(entry.Key, entry.Value); err != nil {
				return StateDict{}, err
			}
		}
	case *types.Dict:
		for _, entry := range *d {
			if err := add(entry.Key, entry.Value); err != nil {
				return StateDict{}, err
			}
		}
	default:
		return StateDict{}, formatErr("checkpoint holds a %T, not a state dict", obj)
	}
	return sd, nil
}

// readEntry reads a whole zip entry of at most max bytes, refusing sizes the compressed data
// cannot hold and growing its buffer only as data arrives.
func readEntry(f *zip.File, max int64) ([]byte, error) {
	if f == nil {
		return nil, formatErr("missing zip entry")
	}
	size := f.UncompressedSize64
	if size > uint64(max) {
		return nil, formatErr("zip entry %s holds %d bytes, more than the %d expected", f.Name, size, max)
	}
	if f.Method == zip.Store && f.CompressedSize64 != size {
		return nil, formatErr("stored zip entry %s: compressed size %d != size %d", f.Name, f.CompressedSize64, size)
	}
	if size/maxDeflateRatio > f.CompressedSize64 {
		return nil, formatErr("zip entry %s claims %d bytes from %d compressed", f.Name, size, f.CompressedSize64)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("%w: open %s: %w", ErrFormat, f.Name, err)
	}
	defer rc.Close()
	b, err := readn.Full(rc, int(size))
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %w", ErrFormat, f.Name, err)
	}
	return b, nil
}

func clip(b []byte) []byte {
	if len(b) > 40 {
		return append(b[:37:37], "..."...)
	}
	return b
}

// storageType stands for torch.DoubleStorage, torch.FloatStorage or torch.LongStorage.
type storageType struct{ dtype Dtype }

// storage is one storage of the checkpoint, decoded.
type storage struct {
	dtype Dtype
	key   string
	numel int
	f     []float64
	i     []int64
}

// loader resolves persistent ids to storages read from the zip, each at most once.
type loader struct {
	files    map[string]*zip.File
	prefix   string
	order    binary.ByteOrder
	storages map[string]*storage
}

// persistentLoad implements torch's persistent_load for ('storage', type, key, location, numel).
func (ld *loader) persistentLoad(pid any) (any, error) {
	t, ok := pid.(*types.Tuple)
	if !ok || t.Len() != 5 {
		return nil, fmt.Errorf("persistent id is a %T, want a 5-tuple ('storage', type, key, location, numel)", pid)
	}
	if tag, _ := t.Get(0).(string); tag != "storage" {
		return nil, fmt.Errorf("persistent id of kind %T %q, want 'storage'", t.Get(0), tag)
	}
	st, ok := t.Get(1).(storageType)
	if !ok {
		return nil, fmt.Errorf("storage type is a %T, want a torch storage class", t.Get(1))
	}
	key, ok := t.Get(2).(string)
	if !ok || key == "" || len(key) > 64 {
		return nil, fmt.Errorf("storage key is not a short non-empty str")
	}
	if _, ok := t.Get(3).(string); !ok {
		return nil, fmt.Errorf("storage %s: location is a %T, want str", key, t.Get(3))
	}
	numel, ok := t.Get(4).(int)
	if !ok || numel < 0 {
		return nil, fmt.Errorf("storage %s: numel is not a non-negative int", key)
	}
	if s, seen := ld.storages[key]; seen {
		if s.dtype != st.dtype || s.numel != numel {
			return nil, fmt.Errorf("storage %s used as %s[%d] and %s[%d]", key, s.dtype, s.numel, st.dtype, numel)
		}
		return s, nil
	}
	esize := int64(st.dtype.size())
	if int64(numel) > math.MaxInt64/esize {
		return nil, fmt.Errorf("storage %s: numel %d overflows", key, numel)
	}
	f := ld.files[ld.prefix+"data/"+key]
	if f == nil {
		return nil, fmt.Errorf("storage %s: no zip entry %sdata/%s", key, ld.prefix, key)
	}
	if f.UncompressedSize64 != uint64(int64(numel)*esize) {
		return nil, fmt.Errorf("storage %s: %d %s elements need %d bytes, entry holds %d", key, numel, st.dtype, int64(numel)*esize, f.UncompressedSize64)
	}
	raw, err := readEntry(f, int64(numel)*esize)
	if err != nil {
		return nil, err
	}
	s := &storage{dtype: st.dtype, key: key, numel: numel}
	switch st.dtype {
	case Float64:
		s.f = make([]float64, numel)
		for k := range s.f {
			s.f[k] = math.Float64frombits(ld.order.Uint64(raw[8*k:]))
		}
	case Float32:
		s.f = make([]float64, numel)
		for k := range s.f {
			s.f[k] = float64(math.Float32frombits(ld.order.Uint32(raw[4*k:])))
		}
	case Int64:
		s.i = make([]int64, numel)
		for k := range s.i {
			s.i[k] = int64(ld.order.Uint64(raw[8*k:]))
		}
	}
	ld.storages[key] = s
	return s, nil
}

// rebuildTensorV2 implements torch._utils._rebuild_tensor_v2(storage, storage_offset, size,
// stride, requires_grad, backward_hooks[, metadata]) by copying the viewed elements out.
type rebuildTensorV2 struct{}

func (rebuildTensorV2) Call(args ...any) (any, error) {
	if len(args) != 6 && len(args) != 7 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %d arguments, want 6 or 7", len(args))
	}
	s, ok := args[0].(*storage)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage is a %T", args[0])
	}
	offset, ok := args[1].(int)
	if !ok || offset < 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: storage offset is not a non-negative int")
	}
	size, err := ints(args[2], "size")
	if err != nil {
		return nil, err
	}
	stride, err := ints(args[3], "stride")
	if err != nil {
		return nil, err
	}
	if len(stride) != len(size) {
		return nil, fmt.Errorf("_rebuild_tensor_v2: size %v and stride %v differ in length", size, stride)
	}
	if _, ok := args[4].(bool); !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: requires_grad is a %T, want bool", args[4])
	}
	if h, ok := args[5].(*types.OrderedDict); !ok || h.Len() != 0 {
		return nil, fmt.Errorf("_rebuild_tensor_v2: backward_hooks must be an empty OrderedDict")
	}
	// Every element must lie in the storage, and there may be no more elements than the storage
	// holds (which also bounds the memory the copy takes).
	numel := 1
	for _, d := range size {
		if d == 0 {
			numel = 0
			break
		}
	}
	if numel != 0 {
		last := offset
		for k, d := range size {
			if numel > s.numel/d {
				return nil, fmt.Errorf("_rebuild_tensor_v2: size %v has more elements than storage %s (%d)", size, s.key, s.numel)
			}
			numel *= d
			if stride[k] > 0 && d-1 > (s.numel-last)/stride[k] {
				return nil, fmt.Errorf("_rebuild_tensor_v2: size %v, stride %v, offset %d run past storage %s of %d elements", size, stride, offset, s.key, s.numel)
			}
			last += (d - 1) * stride[k]
		}
		if last >= s.numel {
			return nil, fmt.Errorf("_rebuild_tensor_v2: size %v, stride %v, offset %d run past storage %s of %d elements", size, stride, offset, s.key, s.numel)
		}
	}
	t := &Tensor{Shape: size, Dtype: s.dtype}
	if s.f != nil {
		t.Float = gather(s.f, offset, size, stride, numel)
	} else {
		t.Int = gather(s.i, offset, size, stride, numel)
	}
	return t, nil
}

// ints converts a tuple of non-negative ints.
func ints(v any, what string) ([]int, error) {
	t, ok := v.(*types.Tuple)
	if !ok {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %s is a %T, want tuple", what, v)
	}
	if t.Len() > maxDims {
		return nil, fmt.Errorf("_rebuild_tensor_v2: %s has %d dimensions", what, t.Len())
	}
	out := make([]int, t.Len())
	for k := range out {
		d, ok := t.Get(k).(int)
		if !ok || d < 0 {
			return nil, fmt.Errorf("_rebuild_tensor_v2: %s[%d] is not a non-negative int", what, k)
		}
		out[k] = d
	}
	return out, nil
}

// gather copies the strided view into a new C-order slice of numel elements.
func gather[T any](src []T, offset int, size, stride []int, numel int) []T {
	dst := make([]T, numel)
	if numel == 0 {
		return dst
	}
	idx := make([]int, len(size))
	off := offset
	for i := range dst {
		dst[i] = src[off]
		for k := len(size) - 1; k >= 0; k-- {
			idx[k]++
			off += stride[k]
			if idx[k] < size[k] {
				break
			}
			off -= stride[k] * size[k]
			idx[k] = 0
		}
	}
	return dst
}
