package hdf5

import (
	"encoding/binary"
	"fmt"
)

// chunkLoc locates one stored chunk.
type chunkLoc struct {
	scaled []uint64 // chunk coordinates, in units of chunks
	addr   uint64
	size   uint64 // stored (possibly filtered) size in bytes
	mask   uint32 // filters skipped
}

// chunkGeom is the geometry of a chunked dataset.
type chunkGeom struct {
	dims, chunk []uint64
	nchunks     []uint64 // chunks per dimension in the current extent
	maxChunks   []uint64 // chunks per dimension in the maximum extent (0 = unlimited)
	es          uint64
	chunkBytes  uint64
}

func (d *Dataset) geometry() (*chunkGeom, error) {
	l := d.layout
	rank := len(d.space.Dims)
	g := &chunkGeom{es: uint64(d.dtype.Size)}
	g.dims = make([]uint64, rank)
	g.chunk = make([]uint64, rank)
	g.nchunks = make([]uint64, rank)
	g.maxChunks = make([]uint64, rank)
	cb := g.es
	for i := range rank {
		g.dims[i] = uint64(d.space.Dims[i])
		g.chunk[i] = uint64(l.Chunk[i])
		g.nchunks[i] = (g.dims[i] + g.chunk[i] - 1) / g.chunk[i]
		if m := d.space.MaxDims[i]; m != Unlimited {
			g.maxChunks[i] = (uint64(m) + g.chunk[i] - 1) / g.chunk[i]
		}
		var ok bool
		if cb, ok = mulOK(cb, g.chunk[i]); !ok {
			return nil, formatErr("data layout message", -1, "chunk size overflows")
		}
	}
	if err := d.f.checkDataSize(cb, "chunk of dataset "+d.path); err != nil {
		return nil, err
	}
	g.chunkBytes = cb
	return g, nil
}

// partial reports whether the chunk at scaled extends beyond the current dimensions.
func (g *chunkGeom) partial(scaled []uint64) bool {
	for i, s := range scaled {
		if (s+1)*g.chunk[i] > g.dims[i] {
			return true
		}
	}
	return false
}

// inExtent reports whether the chunk at scaled intersects the current dimensions.
func (g *chunkGeom) inExtent(scaled []uint64) bool {
	for i, s := range scaled {
		if s >= g.nchunks[i] {
			return false
		}
	}
	return true
}

// forEachChunk calls fn with the coordinates of every chunk of the current extent, in row-major
// order. The slice is reused between calls.
func (g *chunkGeom) forEachChunk(fn func(scaled []uint64) error) error {
	for _, n := range g.nchunks {
		if n == 0 {
			return nil
		}
	}
	idx := make([]uint64, len(g.nchunks))
	for {
		if err := fn(idx); err != nil {
			return err
		}
		k := len(idx) - 1
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < g.nchunks[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return nil
		}
	}
}

// linear returns the row-major index of a chunk in a grid of the given sizes, taking the
// dimensions in order (a permutation of 0..rank-1). The size of order[0] is not used.
func linear(scaled, sizes []uint64, order []int) uint64 {
	var idx uint64
	for _, k := range order {
		idx = idx*sizes[k] + scaled[k]
	}
	return idx
}

// copyChunk copies the part of a decoded chunk that lies within the dataset into out.
func (g *chunkGeom) copyChunk(out, data []byte, scaled []uint64) {
	rank := len(g.dims)
	if rank == 0 {
		copy(out, data)
		return
	}
	start := make([]uint64, rank)
	ext := make([]uint64, rank)
	for i := range rank {
		start[i] = scaled[i] * g.chunk[i]
		ext[i] = min(g.chunk[i], g.dims[i]-start[i])
	}
	outStride := make([]uint64, rank)
	chStride := make([]uint64, rank)
	os, cs := g.es, g.es
	for i := rank - 1; i >= 0; i-- {
		outStride[i], chStride[i] = os, cs
		os *= g.dims[i]
		cs *= g.chunk[i]
	}
	run := ext[rank-1] * g.es
	idx := make([]uint64, rank)
	for {
		var oo, co uint64
		for i := range rank {
			oo += (start[i] + idx[i]) * outStride[i]
			co += idx[i] * chStride[i]
		}
		copy(out[oo:oo+run], data[co:co+run])
		k := rank - 2
		for ; k >= 0; k-- {
			idx[k]++
			if idx[k] < ext[k] {
				break
			}
			idx[k] = 0
		}
		if k < 0 {
			return
		}
	}
}

