package hdf5

import (
	"encoding/binary"
)

// fractalHeap is an open fractal heap (dense link and attribute storage).
type fractalHeap struct {
	f              *File
	addr           uint64
	off            int64
	idLen          int
	filterLen      int
	flags          uint8
	maxManSize     uint64
	hugeBTree      uint64
	width          uint64
	startBlockSize uint64
	maxDirectSize  uint64
	maxHeapBits    int
	rootAddr       uint64
	curRootRows    int
	rootFiltSize   uint64
	rootFiltMask   uint32
	pipeline       []Filter

	heapOffSize   int
	heapLenSize   int
	maxDirectRows int
	firstRowBits  int
	maxRootRows   int
	rowSize       []uint64 // block size of each row
	rowStart      []uint64 // offset of each row within an indirect block

	dblocks map[uint64][]byte
	iblocks map[uint64]*indirectBlock
}

type indirectBlock struct {
	entries []heapEntry
	nrows   int
}

type heapEntry struct {
	addr     uint64
	filtSize uint64
	filtMask uint32
}

func (f *File) openFractalHeap(addr uint64) (*fractalHeap, error) {
	const what = "fractal heap header"
	pre, off, err := f.readAt(addr, 11, what)
	if err != nil {
		return nil, err
	}
	filterLen := int(binary.LittleEndian.Uint16(pre[7:]))
	size := uint64(4+1+2+2+1+4+12*f.lenSize+3*f.offSize+2+2+2+2) + 4
	if filterLen > 0 {
		size += uint64(f.lenSize + 4 + filterLen)
	}
	buf, _, err := f.readAt(addr, size, what)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(buf, what, off); err != nil {
		return nil, err
	}
	h := &fractalHeap{f: f, addr: addr, off: off, dblocks: map[uint64][]byte{}, iblocks: map[uint64]*indirectBlock{}}
	d := f.newDecoder(buf, off, what)
	d.signature("FRHP")
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	h.idLen = int(d.u16())
	h.filterLen = int(d.u16())
	h.flags = d.u8()
	h.maxManSize = uint64(d.u32())
	d.length() // next huge object ID
	h.hugeBTree = d.addr()
	d.length() // free space in managed blocks
	d.addr()   // free-space manager
	d.length() // managed space
	d.length() // allocated managed space
	d.length() // direct block allocation iterator offset
	d.length() // number of managed objects
	d.length() // size of huge objects
	d.length() // number of huge objects
	d.length() // size of tiny objects
	d.length() // number of tiny objects
	h.width = uint64(d.u16())
	h.startBlockSize = d.length()
	h.maxDirectSize = d.length()
	h.maxHeapBits = int(d.u16())
	d.u16() // starting number of rows in the root indirect block
	h.rootAddr = d.addr()
	h.curRootRows = int(d.u16())
	if h.filterLen > 0 {
		h.rootFiltSize = d.length()
		h.rootFiltMask = d.u32()
		fb := d.bytes(h.filterLen)
		if d.err == nil {
			p, err := f.parseFilterPipeline(fb, off)
			if err != nil {
				return nil, err
			}
			h.pipeline = p
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	switch {
	case h.idLen < 2 || h.idLen > 1<<10:
		return nil, formatErr(what, off, "heap ID length %d", h.idLen)
	case !isPow2(h.width) || !isPow2(h.startBlockSize) || !isPow2(h.maxDirectSize) || h.maxDirectSize < h.startBlockSize:
		return nil, formatErr(what, off, "doubling table width %d, start block size %d, max direct block size %d", h.width, h.startBlockSize, h.maxDirectSize)
	case h.maxHeapBits < 1 || h.maxHeapBits > 64:
		return nil, formatErr(what, off, "maximum heap size %d bits", h.maxHeapBits)
	case h.maxDirectSize > 1<<31:
		return nil, formatErr(what, off, "max direct block size %d", h.maxDirectSize)
	}
	// Doubling table (H5HF__dtable_init).
	h.heapOffSize = (h.maxHeapBits + 7) / 8
	h.heapLenSize = min((log2(h.maxDirectSize)+7)/8, limitEncSize(h.maxManSize))
	h.maxDirectRows = log2(h.maxDirectSize) - log2(h.startBlockSize) + 2
	h.firstRowBits = log2(h.startBlockSize) + log2(h.width)
	h.maxRootRows = h.maxHeapBits - h.firstRowBits + 1
	if h.maxRootRows < 1 || h.maxRootRows > 64 {
		return nil, formatErr(what, off, "doubling table with %d rows", h.maxRootRows)
	}
	if h.curRootRows > h.maxRootRows {
		return nil, formatErr(what, off, "root indirect block has %d rows, more than %d", h.curRootRows, h.maxRootRows)
	}
	h.rowSize = make([]uint64, h.maxRootRows)
	h.rowStart = make([]uint64, h.maxRootRows+1)
	for r := range h.rowSize {
		if r == 0 {
			h.rowSize[r] = h.startBlockSize
		} else if r >= 64 || h.startBlockSize > (1<<63)>>(r-1) {
			h.rowSize[r] = 1 << 63
		} else {
			h.rowSize[r] = h.startBlockSize << (r - 1)
		}
		span, ok1 := mulOK(h.rowSize[r], h.width)
		start, ok2 := addOK(h.rowStart[r], span)
		if !ok1 || !ok2 {
			start = ^uint64(0)
		}
		h.rowStart[r+1] = start
	}
	return h, nil
}

// object returns the bytes of the heap object with the given heap ID.
func (h *fractalHeap) object(id []byte, idOff int64) ([]byte, error) {
	const what = "fractal heap ID"
	if len(id) == 0 {
		return nil, formatErr(what, idOff, "empty")
	}
	if id[0]>>6 != 0 {
		return nil, formatErr(what, idOff, "version %d, want 0", id[0]>>6)
	}
	switch id[0] >> 4 & 3 {
	case 0: // managed
		d := h.f.newDecoder(id[1:], idOff+1, what)
		off := d.uvar(h.heapOffSize)
		n := d.uvar(h.heapLenSize)
		if d.err != nil {
			return nil, d.err
		}
		return h.managed(off, n, idOff)
	case 1: // huge
		return h.huge(id, idOff)
	case 2: // tiny
		if h.idLen-1 <= 17 {
			n := int(id[0]&0x0f) + 1
			if n > len(id)-1 {
				return nil, formatErr(what, idOff, "tiny object of %d bytes in a %d-byte ID", n, len(id))
			}
			return id[1 : 1+n], nil
		}
		if len(id) < 2 {
			return nil, formatErr(what, idOff, "truncated")
		}
		n := (int(id[0]&0x0f)<<8 | int(id[1])) + 1
		if n > len(id)-2 {
			return nil, formatErr(what, idOff, "tiny object of %d bytes in a %d-byte ID", n, len(id))
		}
		return id[2 : 2+n], nil
	}
	return nil, formatErr(what, idOff, "unknown object type %d", id[0]>>4&3)
}

// managed returns the n bytes at heap offset off.
func (h *fractalHeap) managed(off, n uint64, idOff int64) ([]byte, error) {
	const what = "fractal heap managed object"
	if n == 0 || n > h.maxDirectSize {
		return nil, formatErr(what, idOff, "length %d", n)
	}
	if h.rootAddr == undefAddr {
		return nil, formatErr(what, idOff, "heap is empty")
	}
	var blockOff, blockSize uint64
	var entry heapEntry
	if h.curRootRows == 0 {
		blockOff, blockSize = 0, h.startBlockSize
		entry = heapEntry{addr: h.rootAddr, filtSize: h.rootFiltSize, filtMask: h.rootFiltMask}
	} else {
		ibAddr, ibOff, nrows := h.rootAddr, uint64(0), h.curRootRows
		for depth := 0; ; depth++ {
			if depth > maxTreeDepth {
				return nil, formatErr(what, idOff, "indirect blocks nested too deeply")
			}
			ib, err := h.indirect(ibAddr, nrows)
			if err != nil {
				return nil, err
			}
			rel := off - ibOff
			if off < ibOff || rel >= h.rowStart[nrows] {
				return nil, formatErr(what, idOff, "offset %d outside indirect block at address %d", off, ibAddr)
			}
			r := 0
			for r+1 < nrows && h.rowStart[r+1] <= rel {
				r++
			}
			col := (rel - h.rowStart[r]) / h.rowSize[r]
			if col >= h.width {
				return nil, formatErr(what, idOff, "offset %d outside indirect block at address %d", off, ibAddr)
			}
			e := ib.entries[uint64(r)*h.width+col]
			childOff := ibOff + h.rowStart[r] + col*h.rowSize[r]
			if e.addr == undefAddr {
				return nil, formatErr(what, idOff, "offset %d lies in an unallocated block", off)
			}
			if r < h.maxDirectRows {
				blockOff, blockSize, entry = childOff, h.rowSize[r], e
				break
			}
			ibAddr, ibOff = e.addr, childOff
			nrows = log2(h.rowSize[r]) - h.firstRowBits + 1
			if nrows < 1 || nrows > h.maxRootRows {
				return nil, formatErr(what, idOff, "child indirect block with %d rows", nrows)
			}
		}
	}
	data, err := h.direct(entry, blockSize)
	if err != nil {
		return nil, err
	}
	rel := off - blockOff
	end, ok := addOK(rel, n)
	if !ok || end > uint64(len(data)) {
		return nil, formatErr(what, idOff, "object at heap offset %d (%d bytes) outside its direct block of %d bytes", off, n, len(data))
	}
	return data[rel:end], nil
}

// direct reads (or returns the cached) direct block, unfiltered.
func (h *fractalHeap) direct(e heapEntry, size uint64) ([]byte, error) {
	const what = "fractal heap direct block"
	if b, ok := h.dblocks[e.addr]; ok {
		return b, nil
	}
	f := h.f
	var buf []byte
	var off int64
	var err error
	if h.filterLen > 0 {
		raw, roff, err := f.readAt(e.addr, e.filtSize, what)
		if err != nil {
			return nil, err
		}
		if buf, err = f.unfilter(h.pipeline, e.filtMask, raw, size, what, roff); err != nil {
			return nil, err
		}
		off = roff
	} else if buf, off, err = f.readAt(e.addr, size, what); err != nil {
		return nil, err
	}
	d := f.newDecoder(buf, off, what)
	d.signature("FHDB")
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	if a := d.addr(); d.err == nil && a != h.addr {
		d.fail("heap header address %d, want %d", a, h.addr)
	}
	d.uvar(h.heapOffSize) // block offset
	if h.flags&0x02 != 0 && !f.skipChecksums {
		p := d.p
		stored := d.u32()
		if d.err == nil {
			tmp := make([]byte, len(buf))
			copy(tmp, buf)
			clear(tmp[p : p+4])
			if got := lookup3(tmp, 0); got != stored {
				d.fail("checksum mismatch: stored %#08x, computed %#08x", stored, got)
			}
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	h.dblocks[e.addr] = buf
	return buf, nil
}

// indirect reads (or returns the cached) indirect block with nrows rows.
func (h *fractalHeap) indirect(addr uint64, nrows int) (*indirectBlock, error) {
	const what = "fractal heap indirect block"
	if ib, ok := h.iblocks[addr]; ok {
		if ib.nrows != nrows {
			return nil, formatErr(what, -1, "block at address %d used with %d and %d rows", addr, ib.nrows, nrows)
		}
		return ib, nil
	}
	f := h.f
	direct := min(nrows, h.maxDirectRows)
	nd := uint64(direct) * h.width
	ni := uint64(nrows-direct) * h.width
	dsize := uint64(f.offSize)
	if h.filterLen > 0 {
		dsize += uint64(f.lenSize + 4)
	}
	size := uint64(4+1+f.offSize+h.heapOffSize) + nd*dsize + ni*uint64(f.offSize) + 4
	if nd > uint64(f.size) || ni > uint64(f.size) {
		return nil, formatErr(what, -1, "block at address %d with %d entries", addr, nd+ni)
	}
	buf, off, err := f.readAt(addr, size, what)
	if err != nil {
		return nil, err
	}
	if err := f.verifyChecksum(buf, what, off); err != nil {
		return nil, err
	}
	d := f.newDecoder(buf, off, what)
	d.signature("FHIB")
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	if a := d.addr(); d.err == nil && a != h.addr {
		d.fail("heap header address %d, want %d", a, h.addr)
	}
	d.uvar(h.heapOffSize) // block offset
	ib := &indirectBlock{nrows: nrows, entries: make([]heapEntry, nd+ni)}
	for i := range ib.entries {
		ib.entries[i].addr = d.addr()
		if uint64(i) < nd && h.filterLen > 0 {
			ib.entries[i].filtSize = d.length()
			ib.entries[i].filtMask = d.u32()
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	h.iblocks[addr] = ib
	return ib, nil
}

// huge returns a huge object: its address and length are in the ID or in the heap's v2 B-tree.
func (h *fractalHeap) huge(id []byte, idOff int64) ([]byte, error) {
	const what = "fractal heap huge object"
	f := h.f
	if h.filterLen > 0 {
		return nil, unsupported("filtered huge fractal heap objects (ID at offset %d)", idOff)
	}
	var addr, n uint64
	if h.idLen >= 1+f.offSize+f.lenSize {
		d := f.newDecoder(id[1:], idOff+1, what)
		addr = d.addr()
		n = d.length()
		if d.err != nil {
			return nil, d.err
		}
	} else {
		d := f.newDecoder(id[1:], idOff+1, what)
		key := d.uvar(min(h.idLen-1, 8))
		if d.err != nil {
			return nil, d.err
		}
		bt, err := f.readBTree2(h.hugeBTree, 1)
		if err != nil {
			return nil, err
		}
		found := false
		err = bt.walk(func(rec []byte, roff int64) error {
			rd := f.newDecoder(rec, roff, "huge object record")
			a, l, k := rd.addr(), rd.length(), rd.length()
			if rd.err != nil {
				return rd.err
			}
			if k == key && !found {
				addr, n, found = a, l, true
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, formatErr(what, idOff, "huge object %d not in the heap's B-tree", key)
		}
	}
	if err := f.checkDataSize(n, what); err != nil {
		return nil, err
	}
	buf, _, err := f.readAt(addr, n, what)
	return buf, err
}
