package jpeg

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// readPNM parses the binary PGM (P5) or PPM (P6) that djpeg writes.
func readPNM(b []byte) (w, h, c int, pix []byte, err error) {
	r := bufio.NewReader(bytes.NewReader(b))
	var magic string
	var maxval int
	if _, err = fmt.Fscan(r, &magic, &w, &h, &maxval); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("PNM header: %w", err)
	}
	switch magic {
	case "P5":
		c = 1
	case "P6":
		c = 3
	default:
		return 0, 0, 0, nil, fmt.Errorf("PNM magic %q", magic)
	}
	if maxval != 255 {
		return 0, 0, 0, nil, fmt.Errorf("PNM maxval %d", maxval)
	}
	if _, err = r.ReadByte(); err != nil { // the single whitespace after maxval
		return 0, 0, 0, nil, err
	}
	pix = make([]byte, w*h*c)
	if _, err = io.ReadFull(r, pix); err != nil {
		return 0, 0, 0, nil, fmt.Errorf("PNM data: %w", err)
	}
	return w, h, c, pix, nil
}

// djpeg decodes data with libjpeg-turbo's djpeg (accurate integer IDCT,
// default fancy upsampling); nosimd sets JSIMD_FORCENONE=1.
func djpeg(t *testing.T, data []byte, nosimd bool) *Image {
	t.Helper()
	cmd := exec.Command("djpeg", "-dct", "int", "-pnm")
	cmd.Env = append(os.Environ(), "JSIMD_FORCENONE=0")
	if nosimd {
		cmd.Env = append(os.Environ(), "JSIMD_FORCENONE=1")
	}
	cmd.Stdin = bytes.NewReader(data)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("djpeg: %v: %s", err, stderr.String())
	}
	w, h, c, pix, err := readPNM(out)
	if err != nil {
		t.Fatalf("djpeg output: %v", err)
	}
	return &Image{W: w, H: h, C: c, Pix: pix}
}

// realSample returns up to perZip entries of every image zip of the data
// directory dir, spread over the archive, keyed "zip/entry".
func realSample(t testing.TB, dir string, perZip int) map[string][]byte {
	t.Helper()
	zips, _ := filepath.Glob(filepath.Join(dir, "data_V4_responses", "images", "images_*.zip"))
	out := map[string][]byte{}
	for _, z := range zips {
		zr, err := zip.OpenReader(z)
		if err != nil {
			t.Fatal(err)
		}
		var jpgs []*zip.File
		for _, f := range zr.File {
			if strings.HasSuffix(f.Name, ".jpg") {
				jpgs = append(jpgs, f)
			}
		}
		for i := 0; i < perZip && len(jpgs) > 0; i++ {
			f := jpgs[i*len(jpgs)/perZip]
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			rc.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[filepath.Base(z)+"/"+f.Name] = b
		}
		zr.Close()
	}
	return out
}

