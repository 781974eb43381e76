package areadata

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
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
