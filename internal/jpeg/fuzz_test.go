package jpeg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/fuzzbound"
)

// FuzzDecode feeds arbitrary bytes to DecodeConfig and both Decode
// variants: they must return an error or a consistent image, never panic.
// Seeds: the small files of testdata (real images, tens of kilobytes, are
// regression cases of djpeg_test.go, not seeds: they slow the fuzzer down).
func FuzzDecode(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	if len(names) == 0 {
		f.Fatal("no seed files in testdata")
	}
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		cfg, err := DecodeConfig(bytes.NewReader(b))
		if err != nil {
			return
		}
		if cfg.W*cfg.H > 1<<20 {
			return // valid but slow to allocate; the size checks are unit-tested
		}
		for _, opt := range []Options{{}, {PortableIDCT: true}} {
			m, err := DecodeOptions(bytes.NewReader(b), opt)
			if err != nil {
				continue
			}
			if m.W != cfg.W || m.H != cfg.H || m.C != cfg.C || len(m.Pix) != m.W*m.H*m.C {
				t.Fatalf("%+v: image %dx%dx%d with %d bytes, config %+v", opt, m.W, m.H, m.C, len(m.Pix), cfg)
			}
		}
	})
}
