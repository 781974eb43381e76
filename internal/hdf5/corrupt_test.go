package hdf5

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// readEverything opens data and reads every dataset; it returns the first error other than an
// unsupported feature.
func readEverything(data []byte, limit int64) error {
	f, err := OpenOptions(bytes.NewReader(data), int64(len(data)), &Options{MaxDataBytes: limit})
	if err != nil {
		return err
	}
	return f.Walk(func(_ string, obj Object) error {
		if _, err := obj.Attrs(); err != nil {
			return err
		}
		ds, ok := obj.(*Dataset)
		if !ok {
			return nil
		}
		if _, err := ds.ReadRaw(); !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
		return nil
	})
}

// patchAfter returns a copy of b with the 4 bytes at the first occurrence of sig+skip replaced.
func patchAfter(t *testing.T, b []byte, sig string, skip int, v uint32) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(sig))
	if i < 0 {
		t.Fatalf("no %q in file", sig)
	}
	c := bytes.Clone(b)
	binary.LittleEndian.PutUint32(c[i+skip:], v)
	return c
}

// damageAt returns a copy of b with byte at(f)+skip inverted, where at finds a structure's
// address in the parsed file (signature searches can hit stale copies the library left behind).
func damageAt(t *testing.T, b []byte, skip int, at func(*File) uint64) []byte {
	t.Helper()
	f, err := Open(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	c := bytes.Clone(b)
	c[int(f.base+at(f))+skip] ^= 0xff
	return c
}

// groupMessage returns the first message of type typ of the group at path.
func groupMessage(t *testing.T, f *File, path string, typ uint16) *decoder {
	t.Helper()
	g, err := f.Group(path)
	if err != nil {
		t.Fatal(err)
	}
	m := g.oh.first(typ)
	if m == nil {
		t.Fatalf("group %s has no message %#x", path, typ)
	}
	return f.newDecoder(m.data, m.off, "test")
}

func TestCorruptFiles(t *testing.T) {
	latest := readTestdata(t, "latest.h5")
	earliest := readTestdata(t, "earliest.h5")
	tests := []struct {
		name    string
		data    []byte
		wantErr string // substring of the error
		format  bool   // the error matches ErrFormat
	}{
		{"empty", nil, "no HDF5 signature", true},
		{"not hdf5", []byte(strings.Repeat("GIF89a", 300)), "no HDF5 signature", true},
		{"signature only", []byte(signature), "truncated", true},
		{"truncated v3", latest[:len(latest)/2], "truncated file", true},
		{"truncated v0", earliest[:len(earliest)/2], "truncated file", true},
		{"superblock v3 checksum", patchAfter(t, latest, signature, 12, 0xdeadbeef), "superblock at offset 0: checksum mismatch", true},
		{"superblock version 9", func() []byte { c := bytes.Clone(latest); c[8] = 9; return c }(), "superblock version 9", false},
		{"size of offsets 3", func() []byte { c := bytes.Clone(earliest); c[13] = 3; return c }(), "size of offsets 3", true},
		{"object header checksum", patchAfter(t, latest, "OHDR", 6, 0xffffffff), "checksum mismatch", true},
		{"fractal heap checksum", damageAt(t, latest, 12, func(f *File) uint64 {
			d := groupMessage(t, f, "/dense", msgLinkInfo)
			d.skip(2)
			return d.addr()
		}), "fractal heap header", true},
		{"v2 B-tree checksum", damageAt(t, latest, 6, func(f *File) uint64 {
			d := groupMessage(t, f, "/dense", msgLinkInfo)
			d.skip(2)
			d.addr()
			return d.addr()
		}), "v2 B-tree header", true},
		{"fixed array checksum", patchAfter(t, latest, "FAHD", 8, 0x7fffffff), "fixed array header", true},
		{"extensible array checksum", patchAfter(t, latest, "EAHD", 12, 0x7fffffff), "extensible array header", true},
		{"v1 B-tree signature", damageAt(t, earliest, 0, func(f *File) uint64 {
			return groupMessage(t, f, "/types", msgSymbolTable).addr()
		}), "v1 B-tree node", true},
		{"local heap signature", damageAt(t, earliest, 1, func(f *File) uint64 {
			d := groupMessage(t, f, "/types", msgSymbolTable)
			d.addr()
			return d.addr()
		}), "local heap", true},
		{"symbol node signature", damageAt(t, earliest, 2, func(f *File) uint64 {
			var snod uint64
			f.btree1Walk(groupMessage(t, f, "/types", msgSymbolTable).addr(), 0, f.lenSize, func(_ []byte, _ int64, c uint64) error {
				snod = c
				return nil
			})
			return snod
		}), "symbol table node", true},
		{"data limit", earliest, "Options.MaxDataBytes", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			limit := int64(0)
			if tt.name == "data limit" {
				limit = 16
			}
			err := readEverything(tt.data, limit)
			if err == nil {
				t.Fatalf("no error, want %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want it to contain %q", err, tt.wantErr)
			}
			if tt.format && !errors.Is(err, ErrFormat) {
				t.Errorf("error %q does not match ErrFormat", err)
			}
		})
	}
}

