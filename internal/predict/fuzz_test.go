package predict

import (
	"bytes"
	"image"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/npy"
)

// FuzzReadZip feeds arbitrary bytes to readZip: it must return an error or images of the
// promised size, never panic. Seeds: a zip of an 8×6 PNG, a 9×7 JPEG, a grayscale JPEG and a
// text file (under 2 KB).
func FuzzReadZip(f *testing.F) {
	files := map[string][]byte{
		"a.png":   rgbPNG(f, noise(1, 8, 6), 8, 6),
		"b/c.jpg": rgbJPEG(f, noise(2, 9, 7), 9, 7),
		"g.jpg":   encodeJPEG(f, image.NewGray(image.Rect(0, 0, 8, 8))),
		"n.txt":   []byte("x"),
	}
	f.Add(makeZip(f, files, []string{"n.txt", "b/c.jpg", "a.png"}))
	f.Add(makeZip(f, files, []string{"a.png", "g.jpg"}))
	// Keep each input small: a mutated header may claim a huge image.
	defer func(old int) { maxPixels = old }(maxPixels)
	maxPixels = 1 << 16
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		for _, opts := range []ImageOptions{{}, {NoResize: true}} {
			im, err := readZip(bytes.NewReader(b), int64(len(b)), opts)
			if err != nil {
				continue
			}
			if im.N() < 1 || len(im.Pix) != im.N()*side*side*3 || im.Raw != nil {
				t.Fatalf("%d images, %d bytes", im.N(), len(im.Pix))
			}
		}
	})
}

// FuzzReadNPY feeds arbitrary bytes to readNPY: an error or images of the promised size, never
// a panic. Seeds: small arrays of the wrong shape and an empty one (a valid 112×112 image is too
// large a seed for the fuzzer to mutate usefully; TestReadImages covers valid arrays).
func FuzzReadNPY(f *testing.F) {
	for _, w := range []func(*bytes.Buffer) error{
		func(b *bytes.Buffer) error { return npy.WriteFloat64(b, []int{2, 3}, make([]float64, 6)) },
		func(b *bytes.Buffer) error { return npy.WriteFloat32(b, []int{0, side, side, 3}, nil) },
		func(b *bytes.Buffer) error { return npy.WriteInt64(b, []int{1, 2, 2, 3}, make([]int64, 12)) },
	} {
		f.Add(npyBytes(f, w))
	}
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		im, err := readNPY(bytes.NewReader(b))
		if err != nil {
			return
		}
		per := side * side * 3
		if im.N() < 1 || (im.Pix == nil) == (im.Raw == nil) || len(im.Pix)+len(im.Raw) != im.N()*per {
			t.Fatalf("%d images, %d + %d values", im.N(), len(im.Pix), len(im.Raw))
		}
	})
}
