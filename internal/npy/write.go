package npy

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// growthAxisMaxDigits is numpy.lib.format.GROWTH_AXIS_MAX_DIGITS: NumPy (since 1.23) pads the
// header so that the first dimension can grow to 21 digits in place.
const growthAxisMaxDigits = 21

// arrayAlign is numpy.lib.format.ARRAY_ALIGN: the data starts at a multiple of 64 bytes.
const arrayAlign = 64

// header returns the bytes NumPy's np.save writes before the data of a C-order array: format
// version 1.0 (2.0 if the header does not fit in 65,535 bytes), the dict with sorted keys, the
// growth padding, spaces up to a multiple of 64 bytes and a final newline.
func header(dt Dtype, shape []int) []byte { return headerDescr(dt.String(), shape) }

// headerDescr is header for any descr, e.g. "|O" for a pickled object array.
func headerDescr(descr string, shape []int) []byte {
	var sb strings.Builder
	sb.WriteString("{'descr': '")
	sb.WriteString(descr)
	sb.WriteString("', 'fortran_order': False, 'shape': ")
	sb.WriteString(shapeRepr(shape))
	sb.WriteString(", }")
	if len(shape) > 0 {
		sb.WriteString(strings.Repeat(" ", growthAxisMaxDigits-len(strconv.Itoa(shape[0]))))
	}
	dict := sb.String()
	hlen := len(dict) + 1 // with the newline
	major, prefix := byte(1), 10
	if pad := arrayAlign - (prefix+hlen)%arrayAlign; hlen+pad > math.MaxUint16 {
		major, prefix = 2, 12
	}
	pad := arrayAlign - (prefix+hlen)%arrayAlign // NumPy pads a full 64 when already aligned
	out := make([]byte, 0, prefix+hlen+pad)
	out = append(out, Magic...)
	out = append(out, major, 0)
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen+pad))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen+pad))
	}
	out = append(out, dict...)
	out = append(out, strings.Repeat(" ", pad)...)
	return append(out, '\n')
}

// shapeRepr is Python's repr of a tuple of ints.
func shapeRepr(shape []int) string {
	switch len(shape) {
	case 0:
		return "()"
	case 1:
		return "(" + strconv.Itoa(shape[0]) + ",)"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func checkShape(shape []int, n int) error {
	if len(shape) > MaxDims {
		return fmt.Errorf("npy: write: %d dimensions, at most %d", len(shape), MaxDims)
	}
	want := 1
	for _, d := range shape {
		if d < 0 {
			return fmt.Errorf("npy: write: negative dimension in shape %v", shape)
		}
		if d != 0 && want > math.MaxInt/d {
			return fmt.Errorf("npy: write: shape %v overflows", shape)
		}
		want *= d
	}
	if want != n {
		return fmt.Errorf("npy: write: shape %v holds %d values, got %d", shape, want, n)
	}
	return nil
}

// WriteFloat64 writes a C-order float64 array as a .npy file ('<f8'), byte for byte as NumPy's
// np.save writes it.
func WriteFloat64(w io.Writer, shape []int, data []float64) error {
	if err := checkShape(shape, len(data)); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(header(Float64, shape))
	var b [8]byte
	for _, v := range data {
		binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	return nil
}

// WriteFloat32 writes a C-order float32 array as a .npy file ('<f4'), byte for byte as NumPy's
// np.save writes it.
func WriteFloat32(w io.Writer, shape []int, data []float32) error {
	if err := checkShape(shape, len(data)); err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	bw.Write(header(Float32, shape))
	var b [4]byte
	for _, v := range data {
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
		bw.Write(b[:])
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("npy: write: %w", err)
	}
	return nil
}
