package areadata

import (
	"archive/zip"
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/fuzzbound"
)

// stimulusSet reads the stimulus CSV fixture (three images, one file name with a comma).
func stimulusSet(t testing.TB) *Stimuli {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "stimuli", "hvm_small.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := ReadStimuli(f)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// member is one file of a generated stimulus zip.
type member struct {
	name string
	data []byte
}

// pngOf encodes an image of w×h pixels whose pixel (x, y) is at(x, y).
func pngOf(t testing.TB, w, h int, grey bool, at func(x, y int) color.Color) []byte {
	t.Helper()
	var im image.Image
	if grey {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				g.Set(x, y, at(x, y))
			}
		}
		im = g
	} else {
		c := image.NewNRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				c.Set(x, y, at(x, y))
			}
		}
		im = c
	}
	var b bytes.Buffer
	if err := png.Encode(&b, im); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zipOf(t testing.TB, ms ...member) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, m := range ms {
		w, err := z.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(m.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// stimulusZips are generated zips for the fixture's images: a grey image of constant level 40 and
// an RGB one of constant colour (10, 20, 30), in a folder.
func stimulusZip(t testing.TB, extra ...member) []byte {
	grey := pngOf(t, 4, 3, true, func(x, y int) color.Color { return color.Gray{Y: 40} })
	rgb := pngOf(t, 2, 2, false, func(x, y int) color.Color { return color.NRGBA{R: 10, G: 20, B: 30, A: 255} })
	return zipOf(t, append([]member{{"synthetic_a_256x256.png", grey}, {"hvm/synthetic_b,quoted_256x256.png", rgb}}, extra...)...)
}

func TestReadStimulusImages(t *testing.T) {
	st := stimulusSet(t)
	a, b := st.IDs[0], st.IDs[1]
	good := stimulusZip(t)
	tests := []struct {
		name    string
		zip     []byte
		ids     []string
		side    int
		want    []uint8
		wantErr string
	}{
		{"grey and RGB, resized", good, []string{b, a}, 2, append(bytes.Repeat([]uint8{10, 20, 30}, 4), bytes.Repeat([]uint8{40, 40, 40}, 4)...), ""},
		{"no image", good, nil, 3, []uint8{}, ""},
		{"unknown id", good, []string{"nope"}, 2, nil, "image nope is not in the stimulus set"},
		{"not in the zip", good, []string{st.IDs[2]}, 2, nil, "is not in the zip"},
		{"two members of one name", stimulusZip(t, member{"other/synthetic_a_256x256.png", nil}), []string{a}, 2, nil, "two members named synthetic_a_256x256.png"},
		{"not an image", zipOf(t, member{"synthetic_a_256x256.png", []byte("not a png")}), []string{a}, 2, nil, "image: unknown format"},
		{"not a zip", []byte("PK\x03\x04 but no more"), []string{a}, 2, nil, "zip"},
		{"side 0", good, []string{a}, 0, nil, "side 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadStimulusImages(bytes.NewReader(tt.zip), int64(len(tt.zip)), st, tt.ids, tt.side)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// FuzzReadStimulusImages: any zip is read or rejected with an error; what is read has the size
// asked for.
func FuzzReadStimulusImages(f *testing.F) {
	st := stimulusSet(f)
	f.Add(stimulusZip(f))
	f.Add(zipOf(f, member{"synthetic_a_256x256.png", []byte("\x89PNG\r\n\x1a\n")}))
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		pix, err := ReadStimulusImages(bytes.NewReader(data), int64(len(data)), st, st.IDs[:2], 3)
		if err == nil && len(pix) != 2*3*3*3 {
			t.Fatalf("%d bytes for two 3×3 images", len(pix))
		}
	})
}
