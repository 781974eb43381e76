package dots

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/fuzzbound"
	"compactv4/internal/imagezip"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// readmeLine211025 is session 211025's line of the data folder's readme, with its tabs.
const readmeLine211025 = "211025 \t\tRA \t    train \t  54\t \t16\t      2000\tnormal (233), maximizing (150), gaudy (233), artificial (1,384)"

func TestParseLayout(t *testing.T) {
	good := []struct {
		name, readme, session string
		want                  sessionLayout
	}{
		{"211025", "session ID | animal\n" + readmeLine211025 + "\n211026 RA train 56 13 2000 normal (660), gaudy (1,340)\n", "211025",
			sessionLayout{Session: "211025", Neurons: 54, Repeats: 16, Images: 2000, Groups: []imageGroup{
				{"normal", 0, 233}, {"maximizing", 233, 383}, {"gaudy", 383, 616}, {"artificial", 616, 2000}}}},
		{"comma in a name", "210322 PE train 59 4 1200 normal (600), Bashivan et al., 2019 (600)", "210322",
			sessionLayout{Session: "210322", Neurons: 59, Repeats: 4, Images: 1200, Groups: []imageGroup{
				{"normal", 0, 600}, {"Bashivan et al., 2019", 600, 1200}}}},
		{"two words", "210301 PE train 61 4 2000 maximizing (650), validation exps. (1,350)", "210301",
			sessionLayout{Session: "210301", Neurons: 61, Repeats: 4, Images: 2000, Groups: []imageGroup{
				{"maximizing", 0, 650}, {"validation exps.", 650, 2000}}}},
	}
	for _, c := range good {
		got, err := parseLayout([]byte(c.readme), c.session)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	bad := []struct{ name, readme, wantErr string }{
		{"no line", "211026 RA train 56 13 2000 normal (2,000)", "no line for session 211025"},
		{"twice", readmeLine211025 + "\n" + readmeLine211025, "listed twice"},
		{"short", "211025 RA train 54 16 2000", "fields"},
		{"bad count", "211025 RA train 54 x 2000 normal (2,000)", "field 5"},
		{"sum short", "211025 RA train 54 16 2000 normal (233), maximizing (150)", "do not add up to 2000"},
		{"sum long", "211025 RA train 54 16 300 normal (233), maximizing (150)", "more than 300"},
		{"type twice", "211025 RA train 54 16 400 normal (200), normal (200)", "listed twice"},
		{"junk", "211025 RA train 54 16 400 normal (200), gaudy (200) extra", "unexpected"},
		{"zero", "211025 RA train 54 16 400 normal (0), gaudy (400)", "image type"},
	}
	for _, c := range bad {
		_, err := parseLayout([]byte(c.readme), "211025")
		if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), readmePath) {
			t.Errorf("%s: error %v, want one naming %s and saying %q", c.name, err, readmePath, c.wantErr)
		}
	}
}

// FuzzParseLayout reads readme lines: a layout without error has groups that tile its images.
func FuzzParseLayout(f *testing.F) {
	f.Add([]byte(readmeLine211025))
	f.Add([]byte("210322 PE train 59 4 1200 normal (600), Bashivan et al., 2019 (600)\n211025 x"))
	f.Add([]byte("211025 RA train 54 16 2000 normal (233), maximizing (150)"))
	f.Add([]byte{})
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		l, err := parseLayout(data, "211025")
		if err != nil {
			return
		}
		at := 0
		for _, g := range l.Groups {
			if g.Lo != at || g.Hi <= g.Lo {
				t.Fatalf("groups %+v do not tile %d images", l.Groups, l.Images)
			}
			at = g.Hi
		}
		if at != l.Images {
			t.Fatalf("groups %+v end at %d of %d images", l.Groups, at, l.Images)
		}
	})
}

