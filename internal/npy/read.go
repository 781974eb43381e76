package npy

import (
	"fmt"
	"io"
	"math"

	"compactv4/internal/readn"
)

// Array is a plain numeric array read from a .npy file. Its values are in C (row-major) order
// whatever the file's order.
type Array struct {
	Shape []int // dimensions; empty for a 0-d (scalar) array
	Dtype Dtype // the data type stored in the file
	// FortranOrder records that the file stored the data column-major; the values below have
	// been transposed into C order.
	FortranOrder bool
	// Float64 holds the values of a floating-point array (float32 values are converted exactly);
	// Int64 holds those of an integer or bool array (bool as 0 or 1). Exactly one is non-nil.
	Float64 []float64
	Int64   []int64
}

// Size is the number of elements.
func (a *Array) Size() int {
	if a.Float64 != nil {
		return len(a.Float64)
	}
	return len(a.Int64)
}

// Read reads a plain .npy file (format 1.0, 2.0 or 3.0) of a supported numeric dtype (see
// ParseDtype), in either byte order and either memory order. It reads exactly the bytes the
// header announces and no more: data after the array is left unread, as NumPy ignores it. A
// file that ends early gives an error naming the expected and actual sizes. Pickled object
// arrays (descr '|O') are refused; ReadObjectArray reads those.
func Read(r io.Reader) (*Array, error) {
	h, err := ReadHeader(r)
	if err != nil {
		return nil, err
	}
	if h.Descr == "|O" || h.Descr == "O" {
		return nil, formatErr("pickled object array (descr %q): use ReadObjectArray", h.Descr)
	}
	dt, err := ParseDtype(h.Descr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	size, err := h.dataSize(dt.Size)
	if err != nil {
		return nil, err
	}
	if size > math.MaxInt {
		return nil, formatErr("array of %d bytes is too large for this machine", size)
	}
	raw, err := readn.Full(r, int(size))
	if err != nil {
		return nil, fmt.Errorf("npy: read data of %s array of shape %v: %w", dt, h.Shape, err)
	}
	return newArray(h.Shape, dt, h.FortranOrder, raw)
}

// newArray decodes raw item bytes of the given shape, dtype and order into an Array in C order.
// len(raw) must equal the product of the shape times the item size.
func newArray(shape []int, dt Dtype, fortran bool, raw []byte) (*Array, error) {
	f, i, err := dt.decode(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	a := &Array{Shape: append([]int{}, shape...), Dtype: dt, FortranOrder: fortran, Float64: f, Int64: i}
	if fortran && len(shape) > 1 {
		if f != nil {
			a.Float64 = fortranToC(f, shape)
		} else {
			a.Int64 = fortranToC(i, shape)
		}
	}
	return a, nil
}

// fortranToC reorders the values of a column-major array of the given shape into row-major order.
func fortranToC[T any](src []T, shape []int) []T {
	dst := make([]T, len(src))
	if len(dst) == 0 {
		return dst
	}
	fstride := make([]int, len(shape))
	s := 1
	for k := range shape {
		fstride[k] = s
		s *= shape[k]
	}
	idx := make([]int, len(shape))
	off := 0
	for i := range dst {
		dst[i] = src[off]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			off += fstride[k]
			if idx[k] < shape[k] {
				break
			}
			off -= fstride[k] * shape[k]
			idx[k] = 0
		}
	}
	return dst
}

// maxExactInt is the largest magnitude below which every integer is exactly a float64.
const maxExactInt = 1 << 53

// ReadFloat64 reads a plain .npy array as float64 values in C order: floating-point data of
// either width exactly, integer and bool data when every value is exactly representable
// (|v| <= 2^53). It is what the response files (<f8) need.
func ReadFloat64(r io.Reader) (shape []int, data []float64, err error) {
	a, err := Read(r)
	if err != nil {
		return nil, nil, err
	}
	if a.Float64 != nil {
		return a.Shape, a.Float64, nil
	}
	data = make([]float64, len(a.Int64))
	for k, v := range a.Int64 {
		if v > maxExactInt || v < -maxExactInt {
			return nil, nil, formatErr("%s item %d = %d is not exactly a float64", a.Dtype, k, v)
		}
		data[k] = float64(v)
	}
	return a.Shape, data, nil
}

// ReadFloat32 reads a plain .npy array of float32 data (<f4 or >f4) in C order. Other dtypes are
// refused rather than rounded; use ReadFloat64 for float64 data.
func ReadFloat32(r io.Reader) (shape []int, data []float32, err error) {
	a, err := Read(r)
	if err != nil {
		return nil, nil, err
	}
	if a.Dtype.Kind != 'f' || a.Dtype.Size != 4 {
		return nil, nil, formatErr("dtype %s is not float32 (use ReadFloat64)", a.Dtype)
	}
	data = make([]float32, len(a.Float64))
	for k, v := range a.Float64 {
		data[k] = float32(v) // exact: the values were float32
	}
	return a.Shape, data, nil
}

// ReadInt64 reads a plain .npy array of integer or bool data in C order (the filter counts of
// nums_filters are <i8). Floating-point data is refused.
func ReadInt64(r io.Reader) (shape []int, data []int64, err error) {
	a, err := Read(r)
	if err != nil {
		return nil, nil, err
	}
	if a.Int64 == nil {
		return nil, nil, formatErr("dtype %s is not an integer type", a.Dtype)
	}
	return a.Shape, a.Int64, nil
}
