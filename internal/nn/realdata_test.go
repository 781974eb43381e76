package nn

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/model"
	"compactv4/internal/pyref"
)

// pyForward is the independent check on published models: numpy loads the weights (the pickled
// .npy of a compact model, or a shared model's .keras through h5py), writes them as raw float32
// arrays in Keras get_weights() order for Go to load, and evaluates the model in float64 from
// reference/upstream.md §4.2 on the images Go wrote (recentred in float64, cast to float32 as Keras does).
const pyForward = `
import io, json, sys, zipfile
import numpy as np
kind, path, out, n, relu = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5] == "relu"
if kind == "compact":
    ws = list(np.load(path, allow_pickle=True))
else:
    import h5py
    f = h5py.File(io.BytesIO(zipfile.ZipFile(path).read("model.weights.h5")), "r")
    v = lambda g, k: np.array(f["layers/%s/vars/%d" % (g, k)])
    sfx = ["", "_1", "_2", "_3", "_4"]
    ws = [v("conv2d", 0), v("conv2d", 1)] + [v("batch_normalization", k) for k in range(4)]
    for l in range(1, 5):
        ws += [v("separable_conv2d" + sfx[l - 1], k) for k in range(3)]
        ws += [v("batch_normalization" + sfx[l], k) for k in range(4)]
    ws += [v("conv2d_1", 0), v("conv2d_1", 1), v("depthwise_conv2d", 0), v("depthwise_conv2d", 1)]
with open(out + "/shapes.txt", "w") as fh:
    for i, w in enumerate(ws):
        assert w.dtype == np.float32
        w.astype("<f4").tofile(out + "/w%02d.f32" % i)
        fh.write(",".join(str(d) for d in w.shape) + "\n")
W = [w.astype(np.float64) for w in ws]
pix = np.fromfile(out + "/images.u8", dtype=np.uint8).reshape(n, 112, 112, 3)
x = (pix.astype(np.float64) - np.array([116.222, 109.270, 100.381])).astype(np.float32).astype(np.float64)
def pad(n, k, s):
    o = -(-n // s); t = max((o - 1) * s + k - n, 0); return o, t // 2, t - t // 2
def conv(x, K, s, depthwise):
    kh, kw = K.shape[:2]
    oh, pt, pb = pad(x.shape[1], kh, s); ow, pl, pr = pad(x.shape[2], kw, s)
    xp = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    y = 0
    for i in range(kh):
        for j in range(kw):
            p = xp[:, i:i + s * (oh - 1) + 1:s, j:j + s * (ow - 1) + 1:s, :]
            y = y + (p * K[i, j, :, 0] if depthwise else p @ K[i, j])
    return y
def bn(h, g, b, m, v):
    inv = g / np.sqrt(v + 1e-3); return h * inv + (b - m * inv)
act = (lambda h: np.maximum(h, 0)) if relu else (lambda h: h)
h = act(bn(conv(x, W[0], 1, False) + W[1], *W[2:6]))
for l, s in zip(range(1, 5), [2, 2, 1, 1]):
    b0 = 6 + 7 * (l - 1)
    h = act(bn(conv(h, W[b0], s, True) @ W[b0 + 1][0, 0] + W[b0 + 2], *W[b0 + 3:b0 + 7]))
if kind == "compact":
    y = h.reshape(n, -1) @ W[34] + W[35]
else:
    m = h @ W[34][0, 0] + W[35]
    y = np.einsum("byxc,yxc->bc", m, W[36][:, :, :, 0]) + W[37]
np.ascontiguousarray(y, dtype="<f8").tofile(out + "/out.f64")
`

func readF32(path string) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("%s: %d bytes", path, len(b))
	}
	out := make([]float32, len(b)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return out, nil
}

// loadPyWeights reads the arrays the script wrote into n (which must have their shapes).
func loadPyWeights(t *testing.T, dir string, n *model.Network) {
	t.Helper()
	shapes, err := os.ReadFile(filepath.Join(dir, "shapes.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var ws []model.Tensor
	for i, line := range strings.Split(strings.TrimSpace(string(shapes)), "\n") {
		var shape []int
		for _, f := range strings.Split(line, ",") {
			d, err := strconv.Atoi(f)
			if err != nil {
				t.Fatalf("shapes.txt line %d: %v", i, err)
			}
			shape = append(shape, d)
		}
		data, err := readF32(filepath.Join(dir, fmt.Sprintf("w%02d.f32", i)))
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, model.Tensor{Shape: shape, Data: data})
	}
	if err := n.SetWeights(ws); err != nil {
		t.Fatal(err)
	}
}

func runPy(t *testing.T, py, kind, path string, pix []uint8, n int, relu bool) (string, []float64) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "images.u8"), pix, 0o644); err != nil {
		t.Fatal(err)
	}
	a := "linear"
	if relu {
		a = "relu"
	}
	cmd := exec.Command(py, "-c", pyForward, kind, path, dir, strconv.Itoa(n), a)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("numpy forward of %s: %v\n%s", path, err, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "out.f64"))
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float64, len(b)/8)
	for i := range want {
		want[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
	}
	return dir, want
}

