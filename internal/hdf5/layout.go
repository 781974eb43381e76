package hdf5

import (
	"encoding/binary"
)

// LayoutClass is how a dataset's raw data is stored.
type LayoutClass int

// Layout classes.
const (
	Compact    LayoutClass = 0
	Contiguous LayoutClass = 1
	Chunked    LayoutClass = 2
	Virtual    LayoutClass = 3
)

// String returns "compact", "contiguous", "chunked" or "virtual".
func (c LayoutClass) String() string {
	switch c {
	case Compact:
		return "compact"
	case Contiguous:
		return "contiguous"
	case Chunked:
		return "chunked"
	case Virtual:
		return "virtual"
	}
	return "unknown"
}

// ChunkIndex is the kind of index of a chunked dataset.
type ChunkIndex int

// Chunk index kinds (the numbering of the layout message, version 4).
const (
	IndexBTree1     ChunkIndex = 0 // version 1 B-tree (layout message versions 1 to 3)
	IndexSingle     ChunkIndex = 1 // a single chunk
	IndexImplicit   ChunkIndex = 2 // chunks at computed addresses, allocated early, unfiltered
	IndexFixedArray ChunkIndex = 3
	IndexExtensible ChunkIndex = 4  // extensible array (one unlimited dimension)
	IndexBTree2     ChunkIndex = 5  // version 2 B-tree (several unlimited dimensions)
	IndexNone       ChunkIndex = -1 // not a chunked dataset
)

// String returns the index name used in tests and messages, e.g. "fixed-array".
func (c ChunkIndex) String() string {
	switch c {
	case IndexBTree1:
		return "btree1"
	case IndexSingle:
		return "single"
	case IndexImplicit:
		return "implicit"
	case IndexFixedArray:
		return "fixed-array"
	case IndexExtensible:
		return "extensible-array"
	case IndexBTree2:
		return "btree2"
	}
	return "none"
}

// Layout describes how a dataset is stored.
type Layout struct {
	Class   LayoutClass
	Version int        // version of the layout message
	Chunk   []int      // chunk dimensions (chunked only)
	Index   ChunkIndex // chunk index (IndexNone unless chunked)
	Filters []Filter   // filter pipeline (chunked only)

	compact      []byte
	addr         uint64 // contiguous data or chunk index address
	size         uint64 // contiguous data size
	flags        uint8  // version 4 chunked flags
	singleSize   uint64 // filtered single chunk size
	singleMask   uint32
	pageBits     int // fixed array
	eaMaxBits    int // extensible array creation parameters
	eaIdxElmts   int
	eaMinPtrs    int
	eaMinElmts   int
	eaPageBits   int
	elemSizeDim  uint64 // last chunk "dimension": the element size
	legacyChunks bool   // layout versions 1 and 2
}

