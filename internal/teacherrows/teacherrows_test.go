package teacherrows

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/ensemble"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// memberFixture is the narrowed member archive of internal/ensemble's tests (input 14×14×16).
var memberFixture = filepath.Join("..", "ensemble", "testdata", "member_narrow.keras")

// randomNet compiles a narrowed network with Keras' initialisation from seed.
func randomNet(t *testing.T, build func(string, int) (*model.Network, error), upto string, narrow int, seed uint64) *nn.GraphNet {
	t.Helper()
	net, err := build(upto, narrow)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(net, seed); err != nil {
		t.Fatal(err)
	}
	g, err := nn.CompileGraph(net)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// narrowTeacher is the teacher's networks with random weights: ResNet50 narrowed 64-fold (16
// channels at conv4_block4_out) and VGG19 narrowed 64-fold, with Keras' initialisation from a
// seed, and members read from the narrowed member archive, member i with its weights scaled by
// 1 + 0.1·i·(j mod 3); spoil, when set, changes a member's network before it is compiled.
func narrowTeacher(t *testing.T, members int, spoil func(i int, net *model.Network)) Nets {
	t.Helper()
	trunk := randomNet(t, model.NewResNet50, model.ResNet50Output, 64, 3)
	tc := &ensemblefit.Teacher{Trunk: trunk, Batch: 16}
	for i := range members {
		net, _, err := ensemble.ReadMember(memberFixture, model.Shape{H: 14, W: 14, C: 16})
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range net.Weights() {
			for j := range w.Data {
				w.Data[j] *= 1 + 0.1*float32(i*(j%3))
			}
		}
		if spoil != nil {
			spoil(i, net)
		}
		g, err := nn.CompileGraph(net)
		if err != nil {
			t.Fatal(err)
		}
		tc.Members = append(tc.Members, g)
		tc.Names = append(tc.Names, "narrow_member"+string(rune('0'+i))+".keras")
	}
	return Nets{Teacher: tc, Task: []TaskNet{
		{Name: "ResNet50", Net: trunk, Trunk: true},
		{Name: "VGG19", Net: randomNet(t, model.NewVGG19, model.VGG19Output, 64, 4)},
	}}
}

// syntheticSession is n random 112×112 images (uniform noise around a random colour per image)
// and the responses of neurons to them: R repeats of a random function of the image's mean
// colour plus noise (raw repeats kept when raw).
func syntheticSession(n, neurons, reps int, raw bool) SessionInput {
	rng := rand.New(rand.NewPCG(7, 7))
	const size = model.ImageSize
	pix := make([]uint8, n*size*size*3)
	for i := range n {
		var base [3]int
		for c := range base {
			base[c] = rng.IntN(128)
		}
		for p := range size * size {
			for c := range 3 {
				pix[(i*size*size+p)*3+c] = uint8(base[c] + rng.IntN(128))
			}
		}
	}
	resp := &eval.Responses{Session: "synthetic", Lo: 0, Hi: n}
	z := metrics.Raw{N: neurons, M: n, R: reps, Data: make([]float64, neurons*n*reps)}
	for nu := range neurons {
		w := [3]float64{rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()}
		for i := range n {
			var s [3]float64
			for p := 0; p < size*size; p++ {
				for c := range 3 {
					s[c] += float64(pix[(i*size*size+p)*3+c]) / (size * size * 255)
				}
			}
			signal := 10 * (w[0]*s[0] + w[1]*s[1] + w[2]*s[2])
			for r := range reps {
				z.Data[(nu*n+i)*reps+r] = signal + 0.05*rng.NormFloat64()
			}
		}
	}
	resp.Averaged = z.Means()
	if raw {
		resp.Raw = &z
	}
	return SessionInput{Session: "synthetic", Pix: pix, N: n, Size: size, Resp: resp}
}

func finite(t *testing.T, what string, xs []float64, n int) {
	t.Helper()
	if len(xs) != n {
		t.Fatalf("%s: %d values, want %d", what, len(xs), n)
	}
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			t.Fatalf("%s: neuron %d is %v", what, i, x)
		}
	}
}

