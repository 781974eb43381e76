package hdf5

import (
	"bytes"
	"encoding/binary"
	"slices"
	"testing"
)

// HDF5 1.10 no longer writes layout messages of version 1 or 2, nor old fill value messages, so
// these tests rewrite messages of a synthetic file (version 1 object headers have no checksums)
// into the older encodings and check that the values read are unchanged.

// messageOf returns the file offset of the body of the first message of type typ of the dataset.
func messageOf(t *testing.T, data []byte, path string, typ uint16) (off int64, size int) {
	t.Helper()
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.Dataset(path)
	if err != nil {
		t.Fatal(err)
	}
	if ds.oh.version != 1 {
		t.Fatalf("%s: object header version %d, want 1", path, ds.oh.version)
	}
	m := ds.oh.first(typ)
	if m == nil {
		t.Fatalf("%s: no message %#x", path, typ)
	}
	return m.off, len(m.data)
}

func readF64(t *testing.T, data []byte, path string) []float64 {
	t.Helper()
	f, err := Open(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.Dataset(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ds.ReadFloat64()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func TestLayoutVersion1(t *testing.T) {
	data := readTestdata(t, "earliest.h5")
	const path = "/types/i4" // contiguous, 5 elements of 4 bytes
	want := readF64(t, data, path)
	off, size := messageOf(t, data, path, msgLayout)
	if data[off] != 3 || data[off+1] != byte(Contiguous) || size < 24 {
		t.Fatalf("layout message %x is not a version 3 contiguous layout in 24 bytes", data[off:off+int64(size)])
	}
	addr := binary.LittleEndian.Uint64(data[off+2:])
	v1 := make([]byte, 24)
	v1[0], v1[1], v1[2] = 1, 2, byte(Contiguous) // version, dimensionality (rank+1), class
	binary.LittleEndian.PutUint64(v1[8:], addr)
	binary.LittleEndian.PutUint32(v1[16:], 5) // dimension sizes: ignored for contiguous data
	binary.LittleEndian.PutUint32(v1[20:], 4)
	patched := bytes.Clone(data)
	copy(patched[off:], v1)
	f, err := Open(bytes.NewReader(patched), int64(len(patched)))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.Dataset(path)
	if err != nil {
		t.Fatal(err)
	}
	if l := ds.Layout(); l.Version != 1 || l.Class != Contiguous {
		t.Fatalf("layout %+v, want version 1 contiguous", l)
	}
	if got := readF64(t, patched, path); !slices.Equal(got, want) {
		t.Errorf("version 1 layout: %v, want %v", got, want)
	}
}

func TestOldFillValue(t *testing.T) {
	data := readTestdata(t, "earliest.h5")
	const path = "/layouts/contiguous_unwritten" // never written, fill value 1.5
	want := readF64(t, data, path)
	if !slices.Equal(want, []float64{1.5, 1.5, 1.5, 1.5}) {
		t.Fatalf("fixture reads %v", want)
	}
	off, size := messageOf(t, data, path, msgFill)
	if size < 8 {
		t.Fatalf("fill message of %d bytes", size)
	}
	patched := bytes.Clone(data)
	binary.LittleEndian.PutUint16(patched[off-8:], msgFillOld) // the message type in its header
	old := make([]byte, size)
	binary.LittleEndian.PutUint32(old, 4)
	binary.LittleEndian.PutUint32(old[4:], 0x3fc00000) // float32 1.5
	copy(patched[off:], old)
	if got := readF64(t, patched, path); !slices.Equal(got, want) {
		t.Errorf("old fill value message: %v, want %v", got, want)
	}
	// A fill value whose size does not match the datatype is reported, not used.
	binary.LittleEndian.PutUint32(patched[off:], 3)
	f, err := Open(bytes.NewReader(patched), int64(len(patched)))
	if err != nil {
		t.Fatal(err)
	}
	ds, err := f.Dataset(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ds.ReadFloat64(); err == nil {
		t.Error("fill value of 3 bytes for 4-byte elements: no error")
	}
}