// TestCorruptChunks damages chunk data: deflate streams and Fletcher-32 checksums must be caught.
func TestCorruptChunks(t *testing.T) {
	for _, tc := range []struct{ name, dataset, want string }{
		{"fletcher32", "/chunked/fletcher32", "fletcher32 checksum mismatch"},
		{"deflate", "/chunked/deflate", "deflate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := readTestdata(t, "earliest.h5")
			f, err := Open(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			ds, err := f.Dataset(tc.dataset)
			if err != nil {
				t.Fatal(err)
			}
			g, err := ds.geometry()
			if err != nil {
				t.Fatal(err)
			}
			var first chunkLoc
			if err := ds.btree1Chunks(g, func(c chunkLoc) error {
				if first.size == 0 {
					first = c
				}
				return nil
			}); err != nil || first.size == 0 {
				t.Fatalf("no chunk found: %v", err)
			}
			bad := bytes.Clone(data)
			bad[int(first.addr)+int(first.size)/2] ^= 0x55
			f, err = Open(bytes.NewReader(bad), int64(len(bad)))
			if err != nil {
				t.Fatal(err)
			}
			ds, err = f.Dataset(tc.dataset)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ds.ReadFloat32()
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrFormat) {
				t.Errorf("error %v, want ErrFormat mentioning %q", err, tc.want)
			}
		})
	}
}

// TestRandomDamage flips bytes and truncates every synthetic file at seeded random places: the
// reader may fail but must not panic (the deterministic companion of FuzzOpen).
func TestRandomDamage(t *testing.T) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.h5"))
	if testing.Short() {
		names = names[:1]
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, p := range names {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for range 15 {
			c := bytes.Clone(data)
			for range 1 + rng.IntN(4) {
				c[rng.IntN(len(c))] ^= byte(1 + rng.IntN(255))
			}
			exercise(c)
			exerciseOpts(c, &Options{MaxDataBytes: fuzzLimit, skipChecksums: true})
			exercise(data[:rng.IntN(len(data))])
		}
	}
}

func TestLookup3(t *testing.T) {
	// Test vectors of lookup3.c (hashlittle).
	for _, tc := range []struct {
		in   string
		init uint32
		want uint32
	}{
		{"", 0, 0xdeadbeef},
		{"Four score and seven years ago", 0, 0x17770551},
		{"Four score and seven years ago", 1, 0xcd628161},
	} {
		if got := lookup3([]byte(tc.in), tc.init); got != tc.want {
			t.Errorf("lookup3(%q, %#x) = %#08x, want %#08x", tc.in, tc.init, got, tc.want)
		}
	}
}

func TestFletcher32(t *testing.T) {
	// Values computed from the definition (16-bit big-endian words, sums mod 65535).
	for _, tc := range []struct {
		in   []byte
		want uint32
	}{
		{[]byte{}, 0},
		{[]byte{0x01, 0x02}, 0x01020102},
		{[]byte{0x01, 0x02, 0x03}, 0x05040402},
	} {
		if got := fletcher32(tc.in); got != tc.want {
			t.Errorf("fletcher32(%x) = %#08x, want %#08x", tc.in, got, tc.want)
		}
	}
}

func TestUnshuffle(t *testing.T) {
	// Shuffled 3 elements of 4 bytes plus 2 trailing bytes that are not shuffled.
	in := []byte{1, 5, 9, 2, 6, 10, 3, 7, 11, 4, 8, 12, 13, 14}
	want := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	got, err := unshuffle(in, 4)
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("unshuffle = %v, %v; want %v", got, err, want)
	}
}
