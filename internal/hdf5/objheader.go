package hdf5

import (
	"fmt"
)

// Header message types (HDF5 spec IV.A.2).
const (
	msgNil          = 0x00
	msgDataspace    = 0x01
	msgLinkInfo     = 0x02
	msgDatatype     = 0x03
	msgFillOld      = 0x04
	msgFill         = 0x05
	msgLink         = 0x06
	msgExternalFile = 0x07
	msgLayout       = 0x08
	msgGroupInfo    = 0x0A
	msgFilter       = 0x0B
	msgAttribute    = 0x0C
	msgContinuation = 0x10
	msgSymbolTable  = 0x11
	msgAttrInfo     = 0x15
)

// Message flags.
const (
	msgFlagShared = 0x02
)

// maxHeaderChunks bounds the number of continuation blocks of one object header.
const maxHeaderChunks = 1 << 16

type message struct {
	typ   uint16
	flags uint8
	crt   uint16 // creation order (v2 headers that track attribute creation order)
	data  []byte
	off   int64 // absolute file offset of data
}

type objectHeader struct {
	addr    uint64
	version int
	flags   uint8 // version 2 header flags
	msgs    []message
}

// attrCrtTracked reports whether the header records attribute creation order.
func (oh *objectHeader) attrCrtTracked() bool { return oh.version == 2 && oh.flags&0x04 != 0 }

// first returns the first message of type typ, or nil.
func (oh *objectHeader) first(typ uint16) *message {
	for i := range oh.msgs {
		if oh.msgs[i].typ == typ {
			return &oh.msgs[i]
		}
	}
	return nil
}

func (oh *objectHeader) has(typ uint16) bool { return oh.first(typ) != nil }

// objectHeader reads (or returns the cached) object header at addr.
func (f *File) objectHeader(addr uint64) (*objectHeader, error) {
	f.mu.Lock()
	oh, ok := f.headers[addr]
	f.mu.Unlock()
	if ok {
		return oh, nil
	}
	oh, err := f.readObjectHeader(addr)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.headers[addr] = oh
	f.mu.Unlock()
	return oh, nil
}

type headerChunk struct {
	addr, size uint64
}

func (f *File) readObjectHeader(addr uint64) (*objectHeader, error) {
	const what = "object header"
	pre, off, err := f.readUpTo(addr, 64, what)
	if err != nil {
		return nil, err
	}
	oh := &objectHeader{addr: addr}
	var pending []headerChunk
	if len(pre) >= 4 && string(pre[:4]) == "OHDR" {
		oh.version = 2
		d := f.newDecoder(pre, off, what)
		d.skip(4)
		if v := d.u8(); v != 2 {
			return nil, formatErr(what, off, "OHDR version %d, want 2", v)
		}
		oh.flags = d.u8()
		if oh.flags&0x20 != 0 {
			d.skip(16) // access, modification, change and birth times
		}
		if oh.flags&0x10 != 0 {
			d.skip(4) // attribute phase change values
		}
		size0 := d.uvar(1 << (oh.flags & 3))
		if d.err != nil {
			return nil, d.err
		}
		prefix := uint64(d.p)
		total, ok1 := addOK(prefix, size0)
		total, ok2 := addOK(total, 4)
		if !ok1 || !ok2 {
			return nil, formatErr(what, off, "chunk size %d overflows", size0)
		}
		buf, _, err := f.readAt(addr, total, what)
		if err != nil {
			return nil, err
		}
		if err := f.verifyChecksum(buf, what, off); err != nil {
			return nil, err
		}
		if pending, err = f.parseMessages(oh, buf[prefix:len(buf)-4], off+int64(prefix), pending); err != nil {
			return nil, err
		}
	} else {
		d := f.newDecoder(pre, off, what)
		if v := d.u8(); v != 1 {
			if d.err != nil {
				return nil, d.err
			}
			return nil, formatErr(what, off, "version %d: want 1, or signature OHDR", v)
		}
		oh.version = 1
		d.u8()  // reserved
		d.u16() // number of messages
		d.u32() // reference count
		size0 := uint64(d.u32())
		if d.err != nil {
			return nil, d.err
		}
		// The messages start at the next multiple of 8 after the 12-byte prefix.
		buf, boff, err := f.readAt(addr+16, size0, what)
		if err != nil {
			return nil, err
		}
		if pending, err = f.parseMessages(oh, buf, boff, pending); err != nil {
			return nil, err
		}
	}
	seen := map[uint64]bool{}
	for nchunks := 0; len(pending) > 0; nchunks++ {
		c := pending[0]
		pending = pending[1:]
		if seen[c.addr] || nchunks >= maxHeaderChunks {
			return nil, formatErr(what, -1, "continuation blocks of header at address %d loop or exceed %d", addr, maxHeaderChunks)
		}
		seen[c.addr] = true
		buf, boff, err := f.readAt(c.addr, c.size, "object header continuation block")
		if err != nil {
			return nil, err
		}
		if oh.version == 2 {
			if len(buf) < 8 || string(buf[:4]) != "OCHK" {
				return nil, formatErr("object header continuation block", boff, "missing OCHK signature")
			}
			if err := f.verifyChecksum(buf, "object header continuation block", boff); err != nil {
				return nil, err
			}
			buf, boff = buf[4:len(buf)-4], boff+4
		}
		if pending, err = f.parseMessages(oh, buf, boff, pending); err != nil {
			return nil, err
		}
	}
	return oh, nil
}

