package npy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"compactv4/internal/pyref"
)

// compatScript checks the Go-written files against np.save and writes files in every layout
// NumPy can produce, with their expected contents in expected.json.
const compatScript = `
import json, sys, os
import numpy as np
d = sys.argv[1]
cases = json.loads(sys.argv[2])
# 1. Every Go-written file loads to the expected values and equals np.save's bytes.
for c in cases:
    dt = np.float32 if c["f32"] else np.float64
    n = int(np.prod(c["shape"]))
    want = (np.arange(n, dtype=np.float64) * 0.37 - 5).astype(dt).reshape(c["shape"])
    path = os.path.join(d, c["name"] + ".npy")
    got = np.load(path)
    assert got.dtype == dt and got.shape == tuple(c["shape"]), (c, got.dtype, got.shape)
    assert np.array_equal(got, want), c["name"]
    ref = os.path.join(d, c["name"] + ".ref.npy")
    np.save(ref, want)
    assert open(ref, "rb").read() == open(path, "rb").read(), "bytes differ from np.save: " + c["name"]

# 2. Files in every layout, for the Go reader.
expected = {}
def values(a):
    return [float(x) for x in np.ascontiguousarray(a).ravel()]
def plain(name, a, version=None):
    path = os.path.join(d, name + ".npy")
    if version is None:
        np.save(path, a)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, a, version=version)
    expected[name] = {"shape": list(a.shape), "dtype": a.dtype.str, "values": values(a)}
base = np.arange(24, dtype=np.float64).reshape(2, 3, 4) * 1.5 - 7
plain("f8_c", base)
plain("f8_big", base.astype(">f8"))
plain("f8_fortran", np.asfortranarray(base))
plain("f4_big_fortran", np.asfortranarray(base.astype(">f4")))
plain("f8_v2", base, (2, 0))
plain("f8_v3", base, (3, 0))
plain("i8", np.arange(-5, 5, dtype=np.int64).reshape(2, 5))
plain("i2_big", np.arange(-5, 5, dtype=">i2"))
plain("u1", np.arange(250, 256, dtype=np.uint8))
plain("bool", np.array([True, False, True]))
plain("scalar", np.array(3.25))
plain("empty", np.zeros((0, 3)))

def objects(name, elems, shape=None):
    o = np.empty(len(elems), dtype=object)
    for i, e in enumerate(elems):
        o[i] = e
    if shape is not None:
        o = o.reshape(shape)
    np.save(os.path.join(d, name + ".npy"), o, allow_pickle=True)
    expected[name] = [{"shape": list(e.shape), "dtype": e.dtype.str, "values": values(e)}
                      for e in o.ravel()]
r = np.random.default_rng(7)
objects("obj_mixed", [r.standard_normal((5, 5, 3, 4)).astype(np.float32),
                      np.asfortranarray(r.standard_normal((3, 4)).astype(np.float32)),
                      r.standard_normal(3).astype(">f4"),
                      r.standard_normal(2),
                      np.arange(-3, 3, dtype=np.int64),
                      np.array(2.5, dtype=np.float32),
                      np.zeros((0, 2), dtype=np.float32)])
objects("obj_2x2", [np.full(2, i, dtype=np.float32) for i in range(4)], (2, 2))
objects("obj_small", [np.array([1, 2], dtype=np.float32), np.array([3], dtype=np.float32)])
json.dump(expected, open(os.path.join(d, "expected.json"), "w"))
`

type expectedArray struct {
	Shape  []int     `json:"shape"`
	Dtype  string    `json:"dtype"`
	Values []float64 `json:"values"`
}

// TestNumPyCompatibility runs NumPy (when installed) to check that the writer's files are
// np.save's bytes and load to the written values, and that the readers read every layout NumPy
// writes, including pickled object arrays, to NumPy's values.
//
// The comparisons are exact, and rightly so: no reference is regenerated and compared with a
// committed one. NumPy writes the files in this run and reports the values it stored (JSON
// carries a float64 exactly: Python writes the shortest repr that round-trips, Go parses it
// correctly rounded), and a reader must return those values bit for bit, whatever the CPU.
func TestNumPyCompatibility(t *testing.T) {
	py := pyref.Need(t, "numpy")
	dir := t.TempDir()
	type jsonCase struct {
		Name  string `json:"name"`
		Shape []int  `json:"shape"`
		F32   bool   `json:"f32"`
	}
	var cases []jsonCase
	for _, c := range writeCases {
		if err := os.WriteFile(filepath.Join(dir, c.name+".npy"), c.write(t), 0o644); err != nil {
			t.Fatal(err)
		}
		cases = append(cases, jsonCase{c.name, append([]int{}, c.shape...), c.f32})
	}
	js, _ := json.Marshal(cases)
	out, err := exec.Command(py, "-c", compatScript, dir, string(js)).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy script: %v\n%s", err, out)
	}
	var expected map[string]json.RawMessage
	b, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &expected); err != nil {
		t.Fatal(err)
	}
	for name, raw := range expected {
		f, err := os.ReadFile(filepath.Join(dir, name+".npy"))
		if err != nil {
			t.Fatal(err)
		}
		var want []expectedArray
		var got []*Array
		if json.Unmarshal(raw, &want) == nil {
			got, err = ReadObjectArray(bytes.NewReader(f))
		} else {
			var one expectedArray
			if err := json.Unmarshal(raw, &one); err != nil {
				t.Fatal(err)
			}
			want = []expectedArray{one}
			var a *Array
			a, err = Read(bytes.NewReader(f))
			got = []*Array{a}
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d arrays, want %d", name, len(got), len(want))
			continue
		}
		for i, w := range want {
			if err := sameArray(got[i], w); err != nil {
				t.Errorf("%s[%d]: %v", name, i, err)
			}
		}
	}
}

func sameArray(a *Array, w expectedArray) error {
	if fmt.Sprint(a.Shape) != fmt.Sprint(w.Shape) {
		return fmt.Errorf("shape %v, want %v", a.Shape, w.Shape)
	}
	if a.Dtype.String() != w.Dtype {
		return fmt.Errorf("dtype %v, want %v", a.Dtype, w.Dtype)
	}
	if a.Size() != len(w.Values) {
		return fmt.Errorf("%d values, want %d", a.Size(), len(w.Values))
	}
	for k, v := range w.Values {
		got := 0.0
		if a.Float64 != nil {
			got = a.Float64[k]
		} else {
			got = float64(a.Int64[k])
		}
		if got != v && !(math.IsNaN(got) && math.IsNaN(v)) {
			return fmt.Errorf("value %d = %v, want %v", k, got, v)
		}
	}
	return nil
}
