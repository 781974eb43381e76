package nn

import (
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/keras"
	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite the PyTorch references under testdata (graph_*.h5, graph_torch.json) with testdata/gen_graph_torch.py (needs Python with numpy, torch and h5py: /usr/bin/python3 or $V4PYTHON)")

// graphTorchModules are what testdata/gen_graph_torch.py imports.
var graphTorchModules = []string{"numpy", "torch", "h5py"}

// graphTorchRef is what testdata/gen_graph_torch.py writes.
type graphTorchRef struct {
	Torch string `json:"torch"`
	Nets  map[string]struct {
		Batch  int       `json:"batch"`
		Input  []float32 `json:"input"`
		Output []float64 `json:"output"`
	} `json:"nets"`
}

// TestGraphMatchesTorch checks CompileGraph and ForwardFloat64 against an independent evaluation
// in PyTorch (float64, Keras semantics written out in testdata/gen_graph_torch.py) of the test
// graphs, with the generator's seeded weights read from its Keras 2 weights files: the float32
// engine within 1e-4 of each output's standard deviation over the batch (measured: 2.2e-5 for an
// output of the residual stem that varies little over the 3 images, about 1e-6 otherwise), the
// float64 reference within 1e-9 relative (it agrees to rounding).
func TestGraphMatchesTorch(t *testing.T) {
	var ref graphTorchRef
	pyref.ReadReference(t, "gen_graph_torch.py", graphTorchModules, *update, "graph_torch.json", &ref)
	if len(ref.Nets) != len(graphNets()) {
		t.Fatalf("graph_torch.json has %d networks, want %d", len(ref.Nets), len(graphNets()))
	}
	for _, tc := range graphNets() {
		t.Run(tc.name, func(t *testing.T) {
			r, ok := ref.Nets[tc.name]
			if !ok {
				t.Fatalf("graph_torch.json has no network %q", tc.name)
			}
			mn, _ := tc.build()
			f, err := os.Open(filepath.Join("testdata", "graph_"+tc.name+".h5"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			st, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if err := keras.ReadLegacyWeights(mn, f, st.Size()); err != nil {
				t.Fatal(err)
			}
			g, err := CompileGraph(mn)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]float32, r.Batch*g.Outputs())
			if err := g.Forward(r.Input, r.Batch, got); err != nil {
				t.Fatal(err)
			}
			compareStd(t, "float32 engine", got, r.Output, r.Batch, 1e-4)
			want64, _, err := ForwardFloat64(mn, r.Input, r.Batch, false)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for i := range want64 {
				worst = max(worst, math.Abs(want64[i]-r.Output[i])/(1+math.Abs(r.Output[i])))
			}
			if worst > 1e-9 {
				t.Errorf("ForwardFloat64 differs from PyTorch by %.3g (relative)", worst)
			}
		})
	}
}

// TestGraphTorchGenerator reruns testdata/gen_graph_torch.py (when Python has numpy, torch and
// h5py) and compares what it writes with the committed reference: float64 PyTorch on another
// machine differs in the last bits only.
func TestGraphTorchGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_graph_torch.py"), graphTorchModules, map[string]pyref.Tolerances{
		"graph_torch.json": {Default: pyref.Tol{Rel: 1e-9, Abs: 1e-12}, Ignore: []string{"torch"}},
	}, false)
}
