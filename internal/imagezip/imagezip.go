// Package imagezip reads a recording session's image archive
// (data_V4_responses/images/images_<session>.zip) into one uint8 NHWC array
// with exactly the pixels of the reference loader.
//
// The reference loader (ImageClass.get_images_from_zipfile in the upstream
// repository) takes image k (0-based) to be the first entry, in the zip's
// central-directory order, whose name contains the substring
// fmt.Sprintf("image%04d.jpg", k+1); entries may sit in a folder, be stored
// or deflated, and come in any order. It decodes each with PIL (libjpeg-turbo)
// and converts it to RGB. Read applies the same rule and decodes with
// compactv4/internal/jpeg, which reproduces PIL's pixels bit for bit.
//
// The pixels are returned as they are (uint8); model preprocessing such as
// re-centring happens elsewhere.
package imagezip

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"sync/atomic"

	"compactv4/internal/jpeg"
)

// Images holds N images of H×W RGB pixels.
type Images struct {
	N, H, W int
	// Pix holds the samples as [n][y][x][c], c = R, G, B: the bytes of
	// numpy's np.stack(images).tobytes() for the reference loader's images.
	Pix []uint8
}

// Image returns the H*W*3 samples of image k (0-based), aliasing Pix.
func (im *Images) Image(k int) []uint8 {
	n := im.H * im.W * 3
	return im.Pix[k*n : (k+1)*n : (k+1)*n]
}

// PixelsSHA256 returns the hex SHA-256 of all pixels in image-index order,
// row-major [y][x][R,G,B] — the same bytes as numpy's
// np.stack(images).tobytes(), so users can compare their own decoder's pixels.
func PixelsSHA256(im *Images) string {
	s := sha256.Sum256(im.Pix)
	return hex.EncodeToString(s[:])
}

// Limits on hostile archives.
const (
	// MaxEntrySize is the largest accepted (uncompressed) entry.
	MaxEntrySize = 64 << 20
	// MaxTotalBytes is the largest accepted size of Images.Pix.
	MaxTotalBytes = 4 << 30
)

// maxPixels bounds the pixels of one image; the fuzz test lowers it.
var maxPixels = jpeg.MaxPixels

// EntryName returns the substring that names image k (0-based) in an
// archive: "image0001.jpg" for k = 0.
func EntryName(k int) string { return fmt.Sprintf("image%04d.jpg", k+1) }

// index maps each image index k to the position in files of the first entry
// whose name contains EntryName(k).
//
// A name contains "image" + D + ".jpg", with D = %04d of k+1, exactly when
// some occurrence of "image" in it is followed by a maximal run of digits
// equal to D and then ".jpg" (D is all digits and is followed by '.'). D is
// canonical: four digits, or more without a leading zero.
func index(files []*zip.File) map[int]int {
	idx := make(map[int]int, len(files))
	for i, f := range files {
		name := f.Name
		for p := 0; p+len("image") <= len(name); p++ {
			if name[p:p+5] != "image" {
				continue
			}
			q := p + 5
			for q < len(name) && '0' <= name[q] && name[q] <= '9' {
				q++
			}
			digits := name[p+5 : q]
			if len(digits) < 4 || len(digits) > 9 || (len(digits) > 4 && digits[0] == '0') {
				continue
			}
			if len(name)-q < 4 || name[q:q+4] != ".jpg" {
				continue
			}
			v := 0
			for _, c := range []byte(digits) {
				v = 10*v + int(c-'0')
			}
			if v == 0 {
				continue
			}
			if _, ok := idx[v-1]; !ok {
				idx[v-1] = i
			}
		}
	}
	return idx
}

// ReadFile opens the archive at path and calls Read.
func ReadFile(path string, n int) (*Images, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("imagezip: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("imagezip: %w", err)
	}
	im, err := Read(f, st.Size(), n)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return im, nil
}

