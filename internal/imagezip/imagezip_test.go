package imagezip

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"image/color"
	stdjpeg "image/jpeg"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/jpeg"
	"compactv4/internal/pyref"
)

// pilChecksums is testdata/pil_checksums.json (gen_pil_checksums.py).
type pilChecksums struct {
	PIL          string `json:"pil"`
	LibjpegTurbo string `json:"libjpeg_turbo"`
	Zips         map[string]struct {
		ZipSHA256 string   `json:"zip_sha256"`
		ZipSize   int64    `json:"zip_size"`
		N         int      `json:"n"`
		H         int      `json:"h"`
		W         int      `json:"w"`
		SHA256    string   `json:"sha256"`
		Images    []string `json:"image_sha256_16"`
	} `json:"zips"`
}

func loadChecksums(t testing.TB) *pilChecksums {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pil_checksums.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c pilChecksums
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatalf("pil_checksums.json: %v", err)
	}
	if len(c.Zips) != 12 {
		t.Fatalf("pil_checksums.json lists %d zips, want the 12 of the local data copy", len(c.Zips))
	}
	return &c
}

func fileSHA256(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

var update = flag.Bool("update", false, "regenerate testdata/pil_checksums.json with PIL (gen_pil_checksums.py) before comparing")

// TestAgainstPILChecksums decodes every zip of the data directory that
// pil_checksums.json knows and compares all pixels with PIL's.
//
// The pixels are compared exactly (through their SHA-256) because they are
// integers that do not depend on the CPU: PIL decodes with libjpeg-turbo's
// accurate integer IDCT (fixed-point arithmetic, whose SIMD and C versions
// give the same bytes except where the package models their saturation; see
// internal/jpeg) and integer colour conversion. No floating point is
// involved, so a checksum regenerated on another CPU is the same.
func TestAgainstPILChecksums(t *testing.T) {
	if *update {
		// The goldens are PIL's pixels, so only PIL may rewrite them.
		python, err := pyref.Find("PIL", "numpy")
		if err != nil {
			t.Fatalf("-update: %v", err)
		}
		out, err := exec.Command(python, filepath.Join("testdata", "gen_pil_checksums.py"), datadirtest.Dir(t)).Output()
		if err != nil {
			t.Fatalf("gen_pil_checksums.py: %v", err)
		}
		if err := os.WriteFile(filepath.Join("testdata", "pil_checksums.json"), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := loadChecksums(t)
	names := make([]string, 0, len(want.Zips))
	for name := range want.Zips {
		names = append(names, name)
	}
	sort.Strings(names)
	for i, name := range names {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && i > 0 {
				t.Skip("short mode checks the first archive only")
			}
			w := want.Zips[name]
			path := datadirtest.File(t, "data_V4_responses/images/"+name)
			if got := fileSHA256(t, path); got != w.ZipSHA256 {
				t.Fatalf("the archive's SHA-256 is %s, not the %s that the checksums were made from", got, w.ZipSHA256)
			}
			im, err := ReadFile(path, 0)
			if err != nil {
				t.Fatal(err)
			}
			if im.N != w.N || im.H != w.H || im.W != w.W {
				t.Fatalf("got %d images of %dx%d, PIL %d of %dx%d", im.N, im.W, im.H, w.N, w.W, w.H)
			}
			var bad []string
			for k := 0; k < im.N; k++ {
				s := sha256.Sum256(im.Image(k))
				if hex.EncodeToString(s[:8]) != w.Images[k] {
					bad = append(bad, EntryName(k))
				}
			}
			sum := PixelsSHA256(im)
			t.Logf("%d images, %d differ from PIL %s / libjpeg-turbo %s; pixels SHA-256 %s",
				im.N, len(bad), want.PIL, want.LibjpegTurbo, sum)
			if len(bad) > 0 || sum != w.SHA256 {
				t.Errorf("%d of %d images differ from PIL (%s); pixels SHA-256 %s, PIL %s",
					len(bad), im.N, strings.Join(bad[:min(len(bad), 10)], " "), sum, w.SHA256)
			}
		})
	}
}

// pilScript decodes the JPEG files named on the command line with PIL and
// writes their RGB pixels, concatenated, to stdout.
const pilScript = `
import sys
import numpy as np
from PIL import Image, features
sys.stderr.write(features.version_feature("libjpeg_turbo") or "none")
for name in sys.argv[1:]:
    sys.stdout.buffer.write(np.asarray(Image.open(name).convert("RGB")).tobytes())
`

// TestAgainstPILLive decodes a sample of the real images with PIL at test
// time and reports the maximum difference and the fraction of identical
// bytes. With libjpeg-turbo 2.x the pixels must be identical: they are
// integers from its integer IDCT (see TestAgainstPILChecksums), the same on
// every CPU.
func TestAgainstPILLive(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	python := pyref.Need(t, "PIL", "numpy")
	dir := filepath.Join(datadirtest.Dir(t), "data_V4_responses", "images")
	zips, _ := filepath.Glob(filepath.Join(dir, "images_*.zip"))
	if len(zips) == 0 {
		t.Skip("no image zips in the data directory")
	}
	tmp := t.TempDir()
	var files []string
	var ours []byte
	for _, z := range zips {
		zr, err := zip.OpenReader(z)
		if err != nil {
			t.Fatal(err)
		}
		idx := index(zr.File)
		for k := 0; ; k += 53 { // about 20 images per archive
			i, ok := idx[k]
			if !ok {
				break
			}
			data := readEntry(t, zr.File[i])
			m, err := jpeg.Decode(bytes.NewReader(data))
			if err != nil {
				t.Fatalf("%s %s: %v", filepath.Base(z), zr.File[i].Name, err)
			}
			ours = append(ours, m.RGB().Pix...)
			f := filepath.Join(tmp, fmt.Sprintf("%d.jpg", len(files)))
			if err := os.WriteFile(f, data, 0o644); err != nil {
				t.Fatal(err)
			}
			files = append(files, f)
		}
		zr.Close()
	}
	cmd := exec.Command(python, append([]string{"-c", pilScript}, files...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	theirs, err := cmd.Output()
	if err != nil {
		t.Fatalf("PIL: %v\n%s", err, stderr.String())
	}
	if len(theirs) != len(ours) {
		t.Fatalf("PIL returned %d bytes, we %d", len(theirs), len(ours))
	}
	maxd, same := 0, 0
	for i := range ours {
		d := int(ours[i]) - int(theirs[i])
		maxd = max(maxd, d, -d)
		if d == 0 {
			same++
		}
	}
	frac := float64(same) / float64(len(ours))
	turbo := stderr.String()
	t.Logf("%d images from %d archives vs PIL (libjpeg-turbo %s): max |Δ| = %d, identical bytes %.6f%%",
		len(files), len(zips), turbo, maxd, 100*frac)
	if maxd > 3 {
		t.Errorf("max |Δ| = %d > 3", maxd)
	}
	// Exactness is the goal for the libjpeg-turbo 2.x this package follows;
	// another library version may legitimately differ by a level or so.
	if strings.HasPrefix(turbo, "2.") && same != len(ours) {
		t.Errorf("%d bytes differ from PIL", len(ours)-same)
	}
}

func readEntry(t testing.TB, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(rc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// encode writes a w×h JPEG with Go's encoder whose content depends on seed.
func encode(t testing.TB, w, h int, seed uint64, gray bool) []byte {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 3))
	var img image.Image
	if gray {
		g := image.NewGray(image.Rect(0, 0, w, h))
		for i := range g.Pix {
			g.Pix[i] = uint8(rng.IntN(256))
		}
		img = g
	} else {
		m := image.NewRGBA(image.Rect(0, 0, w, h))
		base := color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				m.SetRGBA(x, y, color.RGBA{base.R + uint8(x*3), base.G + uint8(y*5), base.B ^ uint8(rng.IntN(32)), 255})
			}
		}
		img = m
	}
	var buf bytes.Buffer
	if err := stdjpeg.Encode(&buf, img, &stdjpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// entry is one member of a synthetic zip.
type entry struct {
	name    string
	data    []byte
	deflate bool
}

func makeZip(t testing.TB, entries []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		method := zip.Store
		if e.deflate {
			method = zip.Deflate
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: method})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// syntheticZip returns a zip in the shape of the real ones at their worst:
// a folder entry, nested and unordered names, stored and deflated entries,
// a grayscale image, a duplicate (the first wins) and decoys; plus the
// entry data of images 1..4 in index order.
func syntheticZip(t testing.TB) ([]byte, [][]byte) {
	imgs := make([][]byte, 4)
	for k := range imgs {
		imgs[k] = encode(t, 20, 12, uint64(k), k == 2)
	}
	other := encode(t, 20, 12, 99, false)
	z := makeZip(t, []entry{
		{name: "session/"},
		{name: "session/image0003.jpg", data: imgs[2], deflate: true},
		{name: "session/image00001.jpg", data: other},        // five digits with a leading zero: no image
		{name: "notes/image0001.txt", data: []byte("hello")}, // not .jpg
		{name: "session/image0001.jpg", data: imgs[0]},
		{name: "image0001.jpg", data: other},                               // a later duplicate: ignored
		{name: "session/image0004.jpg.orig", data: imgs[3], deflate: true}, // contains image0004.jpg
		{name: "x/image0002.jpg", data: imgs[1]},
		{name: "image0000.jpg", data: other},
	})
	return z, imgs
}

func TestReadSynthetic(t *testing.T) {
	z, imgs := syntheticZip(t)
	for _, n := range []int{0, 4, 2} {
		im, err := Read(bytes.NewReader(z), int64(len(z)), n)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		wantN := n
		if n == 0 {
			wantN = 4
		}
		if im.N != wantN || im.H != 12 || im.W != 20 || len(im.Pix) != wantN*12*20*3 {
			t.Fatalf("n=%d: got N=%d %dx%d with %d bytes", n, im.N, im.W, im.H, len(im.Pix))
		}
		for k := 0; k < im.N; k++ {
			m, err := jpeg.Decode(bytes.NewReader(imgs[k]))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(im.Image(k), m.RGB().Pix) {
				t.Errorf("n=%d: image %d is not the content of the entry the rule names", n, k)
			}
		}
	}
}

func TestReadErrors(t *testing.T) {
	good := encode(t, 20, 12, 1, false)
	corrupt := bytes.Clone(good)
	corrupt = corrupt[:len(corrupt)/2]
	crc := makeZip(t, []entry{{name: "image0001.jpg", data: good}})
	// Flip a byte of the stored entry's data so that its CRC-32 fails.
	if i := bytes.Index(crc, good[100:120]); i >= 0 {
		crc[i] ^= 0xff
	} else {
		t.Fatal("stored data not found in the zip")
	}
	for _, tc := range []struct {
		name string
		zip  []byte
		n    int
		want string
	}{
		{"not a zip", []byte("not a zip at all"), 0, "zip: not a valid zip file"},
		{"no images", makeZip(t, []entry{{name: "readme.txt", data: []byte("x")}}), 0, "no entry name contains image0001.jpg"},
		{"missing index", makeZip(t, []entry{{name: "image0001.jpg", data: good}, {name: "image0003.jpg", data: good}}), 3,
			"no entry name contains image0002.jpg (3 images expected)"},
		{"mismatched size", makeZip(t, []entry{{name: "a/image0001.jpg", data: good}, {name: "a/image0002.jpg", data: encode(t, 21, 12, 2, false)}}), 0,
			`entry "a/image0002.jpg" (image0002.jpg) is 21x12, but "a/image0001.jpg" (image0001.jpg) is 20x12`},
		{"corrupt JPEG", makeZip(t, []entry{{name: "image0001.jpg", data: good}, {name: "d/image0002.jpg", data: corrupt}}), 0,
			`entry "d/image0002.jpg": jpeg:`},
		{"not a JPEG", makeZip(t, []entry{{name: "image0001.jpg", data: []byte("PNG")}}), 0, "missing SOI marker"},
		{"bad CRC", crc, 0, "checksum error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Read(bytes.NewReader(tc.zip), int64(len(tc.zip)), tc.n)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Read = %v, %v; want an error containing %q", im, err, tc.want)
			}
		})
	}
}

