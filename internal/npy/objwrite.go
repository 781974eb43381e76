package npy

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"compactv4/internal/model"
)

// WriteTensors writes float32 arrays as a pickled NumPy object array, byte for byte as
// np.save(file, weights) writes the list of arrays that Keras' get_weights() returns (NumPy 1.x,
// pickle protocol 3): the layout of the published model_weights_npy files
// (reference/upstream.md §2.2), which ReadTensors and NumPy's np.load(allow_pickle=True) read.
// The tensors are written in the order given, each in C order.
func WriteTensors(w io.Writer, ts []model.Tensor) error {
	for i, t := range ts {
		if err := checkShape(t.Shape, len(t.Data)); err != nil {
			return fmt.Errorf("tensor %d: %w", i, err)
		}
		for _, d := range t.Shape {
			if d > math.MaxInt32 {
				return fmt.Errorf("npy: write: tensor %d: dimension %d does not fit the pickle's 32-bit integers", i, d)
			}
		}
	}
	shape := []int{len(ts)}
	if _, err := w.Write(headerDescr("|O", shape)); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	if _, err := w.Write(objectArrayPickle(ts)); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	return nil
}

// WriteInt64 writes a C-order int64 array as a .npy file ('<i8'), byte for byte as NumPy's
// np.save writes it (the layout of the published nums_filters files).
func WriteInt64(w io.Writer, shape []int, data []int64) error {
	if err := checkShape(shape, len(data)); err != nil {
		return err
	}
	out := header(Int64, shape)
	for _, v := range data {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	if _, err := w.Write(out); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	return nil
}

// pickler writes the opcodes CPython's C pickler (protocol 3) writes for NumPy arrays, with its
// memo: every memoized object gets the next index, BINPUT below 256 and LONG_BINPUT above.
type pickler struct {
	b    []byte
	memo int
}

// put memoizes the object just written and returns its index.
func (p *pickler) put() int {
	if p.memo < 256 {
		p.b = append(p.b, 'q', byte(p.memo))
	} else {
		p.b = append(p.b, 'r')
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(p.memo))
	}
	p.memo++
	return p.memo - 1
}

// get refers to memoized object i.
func (p *pickler) get(i int) {
	if i < 256 {
		p.b = append(p.b, 'h', byte(i))
		return
	}
	p.b = append(p.b, 'j')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(i))
}

// int writes a Python int of at most 32 bits as save_long does: BININT1, BININT2 or BININT.
func (p *pickler) int(v int) {
	switch {
	case v >= 0 && v <= 0xff:
		p.b = append(p.b, 'K', byte(v))
	case v >= 0 && v <= 0xffff:
		p.b = append(p.b, 'M', byte(v), byte(v>>8))
	default:
		p.b = append(p.b, 'J')
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(int32(v)))
	}
}

// str writes a memoized str (BINUNICODE) and returns its index.
func (p *pickler) str(s string) int {
	p.b = append(p.b, 'X')
	p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(s)))
	p.b = append(p.b, s...)
	return p.put()
}

// bytes writes a memoized bytes object (SHORT_BINBYTES or BINBYTES) and returns its index.
func (p *pickler) bytes(raw []byte) int {
	if len(raw) < 256 {
		p.b = append(p.b, 'C', byte(len(raw)))
	} else {
		p.b = append(p.b, 'B')
		p.b = binary.LittleEndian.AppendUint32(p.b, uint32(len(raw)))
	}
	p.b = append(p.b, raw...)
	return p.put()
}

// tuple writes a tuple whose n items items writes: EMPTY_TUPLE (not memoized), TUPLE1-3 after the
// items, or MARK, the items and TUPLE; then memoizes it.
func (p *pickler) tuple(n int, items func()) {
	if n == 0 {
		p.b = append(p.b, ')')
		return
	}
	if n > 3 {
		p.b = append(p.b, '(')
	}
	items()
	switch n {
	case 1:
		p.b = append(p.b, 0x85)
	case 2:
		p.b = append(p.b, 0x86)
	case 3:
		p.b = append(p.b, 0x87)
	default:
		p.b = append(p.b, 't')
	}
	p.put()
}

