package areadata

import (
	"archive/zip"
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // the stimulus zip's images may be JPEG
	_ "image/png"  // or PNG
	"io"
	"os"
	"path"

	"compactv4/internal/pilresize"
)

// MaxImageSide bounds the width and height of a stimulus image ReadStimulusImages decodes (the
// HVM images are 256×256).
const MaxImageSide = 4096

// StimulusImages verifies and reads the images ids of the store's MajajHong2015 stimulus zip (see
// ReadStimulusImages).
func (s *Store) StimulusImages(st *Stimuli, ids []string, side int) ([]uint8, error) {
	p, err := s.Path(StimulusZipPath)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, fmt.Errorf("area data file %s: %w", StimulusZipPath, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("area data file %s: %w", StimulusZipPath, err)
	}
	pix, err := ReadStimulusImages(f, fi.Size(), st, ids, side)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return pix, nil
}

// ReadStimulusImages reads the images ids (image_id values of st) from a stimulus zip of size
// bytes and returns them as side×side RGB bytes, image after image (NHWC). An image is the zip
// member whose base name is its image_file_name (at the top of the archive or in a folder; a name
// found twice is an error), decoded as PNG or JPEG, converted to 8-bit RGB (a grey image copied
// to the three channels, a transparent one composited on black) and resized with Pillow's bicubic filter
// (internal/pilresize), a non-square image stretched to the square.
func ReadStimulusImages(r io.ReaderAt, size int64, st *Stimuli, ids []string, side int) ([]uint8, error) {
	if side < 1 {
		return nil, fmt.Errorf("stimulus images: side %d", side)
	}
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("stimulus images: %w", err)
	}
	member := map[string]*zip.File{}
	for _, f := range z.File {
		if f.FileInfo().IsDir() {
			continue
		}
		b := path.Base(f.Name)
		if _, dup := member[b]; dup {
			return nil, fmt.Errorf("stimulus images: two members named %s", b)
		}
		member[b] = f
	}
	out := make([]uint8, 0, len(ids)*side*side*3)
	for _, id := range ids {
		name, ok := st.File(id)
		if !ok {
			return nil, fmt.Errorf("stimulus images: image %s is not in the stimulus set", id)
		}
		f, ok := member[name]
		if !ok {
			return nil, fmt.Errorf("stimulus images: image %s (%s) is not in the zip", id, name)
		}
		im, err := decodeMember(f)
		if err != nil {
			return nil, fmt.Errorf("stimulus images: image %s (%s): %w", id, name, err)
		}
		rgb, err := pilresize.Bicubic(im.pix, im.w, im.h, 3, side, side)
		if err != nil {
			return nil, fmt.Errorf("stimulus images: image %s (%s): %w", id, name, err)
		}
		out = append(out, rgb...)
	}
	return out, nil
}

// rgbImage is a decoded image as interleaved 8-bit RGB.
type rgbImage struct {
	pix  []uint8
	w, h int
}

// decodeMember decodes one zip member, checking its size first.
func decodeMember(f *zip.File) (rgbImage, error) {
	rc, err := f.Open()
	if err != nil {
		return rgbImage{}, err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, MaxImageSide*MaxImageSide*8+1))
	if err != nil {
		return rgbImage{}, err
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return rgbImage{}, err
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > MaxImageSide || cfg.Height > MaxImageSide {
		return rgbImage{}, fmt.Errorf("%d×%d pixels, want 1 to %d a side", cfg.Width, cfg.Height, MaxImageSide)
	}
	im, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return rgbImage{}, err
	}
	bd := im.Bounds()
	out := rgbImage{w: bd.Dx(), h: bd.Dy(), pix: make([]uint8, 0, bd.Dx()*bd.Dy()*3)}
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			r, g, b, _ := im.At(x, y).RGBA()
			out.pix = append(out.pix, uint8(r>>8), uint8(g>>8), uint8(b>>8))
		}
	}
	return out, nil
}
