package synth

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/synth.json with testdata/gen_reference.py (needs Python with numpy and scipy: /usr/bin/python3 or $V4PYTHON)")

// synthTol is how far synth.json may move when gen_reference.py runs on another CPU. numpy
// computes np.exp, and so scipy's Gaussian kernel, with its own AVX-512 code where the CPU has it
// and with glibc's exp elsewhere, one or two ulps apart; the smoothed gradient of each step then
// moves by a few ulps, and the 61 or 120 steps of the optimisation (a bounded ascent of a concave
// quadratic, with clipping) accumulate that in the image: measured at most 8.5e-14 on pixel values
// in [0, 255], i.e. 3 ulps of 255. Images are held to 1e-11 absolute (about 120 times that, yet a
// change of 1e-6 relative in any pixel above 1e-5 exceeds it). The responses are float32 (the
// model's output): a float64 sum rounded to float32, which a change in the last bits of the image
// can round the other way, so they get one float32 ulp (none differed when measured; a change of
// 1e-6 relative is 8 ulps or more). The best step is an integer and must be equal; the inputs
// (numpy's seeded generator) do not depend on the CPU: a few ulps. The Go code is still held to
// the committed file bit for bit (TestSynthReference); it was written with numpy's baseline code.
var synthTol = pyref.Tolerances{
	Default: pyref.Tol{Rel: 4 * 0x1p-52},
	Keys: map[string]pyref.Tol{
		"image":    {Abs: 1e-11},
		"initial":  {Rel: pyref.Float32ULP},
		"response": {Rel: pyref.Float32ULP},
		"trace":    {Rel: pyref.Float32ULP},
	},
	Ignore: []string{"numpy", "scipy"}, // the versions: reported when they differ
}

// TestReferenceScript regenerates the reference files with numpy and scipy (when they are
// installed), both with numpy's baseline code and with the SIMD code it picks for this CPU, and
// checks that the committed ones are what the committed script writes, within synthTol, so that
// the references in testdata/ cannot drift from their generator. With -update it rewrites them
// from the baseline run.
func TestReferenceScript(t *testing.T) {
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_reference.py"), []string{"numpy", "scipy.ndimage"},
		map[string]pyref.Tolerances{"synth.json": synthTol}, *update)
}

func readJSON(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}