// TestFirstErrorIsDeterministic checks that with several bad entries the
// error names the lowest index, whatever the parallelism.
func TestFirstErrorIsDeterministic(t *testing.T) {
	good := encode(t, 16, 16, 1, false)
	var es []entry
	for k := 0; k < 40; k++ {
		d := good
		if k == 17 || k == 23 || k == 39 {
			d = []byte("junk")
		}
		es = append(es, entry{name: EntryName(k), data: d})
	}
	z := makeZip(t, es)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		for range 5 {
			_, err := Read(bytes.NewReader(z), int64(len(z)), 0)
			if err == nil || !strings.Contains(err.Error(), EntryName(17)) {
				t.Fatalf("GOMAXPROCS=%d: err = %v, want one about %s", procs, err, EntryName(17))
			}
		}
	}
}

// TestDeterministic checks that the pixels do not depend on parallelism.
func TestDeterministic(t *testing.T) {
	var es []entry
	for k := 0; k < 30; k++ {
		es = append(es, entry{name: "s/" + EntryName(k), data: encode(t, 24, 8, uint64(k), k%7 == 3), deflate: k%2 == 0})
	}
	z := makeZip(t, es)
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	var first string
	for _, procs := range []int{1, 2, 3, 16} {
		runtime.GOMAXPROCS(procs)
		im, err := Read(bytes.NewReader(z), int64(len(z)), 0)
		if err != nil {
			t.Fatal(err)
		}
		s := PixelsSHA256(im)
		if first == "" {
			first = s
		} else if s != first {
			t.Fatalf("GOMAXPROCS=%d: pixels SHA-256 %s, with 1 proc %s", procs, s, first)
		}
	}
}