// parseLayout decodes a data layout message body.
func (f *File) parseLayout(data []byte, off int64) (*Layout, error) {
	d := f.newDecoder(data, off, "data layout message")
	l := &Layout{Index: IndexNone}
	l.Version = int(d.u8())
	switch l.Version {
	case 1, 2:
		ndims := int(d.u8())
		l.Class = LayoutClass(d.u8())
		d.skip(5)
		if ndims < 1 || ndims > maxRank+1 {
			d.fail("dimensionality %d", ndims)
		}
		switch l.Class {
		case Contiguous, Chunked:
			l.addr = d.addr()
		case Compact:
		default:
			d.fail("layout class %d", l.Class)
		}
		dims := make([]uint64, ndims)
		for i := range dims {
			dims[i] = uint64(d.u32())
		}
		if l.Class == Chunked {
			l.Index = IndexBTree1
			l.legacyChunks = true
			if ndims < 2 {
				d.fail("chunked layout with dimensionality %d", ndims)
			}
			l.setChunkDims(d, dims)
		}
		if l.Class == Compact {
			n := d.u32()
			l.compact = d.bytes(int(min(n, 1<<31)))
		}
	case 3, 4:
		l.Class = LayoutClass(d.u8())
		switch l.Class {
		case Compact:
			n := d.u16()
			l.compact = d.bytes(int(n))
		case Contiguous:
			l.addr = d.addr()
			l.size = d.length()
		case Chunked:
			if l.Version == 3 {
				ndims := int(d.u8())
				if ndims < 2 || ndims > maxRank+1 {
					d.fail("chunk dimensionality %d", ndims)
					break
				}
				l.addr = d.addr()
				dims := make([]uint64, ndims)
				for i := range dims {
					dims[i] = uint64(d.u32())
				}
				l.Index = IndexBTree1
				l.setChunkDims(d, dims)
				break
			}
			l.flags = d.u8()
			if l.flags&^3 != 0 {
				d.fail("unknown chunked layout flags %#x", l.flags)
			}
			ndims := int(d.u8())
			enc := int(d.u8())
			if ndims < 2 || ndims > maxRank+1 {
				d.fail("chunk dimensionality %d", ndims)
			}
			if enc < 1 || enc > 8 {
				d.fail("chunk dimension encoded in %d bytes", enc)
			}
			if d.err != nil {
				break
			}
			dims := make([]uint64, ndims)
			for i := range dims {
				dims[i] = d.uvar(enc)
			}
			l.setChunkDims(d, dims)
			l.Index = ChunkIndex(d.u8())
			switch l.Index {
			case IndexSingle:
				if l.flags&2 != 0 {
					l.singleSize = d.length()
					l.singleMask = d.u32()
				}
			case IndexImplicit:
			case IndexFixedArray:
				l.pageBits = int(d.u8())
				if d.err == nil && (l.pageBits == 0 || l.pageBits > 32) {
					d.fail("fixed array page bits %d", l.pageBits)
				}
			case IndexExtensible:
				l.eaMaxBits = int(d.u8())
				l.eaIdxElmts = int(d.u8())
				l.eaMinPtrs = int(d.u8())
				l.eaMinElmts = int(d.u8())
				l.eaPageBits = int(d.u8())
			case IndexBTree2:
				d.u32() // node size
				d.u8()  // split percent
				d.u8()  // merge percent
			default:
				d.fail("chunk index type %d", l.Index)
			}
			l.addr = d.addr()
		case Virtual:
			if l.Version < 4 {
				d.fail("virtual layout in a version %d message", l.Version)
			}
		default:
			d.fail("layout class %d", l.Class)
		}
	default:
		d.fail("unknown version %d", l.Version)
	}
	if d.err != nil {
		return nil, d.err
	}
	return l, nil
}

// setChunkDims stores chunk dimensions; the last encoded dimension is the element size.
func (l *Layout) setChunkDims(d *decoder, dims []uint64) {
	if d.err != nil {
		return
	}
	if len(dims) < 2 {
		d.fail("chunk dimensionality %d", len(dims))
		return
	}
	l.Chunk = make([]int, len(dims)-1)
	for i, v := range dims[:len(dims)-1] {
		if v == 0 || v > 1<<32 {
			d.fail("chunk dimension %d is %d", i, v)
			return
		}
		l.Chunk[i] = int(v)
	}
	l.elemSizeDim = dims[len(dims)-1]
}

// fillValue is the decoded fill value property of a dataset.
type fillValue struct {
	defined bool // a value is stored (else the fill value is all zero bytes)
	value   []byte
	off     int64
}

// parseFill decodes a fill value message (new, type 5) body.
func (f *File) parseFill(data []byte, off int64) (fillValue, error) {
	d := f.newDecoder(data, off, "fill value message")
	var fv fillValue
	version := d.u8()
	switch version {
	case 1, 2:
		d.u8() // space allocation time
		d.u8() // fill value write time
		if defined := d.u8(); defined != 0 {
			n := d.u32()
			if n > 0 {
				fv.defined = true
				fv.off = d.pos()
				fv.value = d.bytes(int(min(n, 1<<31)))
			}
		}
	case 3:
		flags := d.u8()
		if flags&^0x3f != 0 {
			d.fail("unknown flags %#x", flags)
		}
		if flags&0x20 != 0 {
			n := d.u32()
			if n > 0 {
				fv.defined = true
				fv.off = d.pos()
				fv.value = d.bytes(int(min(n, 1<<31)))
			}
		}
	default:
		d.fail("unknown version %d", version)
	}
	if d.err != nil {
		return fillValue{}, d.err
	}
	return fv, nil
}

// parseOldFill decodes an old fill value message (type 4) body.
func (f *File) parseOldFill(data []byte, off int64) (fillValue, error) {
	if len(data) < 4 {
		return fillValue{}, formatErr("old fill value message", off, "truncated")
	}
	n := binary.LittleEndian.Uint32(data)
	if uint64(n) > uint64(len(data)-4) {
		return fillValue{}, formatErr("old fill value message", off, "value of %d bytes in a %d-byte message", n, len(data))
	}
	if n == 0 {
		return fillValue{}, nil
	}
	return fillValue{defined: true, value: data[4 : 4+n], off: off + 4}, nil
}
