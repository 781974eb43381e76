package npy

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Dtype is a numeric NumPy data type: byte order, kind and item size, as in the descr '<f8'.
type Dtype struct {
	// Order is '<' (little-endian), '>' (big-endian), '|' (not applicable: one-byte types) or
	// '=' (the reading machine's order, as NumPy reads it).
	Order byte
	// Kind is 'f' (floating point), 'i' (signed integer), 'u' (unsigned integer) or 'b' (bool).
	Kind byte
	// Size is the item size in bytes: 4 or 8 for floats, 1, 2, 4 or 8 for integers, 1 for bool.
	Size int
}

// The data types of the published files and of the files this package writes.
var (
	Float64 = Dtype{'<', 'f', 8}
	Float32 = Dtype{'<', 'f', 4}
	Int64   = Dtype{'<', 'i', 8}
)

// String returns the dtype as a NumPy descr, e.g. "<f8".
func (d Dtype) String() string {
	return string([]byte{d.Order, d.Kind}) + strconv.Itoa(d.Size)
}

// ParseDtype parses a NumPy type string of a supported numeric type: an optional byte order
// ('<', '>', '|', '='), a kind and an item size, e.g. "<f8", ">f4", "|u1", "i8", "|b1". Other
// types (complex, strings, datetimes, objects, half floats, structured types) are refused.
func ParseDtype(s string) (Dtype, error) {
	var d Dtype
	rest := s
	if len(rest) > 0 && (rest[0] == '<' || rest[0] == '>' || rest[0] == '|' || rest[0] == '=') {
		d.Order, rest = rest[0], rest[1:]
	}
	if len(rest) < 2 || len(rest) > 3 {
		return Dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	d.Kind = rest[0]
	size, err := strconv.Atoi(rest[1:])
	if err != nil || size <= 0 {
		return Dtype{}, fmt.Errorf("unsupported dtype %q", s)
	}
	d.Size = size
	ok := false
	switch d.Kind {
	case 'f':
		ok = size == 4 || size == 8
	case 'i', 'u':
		ok = size == 1 || size == 2 || size == 4 || size == 8
	case 'b':
		ok = size == 1
	}
	if !ok {
		return Dtype{}, fmt.Errorf("unsupported dtype %q (supported: float32/64, (u)int8-64, bool)", s)
	}
	if d.Order == 0 {
		d.Order = '='
	}
	if d.Size == 1 {
		d.Order = '|'
	} else if d.Order == '|' {
		return Dtype{}, fmt.Errorf("dtype %q: byte order '|' for a %d-byte type", s, d.Size)
	}
	return d, nil
}

// byteOrder returns the order in which the dtype's bytes are stored.
func (d Dtype) byteOrder() binary.ByteOrder {
	switch d.Order {
	case '>':
		return binary.BigEndian
	case '=':
		return binary.NativeEndian
	}
	return binary.LittleEndian
}

// IsFloat reports whether the dtype is a floating-point type.
func (d Dtype) IsFloat() bool { return d.Kind == 'f' }

// decode converts raw item bytes into float64 values (float kinds) or int64 values (integer and
// bool kinds). len(raw) must be a multiple of d.Size.
func (d Dtype) decode(raw []byte) (f []float64, i []int64, err error) {
	n := len(raw) / d.Size
	bo := d.byteOrder()
	if d.Kind == 'f' {
		f = make([]float64, n)
		for k := range f {
			b := raw[k*d.Size:]
			if d.Size == 4 {
				f[k] = float64(math.Float32frombits(bo.Uint32(b)))
			} else {
				f[k] = math.Float64frombits(bo.Uint64(b))
			}
		}
		return f, nil, nil
	}
	i = make([]int64, n)
	for k := range i {
		b := raw[k*d.Size:]
		var u uint64
		switch d.Size {
		case 1:
			u = uint64(b[0])
		case 2:
			u = uint64(bo.Uint16(b))
		case 4:
			u = uint64(bo.Uint32(b))
		case 8:
			u = bo.Uint64(b)
		}
		switch d.Kind {
		case 'i':
			shift := 64 - 8*uint(d.Size)
			i[k] = int64(u<<shift) >> shift // sign-extend
		case 'u':
			if u > math.MaxInt64 {
				return nil, nil, fmt.Errorf("%s item %d = %d does not fit in int64", d, k, u)
			}
			i[k] = int64(u)
		case 'b': // NumPy reads any non-zero byte as True
			if u != 0 {
				i[k] = 1
			}
		}
	}
	return nil, i, nil
}
