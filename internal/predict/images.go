package predict

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"compactv4/internal/jpeg"
	"compactv4/internal/model"
	"compactv4/internal/npy"
	"compactv4/internal/pilresize"
)

// side is the width and height of a compact model's input images (reference/upstream.md §3.1).
const side = model.ImageSize

// maxFileSize is the largest image file (or zip entry) read.
const maxFileSize = 64 << 20

// maxPixels bounds the pixels of one image file before it is decoded; the fuzz test lowers it.
var maxPixels = jpeg.MaxPixels

// ErrInput reports images that cannot be given to a model: no images, an undecodable file, an
// image that is not 8-bit RGB, a NaN or out-of-range value in an .npy.
var ErrInput = errors.New("bad images")

// Images are a user's images, ready for a compact model: N images of side×side RGB, in the order
// of Names.
type Images struct {
	// Names are the images' names: the slash-separated path inside the zip or directory, sorted
	// by byte value; for an .npy, the 0-based index along its first axis.
	Names []string
	// Exactly one of Pix and Raw is set. Pix holds 8-bit pixels (N·side·side·3, NHWC, RGB): the
	// images of files, and an .npy of an integer dtype. Raw holds the raw intensities of an .npy
	// of a float dtype, which need not be integers.
	Pix []uint8
	Raw []float64
	// Resized counts the images resized to side×side; Skipped lists the files passed over
	// (neither .jpg, .jpeg nor .png; hidden; macOS resource forks).
	Resized int
	Skipped []string
}

// N is the number of images.
func (im *Images) N() int { return len(im.Names) }

// ImageOptions adjust how images are read.
type ImageOptions struct {
	// NoResize refuses an image that is not side×side instead of resizing it.
	NoResize bool
}

// readImages reads the images at p: a zip archive or a directory of JPEG and PNG files (any
// depth), one JPEG or PNG file, or an .npy array of images.
//
// JPEGs are decoded to exactly PIL's pixels (internal/jpeg), PNGs by image/png (lossless, so
// exactly). Only 8-bit RGB images are accepted: a grayscale, palette, alpha or 16-bit image is
// an error naming the file, as the upstream loaders, which stack np.array(Image.open(f)) into an
// (N, 112, 112, 3) array, cannot take one either. An image of another size than side×side is
// resized as upstream's ImageClass loaders do (`Image.open(f).resize((112, 112))`: Pillow's
// default BICUBIC filter, aspect ratio not kept; internal/pilresize reproduces Pillow 9.4 byte
// for byte), unless opts.NoResize, which refuses it. Images already side×side are used as
// decoded, as spec §3.1 says ("No resizing").
func readImages(p string, opts ImageOptions) (*Images, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		im, err := readDir(p, opts)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		return im, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, 8)
	n, _ := f.ReadAt(head, 0)
	head = head[:n]
	var im *Images
	switch {
	case bytes.HasPrefix(head, []byte(npy.Magic)):
		im, err = readNPY(f)
	case bytes.HasPrefix(head, []byte("PK")):
		im, err = readZip(f, st.Size(), opts)
	case bytes.HasPrefix(head, []byte{0xff, 0xd8}), bytes.HasPrefix(head, []byte("\x89PNG")):
		im = &Images{Names: []string{filepath.Base(p)}}
		err = im.decodeAll(opts, func(string) ([]byte, error) { return readLimited(f) })
	default:
		return nil, fmt.Errorf("%s is neither a zip archive, a directory, an .npy file nor a JPEG or PNG image: %w", p, ErrInput)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return im, nil
}

