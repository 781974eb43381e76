package hdf5

import (
	"fmt"
	"path"
)

// Dataset is an HDF5 dataset: a typed, shaped array of elements.
type Dataset struct {
	f      *File
	path   string
	oh     *objectHeader
	dtype  *Datatype
	space  Dataspace
	layout *Layout
	fill   fillValue
	extern bool // raw data in external files
}

func (f *File) newDataset(oh *objectHeader, p string) (*Dataset, error) {
	ds := &Dataset{f: f, path: p, oh: oh}
	m := oh.first(msgDatatype)
	if m == nil {
		return nil, formatErr("dataset", -1, "object header at address %d has no datatype message", oh.addr)
	}
	data, off, err := f.messageData(m)
	if err != nil {
		return nil, err
	}
	if ds.dtype, err = f.parseDatatype(data, off); err != nil {
		return nil, err
	}
	m = oh.first(msgDataspace)
	if m == nil {
		return nil, formatErr("dataset", -1, "object header at address %d has no dataspace message", oh.addr)
	}
	if data, off, err = f.messageData(m); err != nil {
		return nil, err
	}
	if ds.space, err = f.parseDataspace(data, off); err != nil {
		return nil, err
	}
	m = oh.first(msgLayout)
	if m == nil {
		return nil, formatErr("dataset", -1, "object header at address %d has no data layout message", oh.addr)
	}
	if data, off, err = f.messageData(m); err != nil {
		return nil, err
	}
	if ds.layout, err = f.parseLayout(data, off); err != nil {
		return nil, err
	}
	if m := oh.first(msgFilter); m != nil {
		if data, off, err = f.messageData(m); err != nil {
			return nil, err
		}
		if ds.layout.Filters, err = f.parseFilterPipeline(data, off); err != nil {
			return nil, err
		}
	}
	if m := oh.first(msgFill); m != nil {
		if data, off, err = f.messageData(m); err != nil {
			return nil, err
		}
		if ds.fill, err = f.parseFill(data, off); err != nil {
			return nil, err
		}
	} else if m := oh.first(msgFillOld); m != nil {
		if data, off, err = f.messageData(m); err != nil {
			return nil, err
		}
		if ds.fill, err = f.parseOldFill(data, off); err != nil {
			return nil, err
		}
	}
	ds.extern = oh.has(msgExternalFile)
	if l := ds.layout; l.Class == Chunked {
		if len(l.Chunk) != len(ds.space.Dims) {
			return nil, formatErr("data layout message", -1, "dataset %s: chunk rank %d, dataspace rank %d", p, len(l.Chunk), len(ds.space.Dims))
		}
		if l.elemSizeDim != uint64(ds.dtype.Size) && !l.legacyChunks {
			return nil, formatErr("data layout message", -1, "dataset %s: chunk element size %d, datatype size %d", p, l.elemSizeDim, ds.dtype.Size)
		}
	}
	return ds, nil
}

// Name returns the last element of the dataset's path.
func (d *Dataset) Name() string { return path.Base(d.path) }

// Path returns the absolute path by which the dataset was reached.
func (d *Dataset) Path() string { return d.path }

// Shape returns the dimensions (empty for scalar and null dataspaces).
func (d *Dataset) Shape() []int { return append([]int{}, d.space.Dims...) }

// Space returns the dataspace.
func (d *Dataset) Space() Dataspace {
	s := d.space
	s.Dims = append([]int(nil), s.Dims...)
	s.MaxDims = append([]int(nil), s.MaxDims...)
	return s
}

// Len returns the number of elements.
func (d *Dataset) Len() int { return d.space.NumElements() }

// Type returns the element datatype.
func (d *Dataset) Type() Datatype { return *d.dtype }

// Layout returns how the dataset is stored.
func (d *Dataset) Layout() Layout {
	l := *d.layout
	l.Chunk = append([]int(nil), l.Chunk...)
	l.Filters = append([]Filter(nil), l.Filters...)
	return l
}

// Attrs returns the dataset's attributes.
func (d *Dataset) Attrs() ([]*Attribute, error) { return d.f.attributes(d.oh, d.path) }

// Attr returns the attribute called name.
func (d *Dataset) Attr(name string) (*Attribute, error) { return findAttr(d.f, d.oh, d.path, name) }

// ReadRaw returns the dataset's elements as stored in the file: Len()*Type().Size bytes in the
// file's byte order, row-major (C order). Unallocated storage reads as the fill value.
func (d *Dataset) ReadRaw() ([]byte, error) {
	b, err := d.readRaw()
	if err != nil {
		return nil, fmt.Errorf("hdf5: read dataset %s: %w", d.path, err)
	}
	return b, nil
}

