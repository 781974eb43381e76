package imagenet

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/kerasweights"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/*_narrow.h5 and trunks.json with testdata/gen_trunks.py (needs Python with numpy, torch, h5py and PIL: /usr/bin/python3 or $V4PYTHON)")

var trunkModules = []string{"numpy", "torch", "h5py", "PIL"}

// trunksRef is what testdata/gen_trunks.py writes.
type trunksRef struct {
	Torch       string `json:"torch"`
	Narrow      int    `json:"narrow"`
	Batch       int    `json:"batch"`
	InputSHA256 string `json:"input_sha256"`
	Stride      int    `json:"stride"`
	Nets        map[string]struct {
		Layer  string    `json:"layer"`
		Size   int       `json:"size"`
		Output []float64 `json:"output"`
	} `json:"nets"`
}

// stimuli are gen_trunks.py's test stimuli: 112×112 RGB bytes from gen_pil_resize.py's LCG with
// seeds 11, 12, ...
func stimuli(n int) []uint8 {
	const per = 112 * 112 * 3
	out := make([]uint8, n*per)
	for i := 0; i < n; i++ {
		s := uint64(11 + i)
		for j := 0; j < per; j++ {
			s = s*6364136223846793005 + 1442695040888963407
			out[i*per+j] = uint8(s >> 56)
		}
	}
	return out
}

func readRef(t *testing.T) trunksRef {
	t.Helper()
	var ref trunksRef
	pyref.ReadReference(t, "gen_trunks.py", trunkModules, *update, "trunks.json", &ref)
	return ref
}

// TestTrunksMatchTorch runs the whole path of the task-driven features on narrowed networks with
// the real layer names and file layout: Preprocess must give the bytes of Pillow + numpy's
// 'caffe' preprocessing exactly, and conv4_block4_out (ResNet50) and block4_pool (VGG19), loaded
// from Keras 2 weights files written by h5py, must agree with PyTorch's float64 evaluation to
// 1e-4 of the standard deviation of the layer's values.
func TestTrunksMatchTorch(t *testing.T) {
	ref := readRef(t)
	x, err := Preprocess(stimuli(ref.Batch), ref.Batch, 112)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if err := binary.Write(h, binary.LittleEndian, x); err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != ref.InputSHA256 {
		t.Errorf("preprocessed input SHA-256 %s, Pillow + numpy %s", got, ref.InputSHA256)
	}
	loaders := map[string]func(string, string, int) (*model.Network, *nn.GraphNet, error){
		"resnet50": LoadResNet50File, "vgg19": LoadVGG19File,
	}
	files := map[string]string{"resnet50": "resnet50_narrow.h5", "vgg19": "vgg19_narrow.h5"}
	for name, load := range loaders {
		t.Run(name, func(t *testing.T) {
			r, ok := ref.Nets[name]
			if !ok {
				t.Fatalf("trunks.json has no %s", name)
			}
			_, g, err := load(filepath.Join("testdata", files[name]), r.Layer, ref.Narrow)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, ref.Batch*g.Outputs())
			if err := g.Forward(x, ref.Batch, got); err != nil {
				t.Fatal(err)
			}
			compareStrided(t, r.Output, got, ref.Stride, r.Size, 1e-4)
		})
	}
}

// TestFullResNet50MatchesTorch is TestTrunksMatchTorch at the real widths: gen_trunks.py --full
// writes a full-size ResNet50 trunk with seeded random weights (25 MB, into a temporary
// directory) and PyTorch's float64 conv4_block4_out for one stimulus. It needs Python with numpy,
// torch, h5py and PIL and does not run in -short mode (about 15 s).
func TestFullResNet50MatchesTorch(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and runs a full-size ResNet50 in PyTorch")
	}
	py := pyref.Need(t, trunkModules...)
	dir := t.TempDir()
	if out, err := exec.Command(py, filepath.Join("testdata", "gen_trunks.py"), "--full", dir).CombinedOutput(); err != nil {
		t.Fatalf("gen_trunks.py --full: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "trunks_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref trunksRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	x, err := Preprocess(stimuli(ref.Batch), ref.Batch, 112)
	if err != nil {
		t.Fatal(err)
	}
	_, g, err := LoadResNet50File(filepath.Join(dir, "resnet50_full.h5"), model.ResNet50Output, 1)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, ref.Batch*g.Outputs())
	if err := g.Forward(x, ref.Batch, got); err != nil {
		t.Fatal(err)
	}
	compareStrided(t, ref.Nets["resnet50"].Output, got, ref.Stride, ref.Nets["resnet50"].Size, 1e-4)
}

