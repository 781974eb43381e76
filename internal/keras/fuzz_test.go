package keras

import (
	"archive/zip"
	"bytes"
	"reflect"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/model"
)

// The two smallest compact models (fewest filters), so that the fuzzer runs fast on them.
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
	nets := testNetworks(f)
	f.Add(syntheticArchive(f, nets["compact"], fixture(f, "compact_tiny.weights.h5"), zip.Store))
	f.Add(syntheticArchive(f, nets["compact"], fixture(f, "compact_tiny.weights.h5"), zip.Deflate))
	f.Add(syntheticArchive(f, nets["shared_linear"], fixture(f, "shared_linear.weights.h5"), zip.Store))
	f.Add(syntheticArchive(f, nets["compact"], fixture(f, "compact_wrong_shape.weights.h5"), zip.Store))
	for _, b := range datadirtest.Seeds(f, "data_compact_models/models_keras/"+realStems[0]+".keras", "data_compact_models/models_keras/"+realStems[1]+".keras") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ReadArchive(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		checkNetwork(t, m.Network)
	})
}

func FuzzReadWeightsH5(f *testing.F) {
	for _, name := range []string{"compact_tiny.weights.h5", "shared_relu.weights.h5", "shared_bare.weights.h5", "compact_wrong_shape.weights.h5"} {
		f.Add(fixture(f, name))
	}
	for _, b := range datadirtest.Seeds(f, "data_compact_models/model_weights_h5/"+realStems[0]+".weights.h5", "data_compact_models/model_weights_h5/"+realStems[1]+".weights.h5") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		net, err := ReadWeightsH5(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		checkNetwork(t, net)
		if _, err := model.CompactFilters(net); err != nil && net.Layer("mixing_stage") == nil {
			t.Fatalf("ReadWeightsH5 returned a network of neither architecture: %v", err)
		}
	})
}

func FuzzParseConfig(f *testing.F) {
	for _, net := range testNetworks(f) {
		f.Add(marshal(f, kerasConfig(net)))
	}
	m := kerasConfig(testNetworks(f)["compact"])
	nodeArg(m, 5)["keras_history"] = []any{"layer0_bn", 0, 0}
	f.Add(marshal(f, m))
	for _, b := range datadirtest.Seeds(f, "data_compact_models/models_keras/"+realStems[0]+".keras", "data_shared_compact_models/linear_from_ensemble_model/shared_compact_model_5filters.keras") {
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			f.Fatal(err)
		}
		cfg, err := readSmall(zipFile(f, zr, ConfigEntry), MaxConfigBytes)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(cfg)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
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
	})
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
