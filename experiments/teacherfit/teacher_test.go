package teacherfit

import (
	"context"
	"io"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/ensemble"
	"compactv4/internal/ensemblefit"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

// memberFixture is the narrowed member archive of internal/ensemble's tests (input 14×14×16).
var memberFixture = filepath.Join("..", "..", "internal", "ensemble", "testdata", "member_narrow.keras")

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
func narrowTeacher(t *testing.T, members int, spoil func(i int, net *model.Network)) teacherNets {
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
	return teacherNets{Teacher: tc, Task: []taskNet{
		{Name: "ResNet50", Net: trunk, Trunk: true},
		{Name: "VGG19", Net: randomNet(t, model.NewVGG19, model.VGG19Output, 64, 4)},
	}}
}

// syntheticSession is n random 112×112 images (uniform noise around a random colour per image) and the responses of neurons to them: R repeats
// of a random function of the image's mean colour plus noise (raw repeats kept when raw).
func syntheticSession(n, neurons, reps int, raw bool) sessionInput {
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
	return sessionInput{Session: "synthetic", Pix: pix, N: n, Size: size, Resp: resp}
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
		sf, err := fitSession(context.Background(), tc, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(sf.Models) != 3 || sf.Models[0].Model != modelEnsemble || sf.Models[1].Model != "ResNet50" || sf.Models[2].Model != "VGG19" {
			t.Fatalf("models %v, want the ensemble, ResNet50, VGG19", sf.Models)
		}
		wantRule := map[bool]string{true: ruleChooseAlpha, false: ruleDefault}[raw]
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
			wantAlphas := map[bool]int{true: 2, false: 1}[m.Model == modelEnsemble]
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
	if _, err := fitSession(context.Background(), tc, syntheticSession(script2Held, neurons, 3, true)); err == nil {
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
	_, err := fitSession(context.Background(), tc, syntheticSession(120, 2, 2, true))
	if name := tc.Teacher.Names[1]; err == nil || !strings.Contains(err.Error(), name) {
		t.Fatalf("error %v, want one naming %s", err, name)
	}
}

// TestRunTeacher runs the experiment end to end on the quick session of the data (its first 240
// images) with a narrowed random-weight teacher in place of the files: the teacher's rows, C3's and C4's
// comparisons and its tables are produced; the real files being absent here, openTeacher
// leaves the teacher not runnable, naming them.
func TestRunTeacher(t *testing.T) {
	store, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	env := &harness.Env{Profile: harness.Quick, Data: store, Out: t.TempDir(), Log: io.Discard}
	if testing.Verbose() {
		env.Log = testWriter{t}
	}
	res0 := &harness.Result{}
	tc0, st, err := openTeacher(env, eval.New(env, res0))
	if err != nil {
		t.Fatal(err)
	}
	if len(st.MissingMembers) == 0 {
		t.Skip("the member files are present: the real teacher runs in the golden run")
	}
	if tc0 != nil || len(res0.NotRunnable) != len(st.MissingMembers) || !strings.Contains(st.notRunnableRows(), memberPattern) {
		t.Fatalf("members missing: teacher %v, not runnable %d of %d", tc0, len(res0.NotRunnable), len(st.MissingMembers))
	}
	for _, m := range res0.NotRunnable {
		if !strings.HasPrefix(m.Path, "data_ensemble_model/ensemble_model_member") || m.SHA1 == "" {
			t.Errorf("not runnable %+v, want a member file with its SHA-1", m)
		}
	}

	tc := narrowTeacher(t, 2, nil)
	src := teacherSource{Images: 240, Open: func(env *harness.Env, d *eval.Data) (*teacherNets, teacherStatus, error) {
		return &tc, teacherStatus{Members: 2}, nil
	}}
	// No shared models: their line is TestCompareSurrogates' and the golden run's.
	p := plan{Sessions: []string{v4data.QuickSession.ID}}
	res, err := runWith(context.Background(), env, p, src)
	if err != nil {
		t.Fatal(err)
	}
	ts := v4data.QuickSession
	for _, key := range []string{"teacher/halves/ensemble/r/median", "teacher/halves/ResNet50/r2/median", "teacher/halves/VGG19/r/median",
		"teacher/script2/ensemble/r/median", "teacher/script2/ResNet50/r/median", "teacher/script2/VGG19/r2/median", "teacher/halves/compact/r/median",
		"C3/teacher/percent", "C4/teacher/halves/percent", "C4/teacher/script2/percent", "teacher/halves/alpha/190923/VGG19/median"} {
		v, ok := res.Values.Get(key)
		if !ok || math.IsNaN(v.Num) || math.IsInf(v.Num, 0) {
			t.Errorf("%s: %+v (present %v), want a finite value", key, v, ok)
		}
	}
	if v, _ := res.Values.Get("teacher/halves/ensemble/r/n"); v.Num != float64(ts.Neurons) {
		t.Errorf("ensemble row over %v neurons, want %d", v.Num, ts.Neurons)
	}
	for _, c := range res.Claims {
		t.Logf("%s (%s): %s", c.ID, c.Status, c.Value)
		if c.Status == harness.NotImplemented || c.Status == harness.NotRunnable {
			t.Errorf("%s: %s with the teacher present", c.ID, c.Status)
		}
	}
	for _, table := range []string{"teacher.csv", "teacher_neurons.csv"} {
		if !slices.Contains(res.Tables, table) {
			t.Errorf("tables %v lack %s", res.Tables, table)
		}
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