// Read decodes the images of the zip archive held in r (size bytes).
//
// n is the number of images expected (the caller knows it from the
// responses file); a missing image0001.jpg ... image<n>.jpg is an error.
// With n <= 0, Read takes image0001.jpg up to the last consecutive index
// present. All images must have the same size; grayscale ones are converted
// to RGB as PIL's convert("RGB") does. Images are decoded in parallel on
// runtime.GOMAXPROCS(0) goroutines; the result does not depend on it.
func Read(r io.ReaderAt, size int64, n int) (*Images, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// Names with ".." or absolute paths do not matter here: nothing is
		// written to disk.
		return nil, fmt.Errorf("imagezip: %w", err)
	}
	idx := index(zr.File)
	if n <= 0 {
		for n = 0; ; n++ {
			if _, ok := idx[n]; !ok {
				break
			}
		}
		if n == 0 {
			return nil, fmt.Errorf("imagezip: no entry name contains %s", EntryName(0))
		}
	}
	files := make([]*zip.File, n)
	for k := range files {
		i, ok := idx[k]
		if !ok {
			return nil, fmt.Errorf("imagezip: no entry name contains %s (%d images expected)", EntryName(k), n)
		}
		files[k] = zr.File[i]
	}

	// Image 0 fixes the size of all.
	var buf bytes.Buffer
	first, err := decodeEntry(files[0], &buf)
	if err != nil {
		return nil, err
	}
	im := &Images{N: n, H: first.H, W: first.W}
	per := 3 * im.H * im.W
	if int64(per)*int64(n) > MaxTotalBytes {
		return nil, fmt.Errorf("imagezip: %d images of %dx%d exceed the limit of %d bytes", n, im.W, im.H, MaxTotalBytes)
	}
	im.Pix = make([]uint8, per*n)
	copy(im.Image(0), first.Pix)

	// Decode the others in parallel. Indices are handed out in increasing
	// order and workers stop taking new ones after an error, so every index
	// below a failing one is decoded and the lowest failing index — the
	// error reported — does not depend on scheduling.
	errs := make([]error, n)
	var next atomic.Int64
	next.Store(1)
	var failed atomic.Bool
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n-1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for !failed.Load() {
				k := int(next.Add(1) - 1)
				if k >= n {
					return
				}
				m, err := decodeEntry(files[k], &buf)
				if err == nil && (m.W != im.W || m.H != im.H) {
					err = fmt.Errorf("imagezip: entry %q (%s) is %dx%d, but %q (%s) is %dx%d",
						files[k].Name, EntryName(k), m.W, m.H, files[0].Name, EntryName(0), im.W, im.H)
				}
				if err != nil {
					errs[k] = err
					failed.Store(true)
					return
				}
				copy(im.Image(k), m.Pix)
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return im, nil
}

// decodeEntry reads entry f whole (so that archive/zip verifies its CRC-32)
// into buf and decodes it to RGB.
func decodeEntry(f *zip.File, buf *bytes.Buffer) (*jpeg.Image, error) {
	if f.UncompressedSize64 > MaxEntrySize {
		return nil, fmt.Errorf("imagezip: entry %q: %d bytes exceed the limit of %d", f.Name, f.UncompressedSize64, MaxEntrySize)
	}
	rc, err := f.Open()
	if err != nil {
		return nil, fmt.Errorf("imagezip: entry %q: %w", f.Name, err)
	}
	defer rc.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(rc, MaxEntrySize+1)); err != nil {
		return nil, fmt.Errorf("imagezip: entry %q: %w", f.Name, err)
	}
	if buf.Len() > MaxEntrySize {
		return nil, fmt.Errorf("imagezip: entry %q exceeds the limit of %d bytes", f.Name, MaxEntrySize)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("imagezip: entry %q: %w", f.Name, err)
	}
	if cfg.W*cfg.H > maxPixels {
		return nil, fmt.Errorf("imagezip: entry %q: %dx%d image exceeds the limit of %d pixels", f.Name, cfg.W, cfg.H, maxPixels)
	}
	m, err := jpeg.Decode(bytes.NewReader(buf.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("imagezip: entry %q: %w", f.Name, err)
	}
	return m.RGB(), nil
}
