package torchpt

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readFixture reads a checkpoint of testdata/, written by real PyTorch (testdata/gen_fixtures.py).
func readFixture(t *testing.T, name string) (StateDict, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return ReadStateDict(f, st.Size())
}

// TestTorchFixtures reads checkpoints that torch.save wrote (pickle protocols 2 and 4, views with
// offsets and permuted strides, three dtypes) and compares them with the values PyTorch printed.
func TestTorchFixtures(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var expected map[string]struct {
		Shape  []int     `json:"shape"`
		Dtype  string    `json:"dtype"`
		Values []float64 `json:"values"`
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"views.pt", "views_proto4.pt"} {
		sd, err := readFixture(t, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := strings.Join(sd.Keys, ","); got != "a,a_t,a_col,a_tail,d_perm,l,scalar,empty,n" {
			t.Errorf("%s: keys %s", name, got)
		}
		for key, want := range expected {
			tt := sd.Tensors[key]
			if tt == nil {
				t.Fatalf("%s: no %s", name, key)
			}
			vals := make([]float64, 0, len(tt.Float)+len(tt.Int))
			vals = append(vals, tt.Float...)
			for _, v := range tt.Int {
				vals = append(vals, float64(v))
			}
			if fmt.Sprint(tt.Shape) != fmt.Sprint(want.Shape) || tt.Dtype.String() != want.Dtype || fmt.Sprint(vals) != fmt.Sprint(want.Values) {
				t.Errorf("%s %s: got %v %s %v, want %v %s %v", name, key, tt.Shape, tt.Dtype, vals, want.Shape, want.Dtype, want.Values)
			}
		}
	}
	for name, want := range map[string]string{
		"expand.pt":    "more elements than storage",
		"parameter.pt": "global torch._utils._rebuild_parameter is not allowed",
		"module.pt":    "is not allowed",
	} {
		if _, err := readFixture(t, name); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", name, err, want)
		}
	}
}