// TestIndexMatchesReferenceRule compares index with a literal
// implementation of the reference rule on random names.
func TestIndexMatchesReferenceRule(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	pieces := []string{"image", "images_", "0", "00", "1", "2", "9", "10", "0001", "0012", "12345", ".jpg", ".jpeg", "/", "x", "Image", "image0", ".jp", "g"}
	names := make([]string, 13000)
	for k := range names {
		names[k] = EntryName(k)
	}
	for trial := 0; trial < 100; trial++ {
		files := make([]*zip.File, 1+rng.IntN(12))
		for i := range files {
			var sb strings.Builder
			for range 1 + rng.IntN(8) {
				sb.WriteString(pieces[rng.IntN(len(pieces))])
			}
			files[i] = &zip.File{FileHeader: zip.FileHeader{Name: sb.String()}}
		}
		got := index(files)
		for k, key := range names {
			want, found := -1, false
			for i, f := range files {
				if strings.Contains(f.Name, key) {
					want, found = i, true
					break
				}
			}
			g, ok := got[k]
			if ok != found || (ok && g != want) {
				var fn []string
				for _, f := range files {
					fn = append(fn, f.Name)
				}
				t.Fatalf("k=%d names %q: index gives %d,%v; the rule gives %d,%v", k, fn, g, ok, want, found)
			}
		}
	}
	for k, want := range map[int]string{0: "image0001.jpg", 9998: "image9999.jpg", 9999: "image10000.jpg"} {
		if got := EntryName(k); got != want {
			t.Errorf("EntryName(%d) = %q, want %q", k, got, want)
		}
	}
}

func TestPixelsSHA256(t *testing.T) {
	im := &Images{N: 1, H: 1, W: 1, Pix: []byte("abc")}
	// FIPS 180-2 test vector for "abc".
	if got, want := PixelsSHA256(im), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("PixelsSHA256 = %s, want %s", got, want)
	}
}

func ExampleRead() {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for k := 0; k < 3; k++ {
		img := image.NewGray(image.Rect(0, 0, 8, 8))
		for i := range img.Pix {
			img.Pix[i] = uint8(40 * k)
		}
		w, _ := zw.Create(fmt.Sprintf("images_000000/image%04d.jpg", k+1))
		stdjpeg.Encode(w, img, nil)
	}
	zw.Close()
	im, err := Read(bytes.NewReader(buf.Bytes()), int64(buf.Len()), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(im.N, im.H, im.W, im.Image(2)[:3])
	// Output: 3 8 8 [80 80 80]
}
