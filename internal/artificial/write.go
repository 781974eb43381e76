package artificial

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"io"
	"strconv"
)

// CSVHeader is the header of the parameter table: one row per stimulus, in set order, with the
// file of its image inside the zip and every field of Stimulus (0 where its kind does not use
// it, an empty layout except for dots).
var CSVHeader = []string{
	"index", "file", "family", "kind", "radius", "width", "length", "orientation", "period",
	"phase", "extent", "number", "spacing", "layout", "spread", "x", "y", "polarity",
	"contrast", "color", "seed",
}

func num(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Rows returns the parameter table of a set (without the header).
func Rows(set []Stimulus) [][]string {
	rows := make([][]string, len(set))
	for i, s := range set {
		rows[i] = []string{
			strconv.Itoa(i), File(i, s), s.Family, string(s.Kind), num(s.Radius), num(s.Width),
			num(s.Length), num(s.Orientation), num(s.Period), num(s.Phase), num(s.Extent),
			strconv.Itoa(s.Number), num(s.Spacing), s.Layout, num(s.Spread), num(s.X), num(s.Y),
			strconv.Itoa(s.Polarity), num(s.Contrast), s.Color, strconv.FormatUint(s.Seed, 10),
		}
	}
	return rows
}

// WriteCSV writes the parameter table of a set, header first.
func WriteCSV(w io.Writer, set []Stimulus) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return fmt.Errorf("stimulus table: %w", err)
	}
	if err := cw.WriteAll(Rows(set)); err != nil {
		return fmt.Errorf("stimulus table: %w", err)
	}
	return nil
}

// EncodePNG encodes Size×Size×3 RGB pixels as a PNG.
func EncodePNG(pix []uint8) ([]byte, error) {
	if len(pix) != Size*Size*3 {
		return nil, fmt.Errorf("png: %d values, want %d", len(pix), Size*Size*3)
	}
	img := image.NewNRGBA(image.Rect(0, 0, Size, Size))
	for p := range Size * Size {
		copy(img.Pix[4*p:4*p+3], pix[3*p:3*p+3])
		img.Pix[4*p+3] = 255
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("png: %w", err)
	}
	return b.Bytes(), nil
}

// WriteZip writes a set as a zip archive: every stimulus's PNG under File(i, s), then
// stimuli.csv (WriteCSV). Entries are stored uncompressed (PNGs are compressed already) with no
// modification time, so the same set gives the same bytes.
func WriteZip(w io.Writer, set []Stimulus) error {
	zw := zip.NewWriter(w)
	add := func(name string, data []byte) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err != nil {
			return err
		}
		_, err = f.Write(data)
		return err
	}
	for i, s := range set {
		px, err := s.Render()
		if err != nil {
			return fmt.Errorf("stimulus %d: %w", i, err)
		}
		b, err := EncodePNG(px)
		if err != nil {
			return fmt.Errorf("stimulus %d: %w", i, err)
		}
		if err := add(File(i, s), b); err != nil {
			return fmt.Errorf("stimulus zip: %w", err)
		}
	}
	var table bytes.Buffer
	if err := WriteCSV(&table, set); err != nil {
		return err
	}
	if err := add("stimuli.csv", table.Bytes()); err != nil {
		return fmt.Errorf("stimulus zip: %w", err)
	}
	if err := zw.Close(); err != nil {
		return fmt.Errorf("stimulus zip: %w", err)
	}
	return nil
}