// parseMessages appends the messages of one header chunk to oh and returns pending
// continuation blocks.
func (f *File) parseMessages(oh *objectHeader, buf []byte, off int64, pending []headerChunk) ([]headerChunk, error) {
	const what = "object header message"
	d := f.newDecoder(buf, off, what)
	hdrSize := 8
	if oh.version == 2 {
		hdrSize = 4
		if oh.flags&0x04 != 0 {
			hdrSize = 6
		}
	}
	for d.remaining() >= hdrSize {
		var m message
		if oh.version == 1 {
			m.typ = d.u16()
			size := int(d.u16())
			m.flags = d.u8()
			d.skip(3)
			if size%8 != 0 {
				return nil, formatErr(what, d.pos(), "version 1 message of type %#x has size %d, not a multiple of 8", m.typ, size)
			}
			m.off = d.pos()
			m.data = d.bytes(size)
		} else {
			m.typ = uint16(d.u8())
			size := int(d.u16())
			m.flags = d.u8()
			if oh.flags&0x04 != 0 {
				m.crt = d.u16()
			}
			m.off = d.pos()
			m.data = d.bytes(size)
		}
		if d.err != nil {
			return nil, d.err
		}
		switch m.typ {
		case msgNil:
			continue
		case msgContinuation:
			cd := f.newDecoder(m.data, m.off, "continuation message")
			c := headerChunk{addr: cd.addr(), size: cd.length()}
			if cd.err != nil {
				return nil, cd.err
			}
			pending = append(pending, c)
			continue
		}
		oh.msgs = append(oh.msgs, m)
	}
	return pending, nil
}

// messageData returns the body of message m, following it to the object header that holds it
// when the message is shared (a committed datatype, for example).
func (f *File) messageData(m *message) ([]byte, int64, error) {
	if m.flags&msgFlagShared == 0 {
		return m.data, m.off, nil
	}
	return f.sharedMessage(m.typ, m.data, m.off, 0)
}

// sharedMessage decodes a shared message reference (H5Oshared.c) and returns the body of the
// message of type typ that it points to.
func (f *File) sharedMessage(typ uint16, data []byte, off int64, depth int) ([]byte, int64, error) {
	const what = "shared message"
	if depth > 8 {
		return nil, 0, formatErr(what, off, "shared messages nested too deeply")
	}
	d := f.newDecoder(data, off, what)
	version := d.u8()
	stype := d.u8()
	var addr uint64
	switch version {
	case 1:
		d.skip(6)
		d.length() // skipped field of the old symbol-table-entry form
		addr = d.addr()
	case 2:
		addr = d.addr()
	case 3:
		switch stype {
		case 1:
			return nil, 0, unsupported("message of type %#x shared in the file's shared-message heap (offset %d)", typ, off)
		case 2:
			addr = d.addr()
		default:
			return nil, 0, formatErr(what, off, "unknown sharing type %d", stype)
		}
	default:
		return nil, 0, formatErr(what, off, "unknown version %d", version)
	}
	if d.err != nil {
		return nil, 0, d.err
	}
	oh, err := f.objectHeader(addr)
	if err != nil {
		return nil, 0, fmt.Errorf("hdf5: shared message of type %#x: %w", typ, err)
	}
	m := oh.first(typ)
	if m == nil {
		return nil, 0, formatErr(what, off, "object header at address %d holds no message of type %#x", addr, typ)
	}
	if m.flags&msgFlagShared != 0 {
		return f.sharedMessage(typ, m.data, m.off, depth+1)
	}
	return m.data, m.off, nil
}