// checkPublished compares the Go float32 prediction with numpy's float64 evaluation (1e-5 of the
// prediction's spread over the images) and Go's own float64 reference with numpy's (1e-9
// relative). numpy's evaluation is computed afresh on this machine, and its last bits depend on
// the CPU (numpy's and BLAS's SIMD paths for the sums and matrix products); the float64 outputs
// differed from Go's by at most 3.3e-15 relative when measured, so 1e-9 leaves some five orders
// of magnitude for another CPU's rounding while any real error in the network (a wrong weight,
// a misplaced pixel) changes outputs by far more.
func checkPublished(t *testing.T, mn *model.Network, pix []uint8, n int, want []float64) {
	t.Helper()
	net, err := Compile(mn)
	if err != nil {
		t.Fatal(err)
	}
	got, err := net.Predict(pix, n)
	if err != nil {
		t.Fatal(err)
	}
	compareStd(t, mn.Name+" float32 vs numpy float64", got, want, n, 1e-5)
	x := make([]float32, len(pix))
	if err := Recenter(pix, x); err != nil {
		t.Fatal(err)
	}
	const nref = 2 // the float64 cross-check needs few images (and takes a while)
	ref, _, err := ForwardFloat64(mn, x[:nref*net.InputShape().Size()], nref, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ref {
		if d := math.Abs(ref[i] - want[i]); d > 1e-9*(1+math.Abs(want[i])) {
			t.Fatalf("%s: Go float64 reference output %d = %v, numpy %v", mn.Name, i, ref[i], want[i])
		}
	}
}

func TestPublishedCompactModels(t *testing.T) {
	for _, stem := range []string{"compact_model_190923_neuron0", "compact_model_201025_neuron10"} {
		t.Run(stem, func(t *testing.T) {
			path := datadirtest.File(t, "data_compact_models/model_weights_npy/"+stem+".npy")
			py := pyref.Need(t, "numpy")
			const n = 8
			pix, _ := randomImages(42, n, model.Shape{H: 112, W: 112, C: 3})
			dir, want := runPy(t, py, "compact", path, pix, n, true)
			var f [model.NumLayers]int
			shapes, _ := os.ReadFile(filepath.Join(dir, "shapes.txt"))
			lines := strings.Split(strings.TrimSpace(string(shapes)), "\n")
			for l, idx := range []int{0, 7, 14, 21, 28} { // kernels whose last axis is F_l (reference/upstream.md §4.3)
				dims := strings.Split(lines[idx], ",")
				f[l], _ = strconv.Atoi(dims[len(dims)-1])
			}
			mn, err := model.NewCompact(f)
			if err != nil {
				t.Fatal(err)
			}
			mn.Name = stem
			loadPyWeights(t, dir, mn)
			checkPublished(t, mn, pix, n, want)
		})
	}
}

func TestPublishedSharedModels(t *testing.T) {
	for _, tc := range []struct {
		teacher string
		relu    bool
	}{{"from_ensemble_model", true}, {"linear_from_ensemble_model", false}} {
		t.Run(tc.teacher, func(t *testing.T) {
			path := datadirtest.File(t, "data_shared_compact_models/"+tc.teacher+"/shared_compact_model_5filters.keras")
			py := pyref.Need(t, "numpy", "h5py")
			const n = 8
			pix, _ := randomImages(43, n, model.Shape{H: 112, W: 112, C: 3})
			dir, want := runPy(t, py, "shared", path, pix, n, tc.relu)
			mn, err := model.NewShared(5, 219, tc.relu)
			if err != nil {
				t.Fatal(err)
			}
			mn.Name = tc.teacher + "/K5"
			loadPyWeights(t, dir, mn)
			checkPublished(t, mn, pix, n, want)
		})
	}
}
