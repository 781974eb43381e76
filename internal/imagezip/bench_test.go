package imagezip

import (
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// BenchmarkReadZip decodes a whole 1,200-image archive (images_190923.zip)
// with runtime.GOMAXPROCS(0) workers.
func BenchmarkReadZip(b *testing.B) {
	dir := datadirtest.Lookup()
	if dir == "" {
		b.Skip("no data directory")
	}
	path := filepath.Join(dir, "data_V4_responses", "images", "images_190923.zip")
	f, err := os.Open(path)
	if err != nil {
		b.Skip(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	var n int
	for b.Loop() {
		im, err := Read(f, st.Size(), 0)
		if err != nil {
			b.Fatal(err)
		}
		n = im.N
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "images/s")
}
