package v4data

import (
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// BenchmarkLoadAllCompact loads all 219 compact models per iteration. "warm" reuses one Store,
// which has verified every file once and then trusts its size and modification time; "cold" opens
// a new Store per iteration, so every file is hashed (git blob SHA-1) before it is parsed.
// "hash" hashes the bytes of the 219 files alone, for comparison.
func BenchmarkLoadAllCompact(b *testing.B) {
	dir := datadirtest.Dir(b)
	s, err := Open(dir)
	if err != nil {
		b.Fatal(err)
	}
	ids, err := CompactIDs(s)
	if err != nil {
		b.Fatal(err)
	}
	loadAll := func(b *testing.B, s *Store, f Format) {
		for _, id := range ids {
			if _, err := LoadCompact(s, id, f); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, f := range Formats {
		var size int64
		for _, id := range ids {
			e, _ := s.Manifest().Lookup(f.CompactPath(id))
			size += e.Size
		}
		b.Run(f.String()+"/warm", func(b *testing.B) {
			loadAll(b, s, f) // verify once
			b.SetBytes(size)
			for b.Loop() {
				loadAll(b, s, f)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/model")
		})
		b.Run(f.String()+"/cold", func(b *testing.B) {
			b.SetBytes(size)
			for b.Loop() {
				cold, err := Open(dir)
				if err != nil {
					b.Fatal(err)
				}
				loadAll(b, cold, f)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ids)), "ns/model")
		})
		b.Run(f.String()+"/hash", func(b *testing.B) {
			files := make([][]byte, len(ids))
			for i, id := range ids {
				if files[i], err = s.ReadFile(f.CompactPath(id)); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(size)
			for b.Loop() {
				for _, c := range files {
					BlobSHA1Bytes(c)
				}
			}
		})
	}
}
