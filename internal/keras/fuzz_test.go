package keras

import (
	"archive/zip"
	"bytes"
	"path/filepath"
	"reflect"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/fuzzseed"
	"compactv4/internal/hdf5"
	"compactv4/internal/model"
)

// The fuzz targets follow the layers of a .keras archive: FuzzReadModel the zip (with small valid
// entries), FuzzParseConfig its config.json, FuzzLoadWeights its model.weights.h5 as loaded into
// a network built from a config, and FuzzReadWeightsH5 a .weights.h5 file read on its own.
// Mutating a whole archive rarely gets past the zip's CRC-32 checks to the inner parsers, hence a
// target per layer. Their seeds are small generated files (testdata/gen_seeds.py); the real
// model files are regression cases (TestFuzzChecksRealFiles), not seeds: the fuzzer crawls on
// inputs of tens of kilobytes.

// seedPattern names the weight files the targets start from.
var seedPattern = filepath.Join("testdata", "seeds", "*.weights.h5")

// seedNetworks returns the network of each seed file, without weights.
func seedNetworks(t testing.TB) map[string]*model.Network {
	t.Helper()
	return networks(t, [model.NumLayers]int{1, 1, 1, 1, 1}, 1, 1)
}

// The two smallest compact models (fewest filters): the real files the fuzz checks also run on.
var realStems = []string{"compact_model_211022_neuron27", "compact_model_211022_neuron17"}

// checkNetwork checks the invariants of any network a reader returns.
func checkNetwork(t *testing.T, net *model.Network) {
	t.Helper()
	if err := net.Validate(); err != nil {
		t.Fatalf("reader returned an invalid network: %v", err)
	}
	total := 0
	for _, w := range net.Weights() {
		total += len(w.Data)
	}
	if p := net.Params(); p.Total != total || p.Trainable+p.NonTrainable != total {
		t.Fatalf("params %+v for %d values", p, total)
	}
}

func FuzzReadModel(f *testing.F) {
	nets := seedNetworks(f)
	for _, tc := range []struct{ net, h5 string }{
		{"compact", "compact"}, {"shared_relu", "shared_relu"}, {"shared_linear", "shared_linear"}, {"shared_relu", "shared_bare"},
	} {
		h5 := fixture(f, filepath.Join("seeds", tc.h5+".weights.h5"))
		f.Add(syntheticArchive(f, nets[tc.net], h5, zip.Store))
		f.Add(syntheticArchive(f, nets[tc.net], h5, zip.Deflate))
	}
	fuzzbound.Fuzz(f, checkReadModel)
}

func checkReadModel(t *testing.T, data []byte) {
	m, err := ReadArchive(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return
	}
	checkNetwork(t, m.Network)
}

// FuzzLoadWeights loads a fuzzed weights file into each seed network, as ReadArchive does with
// the model.weights.h5 of an archive.
func FuzzLoadWeights(f *testing.F) {
	for _, s := range fuzzseed.Files(f, seedPattern) {
		f.Add(s)
	}
	nets := seedNetworks(f)
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		h5, err := hdf5.OpenOptions(bytes.NewReader(data), int64(len(data)), &hdf5.Options{MaxDataBytes: MaxWeightBytes})
		if err != nil {
			return
		}
		for _, net := range nets {
			net = net.Clone()
			before := net.Clone()
			if err := LoadWeights(net, h5); err != nil {
				if !reflect.DeepEqual(net, before) {
					t.Fatalf("LoadWeights failed (%v) but changed the network", err)
				}
				continue
			}
			// LoadWeights checks the shapes and leaves the values to Validate.
			for _, w := range net.Weights() {
				clear(w.Data)
			}
			if err := net.Validate(); err != nil {
				t.Fatalf("LoadWeights accepted weights that do not fit the network: %v", err)
			}
		}
	})
}

func FuzzReadWeightsH5(f *testing.F) {
	for _, s := range fuzzseed.Files(f, seedPattern) {
		f.Add(s)
	}
	fuzzbound.Fuzz(f, checkReadWeightsH5)
}

func checkReadWeightsH5(t *testing.T, data []byte) {
	net, err := ReadWeightsH5(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return
	}
	checkNetwork(t, net)
	if _, err := model.CompactFilters(net); err != nil && net.Layer("mixing_stage") == nil {
		t.Fatalf("ReadWeightsH5 returned a network of neither architecture: %v", err)
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, net := range testNetworks(f) {
		f.Add(marshal(f, kerasConfig(net)))
	}
	f.Add(marshal(f, kerasConfig(memberNet())))
	m := kerasConfig(testNetworks(f)["compact"])
	nodeArg(m, 5)["keras_history"] = []any{"layer0_bn", 0, 0}
	f.Add(marshal(f, m))
	fuzzbound.Fuzz(f, checkParseConfig)
}

func checkParseConfig(t *testing.T, data []byte) {
	net, err := ParseConfig(bytes.NewReader(data))
	if err != nil {
		return
	}
	if len(net.Layers) == 0 {
		t.Fatal("a network without layers")
	}
	// Writing the network as Keras would and parsing it again gives the same network.
	again, err := ParseConfig(bytes.NewReader(marshal(t, kerasConfig(net))))
	if err != nil {
		t.Fatalf("the rewritten config does not parse: %v", err)
	}
	again.Name = net.Name
	if !reflect.DeepEqual(again, net) {
		t.Fatalf("round trip changed the network:\n%+v\n%+v", net, again)
	}
}

// TestFuzzChecksRealFiles runs the fuzz targets' checks on real model files and their configs.
func TestFuzzChecksRealFiles(t *testing.T) {
	for _, stem := range realStems {
		keras := datadirtest.File(t, "data_compact_models/models_keras/"+stem+".keras")
		h5 := datadirtest.File(t, "data_compact_models/model_weights_h5/"+stem+".weights.h5")
		t.Run(stem, func(t *testing.T) {
			b := readFile(t, keras)
			checkReadModel(t, b)
			checkReadWeightsH5(t, readFile(t, h5))
			zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := readSmall(zipFile(t, zr, ConfigEntry), MaxConfigBytes)
			if err != nil {
				t.Fatal(err)
			}
			checkParseConfig(t, cfg)
		})
	}
}

// TestSeedsRead checks that the seeds are what they claim: each loads into its network.
func TestSeedsRead(t *testing.T) {
	nets := seedNetworks(t)
	for name, net := range map[string]string{"compact": "compact", "shared_relu": "shared_relu", "shared_linear": "shared_linear", "shared_bare": "shared_relu"} {
		got, err := readWeights(fixture(t, filepath.Join("seeds", name+".weights.h5")), WeightsOptions{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(stripWeights(got, ""), stripWeights(nets[net], "")) {
			t.Errorf("%s: read as another network than %s", name, net)
		}
	}
}

// TestSeedsReproduce checks that testdata/gen_seeds.py writes the committed seeds byte for byte.
func TestSeedsReproduce(t *testing.T) {
	fuzzseed.Reproduce(t, "h5py, numpy", filepath.Join("testdata", "gen_seeds.py"), filepath.Join("testdata", "seeds"))
}

func zipFile(t testing.TB, zr *zip.Reader, name string) *zip.File {
	t.Helper()
	for _, zf := range zr.File {
		if zf.Name == name {
			return zf
		}
	}
	t.Fatalf("no zip entry %s", name)
	return nil
}
