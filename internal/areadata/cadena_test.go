package areadata

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
)

const cadenaDir = "testdata/cadena"

// TestReadCadena reads the generated pickle and compares the complete neurons and their
// repeat averages with numpy's nanmean, within 1e-12.
func TestReadCadena(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(cadenaDir, "cadena_small.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadCadena(b)
	if err != nil {
		t.Fatal(err)
	}
	if c.R != 4 || c.M != 5 || c.N != 3 || c.H != 8 || c.W != 8 {
		t.Fatalf("shape R %d M %d N %d images %d×%d", c.R, c.M, c.N, c.H, c.W)
	}
	var want struct {
		Complete []int
		Averaged [][]*float64
	}
	j, err := os.ReadFile(filepath.Join(cadenaDir, "cadena_small.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(j, &want); err != nil {
		t.Fatal(err)
	}
	if got := c.Complete(); !reflect.DeepEqual(got, want.Complete) {
		t.Errorf("Complete = %v, numpy %v", got, want.Complete)
	}
	r, err := c.Responses("Cadena2019 V1", []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	for n, row := range want.Averaged {
		for i, w := range row {
			got := r.Averaged[n][i]
			if w == nil && !math.IsNaN(got) || w != nil && !(math.Abs(got-*w) <= 1e-12) {
				t.Errorf("averaged[%d][%d] = %v, numpy %v", n, i, got, fmtPtr(w))
			}
		}
	}
	if r.Raw.R != 4 || r.Raw.M != 5 || r.Raw.N != 3 || r.Raw.Validate() != nil {
		t.Errorf("raw %d×%d×%d", r.Raw.N, r.Raw.M, r.Raw.R)
	}
	if d, _ := c.Responses("x", nil); d.Neurons() != len(want.Complete) {
		t.Errorf("default selection has %d neurons, want the %d complete ones", d.Neurons(), len(want.Complete))
	}
	if _, err := c.Responses("x", []int{3}); err == nil {
		t.Error("an out-of-range neuron was accepted")
	}
	for n := 0; n < len(b); n += 7 {
		if _, err := ReadCadena(b[:n]); err == nil {
			t.Fatalf("a pickle truncated to %d of %d bytes was read", n, len(b))
		}
	}
}

func TestCadenaSeedsReproduce(t *testing.T) {
	fuzzseed.Reproduce(t, "numpy", filepath.Join("testdata", "gen_cadena.py"), cadenaDir)
}

// FuzzReadCadena: any input is read or rejected with an error; what is read is consistent.
func FuzzReadCadena(f *testing.F) {
	for _, s := range fuzzseed.Files(f, filepath.Join(cadenaDir, "*.pkl")) {
		f.Add(s)
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		c, err := ReadCadena(data)
		if err != nil {
			return
		}
		if len(c.Data) != c.R*c.M*c.N || len(c.Images) != c.M*c.H*c.W {
			t.Fatalf("sizes %d, %d for shapes (%d, %d, %d), (%d, %d, %d)", len(c.Data), len(c.Images), c.R, c.M, c.N, c.M, c.H, c.W)
		}
		if r, err := c.Responses("fuzz", nil); err == nil {
			if err := r.Raw.Validate(); err != nil {
				t.Fatalf("responses of an accepted pickle: %v", err)
			}
		}
	})
}

func TestCadenaRGB(t *testing.T) {
	c := &Cadena{M: 2, H: 2, W: 2, Images: []float64{0, 1.4, 254.6, 255, 7, 7, 7, 7}}
	tests := []struct {
		name    string
		levels  []float64
		side    int
		want    []uint8 // nil: an error
		wantErr string
	}{
		{"same size rounds and copies", c.Images, 2, []uint8{0, 0, 0, 1, 1, 1, 255, 255, 255, 255, 255, 255, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, ""},
		{"resized constant stays constant", []float64{9, 9, 9, 9, 9, 9, 9, 9}, 3, bytesOf(9, 2*3*3*3), ""},
		{"above 255", []float64{0, 0, 0, 255.6, 0, 0, 0, 0}, 2, nil, "image 0 pixel (1, 1)"},
		{"negative", []float64{0, 0, 0, 0, 0, -1, 0, 0}, 2, nil, "image 1 pixel (0, 1)"},
		{"NaN", []float64{math.NaN(), 0, 0, 0, 0, 0, 0, 0}, 2, nil, "image 0 pixel (0, 0)"},
		{"side 0", c.Images, 0, nil, "side 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cc := *c
			cc.Images = tt.levels
			got, err := cc.RGB(tt.side)
			if tt.want == nil {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("RGB(%d) = %v, %v; want %v", tt.side, got, err, tt.want)
			}
		})
	}
}

func bytesOf(v uint8, n int) []uint8 {
	out := make([]uint8, n)
	for i := range out {
		out[i] = v
	}
	return out
}