// candidate reports whether a file of a zip or directory is read as an image (by extension;
// hidden files and folders and macOS resource forks are passed over).
func candidate(name string) bool {
	for _, part := range strings.Split(name, "/") {
		if part == "__MACOSX" || strings.HasPrefix(part, ".") {
			return false
		}
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// readZip reads the JPEG and PNG entries of the zip archive r (size bytes); see readImages.
func readZip(r io.ReaderAt, size int64, opts ImageOptions) (*Images, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// Names with ".." or absolute paths do not matter: nothing is written to disk.
		return nil, fmt.Errorf("zip: %w: %w", err, ErrInput)
	}
	im := &Images{}
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if f.FileInfo().IsDir() {
			continue
		}
		if !candidate(f.Name) {
			im.Skipped = append(im.Skipped, f.Name)
			continue
		}
		if _, dup := entries[f.Name]; dup {
			return nil, fmt.Errorf("two entries named %q: %w", f.Name, ErrInput)
		}
		entries[f.Name] = f
		im.Names = append(im.Names, f.Name)
	}
	return im, im.decodeAll(opts, func(name string) ([]byte, error) {
		f := entries[name]
		if f.UncompressedSize64 > maxFileSize {
			return nil, fmt.Errorf("%d bytes exceed the limit of %d", f.UncompressedSize64, maxFileSize)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		defer rc.Close()
		return readLimited(rc) // reading to the end makes archive/zip check the CRC-32
	})
}

// readDir reads the JPEG and PNG files below dir; see readImages.
func readDir(dir string, opts ImageOptions) (*Images, error) {
	im := &Images{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if !candidate(rel) {
			im.Skipped = append(im.Skipped, rel)
			return nil
		}
		im.Names = append(im.Names, rel)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return im, im.decodeAll(opts, func(name string) ([]byte, error) {
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return readLimited(f)
	})
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxFileSize {
		return nil, fmt.Errorf("larger than the limit of %d bytes", maxFileSize)
	}
	return b, nil
}

// decodeAll sorts im.Names and decodes each file that read returns into im.Pix.
func (im *Images) decodeAll(opts ImageOptions, read func(name string) ([]byte, error)) error {
	if len(im.Names) == 0 {
		return fmt.Errorf("no .jpg, .jpeg or .png images (%d other files): %w", len(im.Skipped), ErrInput)
	}
	sort.Strings(im.Names)
	sort.Strings(im.Skipped)
	const per = side * side * 3
	im.Pix = make([]uint8, 0, len(im.Names)*per)
	for _, name := range im.Names {
		b, err := read(name)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		pix, w, h, err := decodeRGB(b)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if w != side || h != side {
			if opts.NoResize {
				return fmt.Errorf("%s is %d×%d, not %d×%d (without -no-resize it would be resized with Pillow's bicubic filter): %w", name, w, h, side, side, ErrInput)
			}
			if pix, err = pilresize.Bicubic(pix, w, h, 3, side, side); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			im.Resized++
		}
		im.Pix = append(im.Pix, pix...)
	}
	return nil
}

// decodeRGB decodes a JPEG or PNG file (told by its first bytes) to 8-bit RGB.
func decodeRGB(b []byte) (pix []uint8, w, h int, err error) {
	switch {
	case bytes.HasPrefix(b, []byte{0xff, 0xd8}):
		return decodeJPEG(b)
	case bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")):
		return decodePNG(b)
	}
	return nil, 0, 0, fmt.Errorf("neither a JPEG nor a PNG file: %w", ErrInput)
}

func decodeJPEG(b []byte) ([]uint8, int, int, error) {
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("corrupt JPEG: %w: %w", err, ErrInput)
	}
	if cfg.W*cfg.H > maxPixels {
		return nil, 0, 0, fmt.Errorf("%d×%d JPEG exceeds the limit of %d pixels: %w", cfg.W, cfg.H, maxPixels, ErrInput)
	}
	if cfg.C != 3 {
		return nil, 0, 0, fmt.Errorf("grayscale JPEG (%d channel); the models take RGB images: %w", cfg.C, ErrInput)
	}
	m, err := jpeg.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("corrupt JPEG: %w: %w", err, ErrInput)
	}
	return m.Pix, m.W, m.H, nil
}

// pngKinds names the PNG colour types (IHDR) that are not RGB.
var pngKinds = map[byte]string{0: "grayscale", 3: "palette", 4: "grayscale with alpha", 6: "RGB with alpha"}

