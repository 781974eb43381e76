package prune

import (
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/pyref"
)

var update = flag.Bool("update", false, "rewrite testdata/step1.json with testdata/gen_step1.py (needs Python with numpy: /usr/bin/python3 or $V4PYTHON)")

// splitmix is the splitmix64 stream of testdata/gen_step1.py.
type splitmix struct{ state uint64 }

func (s *splitmix) next() uint64 {
	s.state += 0x9E3779B97F4A7C15
	z := s.state
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// uniform is float32(lo + (hi−lo)·u) with u the top 24 bits over 2^24, rounded as numpy rounds.
func (s *splitmix) uniform(lo, hi float64) float32 {
	u := float64(s.next()>>40) * 0x1p-24
	return float32(lo + float64((hi-lo)*u))
}

// numpyStudent draws the generator's student: every array in Keras get_weights() order, kernels
// U(±Glorot limit), biases U(±0.1), batchnorm γ U(0.5, 1.5), β and moving mean U(±0.5), moving
// variance U(0.5, 1.5).
func numpyStudent(t *testing.T, s *splitmix, filters [model.NumLayers]int) *model.Network {
	net, err := model.NewCompact(filters)
	if err != nil {
		t.Fatal(err)
	}
	for i := range net.Layers {
		l := &net.Layers[i]
		for j := range l.Weights {
			w := &l.Weights[j]
			lo, hi := -0.1, 0.1 // biases
			switch {
			case l.Class == model.BatchNormalization && (j == 0 || j == 3):
				lo, hi = 0.5, 1.5
			case l.Class == model.BatchNormalization:
				lo, hi = -0.5, 0.5
			case len(w.Shape) > 1:
				lim, err := nn.GlorotLimit(w.Shape)
				if err != nil {
					t.Fatal(err)
				}
				lo, hi = -lim, lim
			}
			for k := range w.Data {
				w.Data[k] = s.uniform(lo, hi)
			}
		}
	}
	return net
}

type numpyStep struct {
	Layer   int       `json:"layer"`
	Scores  []float64 `json:"scores"`
	FVFull  float64   `json:"fv_full"`
	Count   int       `json:"count"`
	Removed []int     `json:"removed"`
	Kept    []int     `json:"kept"`
	Tested  []Tested  `json:"tested"`
}

type numpyRef struct {
	Seed     uint64      `json:"seed"`
	Filters  []int       `json:"filters"`
	Images   int         `json:"images"`
	Teacher  []float64   `json:"teacher"`
	Upstream []numpyStep `json:"upstream"`
	Exact    []numpyStep `json:"exact"`
}

// TestNumpyReference checks testdata/step1.json against its generator (when Python has numpy):
// the regenerated decisions must be identical, the numbers equal to 1e-9. -update rewrites it.
func TestNumpyReference(t *testing.T) {
	if testing.Short() && !*update {
		t.Skip("-short: the generator takes about 20 s of CPU per run")
	}
	pyref.CheckGenerator(t, filepath.Join("testdata", "gen_step1.py"), []string{"numpy"},
		map[string]pyref.Tolerances{"step1.json": {Default: pyref.Tol{Rel: 1e-9, Abs: 1e-12}}}, *update)
}

// TestAgainstNumpyPort runs Step1 on the generator's seeded random [100]*5 student, its 16
// images and its teacher, and requires the decisions of testdata/gen_step1.py, an independent
// numpy port of upstream's PruningClass step 1, for the upstream rule and the exact one: the
// same removal order, kept filters, rule counts and tested counts, with the fractions of
// variance within 2e-5 and the scores within 1e-4 of the layer's largest (float32 activations
// here, float64 there).
func TestAgainstNumpyPort(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "step1.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref numpyRef
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	var filters [model.NumLayers]int
	copy(filters[:], ref.Filters)
	s := &splitmix{state: ref.Seed}
	net := numpyStudent(t, s, filters)
	pix := make([]uint8, ref.Images*model.ImageSize*model.ImageSize*3)
	for i := range pix {
		pix[i] = uint8(s.next() >> 56)
	}
	for _, mode := range []struct {
		exact bool
		want  []numpyStep
	}{{false, ref.Upstream}, {true, ref.Exact}} {
		res, err := Step1(net, pix, ref.Images, ref.Teacher, Options{Exact: mode.exact})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Steps) != len(mode.want) {
			t.Fatalf("exact %v: %d steps, want %d", mode.exact, len(res.Steps), len(mode.want))
		}
		for i, w := range mode.want {
			g := res.Steps[i]
			if g.Layer != w.Layer || g.Count != w.Count || !slices.Equal(g.Removed, w.Removed) || !slices.Equal(g.Kept, w.Kept) {
				t.Errorf("exact %v, layer %d: count %d, removed %v, kept %v; numpy: layer %d, count %d, removed %v, kept %v",
					mode.exact, g.Layer, g.Count, g.Removed, g.Kept, w.Layer, w.Count, w.Removed, w.Kept)
			}
			dfv := math.Abs(g.FVFull - w.FVFull)
			if len(g.Tested) != len(w.Tested) {
				t.Errorf("exact %v, layer %d: tested %v, numpy %v", mode.exact, g.Layer, g.Tested, w.Tested)
			} else {
				for k := range w.Tested {
					dfv = max(dfv, math.Abs(g.Tested[k].FV-w.Tested[k].FV))
					if g.Tested[k].Removed != w.Tested[k].Removed || math.Abs(g.Tested[k].FV-w.Tested[k].FV) > 2e-5 {
						t.Errorf("exact %v, layer %d, probe %d: %+v, numpy %+v", mode.exact, g.Layer, k, g.Tested[k], w.Tested[k])
					}
				}
			}
			if math.Abs(g.FVFull-w.FVFull) > 1e-5 {
				t.Errorf("exact %v, layer %d: fv_full %v, numpy %v", mode.exact, g.Layer, g.FVFull, w.FVFull)
			}
			top := 0.0
			for _, v := range w.Scores {
				top = max(top, v)
			}
			worst := 0.0
			for f := range w.Scores {
				worst = max(worst, math.Abs(g.Scores[f]-w.Scores[f])/top)
			}
			if worst > 1e-4 {
				t.Errorf("exact %v, layer %d: scores differ from numpy's by up to %.3g of the largest", mode.exact, g.Layer, worst)
			}
			t.Logf("exact %v, layer %d: %d of %d filters kept, %d probes, fractions of variance within %.2g, scores within %.2g of the largest", mode.exact, g.Layer, len(g.Kept), g.Filters, len(g.Tested), dfv, worst)
		}
	}
}
