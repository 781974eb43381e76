package jpeg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// BenchmarkDecode decodes one image: a synthetic 41x27 4:2:0 file and, when
// the data directory is present, a real 112x112 4:2:0 image of the V4 set.
func BenchmarkDecode(b *testing.B) {
	inputs := []struct{ name, path string }{{"synthetic-41x27", filepath.Join("testdata", "pil_420_q75.jpg")}}
	for _, in := range inputs {
		data, err := os.ReadFile(in.path)
		if err != nil {
			b.Fatal(err)
		}
		benchDecode(b, in.name, data)
	}
	if dir := datadirtest.Lookup(); dir != "" {
		for _, data := range realSample(b, dir, 1) {
			benchDecode(b, "real-112x112", data)
			break
		}
	}
}

func benchDecode(b *testing.B, name string, data []byte) {
	for _, v := range []struct {
		name string
		opt  Options
	}{{"simd", Options{}}, {"portable", Options{PortableIDCT: true}}} {
		b.Run(name+"/"+v.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := DecodeOptions(bytes.NewReader(data), v.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