func (p *pickler) shape(s []int) {
	p.tuple(len(s), func() {
		for _, d := range s {
			p.int(d)
		}
	})
}

// global writes a memoized GLOBAL and returns its index.
func (p *pickler) global(module, name string) int {
	p.b = append(p.b, 'c')
	p.b = append(p.b, module...)
	p.b = append(p.b, '\n')
	p.b = append(p.b, name...)
	p.b = append(p.b, '\n')
	return p.put()
}

// pickleRefs are the memo indices of the objects that the arrays of a pickle share, -1 until
// first written.
type pickleRefs struct {
	reconstruct, ndarray, b, dtypeClass, f4 int
}

// ref writes a reference to the shared object at *idx, writing and memoizing it first if needed.
func (p *pickler) ref(idx *int, write func() int) {
	if *idx >= 0 {
		p.get(*idx)
		return
	}
	*idx = write()
}

// reduce writes _reconstruct(ndarray, (0,), b'b'), the call of ndarray.__reduce__, memoized.
func (p *pickler) reduce(r *pickleRefs) {
	p.ref(&r.reconstruct, func() int { return p.global("numpy.core.multiarray", "_reconstruct") })
	p.tuple(3, func() {
		p.ref(&r.ndarray, func() int { return p.global("numpy", "ndarray") })
		p.tuple(1, func() { p.int(0) })
		p.ref(&r.b, func() int { return p.bytes([]byte("b")) })
	})
	p.b = append(p.b, 'R') // REDUCE
	p.put()
}

// dtype writes numpy.dtype(typ, False, True) with the state (3, order, None, None, None, -1, -1,
// flags) of a numeric or object dtype, and returns the dtype's memo index.
func (p *pickler) dtype(r *pickleRefs, typ, order string, flags int) int {
	p.ref(&r.dtypeClass, func() int { return p.global("numpy", "dtype") })
	p.tuple(3, func() {
		p.str(typ)
		p.b = append(p.b, 0x89, 0x88) // NEWFALSE, NEWTRUE
	})
	p.b = append(p.b, 'R')
	idx := p.put()
	p.tuple(8, func() {
		p.int(3)
		p.str(order)
		p.b = append(p.b, 'N', 'N', 'N')
		p.int(-1)
		p.int(-1)
		p.int(flags)
	})
	p.b = append(p.b, 'b') // BUILD
	return idx
}

// array writes a C-order float32 array: the reduce call, then the state (1, shape, dtype,
// False, raw bytes) and BUILD.
func (p *pickler) array(r *pickleRefs, t model.Tensor) {
	p.reduce(r)
	p.tuple(5, func() {
		p.int(1)
		p.shape(t.Shape)
		p.ref(&r.f4, func() int { return p.dtype(r, "f4", "<", 0) })
		p.b = append(p.b, 0x89) // is_fortran: False
		raw := make([]byte, 0, 4*len(t.Data))
		for _, v := range t.Data {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
		}
		p.bytes(raw)
	})
	p.b = append(p.b, 'b')
}

// objectArrayPickle returns the protocol-3 pickle of a one-dimensional object array of float32
// arrays, as pickle.dump(arr, f, protocol=3) writes it with NumPy 1.x.
func objectArrayPickle(ts []model.Tensor) []byte {
	p := &pickler{b: []byte{0x80, 3}} // PROTO 3
	r := &pickleRefs{-1, -1, -1, -1, -1}
	p.reduce(r)
	p.tuple(5, func() {
		p.int(1)
		p.shape([]int{len(ts)})
		p.dtype(r, "O8", "|", 63)
		p.b = append(p.b, 0x89) // is_fortran: False
		p.b = append(p.b, ']')  // EMPTY_LIST
		p.put()
		switch len(ts) {
		case 0:
		case 1:
			p.array(r, ts[0])
			p.b = append(p.b, 'a') // APPEND
		default:
			for i := 0; i < len(ts); i += 1000 { // the pickler's batches of 1000 items
				p.b = append(p.b, '(')
				for _, t := range ts[i:min(i+1000, len(ts))] {
					p.array(r, t)
				}
				p.b = append(p.b, 'e') // APPENDS
			}
		}
	})
	p.b = append(p.b, 'b', '.') // BUILD, STOP
	return p.b
}
