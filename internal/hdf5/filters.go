package hdf5

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Filter identifiers.
const (
	FilterDeflate     = 1
	FilterShuffle     = 2
	FilterFletcher32  = 3
	FilterSzip        = 4
	FilterNbit        = 5
	FilterScaleOffset = 6
)

var filterNames = map[uint16]string{
	FilterDeflate: "deflate", FilterShuffle: "shuffle", FilterFletcher32: "fletcher32",
	FilterSzip: "szip", FilterNbit: "nbit", FilterScaleOffset: "scaleoffset",
	32000: "lzf", 32001: "blosc", 32004: "lz4", 32008: "bitshuffle", 32013: "zfp", 32015: "zstd",
	32017: "sz", 32026: "blosc2",
}

// Filter is one stage of a dataset's filter pipeline.
type Filter struct {
	ID       uint16
	Name     string // the name stored in the file, or the registered name of the ID
	Optional bool
	Params   []uint32 // client data
}

// parseFilterPipeline decodes a filter pipeline message body (versions 1 and 2).
func (f *File) parseFilterPipeline(data []byte, off int64) ([]Filter, error) {
	d := f.newDecoder(data, off, "filter pipeline message")
	version := d.u8()
	n := int(d.u8())
	switch version {
	case 1:
		d.skip(6)
	case 2:
	default:
		d.fail("unknown version %d", version)
	}
	if n > 32 {
		d.fail("%d filters, more than 32", n)
	}
	var out []Filter
	for i := 0; i < n && d.err == nil; i++ {
		var flt Filter
		flt.ID = d.u16()
		nameLen := 0
		if version == 1 || flt.ID >= 256 {
			nameLen = int(d.u16())
		}
		flags := d.u16()
		flt.Optional = flags&1 != 0
		nparams := int(d.u16())
		if nameLen > 0 {
			name := d.bytes(nameLen)
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			flt.Name = string(name)
		}
		if flt.Name == "" {
			flt.Name = filterNames[flt.ID]
		}
		if nparams > d.remaining()/4 {
			d.fail("filter %d has %d parameters, more than the message holds", flt.ID, nparams)
			break
		}
		flt.Params = make([]uint32, nparams)
		for j := range flt.Params {
			flt.Params[j] = d.u32()
		}
		if version == 1 && nparams%2 == 1 {
			d.skip(4)
		}
		out = append(out, flt)
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

// describe names a filter for error messages.
func (flt Filter) describe() string {
	if flt.Name != "" {
		return fmt.Sprintf("%s (id %d)", flt.Name, flt.ID)
	}
	return fmt.Sprintf("id %d", flt.ID)
}

// unfilter undoes the pipeline (in reverse order, skipping filters whose bit is set in mask) on
// raw and returns at most limit bytes of output (the size the data must have when decoded).
func (f *File) unfilter(pipeline []Filter, mask uint32, raw []byte, limit uint64, what string, off int64) ([]byte, error) {
	if err := f.checkDataSize(limit, what); err != nil {
		return nil, err
	}
	buf := raw
	for i := len(pipeline) - 1; i >= 0; i-- {
		if i < 32 && mask&(1<<uint(i)) != 0 {
			continue
		}
		flt := pipeline[i]
		var err error
		switch flt.ID {
		case FilterDeflate:
			buf, err = inflate(buf, limit)
		case FilterShuffle:
			size := 1
			if len(flt.Params) > 0 {
				size = int(flt.Params[0])
			}
			buf, err = unshuffle(buf, size)
		case FilterFletcher32:
			buf, err = checkFletcher32(buf)
		default:
			return nil, unsupported("%s at offset %d uses filter %s", what, off, flt.describe())
		}
		if err != nil {
			return nil, fmt.Errorf("hdf5: %s at offset %d: filter %s: %w", what, off, flt.describe(), err)
		}
	}
	return buf, nil
}

// inflate decompresses a zlib stream, refusing output larger than limit.
func inflate(in []byte, limit uint64) ([]byte, error) {
	zr, err := zlib.NewReader(bytes.NewReader(in))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	defer zr.Close()
	out := bytes.NewBuffer(make([]byte, 0, min(limit, 1<<26)))
	n, err := io.Copy(out, io.LimitReader(zr, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrFormat, err)
	}
	if uint64(n) > limit {
		return nil, fmt.Errorf("%w: decompressed data exceeds the expected %d bytes", ErrFormat, limit)
	}
	return out.Bytes(), nil
}

// unshuffle undoes the byte shuffle of elements of size bytes.
func unshuffle(in []byte, size int) ([]byte, error) {
	if size <= 1 || len(in) < size {
		return in, nil
	}
	n := len(in) / size
	out := make([]byte, len(in))
	for b := 0; b < size; b++ {
		src := in[b*n : (b+1)*n]
		for i, v := range src {
			out[i*size+b] = v
		}
	}
	copy(out[n*size:], in[n*size:])
	return out, nil
}

var errFletcher = errors.New("fletcher32 checksum mismatch")

// checkFletcher32 verifies and strips the trailing Fletcher-32 checksum (H5Zfletcher32.c).
func checkFletcher32(in []byte) ([]byte, error) {
	if len(in) < 4 {
		return nil, fmt.Errorf("%w: %d bytes, too short for a checksum", ErrFormat, len(in))
	}
	n := len(in) - 4
	stored := binary.LittleEndian.Uint32(in[n:])
	sum := fletcher32(in[:n])
	// Files from HDF5 before 1.6.3 stored the checksum with its bytes swapped pairwise.
	swapped := (sum&0x00ff00ff)<<8 | (sum&0xff00ff00)>>8
	if stored != sum && stored != swapped {
		return nil, fmt.Errorf("%w: %w: stored %#08x, computed %#08x", ErrFormat, errFletcher, stored, sum)
	}
	return in[:n], nil
}

// fletcher32 is H5_checksum_fletcher32: 16-bit big-endian words, folded every 360 words.
func fletcher32(data []byte) uint32 {
	var sum1, sum2 uint32
	words := len(data) / 2
	p := 0
	for words > 0 {
		t := min(words, 360)
		words -= t
		for ; t > 0; t-- {
			sum1 += uint32(data[p])<<8 | uint32(data[p+1])
			p += 2
			sum2 += sum1
		}
		sum1 = (sum1 & 0xffff) + (sum1 >> 16)
		sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	}
	if len(data)%2 == 1 {
		sum1 += uint32(data[p]) << 8
		sum2 += sum1
		sum1 = (sum1 & 0xffff) + (sum1 >> 16)
		sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	}
	sum1 = (sum1 & 0xffff) + (sum1 >> 16)
	sum2 = (sum2 & 0xffff) + (sum2 >> 16)
	return sum2<<16 | sum1
}
