package hdf5

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
)

// Attribute is a small named value attached to a group, dataset or committed datatype.
type Attribute struct {
	f      *File
	owner  string
	name   string
	dtype  *Datatype
	space  Dataspace
	raw    []byte
	rawOff int64
	crt    int64
}

// Name returns the attribute's name.
func (a *Attribute) Name() string { return a.name }

// Type returns the element datatype.
func (a *Attribute) Type() Datatype { return *a.dtype }

// Shape returns the dimensions (empty for scalar and null dataspaces).
func (a *Attribute) Shape() []int { return append([]int{}, a.space.Dims...) }

// Space returns the dataspace.
func (a *Attribute) Space() Dataspace {
	s := a.space
	s.Dims = append([]int(nil), s.Dims...)
	s.MaxDims = append([]int(nil), s.MaxDims...)
	return s
}

// Len returns the number of elements.
func (a *Attribute) Len() int { return a.space.NumElements() }

// ReadRaw returns the elements as stored in the file (see Dataset.ReadRaw).
func (a *Attribute) ReadRaw() ([]byte, error) { return append([]byte{}, a.raw...), nil }

// ReadFloat64 returns the elements converted to float64 (see Dataset.ReadFloat64).
func (a *Attribute) ReadFloat64() ([]float64, error) {
	v, err := toFloat64(a.dtype, a.raw)
	return v, a.wrap(err)
}

// ReadFloat32 returns the elements converted to float32 (see Dataset.ReadFloat32).
func (a *Attribute) ReadFloat32() ([]float32, error) {
	v, err := toFloat32(a.dtype, a.raw)
	return v, a.wrap(err)
}

// ReadInt64 returns the elements as int64 (see Dataset.ReadInt64).
func (a *Attribute) ReadInt64() ([]int64, error) {
	v, err := toInt64(a.dtype, a.raw)
	return v, a.wrap(err)
}

// ReadStrings returns the elements as strings (see Dataset.ReadStrings).
func (a *Attribute) ReadStrings() ([]string, error) {
	v, err := a.f.toStrings(a.dtype, a.raw, a.rawOff)
	return v, a.wrap(err)
}

func (a *Attribute) wrap(err error) error {
	if err != nil {
		return fmt.Errorf("hdf5: read attribute %q of %s: %w", a.name, a.owner, err)
	}
	return nil
}

// attributes returns the attributes of the object with header oh, by name or, when the object
// tracks attribute creation order, by creation order (as h5py lists them).
func (f *File) attributes(oh *objectHeader, owner string) ([]*Attribute, error) {
	out, err := f.readAttributes(oh, owner)
	if err != nil {
		return nil, fmt.Errorf("hdf5: attributes of %s: %w", owner, err)
	}
	return out, nil
}

func (f *File) readAttributes(oh *objectHeader, owner string) ([]*Attribute, error) {
	var out []*Attribute
	byCrt := oh.attrCrtTracked()
	for i := range oh.msgs {
		m := &oh.msgs[i]
		if m.typ != msgAttribute {
			continue
		}
		data, off, err := f.messageData(m)
		if err != nil {
			return nil, err
		}
		a, err := f.parseAttribute(data, off, owner)
		if err != nil {
			return nil, err
		}
		a.crt = int64(m.crt)
		out = append(out, a)
	}
	if m := oh.first(msgAttrInfo); m != nil {
		d := f.newDecoder(m.data, m.off, "attribute info message")
		if v := d.u8(); d.err == nil && v != 0 {
			d.fail("version %d, want 0", v)
		}
		flags := d.u8()
		if flags&1 != 0 {
			d.u16() // maximum creation index
			byCrt = true
		}
		heapAddr := d.addr()
		nameIndex := d.addr()
		if d.err != nil {
			return nil, d.err
		}
		if heapAddr != undefAddr {
			dense, err := f.denseAttributes(heapAddr, nameIndex, owner)
			if err != nil {
				return nil, err
			}
			out = append(out, dense...)
		}
	}
	if byCrt {
		slices.SortStableFunc(out, func(a, b *Attribute) int { return cmp.Compare(a.crt, b.crt) })
	} else {
		slices.SortStableFunc(out, func(a, b *Attribute) int { return strings.Compare(a.name, b.name) })
	}
	return out, nil
}

