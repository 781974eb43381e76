package jpeg

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
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

	"compactv4/internal/pyref"
)

// expectedFile is one entry of testdata/expected.json (written by gen.py).
type expectedFile struct {
	Mode         string `json:"mode"`
	W            int    `json:"w"`
	H            int    `json:"h"`
	SHA256       string `json:"sha256"`
	SHA256NoSIMD string `json:"sha256_nosimd"`
}

func loadExpected(t testing.TB) map[string]expectedFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Files map[string]expectedFile `json:"files"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("testdata/expected.json: %v", err)
	}
	if len(doc.Files) < 40 {
		t.Fatalf("testdata/expected.json lists only %d files", len(doc.Files))
	}
	return doc.Files
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// unsupported lists the synthetic files this decoder must reject, and why.
var unsupported = map[string]string{
	"cjpeg_arith.jpg":    "arithmetic coding",
	"cut_prog_5of10.jpg": "block smoothing",
}

var update = flag.Bool("update", false, "regenerate the synthetic files and testdata/expected.json with gengo.go and gen.py (PIL) before comparing")

// TestSyntheticAgainstPIL decodes every synthetic file of testdata and
// compares the pixels with PIL's, for both IDCT variants.
//
// The comparison is exact (pixel SHA-256s) because JPEG decoding with
// libjpeg-turbo's accurate integer IDCT is integer arithmetic throughout
// (Huffman decoding, dequantisation, fixed-point IDCT, upsampling, colour
// conversion): PIL's pixels do not depend on the CPU, except for the one
// place where the SIMD and C IDCTs differ (saturation versus wrap-around of
// out-of-range outputs), which expected.json records separately
// (sha256_nosimd) and TestIDCTVariantsDiffer pins down.
func TestSyntheticAgainstPIL(t *testing.T) {
	if *update {
		// The goldens are PIL's pixels, so only PIL may rewrite them.
		python, err := pyref.Find("PIL", "numpy")
		if err != nil {
			t.Fatalf("-update: %v", err)
		}
		for _, args := range [][]string{{"go", "run", "gengo.go"}, {python, "gen.py"}} {
			cmd := exec.Command(args[0], args[1:]...)
			cmd.Dir = "testdata"
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
	exp := loadExpected(t)
	names := make([]string, 0, len(exp))
	for n := range exp {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		e := exp[name]
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []struct {
				opt  Options
				want string
			}{{Options{}, e.SHA256}, {Options{PortableIDCT: true}, e.SHA256NoSIMD}} {
				m, err := DecodeOptions(bytes.NewReader(data), v.opt)
				if why, ok := unsupported[name]; ok {
					var ue UnsupportedError
					if !errors.As(err, &ue) || !strings.Contains(err.Error(), why) {
						t.Fatalf("err = %v, want UnsupportedError about %q", err, why)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%+v: %v", v.opt, err)
				}
				wantC := map[string]int{"L": 1, "RGB": 3}[e.Mode]
				if m.W != e.W || m.H != e.H || m.C != wantC || len(m.Pix) != m.W*m.H*m.C {
					t.Fatalf("%+v: got %dx%dx%d (%d bytes), want %dx%d mode %s", v.opt, m.W, m.H, m.C, len(m.Pix), e.W, e.H, e.Mode)
				}
				if got := sha(m.Pix); got != v.want {
					t.Errorf("%+v: pixel SHA-256 %s, PIL's %s", v.opt, got[:16], v.want[:16])
				}
			}
		})
	}
}

// TestIDCTVariantsDiffer pins down the one place where libjpeg-turbo's SIMD
// and C IDCTs disagree: outputs beyond [-512, 511] saturate in the former
// and wrap in the latter.
func TestIDCTVariantsDiffer(t *testing.T) {
	// A DC-only block with quantiser 255 has IDCT output (dc*255*4+16)>>5
	// everywhere.
	for _, tc := range []struct {
		dc             int16
		simd, portable uint8
	}{
		{1, 160, 160},  // 32: in range
		{16, 255, 255}, // 510: both clamp
		{-16, 0, 0},    // -510: both clamp
		{19, 255, 0},   // 606: the C range-limit table wraps to 0
		{-19, 0, 255},  // -606 wraps to 255
		// 25500*4 = 102000 wraps in the SIMD code's 16-bit shift to -29072
		// (-> -908 -> 0); C keeps it (3188 & 1023 = 116 -> 244).
		{100, 0, 244},
	} {
		var b block
		var qt [blockSize]int16
		for i := range qt {
			qt[i] = 255
		}
		b[0] = tc.dc
		var s, p [64]uint8
		idctSIMD(&b, &qt, s[:], 8)
		idctC(&b, &qt, p[:], 8)
		for i := range s {
			if s[i] != tc.simd || p[i] != tc.portable {
				t.Fatalf("dc %d sample %d: simd %d portable %d, want %d and %d", tc.dc, i, s[i], p[i], tc.simd, tc.portable)
			}
		}
	}
}

// TestIDCTVariantsAgree checks that the two IDCTs agree on blocks whose
// outputs stay in range, and that both are within 1 of the exact IDCT.
func TestIDCTVariantsAgree(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var qt [blockSize]int16
	for i := range qt {
		qt[i] = int16(1 + i%7)
	}
	for trial := 0; trial < 5000; trial++ {
		var b block
		// Sparse, decaying coefficients like those of natural images.
		n := rng.IntN(20)
		b[0] = int16(rng.IntN(200) - 100)
		for k := 0; k < n; k++ {
			z := 1 + rng.IntN(63)
			b[unzig[z]] = int16(rng.NormFloat64() * 60 / float64(1+z/8))
		}
		exact := exactIDCT(&b, &qt)
		inRange := true
		for _, v := range exact {
			if v < -500 || v > 500 {
				inRange = false
			}
		}
		if !inRange {
			continue
		}
		var s, p [64]uint8
		idctSIMD(&b, &qt, s[:], 8)
		idctC(&b, &qt, p[:], 8)
		if s != p {
			t.Fatalf("trial %d: SIMD and C IDCT differ on an in-range block %v", trial, b)
		}
		for i, v := range exact {
			want := math.Min(math.Max(v+128, 0), 255)
			if math.Abs(float64(s[i])-want) > 1.01 {
				t.Fatalf("trial %d: sample %d = %d, exact IDCT %.2f", trial, i, s[i], v+128)
			}
		}
	}
}

// cosTable[x][u] = C(u) cos((2x+1)uπ/16) / 2, the 1-D IDCT basis.
var cosTable = func() (t [8][8]float64) {
	for x := range 8 {
		for u := range 8 {
			t[x][u] = math.Cos(float64(2*x+1)*float64(u)*math.Pi/16) / 2
			if u == 0 {
				t[x][u] /= math.Sqrt2
			}
		}
	}
	return t
}()

// exactIDCT is the floating-point 2-D IDCT of the dequantised block.
func exactIDCT(b *block, qt *[blockSize]int16) (out [64]float64) {
	for y := 0; y < 8; y++ {
		for x := 0; x < 8; x++ {
			var s float64
			for v := 0; v < 8; v++ {
				for u := 0; u < 8; u++ {
					s += float64(b[v*8+u]) * float64(qt[v*8+u]) * cosTable[x][u] * cosTable[y][v]
				}
			}
			out[y*8+x] = s
		}
	}
	return out
}

// TestUpsampleFormulas checks the fancy upsamplers against the formulas of
// reference/upstream.md §3.1 on a small plane, edges included.
func TestUpsampleFormulas(t *testing.T) {
	plane := []byte{
		10, 200, 30, 90, 0, 0, 0, 0,
		250, 0, 60, 120, 0, 0, 0, 0,
		5, 100, 255, 1, 0, 0, 0, 0,
	}
	const cw, ch = 4, 3
	at := func(r, x int) int32 {
		r = min(max(r, 0), ch-1)
		return int32(plane[r*8+x])
	}
	u := &upsampler{kind: upH2V2Fancy, hexp: 2, vexp: 2, plane: plane, stride: 8, dw: cw, dh: ch,
		buf: make([]byte, 2*cw+2), colsum: make([]int32, cw)}
	for y := 0; y < 2*ch; y++ {
		r, nb := y/2, y/2-1
		if y%2 == 1 {
			nb = y/2 + 1
		}
		colsum := func(x int) int32 { return 3*at(r, x) + at(nb, x) }
		got := u.row(y)
		for x := 0; x < cw; x++ {
			var even, odd int32
			if x == 0 {
				even = (4*colsum(0) + 8) >> 4
			} else {
				even = (3*colsum(x) + colsum(x-1) + 8) >> 4
			}
			if x == cw-1 {
				odd = (4*colsum(cw-1) + 7) >> 4
			} else {
				odd = (3*colsum(x) + colsum(x+1) + 7) >> 4
			}
			if int32(got[2*x]) != even || int32(got[2*x+1]) != odd {
				t.Fatalf("h2v2 row %d col %d: got %d,%d want %d,%d", y, x, got[2*x], got[2*x+1], even, odd)
			}
		}
	}
	u = &upsampler{kind: upH2V1Fancy, hexp: 2, vexp: 1, plane: plane, stride: 8, dw: cw, dh: ch,
		buf: make([]byte, 2*cw+2)}
	for y := 0; y < ch; y++ {
		got := u.row(y)
		for x := 0; x < cw; x++ {
			l, c, r := at(y, max(x-1, 0)), at(y, x), at(y, min(x+1, cw-1))
			even, odd := (3*c+l+1)>>2, (3*c+r+2)>>2
			if x == 0 {
				even = c
			}
			if x == cw-1 {
				odd = c
			}
			if int32(got[2*x]) != even || int32(got[2*x+1]) != odd {
				t.Fatalf("h2v1 row %d col %d: got %d,%d want %d,%d", y, x, got[2*x], got[2*x+1], even, odd)
			}
		}
	}
}

// TestColorConversion checks jdcolor.c's fixed-point formulas against the
// spec's closed forms at every (Cb, Cr) for a few Y values.
func TestColorConversion(t *testing.T) {
	for _, y := range []int32{0, 1, 77, 128, 200, 254, 255} {
		for cb := int32(0); cb < 256; cb++ {
			for cr := int32(0); cr < 256; cr++ {
				cbp, crp := cb-128, cr-128
				r := clamp255(y + (91881*crp+32768)>>16)
				g := clamp255(y + (-22554*cbp-46802*crp+32768)>>16)
				b := clamp255(y + (116130*cbp+32768)>>16)
				gr := clamp255(y + crR[cr])
				gg := clamp255(y + (cbG[cb]+crG[cr])>>scaleBits)
				gb := clamp255(y + cbB[cb])
				if r != gr || g != gg || b != gb {
					t.Fatalf("Y=%d Cb=%d Cr=%d: got %d,%d,%d want %d,%d,%d", y, cb, cr, gr, gg, gb, r, g, b)
				}
			}
		}
	}
}

func TestDecodeConfig(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Config
	}{
		{"pil_420_q75.jpg", Config{W: 41, H: 27, C: 3, Sampling: "2x2,1x1,1x1"}},
		{"pil_422_q75.jpg", Config{W: 41, H: 27, C: 3, Sampling: "2x1,1x1,1x1"}},
		{"pil_444_q95_prog.jpg", Config{W: 41, H: 27, C: 3, Progressive: true, Sampling: "1x1,1x1,1x1"}},
		{"pil_gray_q75.jpg", Config{W: 41, H: 27, C: 1, Sampling: "1x1"}},
		{"cjpeg_440.jpg", Config{W: 41, H: 27, C: 3, Sampling: "1x2,1x1,1x1"}},
		{"pil_420_1x1.jpg", Config{W: 1, H: 1, C: 3, Sampling: "2x2,1x1,1x1"}},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", tc.file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.file, got, tc.want)
		}
	}
}

func TestImageRGB(t *testing.T) {
	g := &Image{W: 2, H: 1, C: 1, Pix: []byte{7, 9}}
	if got := g.RGB(); got.C != 3 || !bytes.Equal(got.Pix, []byte{7, 7, 7, 9, 9, 9}) {
		t.Errorf("RGB() = %+v", got)
	}
	c := &Image{W: 1, H: 1, C: 3, Pix: []byte{1, 2, 3}}
	if c.RGB() != c {
		t.Error("RGB() of a colour image should return it")
	}
}

// segment builds a JPEG marker segment.
func segment(marker byte, payload ...byte) []byte {
	n := len(payload) + 2
	return append([]byte{0xff, marker, byte(n >> 8), byte(n)}, payload...)
}

func TestBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "pil_420_q75.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	sof := func(prec byte, h, w int, comps ...byte) []byte {
		p := append([]byte{prec, byte(h >> 8), byte(h), byte(w >> 8), byte(w), byte(len(comps) / 3)}, comps...)
		return segment(0xc0, p...)
	}
	soi := []byte{0xff, 0xd8}
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	// A frame and scan header with no quantisation table.
	noDQT := cat(soi, sof(8, 8, 8, 1, 0x11, 0),
		segment(0xc4, append(append([]byte{0x00, 1}, make([]byte, 15)...), 0)...),
		segment(0xc4, append(append([]byte{0x10, 1}, make([]byte, 15)...), 0)...),
		segment(0xda, 1, 1, 0x00, 0, 63, 0), []byte{0x00, 0xff, 0xd9})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "unexpected EOF"},
		{"not a JPEG", []byte("GIF89a..."), "missing SOI"},
		{"SOI only", soi, "unexpected EOF"},
		{"zero width", cat(soi, sof(8, 8, 0, 1, 0x11, 0)), "zero width"},
		{"too wide", cat(soi, sof(8, 8, 20000, 1, 0x11, 0)), "exceeds the limit"},
		{"too many pixels", cat(soi, sof(8, 16000, 16000, 1, 0x11, 0)), "exceeds the limit"},
		{"12-bit", cat(soi, sof(12, 8, 8, 1, 0x11, 0)), "precision"},
		{"CMYK", cat(soi, sof(8, 8, 8, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0, 4, 0x11, 0)), "CMYK"},
		{"two components", cat(soi, sof(8, 8, 8, 1, 0x11, 0, 2, 0x11, 0)), "number of components"},
		{"sampling 0", cat(soi, sof(8, 8, 8, 1, 0x01, 0, 2, 0x11, 0, 3, 0x11, 0)), "subsampling"},
		{"fractional sampling", cat(soi, sof(8, 8, 8, 1, 0x31, 0, 2, 0x21, 0, 3, 0x11, 0)), "fractional"},
		{"repeated component", cat(soi, sof(8, 8, 8, 1, 0x11, 0, 1, 0x11, 0, 3, 0x11, 0)), "repeated component"},
		{"lossless", cat(soi, segment(0xc3, 8, 0, 8, 0, 8, 1, 1, 0x11, 0)), "lossless"},
		{"arithmetic", cat(soi, segment(0xc9, 8, 0, 8, 0, 8, 1, 1, 0x11, 0)), "arithmetic"},
		{"SOS before SOF", cat(soi, segment(0xda, 1, 1, 0, 0, 63, 0)), "missing SOF"},
		{"no SOS", cat(soi, sof(8, 8, 8, 1, 0x11, 0), []byte{0xff, 0xd9}), "missing SOS"},
		{"no quantisation table", noDQT, "quantization table 0 was not defined"},
		{"truncated scan", good[:len(good)-100], "short Huffman data"},
		{"short segment", cat(soi, []byte{0xff, 0xfe, 0, 1}), "short segment"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Decode(bytes.NewReader(tc.data))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Decode = %v, %v; want an error containing %q", m, err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "jpeg: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

// TestTruncationsAndCorruptions decodes every prefix of a few files and
// single-byte corruptions of them: each must return an image or an error,
// never panic, and a prefix that stops inside the scan must fail.
func TestTruncationsAndCorruptions(t *testing.T) {
	for _, name := range []string{"pil_420_q75.jpg", "pil_420_q75_prog.jpg", "cjpeg_422_prog_sa.jpg", "tran_420_restart_3b.jpg"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < len(data)-2; n++ {
			if _, err := Decode(bytes.NewReader(data[:n])); err == nil {
				t.Fatalf("%s: a prefix of %d of %d bytes decoded without error", name, n, len(data))
			}
		}
		rng := rand.New(rand.NewPCG(uint64(len(data)), 7))
		for i := 0; i < 2000; i++ {
			c := bytes.Clone(data)
			c[rng.IntN(len(c))] ^= byte(1 + rng.IntN(255))
			for _, opt := range []Options{{}, {PortableIDCT: true}} {
				m, err := DecodeOptions(bytes.NewReader(c), opt)
				if err == nil && len(m.Pix) != m.W*m.H*m.C {
					t.Fatalf("%s: corrupted copy decoded to %dx%dx%d with %d bytes", name, m.W, m.H, m.C, len(m.Pix))
				}
			}
		}
	}
}

// zeroReader returns (0, nil) forever.
type zeroReader struct{}

func (zeroReader) Read([]byte) (int, error) { return 0, nil }

func TestNoProgressReader(t *testing.T) {
	if _, err := Decode(zeroReader{}); !errors.Is(err, io.ErrNoProgress) {
		t.Fatalf("err = %v, want io.ErrNoProgress", err)
	}
}

func ExampleDecode() {
	data, err := os.ReadFile("testdata/pil_420_q75.jpg")
	if err != nil {
		fmt.Println(err)
		return
	}
	m, err := Decode(bytes.NewReader(data))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(m.W, m.H, m.C, len(m.Pix))
	// Output: 41 27 3 3321
}
