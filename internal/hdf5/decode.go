package hdf5

import (
	"encoding/binary"
	"math/bits"
)

// undefAddr is the "undefined address" (all bits set), whatever the size of offsets.
const undefAddr = ^uint64(0)

// decoder reads little-endian fields from a byte slice that came from file offset off. The first
// failure is sticky: later reads return zero values and err keeps the first error.
type decoder struct {
	b       []byte
	p       int
	off     int64 // absolute file offset of b[0], or -1
	what    string
	offSize int
	lenSize int
	err     error
}

func (f *File) newDecoder(b []byte, off int64, what string) *decoder {
	return &decoder{b: b, off: off, what: what, offSize: f.offSize, lenSize: f.lenSize}
}

// fail records a format error at the current position (unless an error is already recorded).
func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = formatErr(d.what, d.pos(), format, args...)
	}
}

// pos returns the absolute file offset of the next byte, or -1 when unknown.
func (d *decoder) pos() int64 {
	if d.off < 0 {
		return -1
	}
	return d.off + int64(d.p)
}

func (d *decoder) remaining() int { return len(d.b) - d.p }

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if n < 0 || d.remaining() < n {
		d.fail("truncated: need %d bytes, have %d", n, d.remaining())
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[d.p]
	d.p++
	return v
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := binary.LittleEndian.Uint16(d.b[d.p:])
	d.p += 2
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.LittleEndian.Uint32(d.b[d.p:])
	d.p += 4
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b[d.p:])
	d.p += 8
	return v
}

// uvar reads an n-byte little-endian unsigned integer, 0 <= n <= 8.
func (d *decoder) uvar(n int) uint64 {
	if n > 8 {
		d.fail("integer field of %d bytes", n)
		return 0
	}
	if !d.need(n) {
		return 0
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(d.b[d.p+i])
	}
	d.p += n
	return v
}

// addr reads a file address ("size of offsets" bytes); all bits set gives undefAddr.
func (d *decoder) addr() uint64 {
	v := d.uvar(d.offSize)
	if d.offSize < 8 && v == 1<<(8*uint(d.offSize))-1 {
		return undefAddr
	}
	return v
}

// length reads a "size of lengths" field.
func (d *decoder) length() uint64 { return d.uvar(d.lenSize) }

func (d *decoder) bytes(n int) []byte {
	if !d.need(n) {
		return nil
	}
	v := d.b[d.p : d.p+n : d.p+n]
	d.p += n
	return v
}

func (d *decoder) skip(n int) {
	if d.need(n) {
		d.p += n
	}
}

// signature checks a 4-byte signature.
func (d *decoder) signature(sig string) {
	b := d.bytes(len(sig))
	if d.err == nil && string(b) != sig {
		d.p -= len(sig)
		d.fail("bad signature %q, want %q", b, sig)
	}
}

// log2 returns floor(log2(v)) for v > 0 and 0 for v == 0 (H5VM_log2_gen).
func log2(v uint64) int {
	if v == 0 {
		return 0
	}
	return bits.Len64(v) - 1
}

// limitEncSize is the number of bytes needed to encode values up to v (H5VM_limit_enc_size).
func limitEncSize(v uint64) int { return log2(v)/8 + 1 }

func isPow2(v uint64) bool { return v != 0 && v&(v-1) == 0 }

// mulOK returns a*b and whether it did not overflow.
func mulOK(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// addOK returns a+b and whether it did not overflow.
func addOK(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}

// lookup3 is Bob Jenkins' lookup3 hashlittle, the checksum of HDF5 metadata (H5_checksum_lookup3).
func lookup3(k []byte, initval uint32) uint32 {
	length := len(k)
	a := 0xdeadbeef + uint32(length) + initval
	b, c := a, a
	for length > 12 {
		a += binary.LittleEndian.Uint32(k[0:])
		b += binary.LittleEndian.Uint32(k[4:])
		c += binary.LittleEndian.Uint32(k[8:])
		a -= c
		a ^= bits.RotateLeft32(c, 4)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 6)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 8)
		b += a
		a -= c
		a ^= bits.RotateLeft32(c, 16)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 19)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 4)
		b += a
		length -= 12
		k = k[12:]
	}
	if length == 0 {
		return c
	}
	var tail [12]byte
	copy(tail[:], k[:length])
	a += binary.LittleEndian.Uint32(tail[0:])
	b += binary.LittleEndian.Uint32(tail[4:])
	c += binary.LittleEndian.Uint32(tail[8:])
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return c
}

// verifyChecksum checks that the last 4 bytes of b are the lookup3 checksum of the rest.
func (f *File) verifyChecksum(b []byte, what string, off int64) error {
	if f.skipChecksums {
		return nil
	}
	if len(b) < 4 {
		return formatErr(what, off, "too short for a checksum")
	}
	n := len(b) - 4
	stored := binary.LittleEndian.Uint32(b[n:])
	if got := lookup3(b[:n], 0); got != stored {
		return formatErr(what, off, "checksum mismatch: stored %#08x, computed %#08x", stored, got)
	}
	return nil
}
