// Package pickletest writes Python pickle opcodes by hand, so that tests can build the exact
// byte streams that NumPy and PyTorch write, and corrupt variants of them, without Python.
package pickletest

import (
	"bytes"
	"encoding/binary"
)

// Writer accumulates pickle opcodes. Its methods append one opcode each (with its argument)
// and return the Writer, so that a pickle reads as a chain.
type Writer struct {
	bytes.Buffer
}

// Raw appends bytes as they are.
func (w *Writer) Raw(b ...byte) *Writer { w.Write(b); return w }

// Proto appends PROTO v.
func (w *Writer) Proto(v byte) *Writer { return w.Raw(0x80, v) }

// Global appends GLOBAL module name.
func (w *Writer) Global(module, name string) *Writer {
	w.WriteByte('c')
	w.WriteString(module + "\n" + name + "\n")
	return w
}

// Mark appends MARK.
func (w *Writer) Mark() *Writer { return w.Raw('(') }

// Stop appends STOP.
func (w *Writer) Stop() *Writer { return w.Raw('.') }

// Int appends the shortest of BININT1, BININT2, BININT and LONG1 that holds v, as CPython does.
func (w *Writer) Int(v int64) *Writer {
	switch {
	case v >= 0 && v < 1<<8:
		return w.Raw('K', byte(v))
	case v >= 0 && v < 1<<16:
		return w.Raw('M', byte(v), byte(v>>8))
	case v >= -1<<31 && v < 1<<31:
		w.WriteByte('J')
		binary.Write(w, binary.LittleEndian, int32(v))
		return w
	}
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	return w.Raw(append([]byte{0x8a, 8}, b[:]...)...)
}

// Str appends BINUNICODE s.
func (w *Writer) Str(s string) *Writer {
	w.WriteByte('X')
	binary.Write(w, binary.LittleEndian, uint32(len(s)))
	w.WriteString(s)
	return w
}

// ShortStr appends SHORT_BINUNICODE s (protocol 4); len(s) must be below 256.
func (w *Writer) ShortStr(s string) *Writer {
	w.Raw(0x8c, byte(len(s)))
	w.WriteString(s)
	return w
}

// Bin appends SHORT_BINBYTES or BINBYTES b.
func (w *Writer) Bin(b []byte) *Writer {
	if len(b) < 256 {
		w.Raw('C', byte(len(b)))
	} else {
		w.WriteByte('B')
		binary.Write(w, binary.LittleEndian, uint32(len(b)))
	}
	w.Write(b)
	return w
}

// None appends NONE.
func (w *Writer) None() *Writer { return w.Raw('N') }

// Bool appends NEWTRUE or NEWFALSE.
func (w *Writer) Bool(v bool) *Writer {
	if v {
		return w.Raw(0x88)
	}
	return w.Raw(0x89)
}

// Tuple appends EMPTY_TUPLE, TUPLE1, TUPLE2 or TUPLE3 for n = 0-3, else TUPLE (which needs a
// Mark before the items).
func (w *Writer) Tuple(n int) *Writer {
	switch n {
	case 0:
		return w.Raw(')')
	case 1, 2, 3:
		return w.Raw(byte(0x84 + n))
	}
	return w.Raw('t')
}

// IntTuple appends a tuple of ints (MARK ... TUPLE for any length).
func (w *Writer) IntTuple(v ...int) *Writer {
	w.Mark()
	for _, x := range v {
		w.Int(int64(x))
	}
	return w.Raw('t')
}

// EmptyList appends EMPTY_LIST.
func (w *Writer) EmptyList() *Writer { return w.Raw(']') }

// Appends appends APPENDS (after a Mark and the items).
func (w *Writer) Appends() *Writer { return w.Raw('e') }

// EmptyDict appends EMPTY_DICT.
func (w *Writer) EmptyDict() *Writer { return w.Raw('}') }

// SetItem appends SETITEM.
func (w *Writer) SetItem() *Writer { return w.Raw('s') }

// SetItems appends SETITEMS (after a Mark and the keys and values).
func (w *Writer) SetItems() *Writer { return w.Raw('u') }

// Reduce appends REDUCE.
func (w *Writer) Reduce() *Writer { return w.Raw('R') }

// Build appends BUILD.
func (w *Writer) Build() *Writer { return w.Raw('b') }

// BinPersID appends BINPERSID.
func (w *Writer) BinPersID() *Writer { return w.Raw('Q') }

// Put appends BINPUT i (i < 256) or LONG_BINPUT i.
func (w *Writer) Put(i int) *Writer {
	if i < 256 {
		return w.Raw('q', byte(i))
	}
	w.WriteByte('r')
	binary.Write(w, binary.LittleEndian, uint32(i))
	return w
}

// Get appends BINGET i (i < 256) or LONG_BINGET i.
func (w *Writer) Get(i int) *Writer {
	if i < 256 {
		return w.Raw('h', byte(i))
	}
	w.WriteByte('j')
	binary.Write(w, binary.LittleEndian, uint32(i))
	return w
}
