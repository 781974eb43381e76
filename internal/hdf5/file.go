package hdf5

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// signature is the HDF5 format signature that starts every superblock.
const signature = "\x89HDF\r\n\x1a\n"

// DefaultMaxDataBytes is the default of Options.MaxDataBytes (1 GiB).
const DefaultMaxDataBytes = 1 << 30

// Options tunes OpenOptions. The zero value selects the defaults.
type Options struct {
	// MaxDataBytes bounds the in-memory size in bytes of any one dataset or attribute value and
	// of any one decompressed chunk, and (times four) the total of the chunks decoded by one read;
	// reads that would need more fail with an error instead of allocating. Zero or negative means
	// DefaultMaxDataBytes. Data stored contiguously is in any case limited by the file size.
	MaxDataBytes int64

	skipChecksums bool // tests only (FuzzOpenNoChecksums)
}

// File is an open HDF5 file.
type File struct {
	r        io.ReaderAt
	size     int64
	base     uint64 // absolute offset of the superblock; addresses are relative to it
	offSize  int
	lenSize  int
	sbVer    int
	maxBytes int64
	root     *Group

	skipChecksums bool // tests only: lets fuzzing reach past checksummed metadata

	mu         sync.Mutex
	headers    map[uint64]*objectHeader
	gheaps     map[uint64]*globalHeap
	linkTables map[uint64]*linkTable
	cache      pageCache
}

// Open reads the superblock and the root group of the HDF5 file held by r, which has size bytes.
// The File reads r on demand: r must stay readable while the File is used (closing it is the
// caller's business). A .keras zip stores model.weights.h5 uncompressed, so an
// io.SectionReader over that entry (zip.File.DataOffset) can be opened directly.
func Open(r io.ReaderAt, size int64) (*File, error) { return OpenOptions(r, size, nil) }

// OpenOptions is Open with options; opts may be nil.
func OpenOptions(r io.ReaderAt, size int64, opts *Options) (*File, error) {
	f := &File{r: r, size: size, maxBytes: DefaultMaxDataBytes,
		headers: map[uint64]*objectHeader{}, gheaps: map[uint64]*globalHeap{}, linkTables: map[uint64]*linkTable{}}
	if opts != nil {
		if opts.MaxDataBytes > 0 {
			f.maxBytes = opts.MaxDataBytes
		}
		f.skipChecksums = opts.skipChecksums
	}
	if size < 0 {
		return nil, fmt.Errorf("hdf5: negative file size %d", size)
	}
	loc, err := f.findSuperblock()
	if err != nil {
		return nil, err
	}
	rootAddr, err := f.readSuperblock(loc)
	if err != nil {
		return nil, err
	}
	oh, err := f.objectHeader(rootAddr)
	if err != nil {
		return nil, fmt.Errorf("hdf5: root group: %w", err)
	}
	g, err := f.newGroup(oh, "/")
	if err != nil {
		return nil, fmt.Errorf("hdf5: root group: %w", err)
	}
	f.root = g
	return f, nil
}

// findSuperblock looks for the signature at 0, 512, 1024, 2048, ...
func (f *File) findSuperblock() (int64, error) {
	var buf [8]byte
	for loc := int64(0); loc+8 <= f.size; {
		n, err := f.r.ReadAt(buf[:], loc)
		if n < len(buf) {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, fmt.Errorf("hdf5: read signature at offset %d: %w", loc, err)
		}
		if string(buf[:]) == signature {
			return loc, nil
		}
		if loc == 0 {
			loc = 512
		} else {
			loc *= 2
		}
	}
	return 0, fmt.Errorf("hdf5: no HDF5 signature at offset 0, 512, 1024, ... (not an HDF5 file?): %w", ErrFormat)
}

