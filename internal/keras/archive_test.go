package keras

import (
	"archive/zip"
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"compactv4/internal/model"
)

type zipEntry struct {
	name   string
	data   []byte
	method uint16
}

// buildZip writes the entries into a zip archive, as Keras does (fixed times, given methods).
func buildZip(t testing.TB, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method, Modified: time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)})
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

const testMetadata = `{"keras_version": "3.1.1", "date_saved": "2025-02-18@12:53:23"}`

// syntheticArchive returns a .keras archive of the network net with the weights of an h5 fixture.
func syntheticArchive(t testing.TB, net *model.Network, h5 []byte, method uint16) []byte {
	t.Helper()
	return buildZip(t, []zipEntry{
		{MetadataEntry, []byte(testMetadata), zip.Store},
		{ConfigEntry, marshal(t, kerasConfig(net)), zip.Store},
		{WeightsEntry, h5, method},
	})
}

func readArchiveBytes(b []byte) (*Model, error) {
	return ReadArchive(bytes.NewReader(b), int64(len(b)))
}

func TestReadArchiveSynthetic(t *testing.T) {
	nets := testNetworks(t)
	for _, tc := range []struct{ net, h5 string }{
		{"compact", "compact_tiny.weights.h5"},
		{"shared_relu", "shared_relu.weights.h5"},
		{"shared_linear", "shared_linear.weights.h5"},
		{"shared_relu", "shared_bare.weights.h5"},
		{"shared_linear", "shared_bare.weights.h5"},
	} {
		for _, method := range []uint16{zip.Store, zip.Deflate} {
			t.Run(tc.net+"/"+tc.h5+map[uint16]string{zip.Store: "/stored", zip.Deflate: "/deflated"}[method], func(t *testing.T) {
				h5 := fixture(t, tc.h5)
				m, err := readArchiveBytes(syntheticArchive(t, nets[tc.net], h5, method))
				if err != nil {
					t.Fatal(err)
				}
				if m.Metadata != (Metadata{KerasVersion: "3.1.1", DateSaved: "2025-02-18@12:53:23"}) {
					t.Errorf("metadata %+v", m.Metadata)
				}
				opts := WeightsOptions{SharedActivation: model.ReLU}
				if tc.net == "shared_linear" {
					opts.SharedActivation = model.Linear
				}
				want, err := readWeights(h5, opts)
				if err != nil {
					t.Fatal(err)
				}
				want.Name = "functional_1"
				if !reflect.DeepEqual(m.Network, want) {
					t.Error("the network differs from ReadWeightsH5's of the same weights")
				}
			})
		}
	}
}

func TestReadArchiveErrors(t *testing.T) {
	nets := testNetworks(t)
	h5 := fixture(t, "compact_tiny.weights.h5")
	cfg := marshal(t, kerasConfig(nets["compact"]))
	wide, err := model.NewCompact([model.NumLayers]int{2, 3, 4, 2, 1})
	if err != nil {
		t.Fatal(err)
	}
	good := syntheticArchive(t, nets["compact"], h5, zip.Store)
	corrupt := bytes.Clone(good)
	i := bytes.Index(corrupt, h5[len(h5)/2:len(h5)/2+64])
	if i < 0 {
		t.Fatal("weights not found in the archive")
	}
	corrupt[i+10] ^= 0x40
	nan := patchValue(t, h5, mustRead(t, h5).Layer("layer1_bn").Weights[2].Data[0], float32(nan32()))

	for _, tc := range []struct {
		name        string
		archive     []byte
		want        string
		unsupported bool
	}{
		{"not a zip", h5, "not a readable zip", false},
		{"empty", nil, "not a readable zip", false},
		{"no config", buildZip(t, []zipEntry{{WeightsEntry, h5, zip.Store}}), "no config.json entry", false},
		{"no weights", buildZip(t, []zipEntry{{ConfigEntry, cfg, zip.Store}}), "no model.weights.h5 entry", false},
		{"two configs", buildZip(t, []zipEntry{{ConfigEntry, cfg, zip.Store}, {ConfigEntry, cfg, zip.Store}, {WeightsEntry, h5, zip.Store}}), "two config.json entries", false},
		{"bad metadata", buildZip(t, []zipEntry{{MetadataEntry, []byte("{"), zip.Store}, {ConfigEntry, cfg, zip.Store}, {WeightsEntry, h5, zip.Store}}), "metadata.json: unexpected end", false},
		{"corrupt weights", corrupt, "model.weights.h5: zip: checksum error", false},
		{"config and weights disagree", syntheticArchive(t, wide, h5, zip.Store), `model.weights.h5: layers/separable_conv2d_1/vars/1 (pointwise kernel) has shape [1 1 3 2], but layer "layer2_conv" (SeparableConv2D) with input (56,56,3) needs [1 1 3 4]`, false},
		{"linear config, relu weights", syntheticArchive(t, nets["shared_linear"], fixture(t, "shared_relu.weights.h5"), zip.Store), "layers/activation (0 weight arrays)", false},
		{"compact config, shared weights", syntheticArchive(t, nets["compact"], fixture(t, "shared_relu.weights.h5"), zip.Store), `layers/separable_conv2d/vars/1 (pointwise kernel) has shape [1 1 2 2], but layer "layer1_conv"`, false},
		{"unsupported config", buildZip(t, []zipEntry{{ConfigEntry, []byte(strings.Replace(string(cfg), `"Flatten"`, `"GlobalAveragePooling2D"`, 1)), zip.Store}, {WeightsEntry, h5, zip.Store}}), `layer "embeddings": layer class "GlobalAveragePooling2D"`, true},
		{"nan weight", syntheticArchive(t, nets["compact"], nan, zip.Deflate), `layer "layer1_bn" weight 2 value 0 is NaN`, false},
		{"weights not hdf5", buildZip(t, []zipEntry{{ConfigEntry, cfg, zip.Store}, {WeightsEntry, cfg, zip.Store}}), "model.weights.h5: hdf5", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readArchiveBytes(tc.archive)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "keras archive: ") {
				t.Errorf("error %q lacks the context prefix", err)
			}
			if got := errors.Is(err, ErrUnsupported); got != tc.unsupported {
				t.Errorf("errors.Is(err, ErrUnsupported) = %v, want %v", got, tc.unsupported)
			}
		})
	}
}

// TestReadArchiveTruncated reads prefixes of a valid archive: each must fail cleanly.
func TestReadArchiveTruncated(t *testing.T) {
	b := syntheticArchive(t, testNetworks(t)["compact"], fixture(t, "compact_tiny.weights.h5"), zip.Store)
	step := len(b)/300 + 1
	for n := 0; n < len(b); n += step {
		if _, err := readArchiveBytes(b[:n]); err == nil {
			t.Fatalf("prefix of %d of %d bytes accepted", n, len(b))
		}
	}
}

func mustRead(t testing.TB, h5 []byte) *model.Network {
	t.Helper()
	net, err := readWeights(h5, WeightsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return net
}

func nan32() float64 { return math.NaN() }
