package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"

	"compactv4/internal/readn"
)

// Magic starts every .npy file.
const Magic = "\x93NUMPY"

// Limits on what a header may claim. NumPy itself refuses headers over 10,000 bytes unless told
// the file is trusted, and arrays of more than 64 dimensions.
const (
	MaxHeaderLen = 1 << 20
	MaxDims      = 64
)

// Header is the parsed header of a .npy file.
type Header struct {
	Major, Minor byte   // format version: 1.0, 2.0 or 3.0
	Descr        string // the dtype descr as written, e.g. "<f8", or "|O" for pickled object arrays
	FortranOrder bool   // data stored in column-major order
	Shape        []int  // dimensions; empty for a 0-d (scalar) array
	Len          int    // bytes the magic, version, length field and header occupy
}

// ErrFormat is wrapped by every error about malformed or unsupported file contents.
var ErrFormat = errors.New("npy: invalid or unsupported file")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// ReadHeader reads and validates the header of a .npy file, leaving r at the first data byte.
// Shapes with negative dimensions, more than MaxDims dimensions or more than math.MaxInt64 bytes
// of data are refused. It does not check the descr beyond its syntax: plain arrays check it when
// decoding, pickled object arrays have descr "|O".
func ReadHeader(r io.Reader) (Header, error) {
	var h Header
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return h, fmt.Errorf("npy: read magic: %w", eofIsUnexpected(err))
	}
	if string(pre[:6]) != Magic {
		return h, formatErr("bad magic %q, not a .npy file", pre[:6])
	}
	h.Major, h.Minor = pre[6], pre[7]
	var hlen int
	switch h.Major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("npy: read header length: %w", eofIsUnexpected(err))
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
		h.Len = 10 + hlen
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return h, fmt.Errorf("npy: read header length: %w", eofIsUnexpected(err))
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > MaxHeaderLen {
			return h, formatErr("header length %d exceeds the limit of %d bytes", n, MaxHeaderLen)
		}
		hlen = int(n)
		h.Len = 12 + hlen
	default:
		return h, formatErr("unsupported format version %d.%d", h.Major, h.Minor)
	}
	if h.Minor != 0 {
		return h, formatErr("unsupported format version %d.%d", h.Major, h.Minor)
	}
	text, err := readn.Full(r, hlen)
	if err != nil {
		return h, fmt.Errorf("npy: read header of %d bytes: %w", hlen, err)
	}
	if err := h.parse(text); err != nil {
		return h, err
	}
	return h, nil
}

func eofIsUnexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parse interprets the header text: a Python dict literal with exactly the keys 'descr',
// 'fortran_order' and 'shape', as numpy.lib.format writes and requires it.
func (h *Header) parse(text []byte) error {
	p := &literal{s: text}
	p.skipSpace()
	if !p.eat('{') {
		return formatErr("header %q is not a dict", clip(text))
	}
	seen := map[string]bool{}
	for {
		p.skipSpace()
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return formatErr("header key: %v", err)
		}
		if seen[key] {
			return formatErr("header key %q repeated", key)
		}
		seen[key] = true
		p.skipSpace()
		if !p.eat(':') {
			return formatErr("header: missing ':' after key %q", key)
		}
		p.skipSpace()
		switch key {
		case "descr":
			if p.peek() == '[' {
				return formatErr("structured dtypes are not supported")
			}
			if h.Descr, err = p.str(); err != nil {
				return formatErr("header descr: %v", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.FortranOrder = true
			case p.word("False"):
				h.FortranOrder = false
			default:
				return formatErr("header fortran_order is not True or False")
			}
		case "shape":
			if h.Shape, err = p.shape(); err != nil {
				return formatErr("header shape: %v", err)
			}
		default:
			return formatErr("unexpected header key %q", key)
		}
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		p.skipSpace()
		if !p.eat('}') {
			return formatErr("header: expected ',' or '}' at byte %d of %q", p.i, clip(text))
		}
		break
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return formatErr("header: unexpected text after the dict: %q", clip(p.s[p.i:]))
	}
	if !seen["descr"] || !seen["fortran_order"] || !seen["shape"] {
		return formatErr("header %q lacks one of the keys descr, fortran_order, shape", clip(text))
	}
	return nil
}

// dataSize returns the size in bytes of the array's data for the given item size, refusing sizes
// that do not fit in an int64.
func (h Header) dataSize(itemSize int) (int64, error) {
	n := int64(itemSize)
	for _, d := range h.Shape {
		if d == 0 {
			return 0, nil
		}
	}
	for _, d := range h.Shape {
		if n > math.MaxInt64/int64(d) {
			return 0, formatErr("shape %v of %d-byte items exceeds %d bytes", h.Shape, itemSize, int64(math.MaxInt64))
		}
		n *= int64(d)
	}
	return n, nil
}

func clip(b []byte) []byte {
	if len(b) > 80 {
		return append(b[:77:77], "..."...)
	}
	return b
}

// literal is a cursor over a Python literal.
type literal struct {
	s []byte
	i int
}

func (p *literal) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\n' || p.s[p.i] == '\t' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *literal) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *literal) eat(c byte) bool {
	if p.peek() == c {
		p.i++
		return true
	}
	return false
}

func (p *literal) word(w string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

// str parses a quoted string without escapes (a descr or a key never needs one).
func (p *literal) str() (string, error) {
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", fmt.Errorf("expected a quoted string at byte %d", p.i)
	}
	end := bytes.IndexByte(p.s[p.i+1:], q)
	if end < 0 {
		return "", fmt.Errorf("unterminated string at byte %d", p.i)
	}
	s := p.s[p.i+1 : p.i+1+end]
	if bytes.IndexByte(s, '\\') >= 0 {
		return "", fmt.Errorf("escape sequences are not supported in %q", s)
	}
	p.i += end + 2
	return string(s), nil
}

// shape parses a tuple of non-negative integers: "()", "(5,)", "(2, 3)", or Python 2's "(2L, 3L)".
func (p *literal) shape() ([]int, error) {
	if !p.eat('(') {
		return nil, fmt.Errorf("expected a tuple at byte %d", p.i)
	}
	shape := []int{}
	for {
		p.skipSpace()
		if p.eat(')') {
			return shape, nil
		}
		start := p.i
		neg := p.eat('-')
		for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
			p.i++
		}
		digits := string(p.s[start:p.i])
		if neg {
			return nil, fmt.Errorf("negative dimension %s", digits)
		}
		d, err := strconv.Atoi(digits)
		if err != nil {
			return nil, fmt.Errorf("bad dimension %q at byte %d", digits, start)
		}
		p.eat('L')
		if len(shape) == MaxDims {
			return nil, fmt.Errorf("more than %d dimensions", MaxDims)
		}
		shape = append(shape, d)
		p.skipSpace()
		if p.eat(',') {
			continue
		}
		p.skipSpace()
		if !p.eat(')') {
			return nil, fmt.Errorf("expected ',' or ')' at byte %d", p.i)
		}
		if len(shape) == 1 {
			// (5) is the integer 5, not a tuple; NumPy would fail on it too.
			return nil, fmt.Errorf("one-element tuple without a trailing comma")
		}
		return shape, nil
	}
}
