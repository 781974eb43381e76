package stimuli

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/npy"
	"compactv4/internal/synth"
	"compactv4/internal/v4data"
)

func TestPlan(t *testing.T) {
	q, err := planFor(harness.Quick)
	if err != nil {
		t.Fatal(err)
	}
	var got []int
	for _, id := range q.Models {
		if id.Session != v4data.QuickSession.ID {
			t.Fatalf("quick selected %v", id)
		}
		got = append(got, id.Neuron)
	}
	if want := []int{0, 4, 8, 12, 16, 20, 24, 28}; !reflect.DeepEqual(got, want) {
		t.Errorf("quick neurons %v, want %v", got, want)
	}
	f, err := planFor(harness.Full)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Models) != 219 || q.Synthesis != synth.DefaultParams() || f.Synthesis != synth.DefaultParams() {
		t.Errorf("full plan: %d models, %+v", len(f.Models), f.Synthesis)
	}
	// The full plan is every published model, in the data's order.
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	ids, err := v4data.CompactIDs(store)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids, f.Models) {
		t.Error("the full plan's models differ from the published ones")
	}
}

func stim(session string, neuron int, resp float64) *stimulus {
	return &stimulus{ID: v4data.CompactID{Session: session, Neuron: neuron}, Synth: &synth.Synth{Response: resp, BestStep: 3}, Ratio: math.NaN()}
}

func TestSetNaturalAndSummary(t *testing.T) {
	a := stim("190923", 0, 6)
	if err := setNatural(a, []float32{1, 3, -2, 2}); err != nil {
		t.Fatal(err)
	}
	if a.NatMax != 3 || a.NatArgmax != 1 || a.NatMedian != 1.5 || a.Ratio != 2 || !a.Exceeds {
		t.Errorf("got max %v at %d, median %v, ratio %v, exceeds %v", a.NatMax, a.NatArgmax, a.NatMedian, a.Ratio, a.Exceeds)
	}
	b := stim("190923", 1, -1) // largest natural response ≤ 0: no ratio, still compared
	if err := setNatural(b, []float32{-3, -2}); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(b.Ratio) || !b.Exceeds {
		t.Errorf("non-positive maximum: ratio %v, exceeds %v", b.Ratio, b.Exceeds)
	}
	c := stim("190923", 2, 1)
	if err := setNatural(c, []float32{0.5, 4}); err != nil {
		t.Fatal(err)
	}
	d := stim("211022", 0, 5) // no natural images
	d.Synth.BestStep = -1
	if err := setNatural(stim("x", 0, 1), []float32{1, float32(math.NaN())}); err == nil {
		t.Error("NaN natural response accepted")
	}
	if err := setNatural(stim("x", 0, 1), nil); err == nil {
		t.Error("empty natural responses accepted")
	}
	s := summarize([]*stimulus{a, b, c, d})
	want := summary{Models: 4, WithNatural: 3, Exceed: 2, Improved: 3, Ratios: 2, MedianRatio: 1.125, MinRatio: 0.25, MaxRatio: 2}
	if s != want {
		t.Errorf("summary %+v, want %+v", s, want)
	}
	if got := figureModels([]*stimulus{a, b, c, d}); !reflect.DeepEqual(got, []int{0, 1, 2, 3}) {
		t.Errorf("figure models %v", got)
	}
}

func TestFigureModelsFull(t *testing.T) {
	var stims []*stimulus
	for _, ts := range v4data.TestSessions {
		for n := 0; n < ts.Neurons; n++ {
			stims = append(stims, stim(ts.ID, n, 1))
		}
	}
	idx := figureModels(stims)
	if len(idx) != 32 {
		t.Fatalf("%d figure models, want 8 per session", len(idx))
	}
	if s := stims[idx[0]]; s.ID.Session != "190923" || s.ID.Neuron != 0 {
		t.Errorf("first figure model %v", s.ID)
	}
	if s := stims[idx[8]]; s.ID.Session != "201025" || s.ID.Neuron != 0 {
		t.Errorf("ninth figure model %v", s.ID)
	}
}

