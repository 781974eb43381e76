package imagezip

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
)

// FuzzReadZip feeds arbitrary bytes to Read: it must return an error or consistent images, never
// panic. Seeds: the synthetic zip of syntheticZip (folder entry, nested, unordered, deflated,
// duplicate and decoy names, 20x12 images: 3 KB). Miniatures of real archives (their first four
// images, 20-30 KB) are regression cases (TestFuzzChecksMiniatures), not seeds: the fuzzer
// crawls on inputs that large.
func FuzzReadZip(f *testing.F) {
	z, _ := syntheticZip(f)
	f.Add(z)
	// Keep each iteration small: a mutated header may claim a huge image.
	defer func(old int) { maxPixels = old }(maxPixels)
	maxPixels = 1 << 16
	fuzzbound.Fuzz(f, checkRead)
}

// checkRead reads a zip of images and checks what Read returns.
func checkRead(t *testing.T, b []byte) {
	for _, n := range []int{0, 3} {
		im, err := Read(bytes.NewReader(b), int64(len(b)), n)
		if err != nil {
			continue
		}
		if im.N <= 0 || (n > 0 && im.N != n) || len(im.Pix) != im.N*im.H*im.W*3 {
			t.Fatalf("n=%d: N=%d H=%d W=%d with %d bytes", n, im.N, im.H, im.W, len(im.Pix))
		}
	}
}

// TestFuzzChecksMiniatures runs FuzzReadZip's checks on miniatures of two real archives (one
// with a folder entry, one deflated and unordered): the entries of their first four images
// copied raw (same names, methods and compressed bytes).
func TestFuzzChecksMiniatures(t *testing.T) {
	dir := datadirtest.Dir(t)
	for _, name := range []string{"images_190923.zip", "images_190925.zip"} {
		b, err := miniature(filepath.Join(dir, "data_V4_responses", "images", name), 4)
		if errors.Is(err, fs.ErrNotExist) {
			t.Logf("%s absent", name)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Read(bytes.NewReader(b), int64(len(b)), 4); err != nil {
			t.Fatalf("miniature of %s: %v", name, err)
		}
		checkRead(t, b)
	}
}

// miniature copies the entries of images 1..n of the zip at path, and its
// first entry (a folder in some archives), raw and in their
// central-directory order, into a new zip.
func miniature(path string, n int) ([]byte, error) {
	zr, err := zip.OpenReader(path)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	keep := map[int]bool{0: true}
	idx := index(zr.File)
	for k := 0; k < n; k++ {
		if i, ok := idx[k]; ok {
			keep[i] = true
		}
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i, f := range zr.File {
		if !keep[i] {
			continue
		}
		raw, err := f.OpenRaw()
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateRaw(&f.FileHeader)
		if err != nil {
			return nil, err
		}
		if _, err := io.Copy(w, raw); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
