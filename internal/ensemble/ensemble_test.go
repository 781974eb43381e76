package ensemble

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/model"
	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/member_narrow.keras and member.json with testdata/gen_member.py (needs Python with numpy, torch and h5py: /usr/bin/python3 or $V4PYTHON)")

var memberModules = []string{"numpy", "torch", "h5py"}

// memberRef is what testdata/gen_member.py writes.
type memberRef struct {
	Torch      string    `json:"torch"`
	Batch      int       `json:"batch"`
	Embeddings []float64 `json:"embeddings"`
	Output     []float64 `json:"output"`
}

// memberInputs are gen_member.py's inputs: (2·b − 255)/64 for the bytes b of
// gen_pil_resize.py's LCG with seed 21.
func memberInputs(n int) []float32 {
	x := make([]float32, n)
	s := uint64(21)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = (2*float32(uint8(s>>56)) - 255) / 64
	}
	return x
}

// TestMemberMatchesTorch reads a narrowed member written as a Keras 3 archive (config.json in
// Keras 3.1's schema, weights in its automatic groups) and compares its embeddings (layer4_add)
// and outputs with PyTorch's float64 evaluation: within 1e-4 of the standard deviation of the
// values (measured: about 1e-6).
func TestMemberMatchesTorch(t *testing.T) {
	var ref memberRef
	pyref.ReadReference(t, "gen_member.py", memberModules, *update, "member.json", &ref)
	_, g, err := ReadMember(filepath.Join("testdata", "member_narrow.keras"), narrowInput)
	if err != nil {
		t.Fatal(err)
	}
	x := memberInputs(ref.Batch * g.InputShape().Size())
	s, err := g.LayerShape(EmbeddingLayer)
	if err != nil {
		t.Fatal(err)
	}
	emb := make([]float32, ref.Batch*s.Size())
	out := make([]float32, ref.Batch*g.Outputs())
	if err := g.Activations(x, ref.Batch, []string{EmbeddingLayer}, [][]float32{emb}); err != nil {
		t.Fatal(err)
	}
	if err := g.Forward(x, ref.Batch, out); err != nil {
		t.Fatal(err)
	}
	compare(t, EmbeddingLayer, ref.Embeddings, emb, 1e-4)
	compare(t, "output", ref.Output, out, 1e-4)
}

func compare(t *testing.T, what string, want []float64, got []float32, tol float64) {
	t.Helper()
	pyref.CompareSD(t, what, want, got, 1, 1, tol)
}

// TestMemberGenerator reruns gen_member.py (when Python has numpy, torch and h5py) and compares
// its reference with the committed one.
func TestMemberGenerator(t *testing.T) {
	if testing.Short() {
		t.Skip("runs PyTorch")
	}
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_member.py"), memberModules, map[string]pyref.Tolerances{
		"member.json": {Default: pyref.Tol{Rel: 1e-9, Abs: 1e-12}, Ignore: []string{"torch"}},
	}, false)
}

// narrowInput is the input of gen_member.py's narrowed member.
var narrowInput = model.Shape{H: 14, W: 14, C: 16}

func TestReadMemberRejects(t *testing.T) {
	tests := []struct {
		file string
		in   model.Shape
		want string
	}{
		{"absent.keras", narrowInput, "absent.keras"},
		{"member.json", narrowInput, "member.json"},
		{"member_narrow.keras", MemberInput, "member_narrow.keras takes input (14,14,16), want (14,14,1024)"},
	}
	for _, tc := range tests {
		if _, _, err := ReadMember(filepath.Join("testdata", tc.file), tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.file, err, tc.want)
		}
	}
}
