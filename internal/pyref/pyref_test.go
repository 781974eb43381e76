package pyref

import (
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// ulps moves x by n units in the last place, as another CPU's numpy might.
func ulps(x float64, n int64) float64 {
	return math.Float64frombits(uint64(int64(math.Float64bits(x)) + n))
}

func f(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// doc is a small reference in the shape of the ones the generators write.
func doc(y0, y1, w0, resp float64, step int, version string) []byte {
	return []byte(`{"numpy":"` + version + `","cases":[{"h":2,"sigma":1.0,"x":[-41.18772680459389,3.5],` +
		`"y":[` + f(y0) + `,` + f(y1) + `],"weights":[` + f(w0) + `,0.25],` +
		`"response":` + f(resp) + `,"best_step":` + strconv.Itoa(step) + `,"ok":true,"note":null}]}` + "\n")
}

func TestCompareJSON(t *testing.T) {
	const (
		y0   = 0.0006473379367597509 // a filtered value near zero: cancellation
		y1   = 102.27592399411311
		w0   = 0.05399112742070441
		resp = 17279.828125 // a float32 response
	)
	f32up := float64(math.Nextafter32(resp, math.MaxFloat32))
	tol := Tolerances{
		Default: Tol{Rel: 4 * 0x1p-52},
		Keys: map[string]Tol{
			"y":        {Abs: 1e-12},
			"weights":  {Rel: 1e-14},
			"response": {Rel: Float32ULP},
		},
		Ignore: []string{"numpy"},
	}
	committed := doc(y0, y1, w0, resp, 100, "1.24.2")
	for _, c := range []struct {
		name        string
		regenerated []byte
		want        string // "" for within tolerance, else a piece of the error
	}{
		{"identical", committed, ""},
		{"same values, other formatting", []byte(strings.ReplaceAll(string(committed), ",", ", ")), ""},
		// What another CPU's numpy gives: a few ulps in the weights, thousands of ulps (but
		// 1e-15 absolute) in a value near zero, one float32 ulp in a response.
		{"another CPU", doc(ulps(y0, 8192), ulps(y1, -3), ulps(w0, 2), f32up, 100, "1.24.2"), ""},
		{"another numpy version, same values", doc(y0, y1, w0, resp, 100, "1.26.4"), ""},
		{"real change 1e-6 relative", doc(y0, y1*(1+1e-6), w0, resp, 100, "1.24.2"), ".cases[0].y[1]"},
		{"real change in a weight", doc(y0, y1, w0*(1+1e-6), resp, 100, "1.24.2"), ".cases[0].weights[0]"},
		{"real change near zero", doc(y0*(1+1e-6), y1, w0, resp, 100, "1.24.2"), ".cases[0].y[0]"},
		{"two float32 ulps", doc(y0, y1, w0, float64(math.Nextafter32(float32(f32up), math.MaxFloat32)), 100, "1.24.2"), ".cases[0].response"},
		{"integer", doc(y0, y1, w0, resp, 101, "1.24.2"), "committed integer 100, regenerated 101"},
		{"default tolerance", []byte(strings.Replace(string(committed), "3.5", "3.5000000001", 1)), ".cases[0].x[1]"},
		{"string", []byte(strings.Replace(string(committed), `"numpy"`, `"scipy"`, 1)), "only in"},
		{"boolean", []byte(strings.Replace(string(committed), "true", "false", 1)), ".cases[0].ok"},
		{"length", []byte(strings.Replace(string(committed), ",0.25]", ",0.25,0.5]", 1)), "committed 2 elements, regenerated 3"},
		{"type", []byte(strings.Replace(string(committed), `"h":2`, `"h":"2"`, 1)), "committed a number, regenerated a string"},
		{"not JSON", []byte(`{"y":[NaN]}`), "regenerated reference"},
		{"trailing data", append(append([]byte{}, committed...), "{}"...), "data after"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sum, err := CompareJSON(committed, c.regenerated, tol)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v", err)
			case c.want != "" && err == nil:
				t.Errorf("no error (%s)", sum)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("error %v, want one mentioning %q", err, c.want)
			}
		})
	}
	sum, err := CompareJSON(committed, doc(ulps(y0, 8192), y1, w0, resp, 100, "1.26.4"), tol)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"10 numbers", "1 not identical", ".numpy committed 1.24.2, regenerated 1.26.4"} {
		if !strings.Contains(sum, s) {
			t.Errorf("summary %q does not mention %q", sum, s)
		}
	}
}

func TestCompareJSONListsFew(t *testing.T) {
	var want, got strings.Builder
	want.WriteString("[")
	got.WriteString("[")
	for i := range 100 {
		if i > 0 {
			want.WriteString(",")
			got.WriteString(",")
		}
		want.WriteString(f(float64(i) + 0.5))
		got.WriteString(f(float64(i) + 0.75))
	}
	want.WriteString("]")
	got.WriteString("]")
	_, err := CompareJSON([]byte(want.String()), []byte(got.String()), Tolerances{})
	if err == nil || !strings.Contains(err.Error(), "100 differences beyond tolerance") || strings.Count(err.Error(), "\n  ") != maxListed {
		t.Errorf("error %v, want 100 differences of which %d listed", err, maxListed)
	}
}

