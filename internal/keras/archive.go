package keras

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"

	"compactv4/internal/hdf5"
	"compactv4/internal/model"
)

// Names of the entries of a .keras archive.
const (
	ConfigEntry   = "config.json"
	MetadataEntry = "metadata.json"
	WeightsEntry  = "model.weights.h5"
)

// Limits on the entries of a .keras archive.
const (
	MaxMetadataBytes = 1 << 20 // bytes of metadata.json
	// MaxWeightsEntryBytes bounds model.weights.h5 when it is compressed and must be decompressed
	// into memory; a stored (uncompressed) entry, as Keras writes it, is read in place.
	MaxWeightsEntryBytes = 1 << 30
)

// Metadata is the content of a .keras archive's metadata.json.
type Metadata struct {
	KerasVersion string `json:"keras_version"` // "3.1.1" for every published model
	DateSaved    string `json:"date_saved"`    // e.g. "2025-02-18@12:53:23"
}

// Model is a model read from a .keras archive: the network with its weights, and the archive's
// metadata.
type Model struct {
	Network  *model.Network
	Metadata Metadata
}

// ReadModel reads a Keras 3 .keras archive (a zip holding metadata.json, config.json and
// model.weights.h5) and returns the network it holds, weights included. See ReadArchive.
func ReadModel(r io.ReaderAt, size int64) (*model.Network, error) {
	m, err := ReadArchive(r, size)
	if err != nil {
		return nil, err
	}
	return m.Network, nil
}

// ReadArchive reads a Keras 3 .keras archive: the network from config.json (ParseConfig), its
// weights from model.weights.h5 (LoadWeights), and metadata.json when present. The network is
// then checked by model.Network.Validate (weight shapes, no NaN or infinite values).
//
// Keras stores the entries uncompressed; model.weights.h5 is then read in place through a
// section of r (no copy), after its CRC-32 has been checked against the zip directory. A
// compressed entry is decompressed into memory (at most MaxWeightsEntryBytes). Each of the
// three entries may appear once; other entries (assets/) are ignored.
func ReadArchive(r io.ReaderAt, size int64) (*Model, error) {
	m, err := readArchive(r, size)
	if err != nil {
		return nil, fmt.Errorf("keras archive: %w", err)
	}
	return m, nil
}

func readArchive(r io.ReaderAt, size int64) (*Model, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable zip: %w", err)
	}
	entries := map[string]*zip.File{}
	for _, zf := range zr.File {
		switch zf.Name {
		case ConfigEntry, MetadataEntry, WeightsEntry:
			if entries[zf.Name] != nil {
				return nil, fmt.Errorf("two %s entries", zf.Name)
			}
			entries[zf.Name] = zf
		}
	}
	for _, name := range []string{ConfigEntry, WeightsEntry} {
		if entries[name] == nil {
			return nil, fmt.Errorf("no %s entry: not a Keras 3 model archive", name)
		}
	}
	m := &Model{}
	if zf := entries[MetadataEntry]; zf != nil {
		b, err := readSmall(zf, MaxMetadataBytes)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &m.Metadata); err != nil {
			return nil, fmt.Errorf("%s: %w", MetadataEntry, err)
		}
	}
	cfg, err := readSmall(entries[ConfigEntry], MaxConfigBytes)
	if err != nil {
		return nil, err
	}
	net, err := ParseConfig(bytes.NewReader(cfg))
	if err != nil {
		return nil, err
	}
	wr, wsize, err := weightsReader(r, size, entries[WeightsEntry])
	if err != nil {
		return nil, err
	}
	f, err := hdf5.OpenOptions(wr, wsize, &hdf5.Options{MaxDataBytes: MaxWeightBytes})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", WeightsEntry, err)
	}
	if err := LoadWeights(net, f); err != nil {
		return nil, fmt.Errorf("%s: %w", WeightsEntry, err)
	}
	if err := net.Validate(); err != nil {
		return nil, err
	}
	m.Network = net
	return m, nil
}

// readSmall reads a whole zip entry of at most limit bytes (its CRC-32 is checked by archive/zip).
func readSmall(zf *zip.File, limit int64) ([]byte, error) {
	if zf.UncompressedSize64 > uint64(limit) {
		return nil, fmt.Errorf("%s: %d bytes (limit %d)", zf.Name, zf.UncompressedSize64, limit)
	}
	rc, err := zf.Open()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", zf.Name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than %d bytes", zf.Name, limit)
	}
	return b, nil
}

// weightsReader returns a reader over the content of the weights entry: a section of r when the
// entry is stored, else the decompressed bytes.
func weightsReader(r io.ReaderAt, size int64, zf *zip.File) (io.ReaderAt, int64, error) {
	if zf.Method != zip.Store {
		b, err := readSmall(zf, MaxWeightsEntryBytes)
		if err != nil {
			return nil, 0, err
		}
		return bytes.NewReader(b), int64(len(b)), nil
	}
	if zf.CompressedSize64 != zf.UncompressedSize64 {
		return nil, 0, fmt.Errorf("%s: stored entry with %d bytes compressed and %d uncompressed", zf.Name, zf.CompressedSize64, zf.UncompressedSize64)
	}
	off, err := zf.DataOffset()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", zf.Name, err)
	}
	n := zf.UncompressedSize64
	if off < 0 || n > uint64(size) || off > size-int64(n) {
		return nil, 0, fmt.Errorf("%s: %d bytes at offset %d run past the end of the %d-byte archive", zf.Name, n, off, size)
	}
	sr := io.NewSectionReader(r, off, int64(n))
	h := crc32.NewIEEE()
	if _, err := io.Copy(h, io.NewSectionReader(r, off, int64(n))); err != nil {
		return nil, 0, fmt.Errorf("%s: %w", zf.Name, err)
	}
	if h.Sum32() != zf.CRC32 {
		return nil, 0, fmt.Errorf("%s: %w (CRC-32 %08x, the zip directory says %08x)", zf.Name, zip.ErrChecksum, h.Sum32(), zf.CRC32)
	}
	return sr, int64(n), nil
}