// denseAttributes reads attributes stored in a fractal heap indexed by a v2 B-tree (type 8).
func (f *File) denseAttributes(heapAddr, nameIndex uint64, owner string) ([]*Attribute, error) {
	heap, err := f.openFractalHeap(heapAddr)
	if err != nil {
		return nil, err
	}
	bt, err := f.readBTree2(nameIndex, 8)
	if err != nil {
		return nil, err
	}
	var out []*Attribute
	err = bt.walk(func(rec []byte, off int64) error {
		const what = "attribute name index record"
		if len(rec) < 10 {
			return formatErr(what, off, "record of %d bytes", len(rec))
		}
		idLen := len(rec) - 9
		flags := rec[idLen]
		crt := binary.LittleEndian.Uint32(rec[idLen+1:])
		if flags&msgFlagShared != 0 {
			return unsupported("attribute shared in the file's shared-message heap (record at offset %d)", off)
		}
		obj, err := heap.object(rec[:idLen], off)
		if err != nil {
			return err
		}
		a, err := f.parseAttribute(obj, -1, owner)
		if err != nil {
			return err
		}
		a.crt = int64(crt)
		out = append(out, a)
		return nil
	})
	return out, err
}

// findAttr returns the attribute called name of the object with header oh.
func findAttr(f *File, oh *objectHeader, owner, name string) (*Attribute, error) {
	attrs, err := f.attributes(oh, owner)
	if err != nil {
		return nil, err
	}
	for _, a := range attrs {
		if a.name == name {
			return a, nil
		}
	}
	return nil, fmt.Errorf("hdf5: attribute %q of %s: %w", name, owner, ErrNotFound)
}

// parseAttribute decodes an attribute message body (versions 1 to 3).
func (f *File) parseAttribute(data []byte, off int64, owner string) (*Attribute, error) {
	const what = "attribute message"
	d := f.newDecoder(data, off, what)
	version := d.u8()
	if d.err == nil && (version < 1 || version > 3) {
		d.fail("unknown version %d", version)
	}
	flags := d.u8() // reserved in version 1
	if version == 1 {
		flags = 0
	}
	nameLen := int(d.u16())
	dtLen := int(d.u16())
	dsLen := int(d.u16())
	if version == 3 {
		d.u8() // character set of the name
	}
	pad := func(n int) int {
		if version == 1 {
			return (n + 7) &^ 7
		}
		return n
	}
	nameB := d.bytes(nameLen)
	d.skip(pad(nameLen) - nameLen)
	dtOff := d.pos()
	dtB := d.bytes(dtLen)
	d.skip(pad(dtLen) - dtLen)
	dsOff := d.pos()
	dsB := d.bytes(dsLen)
	d.skip(pad(dsLen) - dsLen)
	if d.err != nil {
		return nil, d.err
	}
	if i := bytes.IndexByte(nameB, 0); i >= 0 {
		nameB = nameB[:i]
	}
	a := &Attribute{f: f, owner: owner, name: string(nameB)}
	var err error
	if flags&1 != 0 {
		if dtB, dtOff, err = f.sharedMessage(msgDatatype, dtB, dtOff, 0); err != nil {
			return nil, err
		}
	}
	if a.dtype, err = f.parseDatatype(dtB, dtOff); err != nil {
		return nil, err
	}
	if flags&2 != 0 {
		if dsB, dsOff, err = f.sharedMessage(msgDataspace, dsB, dsOff, 0); err != nil {
			return nil, err
		}
	}
	if a.space, err = f.parseDataspace(dsB, dsOff); err != nil {
		return nil, err
	}
	n, ok := mulOK(a.space.n, uint64(a.dtype.Size))
	if !ok || n > uint64(d.remaining()) {
		return nil, formatErr(what, off, "attribute %q: %d elements of %d bytes exceed the message", a.name, a.space.n, a.dtype.Size)
	}
	a.rawOff = d.pos()
	a.raw = d.bytes(int(n))
	return a, d.err
}