func TestTol(t *testing.T) {
	for _, c := range []struct {
		tol       Tol
		want, got float64
		ok        bool
	}{
		{Tol{}, 1, 1, true},
		{Tol{}, 1, ulps(1, 1), false},
		{Tol{}, math.NaN(), math.NaN(), true},
		{Tol{Rel: 1}, math.NaN(), 1, false},
		{Tol{Rel: 1, Abs: 1}, math.Inf(1), math.MaxFloat64, false},
		{Tol{Rel: 1}, math.Inf(1), math.Inf(1), true},
		{Tol{Rel: 4 * 0x1p-52}, 1.5, ulps(1.5, 4), true},
		{Tol{Rel: 4 * 0x1p-52}, 1.5, ulps(1.5, 7), false},
		{Tol{Abs: 1e-12}, 1e-15, -1e-15, true},
		{Tol{Abs: 1e-12}, 1e-12, 3e-12, false},
		// One float32 ulp anywhere in a binade, and across a power of two; not two.
		{Tol{Rel: Float32ULP}, 1.5, float64(math.Nextafter32(1.5, 2)), true},
		{Tol{Rel: Float32ULP}, 1, float64(math.Nextafter32(1, 0)), true},
		{Tol{Rel: Float32ULP}, 1.5, float64(math.Nextafter32(math.Nextafter32(1.5, 2), 2)), false},
	} {
		if got := c.tol.within(c.want, c.got); got != c.ok {
			t.Errorf("%+v.within(%v, %v) = %v", c.tol, c.want, c.got, got)
		}
	}
}

func TestCompareFloats(t *testing.T) {
	a := []float64{1, 2.5, -3}
	if _, err := CompareFloats("v", a, []float64{1, ulps(2.5, 1), -3}, Tol{Rel: 0x1p-50}); err != nil {
		t.Error(err)
	}
	if _, err := CompareFloats("v", a, []float64{1, 2.5 * (1 + 1e-6), -3}, Tol{Rel: 0x1p-50}); err == nil || !strings.Contains(err.Error(), "v[1]") {
		t.Errorf("error %v, want one about v[1]", err)
	}
	if _, err := CompareFloats("v", a, a[:2], Tol{}); err == nil || !strings.Contains(err.Error(), "3 values committed, 2 regenerated") {
		t.Errorf("error %v, want one about the lengths", err)
	}
}

func TestFind(t *testing.T) {
	t.Run("hidden", func(t *testing.T) {
		t.Setenv(envVar, "/nonexistent/python3")
		if interpreter() != "/nonexistent/python3" {
			t.Fatalf("interpreter() = %s", interpreter())
		}
		if _, err := Find("numpy"); err == nil || !strings.Contains(err.Error(), envVar) {
			t.Errorf("error %v, want one naming $%s", err, envVar)
		}
		skipped := false
		t.Run("need", func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			Need(t, "numpy")
			t.Error("Need did not skip")
		})
		if !skipped {
			t.Error("Need did not skip")
		}
	})
	t.Run("missing module", func(t *testing.T) {
		py := interpreter()
		if err := exec.Command(py, "-c", "pass").Run(); err != nil {
			t.Skipf("%s does not run: %v", py, err)
		}
		if _, err := Find("pyref_no_such_module"); err == nil || !strings.Contains(err.Error(), "pyref_no_such_module") {
			t.Errorf("error %v, want one naming the module", err)
		}
		if got, err := Find(); err != nil || got != py {
			t.Errorf("Find() = %q, %v", got, err)
		}
	})
}

// TestDispatches checks that the baseline setting does change numpy's code paths: numpy reports
// no dispatched feature as available under it.
func TestDispatches(t *testing.T) {
	py := Need(t, "numpy")
	ds, err := Dispatches(py)
	if err != nil {
		t.Fatal(err)
	}
	if ds[len(ds)-1].Name != "native" || len(ds[len(ds)-1].Env) != 0 {
		t.Fatalf("last setting %+v, want native", ds[len(ds)-1])
	}
	if len(ds) == 1 {
		t.Skip("numpy has no run-time dispatch")
	}
	const script = dispatchScript + `
try:
    from numpy._core._multiarray_umath import __cpu_features__
except ImportError:
    from numpy.core._multiarray_umath import __cpu_features__
print("in use:", " ".join(f for f in __cpu_dispatch__ if __cpu_features__[f]))
`
	out, err := Command(py, ds[0], "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	_, inUse, ok := strings.Cut(string(out), "in use:")
	if s := strings.TrimSpace(inUse); !ok || s != "" {
		t.Errorf("under %s numpy still uses %s", ds[0].Name, s)
	}
	t.Logf("%s: %v", ds[0].Name, ds[0].Env)
}

// TestCheckGenerator runs a generator that writes a number one ulp away from the committed
// one (within tolerance), then rewrites the committed file with -update.
func TestCheckGenerator(t *testing.T) {
	Need(t)
	t.Chdir(t.TempDir())
	if err := os.Mkdir("testdata", 0o755); err != nil {
		t.Fatal(err)
	}
	const gen = `import os, sys
open(os.path.join(sys.argv[1], "ref.json"), "w").write('{"v": %s, "n": 3}\n' % os.environ["PYREF_V"])
`
	if err := os.WriteFile(filepath.Join("testdata", "gen.py"), []byte(gen), 0o644); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("testdata", "ref.json")
	if err := os.WriteFile(committed, []byte(`{"v": 1.5, "n": 3}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tol := map[string]Tolerances{"ref.json": {Default: Tol{Rel: 4 * 0x1p-52}}}
	t.Setenv("PYREF_V", f(ulps(1.5, 1)))
	CheckGenerator(t, filepath.Join("testdata", "gen.py"), nil, tol, false)

	t.Setenv("PYREF_V", "2.5")
	CheckGenerator(t, filepath.Join("testdata", "gen.py"), nil, tol, true)
	b, err := os.ReadFile(committed)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"v": 2.5, "n": 3}`+"\n" {
		t.Errorf("after update the committed file is %q", b)
	}
}
