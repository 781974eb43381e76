package hdf5

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
)

// elemCount returns len(raw)/t.Size, checking that raw holds whole elements.
func elemCount(t *Datatype, raw []byte) (int, error) {
	if t.Size <= 0 || len(raw)%t.Size != 0 {
		return 0, fmt.Errorf("%d bytes are not whole elements of %d bytes: %w", len(raw), t.Size, ErrFormat)
	}
	return len(raw) / t.Size, nil
}

// rawUint returns the n-byte unsigned integer at b in the given byte order.
func rawUint(b []byte, order binary.ByteOrder) uint64 {
	var v uint64
	if order == binary.BigEndian {
		for _, c := range b {
			v = v<<8 | uint64(c)
		}
		return v
	}
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// intValue decodes one integer element of the fixed-point or bitfield type t.
func intValue(t *Datatype, b []byte) (v uint64, neg bool) {
	v = rawUint(b, t.ByteOrder)
	if t.bitOffset != 0 || t.precision < 64 {
		v >>= uint(t.bitOffset)
		if t.precision < 64 {
			v &= 1<<uint(t.precision) - 1
		}
	}
	if t.Signed && t.precision > 0 && v>>(uint(t.precision)-1)&1 != 0 {
		if t.precision < 64 {
			v |= ^uint64(0) << uint(t.precision)
		}
		return v, true
	}
	return v, false
}

// floatValue decodes one element of an IEEE floating-point type of the given kind (2, 4, 8).
func floatValue(kind int, order binary.ByteOrder, b []byte) float64 {
	switch kind {
	case 4:
		return float64(math.Float32frombits(uint32(rawUint(b, order))))
	case 8:
		return math.Float64frombits(rawUint(b, order))
	}
	return halfToFloat(uint16(rawUint(b, order)))
}

// halfToFloat converts an IEEE 754 binary16 value.
func halfToFloat(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h >> 10 & 0x1f)
	mant := float64(h & 0x3ff)
	switch exp {
	case 0:
		return sign * math.Ldexp(mant, -24)
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		return math.Inf(int(sign))
	}
	return sign * math.Ldexp(1+mant/1024, exp-15)
}

// numeric checks that t can be converted to numbers.
func numeric(t *Datatype) error {
	if t.integerLike() || t.floatKind() != 0 {
		return nil
	}
	if t.Class == ClassFloat {
		return unsupported("floating-point layout of %s", t)
	}
	return unsupported("conversion of %s values to numbers", t)
}

func toFloat64(t *Datatype, raw []byte) ([]float64, error) {
	if err := numeric(t); err != nil {
		return nil, err
	}
	n, err := elemCount(t, raw)
	if err != nil {
		return nil, err
	}
	out := make([]float64, n)
	es := t.Size
	if k := t.floatKind(); k != 0 {
		if k == 8 && t.ByteOrder == binary.LittleEndian {
			for i := range out {
				out[i] = math.Float64frombits(binary.LittleEndian.Uint64(raw[i*8:]))
			}
			return out, nil
		}
		for i := range out {
			out[i] = floatValue(k, t.ByteOrder, raw[i*es:(i+1)*es])
		}
		return out, nil
	}
	it := t.intType()
	for i := range out {
		v, neg := intValue(it, raw[i*es:(i+1)*es])
		if neg {
			out[i] = float64(int64(v))
		} else {
			out[i] = float64(v)
		}
	}
	return out, nil
}

func toFloat32(t *Datatype, raw []byte) ([]float32, error) {
	if t.floatKind() == 4 {
		n, err := elemCount(t, raw)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		if t.ByteOrder == binary.LittleEndian {
			for i := range out {
				out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[i*4:]))
			}
		} else {
			for i := range out {
				out[i] = math.Float32frombits(binary.BigEndian.Uint32(raw[i*4:]))
			}
		}
		return out, nil
	}
	if t.integerLike() {
		// Convert integers directly: a detour through float64 could round twice.
		n, err := elemCount(t, raw)
		if err != nil {
			return nil, err
		}
		it := t.intType()
		out := make([]float32, n)
		for i := range out {
			v, neg := intValue(it, raw[i*t.Size:(i+1)*t.Size])
			if neg {
				out[i] = float32(int64(v))
			} else {
				out[i] = float32(v)
			}
		}
		return out, nil
	}
	f64, err := toFloat64(t, raw)
	if err != nil {
		return nil, err
	}
	out := make([]float32, len(f64))
	for i, v := range f64 {
		out[i] = float32(v)
	}
	return out, nil
}

func toInt64(t *Datatype, raw []byte) ([]int64, error) {
	if !t.integerLike() {
		return nil, unsupported("conversion of %s values to int64", t)
	}
	n, err := elemCount(t, raw)
	if err != nil {
		return nil, err
	}
	it := t.intType()
	out := make([]int64, n)
	es := t.Size
	for i := range out {
		v, neg := intValue(it, raw[i*es:(i+1)*es])
		if !neg && v > math.MaxInt64 {
			return nil, fmt.Errorf("element %d: value %d overflows int64", i, v)
		}
		out[i] = int64(v)
	}
	return out, nil
}

// checkStringType checks that t holds strings.
func checkStringType(t *Datatype) error {
	if t.Class == ClassString || t.Class == ClassVarLen && t.VarString {
		return nil
	}
	return unsupported("reading %s values as strings", t)
}

// toStrings decodes fixed-length or variable-length strings. off is the file offset of raw, or -1.
func (f *File) toStrings(t *Datatype, raw []byte, off int64) ([]string, error) {
	if err := checkStringType(t); err != nil {
		return nil, err
	}
	n, err := elemCount(t, raw)
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		b := raw[i*t.Size : (i+1)*t.Size]
		if t.Class == ClassVarLen {
			eoff := int64(-1)
			if off >= 0 {
				eoff = off + int64(i*t.Size)
			}
			if b, err = f.vlenData(b, 1, eoff); err != nil {
				return nil, fmt.Errorf("element %d: %w", i, err)
			}
		}
		out[i] = trimString(b, t.Padding)
	}
	return out, nil
}

// trimString removes a string's padding.
func trimString(b []byte, pad StringPadding) string {
	switch pad {
	case NullTerminated:
		if i := bytes.IndexByte(b, 0); i >= 0 {
			b = b[:i]
		}
	case NullPadded:
		b = bytes.TrimRight(b, "\x00")
	case SpacePadded:
		b = bytes.TrimRight(b, " \x00")
	}
	return string(b)
}