// TestAgainstDjpeg compares both IDCT variants with libjpeg-turbo's djpeg,
// with and without its SIMD code, on the synthetic files and on a sample
// of the real images. The pixels must be identical: djpeg -dct int decodes
// in integer arithmetic only (fixed-point IDCT, integer upsampling and colour
// conversion), so its output does not depend on the CPU; its SIMD and C
// code differ only in the IDCT's handling of out-of-range values, which is
// why each is compared with the matching variant.
func TestAgainstDjpeg(t *testing.T) {
	if _, err := exec.LookPath("djpeg"); err != nil {
		t.Skip("djpeg (libjpeg-turbo-progs) not installed")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	files := map[string][]byte{}
	names, _ := filepath.Glob(filepath.Join("testdata", "*.jpg"))
	for _, n := range names {
		if _, bad := unsupported[filepath.Base(n)]; bad {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		files[filepath.Base(n)] = b
	}
	synthetic := len(files)
	t.Run("real", func(t *testing.T) {
		for k, v := range realSample(t, datadirtest.Dir(t), 5) {
			files[k] = v
		}
	})
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, nosimd := range []bool{false, true} {
		identical := 0
		for _, k := range keys {
			want := djpeg(t, files[k], nosimd)
			got, err := DecodeOptions(bytes.NewReader(files[k]), Options{PortableIDCT: nosimd})
			if err != nil {
				t.Errorf("%s: %v", k, err)
				continue
			}
			if got.W != want.W || got.H != want.H || got.C != want.C || !bytes.Equal(got.Pix, want.Pix) {
				t.Errorf("%s (JSIMD_FORCENONE=%v): differs from djpeg", k, nosimd)
				continue
			}
			identical++
		}
		t.Logf("JSIMD_FORCENONE=%v: %d of %d files (%d synthetic, %d real) identical to djpeg -dct int",
			nosimd, identical, len(keys), synthetic, len(keys)-synthetic)
	}
}

// TestVariantsAgreeOnRealImages checks that the SIMD and portable IDCTs give
// the same pixels on real images (50 per archive).
func TestVariantsAgreeOnRealImages(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	sample := realSample(t, datadirtest.Dir(t), 50)
	for name, data := range sample {
		a, err := Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		b, err := DecodeOptions(bytes.NewReader(data), Options{PortableIDCT: true})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(a.Pix, b.Pix) {
			t.Errorf("%s: the SIMD and portable IDCTs differ", name)
		}
	}
	t.Logf("%d real images: SIMD and portable IDCT agree", len(sample))
}

// TestRandomCjpegAgainstDjpeg encodes seeded random images with cjpeg under
// random settings (sampling factors, size, quality, progressive, restarts,
// optimised tables, grayscale, RGB) and compares both IDCT variants with
// djpeg, with and without SIMD, exactly (integer decoding: see
// TestAgainstDjpeg).
func TestRandomCjpegAgainstDjpeg(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	for _, tool := range []string{"cjpeg", "djpeg"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s (libjpeg-turbo-progs) not installed", tool)
		}
	}
	rng := rand.New(rand.NewPCG(2026, 11))
	factors := []string{"1x1", "1x2", "2x1", "2x2", "1x3", "3x1", "1x4", "4x1", "4x2", "2x4", "3x2", "2x3", "4x4", "3x3"}
	const trials = 200
	for trial := 0; trial < trials; trial++ {
		w, h := 1+rng.IntN(70), 1+rng.IntN(50)
		ppm := randomPPM(rng, w, h)
		args := []string{"-quality", fmt.Sprint(1 + rng.IntN(100))}
		switch rng.IntN(6) {
		case 0:
			args = append(args, "-grayscale")
		case 1:
			args = append(args, "-rgb")
		}
		// Luma factors, and Cb and Cr factors that divide them (libjpeg
		// supports integral ratios only); at most 10 blocks per MCU.
		y := factors[rng.IntN(len(factors))]
		var yh, yv int
		fmt.Sscanf(y, "%dx%d", &yh, &yv)
		bh, bv, rh, rv := divisor(rng, yh), divisor(rng, yv), divisor(rng, yh), divisor(rng, yv)
		if rng.IntN(4) == 0 {
			// Occasionally make Cb the finest component.
			yh, yv, bh, bv = bh, bv, yh, yv
		}
		if yh*yv+bh*bv+rh*rv <= 10 {
			args = append(args, "-sample", fmt.Sprintf("%dx%d,%dx%d,%dx%d", yh, yv, bh, bv, rh, rv))
		}
		if rng.IntN(3) == 0 {
			args = append(args, "-progressive")
		}
		if rng.IntN(3) == 0 {
			args = append(args, "-optimize")
		}
		if rng.IntN(3) == 0 {
			args = append(args, "-restart", fmt.Sprintf("%dB", 1+rng.IntN(5)))
		}
		cmd := exec.Command("cjpeg", args...)
		cmd.Stdin = bytes.NewReader(ppm)
		data, err := cmd.Output()
		if err != nil {
			t.Fatalf("trial %d: cjpeg %v: %v", trial, args, err)
		}
		for _, nosimd := range []bool{false, true} {
			want := djpeg(t, data, nosimd)
			got, err := DecodeOptions(bytes.NewReader(data), Options{PortableIDCT: nosimd})
			if err != nil {
				t.Fatalf("trial %d (cjpeg %v, %dx%d): %v", trial, args, w, h, err)
			}
			if got.W != want.W || got.H != want.H || got.C != want.C || !bytes.Equal(got.Pix, want.Pix) {
				t.Fatalf("trial %d (cjpeg %v, %dx%d, JSIMD_FORCENONE=%v): differs from djpeg", trial, args, w, h, nosimd)
			}
		}
	}
	t.Logf("%d random cjpeg files identical to djpeg, with and without SIMD", trials)
}

// divisor returns a random divisor of n.
func divisor(rng *rand.Rand, n int) int {
	var ds []int
	for d := 1; d <= n; d++ {
		if n%d == 0 {
			ds = append(ds, d)
		}
	}
	return ds[rng.IntN(len(ds))]
}

// randomPPM draws smooth gradients, hard edges and noise.
func randomPPM(rng *rand.Rand, w, h int) []byte {
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "P6\n%d %d\n255\n", w, h)
	fx, fy := rng.Float64()*0.5, rng.Float64()*0.5
	noise := rng.IntN(80)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				v := 128 + 100*math.Sin(fx*float64(x*(c+1))+fy*float64(y)) + float64(rng.IntN(noise+1)-noise/2)
				if (x/7+y/5+c)%4 == 0 {
					v = 255 - v/4
				}
				buf.WriteByte(uint8(min(max(v, 0), 255)))
			}
		}
	}
	return buf.Bytes()
}
