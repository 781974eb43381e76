package hdf5

import (
	"bytes"
	"fmt"
)

// localHeap is the data segment of a local heap (link names of old-style groups).
type localHeap struct {
	data []byte
	off  int64
}

func (f *File) readLocalHeap(addr uint64) (*localHeap, error) {
	const what = "local heap"
	hdrSize := uint64(8 + 2*f.lenSize + f.offSize)
	buf, off, err := f.readAt(addr, hdrSize, what)
	if err != nil {
		return nil, err
	}
	d := f.newDecoder(buf, off, what)
	d.signature("HEAP")
	if v := d.u8(); d.err == nil && v != 0 {
		d.fail("version %d, want 0", v)
	}
	d.skip(3)
	size := d.length()
	d.length() // free list head
	dataAddr := d.addr()
	if d.err != nil {
		return nil, d.err
	}
	data, doff, err := f.readAt(dataAddr, size, "local heap data segment")
	if err != nil {
		return nil, err
	}
	return &localHeap{data: data, off: doff}, nil
}

// name returns the NUL-terminated string at offset off of the heap's data segment.
func (h *localHeap) name(off uint64) (string, error) {
	if off >= uint64(len(h.data)) {
		return "", formatErr("local heap", h.off, "name offset %d beyond data segment of %d bytes", off, len(h.data))
	}
	s := h.data[off:]
	i := bytes.IndexByte(s, 0)
	if i < 0 {
		return "", formatErr("local heap", h.off+int64(off), "name not NUL-terminated")
	}
	return string(s[:i]), nil
}

// globalHeap is a parsed global heap collection: object index -> object bytes.
type globalHeap struct {
	objs map[uint32][]byte
	off  int64
}

// globalHeapObject returns object idx of the global heap collection at addr.
func (f *File) globalHeapObject(addr uint64, idx uint32) ([]byte, error) {
	f.mu.Lock()
	h, ok := f.gheaps[addr]
	f.mu.Unlock()
	if !ok {
		var err error
		if h, err = f.readGlobalHeap(addr); err != nil {
			return nil, err
		}
		f.mu.Lock()
		f.gheaps[addr] = h
		f.mu.Unlock()
	}
	obj, ok := h.objs[idx]
	if !ok {
		return nil, formatErr("global heap collection", h.off, "no object with index %d", idx)
	}
	return obj, nil
}

func (f *File) readGlobalHeap(addr uint64) (*globalHeap, error) {
	const what = "global heap collection"
	hdrSize := uint64(8+f.lenSize+7) &^ 7 // the collection header is padded to 8 bytes
	buf, off, err := f.readAt(addr, hdrSize, what)
	if err != nil {
		return nil, err
	}
	d := f.newDecoder(buf, off, what)
	d.signature("GCOL")
	if v := d.u8(); d.err == nil && v != 1 {
		d.fail("version %d, want 1", v)
	}
	d.skip(3)
	size := d.length()
	if d.err != nil {
		return nil, d.err
	}
	if size < hdrSize {
		return nil, formatErr(what, off, "collection size %d smaller than its header", size)
	}
	buf, _, err = f.readAt(addr, size, what)
	if err != nil {
		return nil, err
	}
	h := &globalHeap{objs: map[uint32][]byte{}, off: off}
	d = f.newDecoder(buf, off, what)
	d.skip(int(hdrSize))
	objHdr := (8 + f.lenSize + 7) &^ 7 // object headers are padded to 8 bytes too
	for d.remaining() >= objHdr {
		start := d.p
		idx := d.u16()
		d.u16() // reference count
		d.skip(4)
		n := d.length()
		d.p = start + objHdr
		if idx == 0 { // free space: the rest of the collection
			break
		}
		if n > uint64(d.remaining()) {
			d.fail("object %d of %d bytes exceeds the collection", idx, n)
			break
		}
		h.objs[uint32(idx)] = d.bytes(int(n))
		if pad := (8 - int(n)%8) % 8; pad <= d.remaining() {
			d.skip(pad)
		} else {
			break
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return h, nil
}

// vlenData returns the bytes of a variable-length element (length, collection address, index).
func (f *File) vlenData(elem []byte, baseSize int, off int64) ([]byte, error) {
	d := f.newDecoder(elem, off, "variable-length element")
	n := uint64(d.u32())
	addr := d.addr()
	idx := d.u32()
	if d.err != nil {
		return nil, d.err
	}
	if n == 0 {
		return nil, nil
	}
	obj, err := f.globalHeapObject(addr, idx)
	if err != nil {
		return nil, err
	}
	need, ok := mulOK(n, uint64(baseSize))
	if !ok || need > uint64(len(obj)) {
		return nil, fmt.Errorf("hdf5: variable-length element of %d x %d bytes exceeds its heap object of %d bytes: %w", n, baseSize, len(obj), ErrFormat)
	}
	return obj[:need], nil
}