func decodePNG(b []byte) ([]uint8, int, int, error) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("corrupt PNG: %w: %w", err, ErrInput)
	}
	// DecodeConfig has read the IHDR chunk, which follows the 8-byte signature: length, type,
	// width, height, bit depth, colour type.
	depth, kind := b[24], b[25]
	if kind != 2 || depth != 8 {
		desc := pngKinds[kind]
		if kind == 2 {
			desc = "RGB"
		}
		return nil, 0, 0, fmt.Errorf("%d-bit %s PNG; the models take 8-bit RGB images: %w", depth, desc, ErrInput)
	}
	if int64(cfg.Width)*int64(cfg.Height) > int64(maxPixels) {
		return nil, 0, 0, fmt.Errorf("%d×%d PNG exceeds the limit of %d pixels: %w", cfg.Width, cfg.Height, maxPixels, ErrInput)
	}
	m, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("corrupt PNG: %w: %w", err, ErrInput)
	}
	var src []uint8
	var stride int
	switch m := m.(type) {
	case *image.RGBA: // opaque: the bytes are the samples
		src, stride = m.Pix, m.Stride
	case *image.NRGBA: // RGB with a tRNS colour: the samples, unpremultiplied
		src, stride = m.Pix, m.Stride
	default:
		return nil, 0, 0, fmt.Errorf("PNG decoded as %T: %w", m, ErrInput)
	}
	w, h := cfg.Width, cfg.Height
	pix := make([]uint8, w*h*3)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			copy(pix[(y*w+x)*3:(y*w+x)*3+3], src[y*stride+4*x:y*stride+4*x+3])
		}
	}
	return pix, w, h, nil
}

// readNPY reads an .npy array of raw images (pixel intensities in [0, 255], not recentred, as
// upstream's ImageClass returns them): shape (N, 112, 112, 3), or (112, 112, 3) for one image,
// of an integer or float dtype. NaN, infinite and out-of-range values are errors naming the
// image; the array is not resized.
func readNPY(r io.Reader) (*Images, error) {
	a, err := npy.Read(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, ErrInput)
	}
	shape := a.Shape
	if len(shape) == 3 {
		shape = append([]int{1}, shape...)
	}
	if len(shape) != 4 || shape[1] != side || shape[2] != side || shape[3] != 3 {
		return nil, fmt.Errorf("images of shape %v; want (N, %d, %d, 3) RGB, NHWC: %w", a.Shape, side, side, ErrInput)
	}
	n := shape[0]
	if n == 0 {
		return nil, fmt.Errorf("no images (shape %v): %w", a.Shape, ErrInput)
	}
	if a.Dtype.Kind == 'b' {
		return nil, fmt.Errorf("dtype %v; want raw pixel intensities as integers or floats: %w", a.Dtype, ErrInput)
	}
	const per = side * side * 3
	im := &Images{Names: make([]string, n)}
	for i := range im.Names {
		im.Names[i] = strconv.Itoa(i)
	}
	bad := func(k int, v any) error {
		return fmt.Errorf("image %d (pixel %d) holds %v; want raw intensities in [0, 255] (add the mean pixel back to recentred images): %w", k/per, k%per, v, ErrInput)
	}
	if a.Float64 != nil {
		for k, v := range a.Float64 {
			if !(v >= 0 && v <= 255) { // NaN fails both
				return nil, bad(k, v)
			}
		}
		im.Raw = a.Float64
		return im, nil
	}
	im.Pix = make([]uint8, len(a.Int64))
	for k, v := range a.Int64 {
		if v < 0 || v > 255 {
			return nil, bad(k, v)
		}
		im.Pix[k] = uint8(v)
	}
	return im, nil
}

// recentred returns the model input of images lo…hi−1: float32(float64(p) − mean_c), as
// nn.Recenter computes it for 8-bit pixels (reference/upstream.md §3.1).
func (im *Images) recentred(lo, hi int) []float32 {
	const per = side * side * 3
	x := make([]float32, (hi-lo)*per)
	for i := range x {
		x[i] = float32(im.Raw[lo*per+i] - model.MeanPixel[i%3])
	}
	return x
}
