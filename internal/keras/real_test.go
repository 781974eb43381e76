package keras

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/model"
	"compactv4/internal/npy"
)

// The real files are read from the data directory (never copied into testdata). internal/v4data
// loads all 219 compact models in every format; these tests check a sample of them, and all 56
// shared models, against the other formats and against the architectures of internal/model.

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// compactSample returns every 20th compact model stem (11 of the 219) of the data directory.
func compactSample(t *testing.T) (dir string, stems []string) {
	dir = filepath.Join(datadirtest.Dir(t), "data_compact_models")
	names, err := filepath.Glob(filepath.Join(dir, "models_keras", "*.keras"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Skip("no compact models in the data directory")
	}
	sort.Strings(names)
	for i := 0; i < len(names); i += 20 {
		stems = append(stems, strings.TrimSuffix(filepath.Base(names[i]), ".keras"))
	}
	return dir, stems
}

func TestRealCompactModels(t *testing.T) {
	dir, stems := compactSample(t)
	for _, stem := range stems {
		t.Run(stem, func(t *testing.T) {
			b := readFile(t, filepath.Join(dir, "models_keras", stem+".keras"))
			m, err := readArchiveBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			if m.Metadata.KerasVersion != "3.1.1" || !strings.HasPrefix(m.Network.Name, "functional_") {
				t.Errorf("keras_version %q, name %q", m.Metadata.KerasVersion, m.Network.Name)
			}
			_, nf, err := npy.ReadInt64(bytes.NewReader(readFile(t, filepath.Join(dir, "nums_filters", stem+".npy"))))
			if err != nil {
				t.Fatal(err)
			}
			var filters [model.NumLayers]int
			for i := range filters {
				filters[i] = int(nf[i])
			}
			got, err := model.CompactFilters(m.Network)
			if err != nil || got != filters {
				t.Fatalf("filters %v (%v), nums_filters %v", got, err, filters)
			}
			// The configuration read from config.json is exactly model.NewCompact's.
			ref, err := model.NewCompact(filters)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stripWeights(m.Network, ""), stripWeights(ref, "")) {
				t.Errorf("config differs from model.NewCompact(%v)", filters)
			}
			// The same numbers, bit for bit, in the .weights.h5 file and the .npy.
			w, err := readWeights(readFile(t, filepath.Join(dir, "model_weights_h5", stem+".weights.h5")), WeightsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w.Name = m.Network.Name
			if !reflect.DeepEqual(w, m.Network) {
				t.Error(".weights.h5 network differs from the .keras one")
			}
			ts, err := npy.ReadTensors(bytes.NewReader(readFile(t, filepath.Join(dir, "model_weights_npy", stem+".npy"))))
			if err != nil {
				t.Fatal(err)
			}
			ws := m.Network.Weights()
			if len(ts) != len(ws) {
				t.Fatalf("npy holds %d arrays, network %d", len(ts), len(ws))
			}
			for i := range ts {
				if !reflect.DeepEqual(ts[i], *ws[i]) {
					t.Errorf("weight %d differs from the npy's", i)
				}
			}
		})
	}
}

// Parameter totals of the shared models by K (reference/upstream.md §2.3/§4.6, identical across teachers).
var sharedTotals = map[int]int{5: 208909, 10: 210384, 25: 215409, 35: 219259, 50: 225784, 75: 238659, 100: 254034, 200: 340534}

// innerWeights returns the model.weights.h5 entry of a .keras archive.
func innerWeights(t testing.TB, archive []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	rc, err := zr.Open(WeightsEntry)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRealSharedModels(t *testing.T) {
	dir := filepath.Join(datadirtest.Dir(t), "data_shared_compact_models")
	names, err := filepath.Glob(filepath.Join(dir, "*", "shared_compact_model_*filters.keras"))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) == 0 {
		t.Skip("no shared models in the data directory")
	}
	if len(names) != 56 {
		t.Errorf("%d shared models, want 56", len(names))
	}
	for _, name := range names {
		teacher := filepath.Base(filepath.Dir(name))
		var k int
		if _, err := fmt.Sscanf(filepath.Base(name), "shared_compact_model_%dfilters.keras", &k); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(teacher+"/"+filepath.Base(name), func(t *testing.T) {
			b := readFile(t, name)
			m, err := readArchiveBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			relu := teacher != "linear_from_ensemble_model"
			ref, err := model.NewShared(k, 219, relu)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(stripWeights(m.Network, ""), stripWeights(ref, "")) {
				t.Errorf("config differs from model.NewShared(%d, 219, %v)", k, relu)
			}
			if got := m.Network.Params().Total; got != sharedTotals[k] {
				t.Errorf("total params %d, want %d", got, sharedTotals[k])
			}
			// ReadWeightsH5 on the archive's weights alone recognises the architecture, K, the
			// outputs and the activation variant, and gives the same network.
			w, err := readWeights(innerWeights(t, b), WeightsOptions{})
			if err != nil {
				t.Fatal(err)
			}
			w.Name = m.Network.Name
			if !reflect.DeepEqual(w, m.Network) {
				t.Error("ReadWeightsH5 of the archive's weights differs from the archive's network")
			}
		})
	}
}

// TestRealConfigs parses the config.json of the sample alone.
func TestRealConfigs(t *testing.T) {
	dir, stems := compactSample(t)
	for _, stem := range stems {
		b := readFile(t, filepath.Join(dir, "models_keras", stem+".keras"))
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		rc, err := zr.Open(ConfigEntry)
		if err != nil {
			t.Fatal(err)
		}
		net, err := ParseConfig(rc)
		rc.Close()
		if err != nil {
			t.Fatalf("%s: %v", stem, err)
		}
		if _, err := model.CompactFilters(net); err != nil {
			t.Errorf("%s: %v", stem, err)
		}
	}
}