// plantedSession is a scaled-down session 211025 with planted neurons, for two dot-like models
// (their predictions pred[k][image]):
//   - model 0 drives maximising images 0-9 far above its natural range, model 1 images 10-19;
//   - neuron 0 follows model 0 on the normal images and responds to model 0's maximising images
//     as much as its largest natural responses (the test must find it, with a small p);
//   - neuron 1 follows model 1 on the normal images, but its responses to model 1's maximising
//     images are drawn from its natural ones (the null: p not small);
//   - neuron 2 is noise.
type plantedSession struct {
	Layout sessionLayout
	Preds  [][]float64
	Raw    metrics.Raw
	Avg    [][]float64
}

func newPlantedSession(t *testing.T) *plantedSession {
	t.Helper()
	lay, err := parseLayout([]byte("211025 RA train 3 8 90 normal (50), maximizing (20), gaudy (10), artificial (10)"), "211025")
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(8, 8))
	const n, r = 3, 8
	m := lay.Images
	ps := &plantedSession{Layout: lay, Preds: make([][]float64, 2)}
	for k := range ps.Preds {
		ps.Preds[k] = make([]float64, m)
		for i := range m {
			ps.Preds[k][i] = rng.NormFloat64()
		}
	}
	for i := 50; i < 70; i++ {
		hot := 0
		if i >= 60 {
			hot = 1
		}
		ps.Preds[hot][i] = 6 + rng.Float64()
		ps.Preds[1-hot][i] = -3
	}
	mean := make([][]float64, n)
	for j := range mean {
		mean[j] = make([]float64, m)
		for i := range m {
			mean[j][i] = 5 + rng.NormFloat64()
		}
	}
	for i := 0; i < 50; i++ {
		mean[0][i] = 5 + ps.Preds[0][i]
		mean[1][i] = 5 + ps.Preds[1][i]
	}
	for i := 50; i < 60; i++ {
		mean[0][i] = 5 + 2.5 + rng.Float64() // the top of its natural range
	}
	for i := 60; i < 70; i++ {
		mean[1][i] = mean[1][rng.IntN(50)]
	}
	ps.Raw = metrics.Raw{N: n, M: m, R: r, Data: make([]float64, n*m*r)}
	for j := range n {
		for i := range m {
			for k := range r {
				ps.Raw.Data[(j*m+i)*r+k] = math.Max(0, mean[j][i]+0.3*rng.NormFloat64())
			}
		}
	}
	ps.Avg = ps.Raw.Means()
	return ps
}

func (ps *plantedSession) responses() *eval.Responses {
	raw := ps.Raw
	return &eval.Responses{Session: "211025", Lo: 0, Hi: ps.Layout.Images, Averaged: ps.Avg, Raw: &raw}
}