// TestFitSession runs the teacher's rows of one session on narrowed random networks: every
// row has a finite r, r² (and r²_ER with raw repeats) per neuron; the halves' alpha comes from
// choose_alpha with raw repeats and from the default formula without.
func TestFitSession(t *testing.T) {
	const n, neurons = 120, 3
	tc := narrowTeacher(t, 2, nil)
	for _, raw := range []bool{true, false} {
		in := syntheticSession(n, neurons, 3, raw)
		sf, err := FitSession(context.Background(), tc, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sf.Models) != 3 || sf.Models[0].Model != Ensemble || sf.Models[1].Model != "ResNet50" || sf.Models[2].Model != "VGG19" {
			t.Fatalf("models %v, want the ensemble, ResNet50, VGG19", sf.Models)
		}
		wantRule := map[bool]string{true: RuleChooseAlpha, false: RuleDefault}[raw]
		for _, m := range sf.Models {
			for name, sc := range map[string]eval.Scores{"halves": m.Halves, "script2": m.Script2} {
				finite(t, m.Model+" "+name+" r", sc.R, neurons)
				finite(t, m.Model+" "+name+" r2", sc.R2, neurons)
				if raw {
					finite(t, m.Model+" "+name+" r2er", sc.R2ER, neurons)
				} else if sc.R2ER != nil {
					t.Errorf("%s %s: r²_ER without raw repeats", m.Model, name)
				}
			}
			wantAlphas := map[bool]int{true: 2, false: 1}[m.Model == Ensemble]
			if m.Rule != wantRule || len(m.Alphas) != wantAlphas || !(m.Alphas[0] > 0) {
				t.Errorf("raw %v, %s: alphas %v (%s); want %d by %s", raw, m.Model, m.Alphas, m.Rule, wantAlphas, wantRule)
			}
			if raw && m.Alphas[0] != m.Alphas[len(m.Alphas)-1] {
				t.Errorf("%s: choose_alpha gave the members different alphas %v", m.Model, m.Alphas)
			}
			t.Logf("raw %v, %s: halves median r %.3f (alpha %v); script2 %.3f", raw, m.Model,
				metrics.Median(m.Halves.R), m.Alphas, metrics.Median(m.Script2.R))
		}
		if sf.Eval.Lo != n/2 || sf.Eval.Hi != n {
			t.Errorf("evaluation half %d-%d, want %d-%d", sf.Eval.Lo, sf.Eval.Hi, n/2, n)
		}
	}
	if _, err := FitSession(context.Background(), tc, syntheticSession(Script2Held, neurons, 3, true)); err == nil {
		t.Error("a session of 100 images: no error, but script2 holds out the last 100")
	}
}

// TestFitSessionNaN checks that a member whose embeddings are not finite (weights scaled to
// overflow float32) is an error naming its file.
func TestFitSessionNaN(t *testing.T) {
	tc := narrowTeacher(t, 2, func(i int, net *model.Network) {
		if i == 1 {
			for _, w := range net.Weights() {
				for j := range w.Data {
					w.Data[j] *= 1e30
				}
			}
		}
	})
	_, err := FitSession(context.Background(), tc, syntheticSession(120, 2, 2, true))
	if name := tc.Teacher.Names[1]; err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("error %v, want one naming %s", err, name)
	}
}

func TestFactorizedSplit(t *testing.T) {
	for _, tc := range []struct {
		n                           int
		train, val, test, firstTest int
	}{
		{n: 1200, train: 525, val: 75, test: 600, firstTest: 600},
		{n: 240, train: 105, val: 15, test: 120, firstTest: 120},
		{n: 301, train: 132, val: 18, test: 151, firstTest: 150},
	} {
		train, val, test := FactorizedSplit(tc.n)
		if len(train) != tc.train || len(val) != tc.val || len(test) != tc.test || test[0] != tc.firstTest ||
			train[0] != 0 || val[0] != train[len(train)-1]+1 || val[len(val)-1]+1 != tc.n/2 || test[len(test)-1] != tc.n-1 {
			t.Errorf("FactorizedSplit(%d): train %d, val %d-%d, test %d from %d; want %d, %d, %d from %d",
				tc.n, len(train), val[0], val[len(val)-1], len(test), test[0], tc.train, tc.val, tc.test, tc.firstTest)
		}
	}
}