// ReadFloat64 returns the elements converted to float64 (from any fixed-point, enum or
// floating-point type).
func (d *Dataset) ReadFloat64() ([]float64, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	v, err := toFloat64(d.dtype, raw)
	return v, d.wrap(err)
}

// ReadFloat32 returns the elements converted to float32 (from any fixed-point, enum or
// floating-point type; conversions round as Go's do).
func (d *Dataset) ReadFloat32() ([]float32, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	v, err := toFloat32(d.dtype, raw)
	return v, d.wrap(err)
}

// ReadInt64 returns the elements of a fixed-point, bitfield or enum dataset as int64; unsigned
// values above math.MaxInt64 are an error.
func (d *Dataset) ReadInt64() ([]int64, error) {
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	v, err := toInt64(d.dtype, raw)
	return v, d.wrap(err)
}

// ReadStrings returns the elements of a fixed-length or variable-length string dataset.
// Padding is removed: null-terminated strings end at the first NUL, null-padded strings lose
// trailing NULs and space-padded strings trailing spaces.
func (d *Dataset) ReadStrings() ([]string, error) {
	if err := checkStringType(d.dtype); err != nil {
		return nil, d.wrap(err)
	}
	raw, err := d.ReadRaw()
	if err != nil {
		return nil, err
	}
	v, err := d.f.toStrings(d.dtype, raw, -1)
	return v, d.wrap(err)
}

func (d *Dataset) wrap(err error) error {
	if err != nil {
		return fmt.Errorf("hdf5: read dataset %s: %w", d.path, err)
	}
	return nil
}

// fillPattern returns one element's worth of fill value bytes.
func (d *Dataset) fillPattern() ([]byte, error) {
	es := d.dtype.Size
	if !d.fill.defined {
		return make([]byte, es), nil
	}
	if len(d.fill.value) != es {
		return nil, formatErr("fill value message", d.fill.off, "fill value of %d bytes for elements of %d bytes", len(d.fill.value), es)
	}
	return d.fill.value, nil
}

// filled returns n bytes holding the fill value.
func (d *Dataset) filled(n uint64) ([]byte, error) {
	pat, err := d.fillPattern()
	if err != nil {
		return nil, err
	}
	out := make([]byte, n)
	if !allZero(pat) {
		for i := 0; i < len(out); i += len(pat) {
			copy(out[i:], pat)
		}
	}
	return out, nil
}

func allZero(b []byte) bool {
	for _, v := range b {
		if v != 0 {
			return false
		}
	}
	return true
}

// dataBytes returns the size in bytes of all elements, checked against the limits.
func (d *Dataset) dataBytes() (uint64, error) {
	n, ok := mulOK(d.space.n, uint64(d.dtype.Size))
	if !ok {
		return 0, formatErr("dataset", -1, "%s: size overflows", d.path)
	}
	if err := d.f.checkDataSize(n, "dataset "+d.path); err != nil {
		return 0, err
	}
	return n, nil
}

func (d *Dataset) readRaw() ([]byte, error) {
	if d.extern {
		return nil, unsupported("dataset %s stores its data in external files", d.path)
	}
	l := d.layout
	if d.space.n == 0 {
		return []byte{}, nil
	}
	switch l.Class {
	case Compact:
		n, err := d.dataBytes()
		if err != nil {
			return nil, err
		}
		if uint64(len(l.compact)) < n {
			return nil, formatErr("data layout message", -1, "compact data of %d bytes, dataset needs %d", len(l.compact), n)
		}
		return append([]byte(nil), l.compact[:n]...), nil
	case Contiguous:
		n, ok := mulOK(d.space.n, uint64(d.dtype.Size))
		if !ok {
			return nil, formatErr("dataset", -1, "%s: size overflows", d.path)
		}
		if l.addr == undefAddr {
			if err := d.f.checkDataSize(n, "dataset "+d.path); err != nil {
				return nil, err
			}
			return d.filled(n)
		}
		if l.Version >= 3 && l.size < n {
			return nil, formatErr("data layout message", -1, "contiguous storage of %d bytes, dataset needs %d", l.size, n)
		}
		if err := d.f.checkDataSize(n, "dataset "+d.path); err != nil {
			return nil, err
		}
		buf, _, err := d.f.readAt(l.addr, n, "contiguous data")
		return buf, err
	case Chunked:
		return d.readChunked()
	case Virtual:
		return nil, unsupported("dataset %s has a virtual layout", d.path)
	}
	return nil, formatErr("data layout message", -1, "layout class %d", l.Class)
}
