package areadata

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
)

const seedDir = "testdata/seeds"

// TestReadAssembly reads the generated fixtures (Brain-Score's layout, written by xarray through
// netCDF4) and compares region IT's repeat-averaged responses with xarray's groupby mean, within
// 1e-6 (the responses are float32; the means are taken in float64 on both sides).
func TestReadAssembly(t *testing.T) {
	for _, name := range []string{"assembly_1bin", "assembly_2bins"} {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(seedDir, name+".nc"))
			if err != nil {
				t.Fatal(err)
			}
			a, err := ReadAssembly(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			if a.Neuroids() != 5 || a.Presentations() != 9 || a.Regions[1] != "IT" || a.Animals[0] != "Chabo" || a.BinStart[0] != 70 || a.BinEnd[a.TimeBins()-1] != 170 {
				t.Errorf("coordinates: %+v", a)
			}
			var want struct {
				Images   []string
				Averaged [][]*float64
			}
			j, err := os.ReadFile(filepath.Join(seedDir, name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(j, &want); err != nil {
				t.Fatal(err)
			}
			r, images, err := a.Responses("MajajHong2015 IT", "IT")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(images, ",") != strings.Join(want.Images, ",") || r.Neurons() != 3 || r.Images() != 4 {
				t.Fatalf("images %v, %d neurons × %d images; want %v, 3 × 4", images, r.Neurons(), r.Images(), want.Images)
			}
			if r.Raw == nil || r.Raw.R != 3 || r.Raw.Validate() != nil {
				t.Fatalf("raw %+v", r.Raw)
			}
			for n, row := range want.Averaged {
				for i, w := range row {
					got := r.Averaged[n][i]
					if w == nil && !math.IsNaN(got) || w != nil && !(math.Abs(got-*w) <= 1e-6) {
						t.Errorf("averaged[%d][%d] = %v, xarray %v", n, i, got, fmtPtr(w))
					}
				}
			}
			// img_d was shown once: its other two slots are empty.
			if d := r.Raw.Data[(0*4+3)*3:][:3]; math.IsNaN(d[0]) || !math.IsNaN(d[1]) || !math.IsNaN(d[2]) {
				t.Errorf("raw slots of a once-shown image: %v", d)
			}
			if _, _, err := a.Responses("x", "V1"); err == nil {
				t.Error("a region without neuroids gave responses")
			}
		})
	}
}

// TestReadAssemblyTruncated: every truncation of a fixture is an error, never a panic.
func TestReadAssemblyTruncated(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(seedDir, "assembly_1bin.nc"))
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(b); n += 97 {
		if _, err := ReadAssembly(bytes.NewReader(b[:n]), int64(n)); err == nil {
			t.Fatalf("a file truncated to %d of %d bytes was read", n, len(b))
		}
	}
}

func TestAssemblySeedsReproduce(t *testing.T) {
	fuzzseed.Reproduce(t, "xarray, netCDF4, numpy", filepath.Join("testdata", "gen_assembly.py"), seedDir)
}

// FuzzReadAssembly: any input is read or rejected with an error; what is read is consistent.
func FuzzReadAssembly(f *testing.F) {
	for _, s := range fuzzseed.Files(f, filepath.Join(seedDir, "*.nc")) {
		f.Add(s)
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		a, err := ReadAssembly(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if len(a.Data) != a.Neuroids()*a.Presentations()*a.TimeBins() {
			t.Fatalf("%d values for shape (%d, %d, %d)", len(a.Data), a.Neuroids(), a.Presentations(), a.TimeBins())
		}
		for _, region := range []string{"V4", "IT"} {
			r, _, err := a.Responses("fuzz", region)
			if err != nil {
				continue
			}
			if err := r.Raw.Validate(); err != nil {
				t.Fatalf("responses of an accepted assembly: %v", err)
			}
		}
	})
}

func fmtPtr(p *float64) any {
	if p == nil {
		return "NaN"
	}
	return *p
}
