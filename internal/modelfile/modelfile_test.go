package modelfile

import (
	"archive/zip"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/model"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

func zipWith(t testing.TB, name string) []byte {
	t.Helper()
	var b bytes.Buffer
	w := zip.NewWriter(&b)
	if _, err := w.Create(name); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestDetect(t *testing.T) {
	tests := []struct {
		name    string
		content []byte
		want    v4data.Format
		err     error
	}{
		{"m.keras", nil, v4data.FormatKeras, nil},
		{"M.WEIGHTS.H5", nil, v4data.FormatWeightsH5, nil},
		{"m.npy", nil, v4data.FormatNPY, nil},
		{"m.pth", nil, v4data.FormatTorch, nil},
		{"m.bin", []byte("\x89HDF\r\n\x1a\n rest"), v4data.FormatWeightsH5, nil},
		{"m.bin", []byte(npy.Magic + "\x01\x00"), v4data.FormatNPY, nil},
		{"m.bin", zipWith(t, "config.json"), v4data.FormatKeras, nil},
		{"m.bin", zipWith(t, "archive/data.pkl"), v4data.FormatTorch, nil},
		{"m.bin", []byte("hello"), 0, ErrUnknownFormat},
		{"m.bin", nil, 0, ErrUnknownFormat},
	}
	for _, tt := range tests {
		got, err := detect(tt.name, bytes.NewReader(tt.content), int64(len(tt.content)))
		if !errors.Is(err, tt.err) || (err == nil && got != tt.want) {
			t.Errorf("Detect(%s, %q) = %v, %v; want %v, %v", tt.name, tt.content, got, err, tt.want, tt.err)
		}
	}
}

func TestParseFilters(t *testing.T) {
	if f, err := parseFilters("48, 60,3,3,3"); err != nil || f != [model.NumLayers]int{48, 60, 3, 3, 3} {
		t.Errorf("ParseFilters = %v, %v", f, err)
	}
	for _, bad := range []string{"1,2,3", "1,2,3,4,0", "a,2,3,4,5", "1,2,3,4,5,6", ""} {
		if _, err := parseFilters(bad); !errors.Is(err, ErrOption) {
			t.Errorf("ParseFilters(%q): %v, want ErrOption", bad, err)
		}
	}
}

func TestReadErrors(t *testing.T) {
	dir := t.TempDir()
	npyFile := filepath.Join(dir, "weights", "m.npy")
	if err := os.MkdirAll(filepath.Dir(npyFile), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(npyFile, []byte(npy.Magic), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		path string
		opts Options
		err  error
	}{
		{npyFile, Options{}, ErrNoFilters},
		{npyFile, Options{Filters: "1,2"}, ErrOption},
		{npyFile, Options{Format: "onnx"}, ErrOption},
		{npyFile, Options{SharedActivation: "tanh"}, ErrOption},
		{filepath.Join(dir, "none.keras"), Options{}, os.ErrNotExist},
	} {
		if _, err := Read(tt.path, tt.opts); !errors.Is(err, tt.err) {
			t.Errorf("Read(%s, %+v): %v, want %v", tt.path, tt.opts, err, tt.err)
		}
	}
	if _, err := Read(dir, Options{}); err == nil {
		t.Error("a directory was read as a model")
	}
	// A truncated .npy with its filter counts given: an error from the reader, not a panic.
	if _, err := Read(npyFile, Options{Filters: "3,3,3,3,3"}); err == nil {
		t.Error("a truncated weight list was accepted")
	}
}

// FuzzDetect: detect, on any content under any name gives a format or an error, never a panic.
func FuzzDetect(f *testing.F) {
	f.Add("m.bin", []byte("\x89HDF\r\n\x1a\n"))
	f.Add("m.bin", zipWith(f, "config.json"))
	f.Add("m.bin", []byte("PK\x03\x04 truncated"))
	f.Add("m.keras", []byte{})
	fuzzbound.Minimize(f)
	f.Fuzz(func(t *testing.T, name string, b []byte) {
		fuzzbound.Run(t, func() {
			got, err := detect(name, bytes.NewReader(b), int64(len(b)))
			if err == nil && got.String() == "" {
				t.Fatalf("format %v without a name", got)
			}
		})
	})
}

// TestWriteNPYPublished reads a published compact model, writes it with WriteNPY into the
// published layout and checks that both files are byte for byte the published ones and that Read
// finds the filter counts beside the weights.
func TestWriteNPYPublished(t *testing.T) {
	const stem = "compact_model_201025_neuron10"
	src := datadirtest.File(t, "data_compact_models/model_weights_npy/"+stem+".npy")
	in, err := Read(src, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "models", stem+".npy")
	if err := WriteNPY(out, in.Net); err != nil {
		t.Fatal(err)
	}
	for _, pair := range [][2]string{
		{src, out},
		{filepath.Join(filepath.Dir(src), "..", "nums_filters", stem+".npy"), filepath.Join(filepath.Dir(out), "..", "nums_filters", stem+".npy")},
	} {
		want, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(pair[1])
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, differs from the published %s (%d bytes)", pair[1], len(got), pair[0], len(want))
		}
	}
	back, err := Read(out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if back.Net.Params() != in.Net.Params() {
		t.Errorf("read back %+v parameters, wrote %+v", back.Net.Params(), in.Net.Params())
	}
	shared, err := model.NewShared(5, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteNPY(filepath.Join(t.TempDir(), "s.npy"), shared); !errors.Is(err, model.ErrNotCompact) {
		t.Errorf("WriteNPY of a shared model: %v, want ErrNotCompact", err)
	}
}
