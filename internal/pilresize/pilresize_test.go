package pilresize

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/pil_resize.json with testdata/gen_pil_resize.py (needs Python with PIL: /usr/bin/python3 or $V4PYTHON)")

// lcgBytes is gen_pil_resize.py's lcg_bytes.
func lcgBytes(seed uint64, n int) []byte {
	s := seed
	out := make([]byte, n)
	for i := range out {
		s = s*6364136223846793005 + 1442695040888963407
		out[i] = byte(s >> 56)
	}
	return out
}

// testImage is gen_pil_resize.py's image.
func testImage(kind string, w, h int, seed uint64) []byte {
	r := lcgBytes(seed, w*h*3)
	if kind == "noise" {
		return r
	}
	out := make([]byte, len(r))
	b := func(v bool) int {
		if v {
			return 1
		}
		return 0
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for c := 0; c < 3; c++ {
				i := (y*w+x)*3 + c
				if kind == "smooth" {
					v := (x*255)/max(w-1, 1)*b(c != 1) + (y*255)/max(h-1, 1)*b(c == 1)
					out[i] = byte(min(255, max(0, v+int(r[i])%17-8)))
				} else {
					out[i] = byte(255 * ((x/3 + y/3 + c) % 2))
				}
			}
		}
	}
	return out
}

type pilRef struct {
	Pillow string `json:"pillow"`
	Cases  []struct {
		Kind   string `json:"kind"`
		W      int    `json:"w"`
		H      int    `json:"h"`
		OW     int    `json:"ow"`
		OH     int    `json:"oh"`
		Seed   uint64 `json:"seed"`
		SHA256 string `json:"sha256"`
	} `json:"cases"`
}

// TestMatchesPillow compares the bytes of Bicubic with Pillow's (SHA-256 recorded in
// testdata/pil_resize.json by gen_pil_resize.py) on the suite's 112→224 resize and on other
// sizes: equal, byte for byte.
func TestMatchesPillow(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "pil_resize.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref pilRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	if len(ref.Cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range ref.Cases {
		got, err := Bicubic(testImage(c.Kind, c.W, c.H, c.Seed), c.W, c.H, 3, c.OW, c.OH)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(got)
		if h := hex.EncodeToString(sum[:]); h != c.SHA256 {
			t.Errorf("%s %d×%d → %d×%d: SHA-256 %s, Pillow %s %s", c.Kind, c.W, c.H, c.OW, c.OH, h, ref.Pillow, c.SHA256)
		}
	}
}

// TestPillowGenerator reruns gen_pil_resize.py when Python has PIL (the checksums must be equal:
// Pillow's resampling is integer arithmetic after float64 weights).
func TestPillowGenerator(t *testing.T) {
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_pil_resize.py"), []string{"PIL"},
		map[string]pyref.Tolerances{"pil_resize.json": {Ignore: []string{"pillow"}}}, *update)
}

func TestBicubicRejects(t *testing.T) {
	if _, err := Bicubic(make([]byte, 11), 2, 2, 3, 4, 4); err == nil {
		t.Error("wrong length accepted")
	}
	if _, err := Bicubic(nil, 0, 2, 3, 4, 4); err == nil {
		t.Error("zero width accepted")
	}
	if _, err := Bicubic(make([]byte, 12), 2, 2, 3, 0, 4); err == nil {
		t.Error("zero output width accepted")
	}
}

// A constant image stays constant (the weights of every window sum to one in fixed point up to
// rounding, which the +2²¹ offset absorbs).
func TestBicubicConstant(t *testing.T) {
	for _, v := range []byte{0, 1, 128, 254, 255} {
		pix := make([]byte, 112*112*3)
		for i := range pix {
			pix[i] = v
		}
		got, err := Bicubic(pix, 112, 112, 3, 224, 224)
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			if g != v {
				t.Fatalf("constant %d: byte %d is %d", v, i, g)
			}
		}
	}
}