// TestFactorized fits every factorized unit of a narrowed random-weight teacher on a synthetic
// session and assembles each model's row with and without the raw repeats (the fits depend on
// the repeat-averaged responses only): the epoch is chosen by r²_ER with raw repeats and by r²
// without, the scores are finite for every neuron, and a model whose units are one fit twice
// assembles as that fit alone (the per-epoch average).
func TestFactorized(t *testing.T) {
	tc := narrowTeacher(t, 2, nil)
	opts := mapping.EnsembleDefaults()
	opts.Epochs, opts.KerasEpochs = 3, 1
	const n, neurons = 120, 3
	in := syntheticSession(n, neurons, 3, true)
	fs, err := NewSession(tc, in)
	if err != nil {
		t.Fatal(err)
	}
	units := FactorizedUnits(tc)
	if len(units) != len(tc.Teacher.Members)+len(tc.Task) {
		t.Fatalf("%d units for %d members and %d task-driven networks", len(units), len(tc.Teacher.Members), len(tc.Task))
	}
	byModel := map[string][]*FactorizedFit{}
	var models []string
	for _, u := range units {
		ff, err := fs.Fit(context.Background(), u, opts)
		if err != nil {
			t.Fatal(err)
		}
		if ff.Unit != u || len(ff.EpochVal) != opts.Epochs || len(ff.EpochTest[0]) != neurons || len(ff.EpochTest[0][0]) != n-n/2 {
			t.Fatalf("%s: fit of %s with %d epochs, %d neurons", u, ff.Unit, len(ff.EpochVal), len(ff.EpochTest[0]))
		}
		if _, ok := byModel[u.Model]; !ok {
			models = append(models, u.Model)
		}
		byModel[u.Model] = append(byModel[u.Model], ff)
	}
	averaged := in
	averaged.Resp = &eval.Responses{Session: in.Resp.Session, Lo: in.Resp.Lo, Hi: in.Resp.Hi, Averaged: in.Resp.Averaged}
	noRaw, err := NewSession(tc, averaged)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		fs   *Session
		raw  bool
		rule string
	}{{fs, true, RuleStopR2ER}, {noRaw, false, RuleStopR2}} {
		for _, m := range models {
			row, err := tt.fs.AssembleFactorized(m, byModel[m], opts)
			if err != nil {
				t.Fatal(err)
			}
			if row.Rule != tt.rule || row.Best < 0 || row.Best >= opts.Epochs || len(row.Scores) != opts.Epochs || (row.Halves.R2ER != nil) != tt.raw {
				t.Errorf("raw %v, %s: rule %s, epoch %d of %d scores, r²_ER %v", tt.raw, m, row.Rule, row.Best, len(row.Scores), row.Halves.R2ER)
			}
			finite(t, m+" r", row.Halves.R, neurons)
			if tt.raw {
				finite(t, m+" r²_ER", row.Halves.R2ER, neurons)
			}
		}
	}
	one, err := fs.AssembleFactorized(Ensemble, byModel[Ensemble][:1], opts)
	if err != nil {
		t.Fatal(err)
	}
	twice, err := fs.AssembleFactorized(Ensemble, []*FactorizedFit{byModel[Ensemble][0], byModel[Ensemble][0]}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if one.Best != twice.Best || !slices.Equal(one.Halves.R, twice.Halves.R) {
		t.Errorf("one fit twice: epoch %d, r %v; the fit alone: epoch %d, r %v", twice.Best, twice.Halves.R, one.Best, one.Halves.R)
	}
	if _, err := fs.AssembleFactorized("VGG19", byModel[Ensemble], opts); err == nil {
		t.Error("VGG19 assembled from the members' fits")
	}
}