// TestRunSmall runs the experiment's pipeline on two published models with a short
// optimisation: one of session 190923 (natural images present) and one of 211022 (images
// missing from the local data copy: not runnable, but synthesised), and checks the outputs:
// the PNG holds the truncated image, the arrays their shapes, the ratio its definition, and
// a second run writes the same bytes.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("evaluates 1200 natural images")
	}
	dir := datadirtest.Dir(t)
	store, err := v4data.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	p := plan{Synthesis: synth.DefaultParams(), Models: []v4data.CompactID{{Session: "190923", Neuron: 12}, {Session: "211022", Neuron: 0}}}
	p.Synthesis.Steps = 12
	runOnce := func(out string) *harness.Result {
		env := &harness.Env{Profile: harness.Quick, Data: store, Out: out, Log: io.Discard}
		res, err := run(context.Background(), env, p)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	out1, out2 := t.TempDir(), t.TempDir()
	res := runOnce(out1)
	runOnce(out2)
	sameFiles(t, out1, out2)

	missing211022 := !store.Has(v4data.ImagesPath("211022"))
	if missing211022 {
		if len(res.NotRunnable) != 1 || res.NotRunnable[0].Path != v4data.ImagesPath("211022") {
			t.Errorf("not runnable %+v, want the images of 211022", res.NotRunnable)
		}
	}
	v, ok := res.Values.Get("190923/n12/ratio")
	if !ok {
		t.Fatal("no ratio for 190923 n12")
	}
	rs, _ := res.Values.Get("190923/n12/response_synth")
	nm, _ := res.Values.Get("190923/n12/natural_max")
	if math.Abs(v.Num-rs.Num/nm.Num) > 1e-12 || nm.Num <= 0 {
		t.Errorf("ratio %v, response %v / natural max %v", v.Num, rs.Num, nm.Num)
	}
	if _, ok := res.Values.Get("211022/n0/ratio"); ok == missing211022 {
		t.Errorf("211022 n0 has a ratio: %v, its images are missing: %v", ok, missing211022)
	}

	shape, imgs, err := readNPY(filepath.Join(out1, "images.npy"))
	if err != nil || !reflect.DeepEqual(shape, []int{2, 112, 112, 3}) {
		t.Fatalf("images.npy: shape %v, %v", shape, err)
	}
	b, err := os.ReadFile(filepath.Join(out1, "images", "compact_model_190923_neuron12.png"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	for _, xy := range [][2]int{{0, 0}, {57, 31}, {111, 111}} {
		r, g, bl, _ := im.At(xy[0], xy[1]).RGBA()
		i := (xy[1]*112 + xy[0]) * 3
		for c, v := range []uint32{r >> 8, g >> 8, bl >> 8} {
			if want := uint32(imgs[i+c]); v != want { // truncation, as astype('uint8')
				t.Errorf("PNG pixel (%d,%d) channel %d = %d, images.npy %v", xy[0], xy[1], c, v, imgs[i+c])
			}
		}
	}
	shape, _, err = readNPY(filepath.Join(out1, "traces.npy"))
	if err != nil || !reflect.DeepEqual(shape, []int{2, 12}) {
		t.Errorf("traces.npy: shape %v, %v", shape, err)
	}
	shape, _, err = readNPY(filepath.Join(out1, "natural_responses_190923.npy"))
	if err != nil || !reflect.DeepEqual(shape, []int{1, 1200}) {
		t.Errorf("natural_responses_190923.npy: shape %v, %v", shape, err)
	}
	csv, err := os.ReadFile(filepath.Join(out1, "stimuli.csv"))
	if err != nil || strings.Count(string(csv), "\n") != 3 {
		t.Errorf("stimuli.csv: %v\n%s", err, csv)
	}
	for _, f := range res.Figures {
		if _, err := os.Stat(filepath.Join(out1, f+".png")); err != nil {
			t.Error(err)
		}
	}
}

func readNPY(path string) ([]int, []float32, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return npy.ReadFloat32(f)
}

// sameFiles fails unless two directory trees hold the same files with the same bytes.
func sameFiles(t *testing.T, a, b string) {
	t.Helper()
	read := func(root string) map[string][]byte {
		m := map[string][]byte{}
		err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			m[rel], err = os.ReadFile(p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	ma, mb := read(a), read(b)
	if len(ma) != len(mb) {
		t.Errorf("%d files, then %d", len(ma), len(mb))
	}
	for k, v := range ma {
		if !bytes.Equal(v, mb[k]) {
			t.Errorf("%s differs between two runs", k)
		}
	}
}

func TestExceedTolerance(t *testing.T) {
	mk := func(resp, natMax float64) *stimulus {
		s := stim("190923", 0, resp)
		if err := setNatural(s, []float32{float32(natMax), 0}); err != nil {
			t.Fatal(err)
		}
		return s
	}
	stims := []*stimulus{
		mk(10, 2),             // far above
		mk(10, 7.5),           // within 30 % of 10: marginal
		mk(10, 13),            // within 30 %, below: marginal
		mk(10, 14),            // 40 % away
		stim("211022", 0, 10), // no natural responses
	}
	if got := exceedTolerance(stims); got != 2 {
		t.Errorf("tolerance %d, want 2", got)
	}
}
