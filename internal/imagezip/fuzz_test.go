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
)

// FuzzReadZip feeds arbitrary bytes to Read: it must return an error or
// consistent images, never panic. Seeds: the synthetic zip of syntheticZip
// (folder entry, nested, unordered, deflated, duplicate and decoy names)
// and, when the data directory is present, miniatures of two real archives
// (one with a folder entry, one deflated and unordered): the entries of
// their first four images copied raw (same names, methods and compressed
// bytes), so that each fuzzing iteration stays fast.
func FuzzReadZip(f *testing.F) {
	z, _ := syntheticZip(f)
	f.Add(z)
	if dir := datadirtest.Lookup(); dir != "" {
		for _, name := range []string{"images_190923.zip", "images_190925.zip"} {
			if b, err := miniature(filepath.Join(dir, "data_V4_responses", "images", name), 4); err == nil {
				if _, err := Read(bytes.NewReader(b), int64(len(b)), 4); err != nil {
					f.Fatalf("miniature of %s: %v", name, err)
				}
				f.Add(b)
			} else if !errors.Is(err, fs.ErrNotExist) {
				f.Fatal(err)
			}
		}
	}
	// Keep each iteration small: a mutated header may claim a huge image.
	defer func(old int) { maxPixels = old }(maxPixels)
	maxPixels = 1 << 16
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, n := range []int{0, 3} {
			im, err := Read(bytes.NewReader(b), int64(len(b)), n)
			if err != nil {
				continue
			}
			if im.N <= 0 || (n > 0 && im.N != n) || len(im.Pix) != im.N*im.H*im.W*3 {
				t.Fatalf("n=%d: N=%d H=%d W=%d with %d bytes", n, im.N, im.H, im.W, len(im.Pix))
			}
		}
	})
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