func TestC8Planted(t *testing.T) {
	ps := newPlantedSession(t)
	p := c8Plan{Permutations: 10000, Seed: c8Seed, SetSize: 10, Alpha: 0.02}
	sets, err := testC8(ps.Layout, ps.responses(), ps.Preds, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 2 {
		t.Fatalf("%d sets", len(sets))
	}
	for k, s := range sets {
		if s.Neuron != k || s.R2ER < 0.8 {
			t.Errorf("model %d: neuron %d (r²_ER %v), want neuron %d", k, s.Neuron, s.R2ER, k)
		}
		if s.Assigned != 10 || len(s.Images) != 10 {
			t.Errorf("model %d: %d maximising images assigned, %d tested; want 10", k, s.Assigned, len(s.Images))
		}
		for _, i := range s.Images {
			if i < 50+10*k || i >= 60+10*k {
				t.Errorf("model %d: image %d assigned, want %d-%d", k, i, 50+10*k, 59+10*k)
			}
		}
	}
	if s := sets[0]; !(s.P < 0.02) || !(s.MedianMax > s.MedianNatural) {
		t.Errorf("planted neuron: p = %v, medians %v and %v", s.P, s.MedianMax, s.MedianNatural)
	}
	if s := sets[1]; !(s.P > 0.1) {
		t.Errorf("null neuron: p = %v", s.P)
	}
	again, err := testC8(ps.Layout, ps.responses(), ps.Preds, p)
	if err != nil || fmt.Sprint(again) != fmt.Sprint(sets) {
		t.Errorf("a second run differs: %v", err)
	}
	// SetSize limits the set to the most driving images.
	p.SetSize = 3
	small, err := testC8(ps.Layout, ps.responses(), ps.Preds, p)
	if err != nil {
		t.Fatal(err)
	}
	for k, s := range small {
		if len(s.Images) != 3 || s.Assigned != 10 {
			t.Fatalf("set size 3: %d tested of %d", len(s.Images), s.Assigned)
		}
		for _, i := range s.Images {
			for _, j := range sets[k].Images[3:] {
				if ps.Preds[k][j] > ps.Preds[k][i] {
					t.Errorf("model %d: image %d tested, %d drives it more", k, i, j)
				}
			}
		}
	}
}

func TestC8BadInput(t *testing.T) {
	ps := newPlantedSession(t)
	p := c8Plan{Permutations: 10, Seed: 1, SetSize: 10, Alpha: 0.02}
	short := [][]float64{ps.Preds[0][:40]}
	if _, err := testC8(ps.Layout, ps.responses(), short, p); err == nil || !strings.Contains(err.Error(), "predictions of 40 images") {
		t.Errorf("short predictions: %v", err)
	}
	nan := [][]float64{append([]float64(nil), ps.Preds[0]...)}
	nan[0][3] = math.NaN()
	if _, err := testC8(ps.Layout, ps.responses(), nan, p); err == nil {
		t.Error("a NaN prediction accepted")
	}
	noRaw := ps.responses()
	noRaw.Raw = nil
	if _, err := testC8(ps.Layout, noRaw, ps.Preds, p); err == nil {
		t.Error("no raw repeats accepted")
	}
	// A model with a constant prediction matches no neuron and gets no maximising image.
	flat := [][]float64{make([]float64, ps.Layout.Images), ps.Preds[1]}
	sets, err := testC8(ps.Layout, ps.responses(), flat, p)
	if err != nil || sets[0].Neuron != -1 || sets[0].Assigned != 0 || !math.IsNaN(sets[0].P) || sets[1].Assigned != 20 {
		t.Errorf("constant model: %+v, %v", sets, err)
	}
}

// c8Fixture writes a scaled-down session 211025 (readme line, repeat-averaged and raw
// responses, images) into dir and returns its store; edit may change the files before they are
// pinned.
func c8Fixture(t *testing.T, ps *plantedSession, edit func(files map[string][]byte)) *v4data.Store {
	t.Helper()
	dir := t.TempDir()
	files := map[string][]byte{readmePath: []byte("Data table:\n" + fmt.Sprintf("211025 RA train %d 8 %d normal (50), maximizing (20), gaudy (10), artificial (10)\n", ps.Raw.N, ps.Raw.M))}
	var b bytes.Buffer
	avg := make([]float64, 0, ps.Raw.N*ps.Raw.M)
	for _, row := range ps.Avg {
		avg = append(avg, row...)
	}
	if err := npy.WriteFloat64(&b, []int{ps.Raw.N, ps.Raw.M}, avg); err != nil {
		t.Fatal(err)
	}
	files[v4data.AveragedPath("211025")] = bytes.Clone(b.Bytes())
	b.Reset()
	if err := npy.WriteFloat64(&b, []int{ps.Raw.N, ps.Raw.M, ps.Raw.R}, ps.Raw.Data); err != nil {
		t.Fatal(err)
	}
	files[v4data.RawPath("211025")] = bytes.Clone(b.Bytes())
	files[v4data.ImagesPath("211025")] = imageZip(t, ps.Raw.M, 60)
	if edit != nil {
		edit(files)
	}
	var entries []v4data.Entry
	for p, c := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), c, 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, v4data.Entry{Path: p, SHA1: v4data.BlobSHA1Bytes(c), Size: int64(len(c))})
	}
	m, err := v4data.NewManifest(entries)
	if err != nil {
		t.Fatal(err)
	}
	s, err := v4data.OpenManifest(dir, m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// imageZip writes n 112×112 JPEGs: the first uniform images textured (a stand-in for
// photographs), the others a dot on a uniform grey.
func imageZip(t *testing.T, n, textured int) []byte {
	t.Helper()
	k := [2]int{n, textured}
	if b, ok := imageZips[k]; ok {
		return b
	}
	b := writeImageZip(t, n, textured)
	imageZips[k] = b
	return b
}

// imageZips memoises imageZip (its archives are deterministic).
var imageZips = map[[2]int][]byte{}

func writeImageZip(t *testing.T, n, textured int) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	rng := rand.New(rand.NewPCG(3, 3))
	for k := range n {
		img := image.NewRGBA(image.Rect(0, 0, model.ImageSize, model.ImageSize))
		for y := range model.ImageSize {
			for x := range model.ImageSize {
				c := color.RGBA{128, 128, 128, 255}
				if k < textured {
					c = color.RGBA{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256)), 255}
				} else if dx, dy := x-56, y-56; dx*dx+dy*dy < 100 {
					c = color.RGBA{255, 255, 255, 255}
				}
				img.SetRGBA(x, y, c)
			}
		}
		w, err := zw.Create(imagezip.EntryName(k))
		if err != nil {
			t.Fatal(err)
		}
		if err := jpeg.Encode(w, img, &jpeg.Options{Quality: 90}); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestLoadC8 reads a scaled-down session 211025 from files, checks the layout statistics (the
// dot images have uniform backgrounds, the textured ones do not) and runs the test on it; and
// bad files give errors that name them.
func TestSharpestStep(t *testing.T) {
	z := make([]float64, 100)
	for i := 60; i < 100; i++ {
		z[i] = 1
	}
	z[30] = 0.5 // a lone image is not a step
	if at, d := sharpestStep(z, 10); at != 60 || d != 1 {
		t.Errorf("step %v at %d, want 1 at 60", d, at)
	}
	if d := responseStep(z, 5, 10); !math.IsNaN(d) {
		t.Errorf("a window that does not fit: %v", d)
	}
	if at, _ := sharpestStep(z[:15], 10); at != -1 {
		t.Errorf("no window fits, step at %d", at)
	}
	avg := [][]float64{{1, 1, 1, 1}, {0, 0, 2, 2}}
	if got := populationZ(avg); fmt.Sprint(got) != "[-0.5 -0.5 0.5 0.5]" {
		t.Errorf("populationZ %v", got)
	}
}

func TestLoadC8(t *testing.T) {
	ps := newPlantedSession(t)
	s := c8Fixture(t, ps, nil)
	cd, err := loadC8(s, "211025")
	if err != nil {
		t.Fatal(err)
	}
	if cd.Pix.N != 90 || cd.Resp.Neurons() != 3 || cd.Resp.Raw == nil || len(cd.Layout.Groups) != 4 {
		t.Fatalf("loaded %d images, %d neurons, layout %+v", cd.Pix.N, cd.Resp.Neurons(), cd.Layout)
	}
	st := layoutStats(cd.Layout, cd.Resp.Averaged, cd.Pix)
	if st[0].Uniform > 0.05 || st[3].Uniform < 0.9 {
		t.Errorf("uniform-colour fractions: normal %v, artificial %v", st[0].Uniform, st[3].Uniform)
	}
	if st[1].MeanZ <= st[0].MeanZ {
		t.Errorf("mean z-scored responses: maximizing %v, normal %v", st[1].MeanZ, st[0].MeanZ)
	}
	sets, err := testC8(cd.Layout, cd.Resp, ps.Preds, c8Plan{Permutations: 2000, Seed: 1, SetSize: 10, Alpha: 0.02})
	if err != nil || sets[0].Neuron != 0 || !(sets[0].P < 0.02) || !(sets[1].P > 0.1) {
		t.Errorf("test from files: %+v, %v", sets, err)
	}

	npyOf := func(shape []int, data []float64) []byte {
		var b bytes.Buffer
		if err := npy.WriteFloat64(&b, shape, data); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	raw, avg, zipPath := v4data.RawPath("211025"), v4data.AveragedPath("211025"), v4data.ImagesPath("211025")
	for _, c := range []struct {
		name, file string
		edit       func(map[string][]byte)
	}{
		{"readme counts more images", readmePath, func(f map[string][]byte) {
			f[readmePath] = []byte("211025 RA train 3 8 91 normal (51), maximizing (20), gaudy (10), artificial (10)\n")
		}},
		{"too few images", zipPath, func(f map[string][]byte) { f[zipPath] = imageZip(t, 89, 60) }},
		{"too many images", zipPath, func(f map[string][]byte) { f[zipPath] = imageZip(t, 91, 60) }},
		{"NaN repeat", raw, func(f map[string][]byte) {
			d := append([]float64(nil), ps.Raw.Data...)
			d[5*ps.Raw.R] = math.NaN() // a first slot empty, the next ones full
			f[raw] = npyOf([]int{ps.Raw.N, ps.Raw.M, ps.Raw.R}, d)
		}},
		{"raw 2-D", raw, func(f map[string][]byte) { f[raw] = npyOf([]int{ps.Raw.N, ps.Raw.M * ps.Raw.R}, ps.Raw.Data) }},
		{"raw of other images", raw, func(f map[string][]byte) {
			f[raw] = npyOf([]int{ps.Raw.N, ps.Raw.M / 2, 2 * ps.Raw.R}, ps.Raw.Data)
		}},
		{"NaN average", avg, func(f map[string][]byte) {
			d := make([]float64, ps.Raw.N*ps.Raw.M)
			d[7] = math.NaN()
			f[avg] = npyOf([]int{ps.Raw.N, ps.Raw.M}, d)
		}},
		{"no maximizing images", readmePath, func(f map[string][]byte) {
			f[readmePath] = []byte("211025 RA train 3 8 90 normal (70), gaudy (10), artificial (10)\n")
		}},
		{"no raw repeats", raw, func(f map[string][]byte) { delete(f, raw) }},
	} {
		s := c8Fixture(t, ps, c.edit)
		_, err := loadC8(s, "211025")
		if err == nil || !strings.Contains(err.Error(), c.file) {
			t.Errorf("%s: error %v, want one naming %s", c.name, err, c.file)
		}
	}
}

// TestLayout211025 checks the readme's layout of session 211025 against the local data copy:
// the readme's counts match the repeat-averaged responses' shape, and the statistics of each
// group (logged with -v) are the check of the order that layoutStats makes in the experiment.
func TestLayout211025(t *testing.T) {
	s, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has(readmePath) || !s.Has(v4data.AveragedPath(c8Session)) {
		t.Skipf("%s or %s missing", readmePath, v4data.AveragedPath(c8Session))
	}
	readme, err := s.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	lay, err := parseLayout(readme, c8Session)
	if err != nil {
		t.Fatal(err)
	}
	avg, err := v4data.LoadAveraged(s, c8Session)
	if err != nil {
		t.Fatal(err)
	}
	if avg.N != lay.Neurons || avg.M != lay.Images {
		t.Fatalf("responses %d×%d, readme %d×%d", avg.N, avg.M, lay.Neurons, lay.Images)
	}
	var pix *imagezip.Images
	if s.Has(v4data.ImagesPath(c8Session)) {
		if pix, err = v4data.LoadImages(s, c8Session, avg.M); err != nil {
			t.Fatal(err)
		}
	}
	z := populationZ(avg.Rows(0, avg.M))
	for _, st := range layoutStats(lay, avg.Rows(0, avg.M), pix) {
		t.Logf("images %d-%d %s: mean response %.3f, mean z %+.3f, uniform-colour fraction %.3f, step at its first image %+.3f",
			st.Group.Lo+1, st.Group.Hi, st.Group.Name, st.MeanResponse, st.MeanZ, st.Uniform, responseStep(z, st.Group.Lo, stepWindow))
	}
	at, size := sharpestStep(z, stepWindow)
	t.Logf("sharpest step of the mean z-scored response (%d images each side): %+.3f at image %d", stepWindow, size, at+1)
}

// TestRunC8 runs C8's test from files with two planted compact models standing in for the
// dot-like models, and records it: the predictions go through eval, every set has a neuron of
// the session, and the claim's value, the notes and the golden values say what was tested.
func TestRunC8(t *testing.T) {
	ps := newPlantedSession(t)
	s := c8Fixture(t, ps, nil)
	var log bytes.Buffer
	env := &harness.Env{Profile: harness.Quick, Data: s, Out: t.TempDir(), Log: &log}
	res := &harness.Result{}
	d := eval.New(env, res)
	scr := &screening{}
	for k, split := range [][3]float32{{1.0 / 3, 1.0 / 3, 1.0 / 3}, {1, 0, 0}} {
		m := planted(t, split)
		m.ID.Neuron = k
		scr.Chosen = append(scr.Chosen, &screened{M: m})
	}
	p := c8Plan{Permutations: 500, Seed: c8Seed, SetSize: 10, Alpha: 0.02}
	r, err := runC8(context.Background(), env, d, scr, p)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Sets) != 2 || len(r.Stats) != 4 {
		t.Fatalf("%d sets, %d groups", len(r.Sets), len(r.Stats))
	}
	assigned := 0
	for _, st := range r.Sets {
		if st.Neuron < 0 || st.Neuron >= ps.Raw.N {
			t.Errorf("neuron %d", st.Neuron)
		}
		assigned += st.Assigned
	}
	if assigned != 20 {
		t.Errorf("%d maximising images assigned, want 20", assigned)
	}
	if !strings.Contains(log.String(), "images 51-70 (maximizing, the readme's order)") {
		t.Errorf("log: %s", log.String())
	}
	cr := harness.ClaimResult{ID: "C8"}
	recordC8(res, &cr, scr, r, p, "in silico")
	if !strings.Contains(cr.Value, "of 2 sets p < 0.02; in silico") || (cr.Status != harness.Reproduced && cr.Status != harness.Differs) ||
		!strings.Contains(cr.Detail, "assumed") {
		t.Errorf("claim %+v", cr)
	}
	if len(res.Notes) != 2 || !strings.Contains(res.Notes[0], "are an assumption") || !strings.Contains(res.Notes[0], "the sharpest step of the session is") {
		t.Errorf("notes %q", res.Notes)
	}
	keys := map[string]bool{}
	for _, v := range res.Values.List() {
		keys[v.Key] = true
	}
	if !keys["c8/test/n0/neuron"] || !keys["c8/test/n1/p"] || !keys["c8/significant"] {
		t.Errorf("golden values %v", keys)
	}
}

// TestCheckC8 tells missing files (not runnable, named) from corrupt ones (an error).
func TestCheckC8(t *testing.T) {
	ps := newPlantedSession(t)
	for _, c := range []struct {
		name    string
		edit    func(dir string) error
		missing int
		wantErr bool
	}{
		{"present", func(string) error { return nil }, 0, false},
		{"images missing", func(dir string) error { return os.Remove(filepath.Join(dir, v4data.ImagesPath(c8Session))) }, 1, false},
		{"both missing", func(dir string) error {
			if err := os.Remove(filepath.Join(dir, v4data.ImagesPath(c8Session))); err != nil {
				return err
			}
			return os.Remove(filepath.Join(dir, v4data.RawPath(c8Session)))
		}, 2, false},
		{"raw corrupt", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, v4data.RawPath(c8Session)), []byte("not the pinned file"), 0o644)
		}, 0, true},
	} {
		s := c8Fixture(t, ps, nil)
		if err := c.edit(s.Dir()); err != nil {
			t.Fatal(err)
		}
		env := &harness.Env{Data: s, Log: io.Discard}
		res := &harness.Result{}
		chk, err := checkC8(env, eval.New(env, res))
		if (err != nil) != c.wantErr || len(chk.Missing) != c.missing || len(res.NotRunnable) != c.missing {
			t.Errorf("%s: missing %v, not runnable %d, error %v", c.name, chk.Missing, len(res.NotRunnable), err)
		}
		if c.wantErr && (err == nil || !strings.Contains(err.Error(), v4data.RawPath(c8Session))) {
			t.Errorf("%s: error %v does not name the file", c.name, err)
		}
	}
}