// compareStrided checks got[i·stride] against want[i] to tol of want's standard deviation.
func compareStrided(t *testing.T, want []float64, got []float32, stride, size int, tol float64) {
	t.Helper()
	if len(got) != size {
		t.Fatalf("%d values, PyTorch's layer has %d", len(got), size)
	}
	pyref.CompareSD(t, "layer", want, got, 1, stride, tol)
}

// TestTrunksGenerator reruns gen_trunks.py (when Python has numpy, torch, h5py and PIL) and
// compares what it writes with the committed reference: the preprocessed input's checksum
// exactly, the float64 outputs to 1e-9.
func TestTrunksGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_trunks.py"), trunkModules, map[string]pyref.Tolerances{
		"trunks.json": {Default: pyref.Tol{Rel: 1e-9, Abs: 1e-9}, Ignore: []string{"torch"}},
	}, false)
}

// Loading refuses a file that lacks a layer or holds other shapes, naming the layer.
func TestLoadRejects(t *testing.T) {
	ref := readRef(t)
	tests := []struct {
		name string
		load func() error
		want string
	}{
		{"vgg file as resnet", func() error {
			_, _, err := LoadResNet50File(filepath.Join("testdata", "vgg19_narrow.h5"), model.ResNet50Output, ref.Narrow)
			return err
		}, `"conv1_conv"`},
		{"wider network", func() error {
			_, _, err := LoadResNet50File(filepath.Join("testdata", "resnet50_narrow.h5"), model.ResNet50Output, ref.Narrow/2)
			return err
		}, "conv1_conv"},
		{"beyond the file", func() error {
			_, _, err := LoadResNet50File(filepath.Join("testdata", "resnet50_narrow.h5"), "conv5_block1_out", ref.Narrow)
			return err
		}, `"conv5_block1_1_conv"`},
		{"missing file", func() error {
			_, _, err := LoadVGG19File(filepath.Join("testdata", "absent.h5"), model.VGG19Output, 1)
			return err
		}, "absent.h5"},
	}
	for _, tc := range tests {
		err := tc.load()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.want)
		}
	}
}

// The pinned loaders find the weight file through kerasweights: absent, the error says "not
// runnable" and names the file, its MD5 and both ways to get it; a file of another hash (here a
// narrowed test file under the real name) is refused, named, before it is read.
func TestLoadPinned(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	t.Setenv("KERAS_HOME", "")
	dir := t.TempDir()
	loaders := []struct {
		file kerasweights.File
		load func(dir string) error
	}{
		{kerasweights.ResNet50, func(dir string) error { _, _, err := LoadResNet50(dir, model.ResNet50Output, nil); return err }},
		{kerasweights.VGG19, func(dir string) error { _, _, err := LoadVGG19(dir, model.VGG19Output, nil); return err }},
	}
	for _, l := range loaders {
		for _, d := range []string{"", dir} {
			err := l.load(d)
			if !errors.As(err, new(*kerasweights.MissingError)) {
				t.Fatalf("%s absent from %q: %v", l.file.Name, d, err)
			}
			for _, want := range []string{"not runnable", l.file.Name, l.file.MD5, "data fetch -weights", l.file.URL} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("%q lacks %q", err, want)
				}
			}
		}
		b, err := os.ReadFile(filepath.Join("testdata", "resnet50_narrow.h5"))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, l.file.Name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		err = l.load(dir)
		if !errors.As(err, new(*kerasweights.CorruptError)) || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("wrong hash: %v", err)
		}
	}
}

func TestCaffe(t *testing.T) {
	dst := make([]float32, 6)
	if err := Caffe([]uint8{0, 10, 255, 1, 2, 3}, dst); err != nil {
		t.Fatal(err)
	}
	want := []float32{255 - CaffeMean[0], 10 - CaffeMean[1], 0 - CaffeMean[2], 3 - CaffeMean[0], 2 - CaffeMean[1], 1 - CaffeMean[2]}
	for i := range want {
		if dst[i] != want[i] {
			t.Errorf("value %d = %v, want %v", i, dst[i], want[i])
		}
	}
	if err := Caffe(make([]uint8, 4), make([]float32, 4)); err == nil {
		t.Error("length 4 accepted")
	}
}