func (d *Dataset) readChunked() ([]byte, error) {
	total, err := d.dataBytes()
	if err != nil {
		return nil, err
	}
	g, err := d.geometry()
	if err != nil {
		return nil, err
	}
	out, err := d.filled(total)
	if err != nil {
		return nil, err
	}
	l := d.layout
	if l.addr == undefAddr {
		return out, nil // no chunk written yet
	}
	// Tree indexes could list a chunk twice in a corrupt file; the budget bounds the decoding
	// work of one read (chunks can be larger than the part of them inside the dataset).
	listed := map[uint64]bool{}
	order := identity(len(g.dims))
	budget, ok := mulOK(uint64(d.f.maxBytes), 4)
	if !ok {
		budget = ^uint64(0)
	}
	var decoded uint64
	visit := func(c chunkLoc) error {
		if !g.inExtent(c.scaled) {
			return nil
		}
		if l.Index == IndexBTree1 || l.Index == IndexBTree2 {
			k := linear(c.scaled, g.nchunks, order)
			if listed[k] {
				return formatErr("chunk index", -1, "dataset %s: chunk %v listed twice", d.path, c.scaled)
			}
			listed[k] = true
		}
		if decoded += g.chunkBytes; decoded > budget {
			return fmt.Errorf("hdf5: decoding the chunks of %s needs more than %d bytes (4 x Options.MaxDataBytes)", d.path, budget)
		}
		data, err := d.readChunk(g, c)
		if err != nil {
			return err
		}
		g.copyChunk(out, data, c.scaled)
		return nil
	}
	rank := len(g.dims)
	switch l.Index {
	case IndexBTree1:
		err = d.btree1Chunks(g, visit)
	case IndexSingle:
		size := g.chunkBytes
		if l.flags&2 != 0 {
			size = l.singleSize
		}
		err = visit(chunkLoc{scaled: make([]uint64, rank), addr: l.addr, size: size, mask: l.singleMask})
	case IndexImplicit:
		err = g.forEachChunk(func(s []uint64) error {
			idx := linear(s, g.maxChunks, order)
			off, ok1 := mulOK(idx, g.chunkBytes)
			addr, ok2 := addOK(l.addr, off)
			if !ok1 || !ok2 {
				return formatErr("implicit chunk index", -1, "chunk address overflows")
			}
			return visit(chunkLoc{scaled: s, addr: addr, size: g.chunkBytes})
		})
	case IndexFixedArray:
		err = d.fixedArrayChunks(g, visit)
	case IndexExtensible:
		err = d.extensibleArrayChunks(g, visit)
	case IndexBTree2:
		err = d.btree2Chunks(g, visit)
	default:
		err = unsupported("chunk index %d", l.Index)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func identity(n int) []int {
	o := make([]int, n)
	for i := range o {
		o[i] = i
	}
	return o
}

// readChunk reads and decodes one chunk; the result holds at least chunkBytes bytes.
func (d *Dataset) readChunk(g *chunkGeom, c chunkLoc) ([]byte, error) {
	const what = "chunk"
	filters := d.layout.Filters
	if d.layout.flags&1 != 0 && g.partial(c.scaled) {
		filters = nil // partial edge chunks are stored unfiltered
	}
	size := c.size
	if len(filters) == 0 {
		size = g.chunkBytes
	}
	if size > uint64(d.f.size) {
		return nil, formatErr(what, -1, "chunk %v of %s: stored size %d exceeds the file", c.scaled, d.path, size)
	}
	raw, off, err := d.f.readAt(c.addr, size, what)
	if err != nil {
		return nil, err
	}
	data := raw
	if len(filters) > 0 {
		if data, err = d.f.unfilter(filters, c.mask, raw, g.chunkBytes, what, off); err != nil {
			return nil, err
		}
	}
	if uint64(len(data)) < g.chunkBytes {
		return nil, formatErr(what, off, "chunk %v of %s decodes to %d bytes, want %d", c.scaled, d.path, len(data), g.chunkBytes)
	}
	return data, nil
}

// btree1Chunks walks a version 1 B-tree chunk index (layout versions 1 to 3).
func (d *Dataset) btree1Chunks(g *chunkGeom, visit func(chunkLoc) error) error {
	rank := len(g.dims)
	keySize := 8 + 8*(rank+1)
	return d.f.btree1Walk(d.layout.addr, 1, keySize, func(key []byte, keyOff int64, child uint64) error {
		c := chunkLoc{addr: child, scaled: make([]uint64, rank)}
		c.size = uint64(binary.LittleEndian.Uint32(key))
		c.mask = binary.LittleEndian.Uint32(key[4:])
		for i := range rank {
			o := binary.LittleEndian.Uint64(key[8+8*i:])
			if o%g.chunk[i] != 0 {
				return formatErr("v1 B-tree chunk key", keyOff, "offset %d in dimension %d is not a multiple of the chunk size %d", o, i, g.chunk[i])
			}
			c.scaled[i] = o / g.chunk[i]
		}
		return visit(c)
	})
}

// btree2Chunks walks a version 2 B-tree chunk index (record types 10 and 11).
func (d *Dataset) btree2Chunks(g *chunkGeom, visit func(chunkLoc) error) error {
	f := d.f
	rank := len(g.dims)
	filtered := len(d.layout.Filters) > 0
	typ := uint8(10)
	if filtered {
		typ = 11
	}
	bt, err := f.readBTree2(d.layout.addr, typ)
	if err != nil {
		return err
	}
	sizeLen := 0
	if filtered {
		sizeLen = bt.recSize - f.offSize - 4 - 8*rank
		if sizeLen < 1 || sizeLen > 8 {
			return formatErr("v2 B-tree header", bt.off, "record size %d does not fit %d dimensions", bt.recSize, rank)
		}
	} else if bt.recSize != f.offSize+8*rank {
		return formatErr("v2 B-tree header", bt.off, "record size %d does not fit %d dimensions", bt.recSize, rank)
	}
	return bt.walk(func(rec []byte, off int64) error {
		rd := f.newDecoder(rec, off, "v2 B-tree chunk record")
		c := chunkLoc{scaled: make([]uint64, rank), size: g.chunkBytes}
		c.addr = rd.addr()
		if filtered {
			c.size = rd.uvar(sizeLen)
			c.mask = rd.u32()
		}
		for i := range c.scaled {
			c.scaled[i] = rd.u64()
		}
		if rd.err != nil {
			return rd.err
		}
		if c.addr == undefAddr {
			return nil
		}
		return visit(c)
	})
}

// arrayElem decodes one chunk entry of a fixed or extensible array.
func (d *Dataset) arrayElem(b []byte, off int64, filtered bool, scaled []uint64, chunkBytes uint64) (chunkLoc, error) {
	f := d.f
	rd := f.newDecoder(b, off, "chunk index element")
	c := chunkLoc{scaled: scaled, size: chunkBytes}
	c.addr = rd.addr()
	if filtered {
		c.size = rd.uvar(len(b) - f.offSize - 4)
		c.mask = rd.u32()
	}
	return c, rd.err
}

// fixedArrayChunks reads a fixed array chunk index.
func (d *Dataset) fixedArrayChunks(g *chunkGeom, visit func(chunkLoc) error) error {
	f := d.f
	const what = "fixed array header"
	hsize := uint64(4 + 4 + f.lenSize + f.offSize + 4)
	buf, off, err := f.readAt(d.layout.addr, hsize, what)
	if err != nil {
		return err
	}
	if err := f.verifyChecksum(buf, what, off); err != nil {
		return err
	}
	hd := f.newDecoder(buf, off, what)
	hd.signature("FAHD")
	if v := hd.u8(); hd.err == nil && v != 0 {
		hd.fail("version %d, want 0", v)
	}
	client := hd.u8()
	esize := int(hd.u8())
	pageBits := int(hd.u8())
	nelmts := hd.length()
	dblk := hd.addr()
	if hd.err != nil {
		return hd.err
	}
	filtered := len(d.layout.Filters) > 0
	if filtered && client != 1 || !filtered && client != 0 {
		return formatErr(what, off, "client %d for a dataset with %d filters", client, len(d.layout.Filters))
	}
	if err := checkElemSize(f, esize, filtered, what, off); err != nil {
		return err
	}
	if pageBits < 1 || pageBits > 32 {
		return formatErr(what, off, "page bits %d", pageBits)
	}
	maxN := uint64(1)
	for _, m := range g.maxChunks {
		maxN *= m // fixed arrays index datasets without unlimited dimensions
	}
	if nelmts < maxN {
		return formatErr(what, off, "%d elements for %d chunks", nelmts, maxN)
	}
	if dblk == undefAddr {
		return nil
	}
	const dwhat = "fixed array data block"
	pageN := uint64(1) << pageBits
	paged := nelmts > pageN
	var npages, bitmapSize uint64
	if paged {
		npages = (nelmts + pageN - 1) / pageN
		bitmapSize = (npages + 7) / 8
	}
	prefix := uint64(6+f.offSize) + bitmapSize
	var elems []byte
	var elemsOff int64
	var bitmap []byte
	if !paged {
		n, ok := mulOK(nelmts, uint64(esize))
		if !ok || n > uint64(f.size) {
			return formatErr(dwhat, -1, "%d elements of %d bytes exceed the file", nelmts, esize)
		}
		b, boff, err := f.readAt(dblk, prefix+n+4, dwhat)
		if err != nil {
			return err
		}
		if err := f.verifyChecksum(b, dwhat, boff); err != nil {
			return err
		}
		elems, elemsOff = b[prefix:prefix+n], boff+int64(prefix)
		if err := checkArrayBlock(f, b, boff, dwhat, "FADB", client, d.layout.addr); err != nil {
			return err
		}
	} else {
		b, boff, err := f.readAt(dblk, prefix+4, dwhat)
		if err != nil {
			return err
		}
		if err := f.verifyChecksum(b, dwhat, boff); err != nil {
			return err
		}
		if err := checkArrayBlock(f, b, boff, dwhat, "FADB", client, d.layout.addr); err != nil {
			return err
		}
		bitmap = b[6+f.offSize : prefix]
	}
	pageSize := pageN*uint64(esize) + 4
	pages := map[uint64][]byte{}
	order := identity(len(g.dims))
	return g.forEachChunk(func(s []uint64) error {
		idx := linear(s, g.maxChunks, order)
		if idx >= nelmts {
			return formatErr(what, off, "chunk %v has index %d beyond %d elements", s, idx, nelmts)
		}
		var e []byte
		var eoff int64
		if !paged {
			e, eoff = elems[idx*uint64(esize):(idx+1)*uint64(esize)], elemsOff+int64(idx)*int64(esize)
		} else {
			p := idx / pageN
			if bitmap[p/8]&(0x80>>(p%8)) == 0 {
				return nil // page not initialized: no chunk stored
			}
			page, ok := pages[p]
			if !ok {
				n := pageN
				if p == npages-1 {
					n = nelmts - p*pageN
				}
				pa := dblk + prefix + 4 + p*pageSize
				b, boff, err := f.readAt(pa, n*uint64(esize)+4, "fixed array data block page")
				if err != nil {
					return err
				}
				if err := f.verifyChecksum(b, "fixed array data block page", boff); err != nil {
					return err
				}
				page = b[:len(b)-4]
				pages[p] = page
			}
			i := idx - p*pageN
			e, eoff = page[i*uint64(esize):(i+1)*uint64(esize)], -1
		}
		c, err := d.arrayElem(e, eoff, filtered, append([]uint64(nil), s...), g.chunkBytes)
		if err != nil {
			return err
		}
		if c.addr == undefAddr {
			return nil
		}
		return visit(c)
	})
}

// checkElemSize checks the element size of a fixed or extensible array chunk index.
func checkElemSize(f *File, esize int, filtered bool, what string, off int64) error {
	if !filtered && esize != f.offSize || filtered && (esize < f.offSize+5 || esize > f.offSize+12) {
		return formatErr(what, off, "element size %d (filtered: %v)", esize, filtered)
	}
	return nil
}

// checkArrayBlock checks the common prefix of fixed and extensible array blocks: signature,
// version 0, client ID and the header address.
func checkArrayBlock(f *File, b []byte, off int64, what, sig string, client uint8, hdr uint64) error {
	d := f.newDecoder(b, off, what)
	d.signature(sig)
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	if c := d.u8(); d.err == nil && c != client {
		d.fail("client %d, want %d", c, client)
	}
	if a := d.addr(); d.err == nil && a != hdr {
		d.fail("header address %d, want %d", a, hdr)
	}
	return d.err
}

// extensibleArray is an open extensible array chunk index.
type extensibleArray struct {
	d                       *Dataset
	hdrAddr                 uint64
	client                  uint8
	esize                   int
	maxBits, idxElmts       int
	minElmts, minPtrs       uint64
	pageBits                int
	arrOffSize              int
	sblk                    []eaSuperInfo
	iblockElems             []byte
	iblockElemsOff          int64
	dblkAddrs, sblkAddrs    []uint64
	iblockSblks             int
	filtered                bool
	haveIndex               bool // the index block is allocated
	dblockCache             map[uint64][]byte
	sblockCache             map[uint64]*eaSuperBlock
	pageNelmts, dblkPageLen uint64
}

type eaSuperInfo struct {
	ndblks, dblkNelmts, startIdx, startDblk uint64
}

type eaSuperBlock struct {
	dblks    []uint64
	pageInit []byte // ndblks * pageInitSize bytes (paged data blocks only)
	initSize uint64
}

// extensibleArrayChunks reads an extensible array chunk index.
func (d *Dataset) extensibleArrayChunks(g *chunkGeom, visit func(chunkLoc) error) error {
	ea, err := d.openExtensibleArray()
	if err != nil {
		return err
	}
	// The unlimited dimension comes first in the linear order ("swizzled").
	rank := len(g.dims)
	unlim := -1
	for i, m := range d.space.MaxDims {
		if m == Unlimited {
			unlim = i
			break
		}
	}
	if unlim < 0 {
		return formatErr("extensible array chunk index", -1, "dataset %s has no unlimited dimension", d.path)
	}
	order := append([]int{unlim}, identity(rank)...)
	order = append(order[:unlim+1], order[unlim+2:]...)
	return g.forEachChunk(func(s []uint64) error {
		idx := linear(s, g.maxChunks, order)
		e, eoff, err := ea.element(idx)
		if err != nil || e == nil {
			return err
		}
		c, err := d.arrayElem(e, eoff, ea.filtered, append([]uint64(nil), s...), g.chunkBytes)
		if err != nil {
			return err
		}
		if c.addr == undefAddr {
			return nil
		}
		return visit(c)
	})
}

func (d *Dataset) openExtensibleArray() (*extensibleArray, error) {
	f := d.f
	const what = "extensible array header"
	hsize := uint64(12 + 6*f.lenSize + f.offSize + 4)
	buf, off, err := f.readAt(d.layout.addr, hsize, what)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(buf, what, off); err != nil {
		return nil, err
	}
	hd := f.newDecoder(buf, off, what)
	hd.signature("EAHD")
	if v := hd.u8(); hd.err == nil && v != 0 {
		hd.fail("version %d, want 0", v)
	}
	ea := &extensibleArray{d: d, hdrAddr: d.layout.addr, dblockCache: map[uint64][]byte{}, sblockCache: map[uint64]*eaSuperBlock{}}
	ea.client = hd.u8()
	ea.esize = int(hd.u8())
	ea.maxBits = int(hd.u8())
	ea.idxElmts = int(hd.u8())
	ea.minElmts = uint64(hd.u8())
	ea.minPtrs = uint64(hd.u8())
	ea.pageBits = int(hd.u8())
	for range 6 {
		hd.length() // statistics
	}
	iblk := hd.addr()
	if hd.err != nil {
		return nil, hd.err
	}
	ea.filtered = len(d.layout.Filters) > 0
	if ea.filtered && ea.client != 1 || !ea.filtered && ea.client != 0 {
		return nil, formatErr(what, off, "client %d for a dataset with %d filters", ea.client, len(d.layout.Filters))
	}
	if err := checkElemSize(f, ea.esize, ea.filtered, what, off); err != nil {
		return nil, err
	}
	if ea.maxBits < 1 || ea.maxBits > 64 || ea.idxElmts < 1 || !isPow2(ea.minElmts) || !isPow2(ea.minPtrs) ||
		ea.pageBits < 1 || ea.pageBits > 32 || log2(ea.minElmts) > ea.maxBits {
		return nil, formatErr(what, off, "creation parameters: max bits %d, index block elements %d, data block min elements %d, super block min pointers %d, page bits %d",
			ea.maxBits, ea.idxElmts, ea.minElmts, ea.minPtrs, ea.pageBits)
	}
	ea.arrOffSize = (ea.maxBits + 7) / 8
	ea.pageNelmts = 1 << ea.pageBits
	// Super block table (H5EA__hdr_init).
	nsblks := 1 + ea.maxBits - log2(ea.minElmts)
	var startIdx, startDblk uint64
	for u := range nsblks {
		info := eaSuperInfo{ndblks: 1 << (u / 2), startIdx: startIdx, startDblk: startDblk}
		info.dblkNelmts = (1 << ((u + 1) / 2)) * ea.minElmts
		ea.sblk = append(ea.sblk, info)
		n, ok1 := mulOK(info.ndblks, info.dblkNelmts)
		s, ok2 := addOK(startIdx, n)
		if !ok1 || !ok2 {
			break
		}
		startIdx, startDblk = s, startDblk+info.ndblks
	}
	if iblk == undefAddr {
		return ea, nil
	}
	// Index block.
	const iwhat = "extensible array index block"
	ea.iblockSblks = 2 * log2(ea.minPtrs)
	ndblk := 2 * (ea.minPtrs - 1)
	nsblkAddrs := max(0, len(ea.sblk)-ea.iblockSblks)
	isize := uint64(6+f.offSize) + uint64(ea.idxElmts*ea.esize) + (ndblk+uint64(nsblkAddrs))*uint64(f.offSize) + 4
	ib, ioff, err := f.readAt(iblk, isize, iwhat)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(ib, iwhat, ioff); err != nil {
		return nil, err
	}
	if err := checkArrayBlock(f, ib, ioff, iwhat, "EAIB", ea.client, ea.hdrAddr); err != nil {
		return nil, err
	}
	id := f.newDecoder(ib, ioff, iwhat)
	id.skip(6 + f.offSize)
	ea.iblockElemsOff = id.pos()
	ea.iblockElems = id.bytes(ea.idxElmts * ea.esize)
	ea.dblkAddrs = make([]uint64, ndblk)
	for i := range ea.dblkAddrs {
		ea.dblkAddrs[i] = id.addr()
	}
	ea.sblkAddrs = make([]uint64, nsblkAddrs)
	for i := range ea.sblkAddrs {
		ea.sblkAddrs[i] = id.addr()
	}
	if id.err != nil {
		return nil, id.err
	}
	ea.haveIndex = true
	return ea, nil
}

// element returns the raw element idx of the array, or nil when it is not stored.
func (ea *extensibleArray) element(idx uint64) ([]byte, int64, error) {
	if !ea.haveIndex {
		return nil, 0, nil
	}
	es := uint64(ea.esize)
	if idx < uint64(ea.idxElmts) {
		return ea.iblockElems[idx*es : (idx+1)*es], ea.iblockElemsOff + int64(idx*es), nil
	}
	idx -= uint64(ea.idxElmts)
	s := log2(idx/ea.minElmts + 1)
	if s >= len(ea.sblk) {
		return nil, 0, formatErr("extensible array", -1, "element %d beyond the array's %d super blocks", idx, len(ea.sblk))
	}
	info := ea.sblk[s]
	rel := idx - info.startIdx
	var dblkAddr uint64
	var sb *eaSuperBlock
	var dblkInSb uint64
	if s < ea.iblockSblks {
		k := info.startDblk + rel/info.dblkNelmts
		if k >= uint64(len(ea.dblkAddrs)) {
			return nil, 0, formatErr("extensible array index block", -1, "data block %d beyond %d", k, len(ea.dblkAddrs))
		}
		dblkAddr = ea.dblkAddrs[k]
	} else {
		sa := ea.sblkAddrs[s-ea.iblockSblks]
		if sa == undefAddr {
			return nil, 0, nil
		}
		var err error
		if sb, err = ea.superBlock(sa, info); err != nil {
			return nil, 0, err
		}
		dblkInSb = rel / info.dblkNelmts
		dblkAddr = sb.dblks[dblkInSb]
	}
	if dblkAddr == undefAddr {
		return nil, 0, nil
	}
	elm := rel % info.dblkNelmts
	return ea.dataBlockElem(dblkAddr, info.dblkNelmts, elm, sb, dblkInSb)
}

func (ea *extensibleArray) superBlock(addr uint64, info eaSuperInfo) (*eaSuperBlock, error) {
	if sb, ok := ea.sblockCache[addr]; ok {
		return sb, nil
	}
	f := ea.d.f
	const what = "extensible array super block"
	var initSize uint64
	if info.dblkNelmts > ea.pageNelmts {
		initSize = (info.dblkNelmts/ea.pageNelmts + 7) / 8
	}
	if info.ndblks > uint64(f.size) {
		return nil, formatErr(what, -1, "%d data blocks", info.ndblks)
	}
	size := uint64(6+f.offSize+ea.arrOffSize) + info.ndblks*initSize + info.ndblks*uint64(f.offSize) + 4
	b, off, err := f.readAt(addr, size, what)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(b, what, off); err != nil {
		return nil, err
	}
	if err := checkArrayBlock(f, b, off, what, "EASB", ea.client, ea.hdrAddr); err != nil {
		return nil, err
	}
	d := f.newDecoder(b, off, what)
	d.skip(6 + f.offSize + ea.arrOffSize)
	sb := &eaSuperBlock{initSize: initSize}
	sb.pageInit = d.bytes(int(info.ndblks * initSize))
	sb.dblks = make([]uint64, info.ndblks)
	for i := range sb.dblks {
		sb.dblks[i] = d.addr()
	}
	if d.err != nil {
		return nil, d.err
	}
	ea.sblockCache[addr] = sb
	return sb, nil
}

// dataBlockElem returns element elm of the data block at addr holding nelmts elements.
func (ea *extensibleArray) dataBlockElem(addr, nelmts, elm uint64, sb *eaSuperBlock, dblkInSb uint64) ([]byte, int64, error) {
	f := ea.d.f
	const what = "extensible array data block"
	es := uint64(ea.esize)
	prefix := uint64(6 + f.offSize + ea.arrOffSize)
	if nelmts <= ea.pageNelmts {
		b, ok := ea.dblockCache[addr]
		if !ok {
			n, ok := mulOK(nelmts, es)
			if !ok || n > uint64(f.size) {
				return nil, 0, formatErr(what, -1, "data block of %d elements", nelmts)
			}
			buf, off, err := f.readAt(addr, prefix+n+4, what)
			if err != nil {
				return nil, 0, err
			}
			if err := f.verifyChecksum(buf, what, off); err != nil {
				return nil, 0, err
			}
			if err := checkArrayBlock(f, buf, off, what, "EADB", ea.client, ea.hdrAddr); err != nil {
				return nil, 0, err
			}
			b = buf[prefix : prefix+n]
			ea.dblockCache[addr] = b
		}
		return b[elm*es : (elm+1)*es], -1, nil
	}
	// Paged data block: pages follow the block's prefix and checksum.
	page := elm / ea.pageNelmts
	if sb != nil {
		bm := sb.pageInit[dblkInSb*sb.initSize : (dblkInSb+1)*sb.initSize]
		if page/8 >= uint64(len(bm)) || bm[page/8]&(0x80>>(page%8)) == 0 {
			return nil, 0, nil
		}
	}
	pageSize := ea.pageNelmts*es + 4
	pa := addr + prefix + 4 + page*pageSize
	key := pa
	b, ok := ea.dblockCache[key]
	if !ok {
		buf, off, err := f.readAt(pa, pageSize, "extensible array data block page")
		if err != nil {
			return nil, 0, err
		}
		if err := f.verifyChecksum(buf, "extensible array data block page", off); err != nil {
			return nil, 0, err
		}
		b = buf[:len(buf)-4]
		ea.dblockCache[key] = b
	}
	i := elm % ea.pageNelmts
	return b[i*es : (i+1)*es], -1, nil
}