// readSuperblock parses the superblock at loc and returns the root object header address.
func (f *File) readSuperblock(loc int64) (uint64, error) {
	const what = "superblock"
	n := f.size - loc
	if n > 256 {
		n = 256
	}
	buf := make([]byte, n)
	if _, err := f.r.ReadAt(buf, loc); err != nil && !errors.Is(err, io.EOF) {
		return 0, fmt.Errorf("hdf5: read superblock at offset %d: %w", loc, err)
	}
	if len(buf) < 13 {
		return 0, formatErr(what, loc, "truncated")
	}
	f.base = uint64(loc)
	f.sbVer = int(buf[8])
	var rootAddr, eof, storedBase uint64
	switch f.sbVer {
	case 0, 1:
		// sig, version, free-space version, root symbol table entry version, reserved,
		// shared header version, size of offsets, size of lengths, reserved.
		if len(buf) < 16 {
			return 0, formatErr(what, loc, "truncated: %d bytes", len(buf))
		}
		f.offSize, f.lenSize = int(buf[13]), int(buf[14])
		if err := f.checkSizes(loc); err != nil {
			return 0, err
		}
		d := f.newDecoder(buf, loc, what)
		d.skip(16)
		d.u16() // group leaf node K
		d.u16() // group internal node K
		d.u32() // file consistency flags
		if f.sbVer == 1 {
			d.u16() // indexed storage internal node K
			d.u16() // reserved
		}
		storedBase = d.addr()
		d.addr() // free-space info / superblock extension address
		eof = d.addr()
		d.addr() // driver information block
		// Root group symbol table entry.
		d.length() // link name offset
		rootAddr = d.addr()
		d.u32() // cache type
		d.u32() // reserved
		d.skip(16)
		if d.err != nil {
			return 0, d.err
		}
	case 2, 3:
		f.offSize, f.lenSize = int(buf[9]), int(buf[10])
		if err := f.checkSizes(loc); err != nil {
			return 0, err
		}
		size := 12 + 4*f.offSize + 4
		if len(buf) < size {
			return 0, formatErr(what, loc, "truncated: need %d bytes, have %d", size, len(buf))
		}
		if err := f.verifyChecksum(buf[:size], what, loc); err != nil {
			return 0, err
		}
		d := f.newDecoder(buf[:size], loc, what)
		d.skip(12)
		storedBase = d.addr()
		d.addr() // superblock extension address
		eof = d.addr()
		rootAddr = d.addr()
		if d.err != nil {
			return 0, d.err
		}
	default:
		return 0, unsupported("superblock version %d at offset %d", f.sbVer, loc)
	}
	// Addresses are relative to the superblock's own location, whatever base address it records;
	// the end-of-file address is then compared with the file size as the library does
	// (H5F__super_read).
	if eof != undefAddr {
		if storedBase != f.base {
			eof -= storedBase - f.base
		}
		if eof > uint64(f.size) {
			return 0, formatErr(what, loc, "truncated file: end-of-file address %d beyond file size %d", eof, f.size)
		}
	}
	if rootAddr == undefAddr {
		return 0, formatErr(what, loc, "undefined root group address")
	}
	return rootAddr, nil
}

func (f *File) checkSizes(loc int64) error {
	for _, s := range []int{f.offSize, f.lenSize} {
		if s != 2 && s != 4 && s != 8 {
			return formatErr("superblock", loc, "size of offsets %d / size of lengths %d: want 2, 4 or 8", f.offSize, f.lenSize)
		}
	}
	return nil
}

// SuperblockVersion returns the version of the file's superblock (0 to 3).
func (f *File) SuperblockVersion() int { return f.sbVer }

// Root returns the root group.
func (f *File) Root() *Group { return f.root }

// Group returns the group at path (absolute, or relative to the root group).
func (f *File) Group(path string) (*Group, error) { return f.root.Group(path) }

// Dataset returns the dataset at path (absolute, or relative to the root group).
func (f *File) Dataset(path string) (*Dataset, error) { return f.root.Dataset(path) }

// Walk calls fn for every group and dataset reachable from the root group; see Group.Walk.
func (f *File) Walk(fn WalkFunc) error { return f.root.Walk(fn) }

// abs converts a file address (relative to the base) into an absolute offset, checking that n
// bytes from there lie within the file.
func (f *File) abs(addr, n uint64, what string) (int64, error) {
	if addr == undefAddr {
		return 0, formatErr(what, -1, "undefined address")
	}
	a, ok := addOK(addr, f.base)
	if !ok || a > uint64(f.size) || n > uint64(f.size)-a {
		return 0, formatErr(what, int64(min(a, 1<<62)), "%d bytes at address %d lie beyond the end of the file (size %d)", n, addr, f.size)
	}
	return int64(a), nil
}

// readAt reads n bytes at file address addr (relative to the base).
func (f *File) readAt(addr, n uint64, what string) ([]byte, int64, error) {
	off, err := f.abs(addr, n, what)
	if err != nil {
		return nil, 0, err
	}
	buf := make([]byte, n)
	if err := f.readInto(buf, off); err != nil {
		return nil, off, fmt.Errorf("hdf5: read %s at offset %d: %w", what, off, err)
	}
	return buf, off, nil
}

// readUpTo reads up to n bytes at addr, fewer if the file ends first (at least 1 byte).
func (f *File) readUpTo(addr, n uint64, what string) ([]byte, int64, error) {
	off, err := f.abs(addr, 1, what)
	if err != nil {
		return nil, 0, err
	}
	if left := uint64(f.size - off); n > left {
		n = left
	}
	return f.readAt(addr, n, what)
}

// checkDataSize checks that n bytes of decoded data are within the configured limit.
func (f *File) checkDataSize(n uint64, what string) error {
	if n > uint64(f.maxBytes) {
		return fmt.Errorf("hdf5: %s needs %d bytes, more than the limit of %d (Options.MaxDataBytes)", what, n, f.maxBytes)
	}
	return nil
}
