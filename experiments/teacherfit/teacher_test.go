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

// narrowTeacher is a teacher with random weights: ResNet50 narrowed 64-fold (16 channels at
// conv4_block4_out, Keras' initialisation from a seed) and members read from the narrowed member
// archive, member i with its weights scaled by 1 + 0.1·i·(j mod 3); spoil, when set, changes a
// member's network before it is compiled.
func narrowTeacher(t *testing.T, members int, spoil func(i int, net *model.Network)) *ensemblefit.Teacher {
	t.Helper()
	tn, err := model.NewResNet50(model.ResNet50Output, 64)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(tn, 3); err != nil {
		t.Fatal(err)
	}
	trunk, err := nn.CompileGraph(tn)
	if err != nil {
		t.Fatal(err)
	}
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
	return tc
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
		for name, sc := range map[string]eval.Scores{"halves": sf.Halves, "halves ResNet50": sf.HalvesResNet50, "script2": sf.Script2, "script2 ResNet50": sf.Script2ResNet50} {
			finite(t, name+" r", sc.R, neurons)
			finite(t, name+" r2", sc.R2, neurons)
			if raw {
				finite(t, name+" r2er", sc.R2ER, neurons)
			} else if sc.R2ER != nil {
				t.Errorf("%s: r²_ER without raw repeats", name)
			}
		}
		if sf.Eval.Lo != n/2 || sf.Eval.Hi != n {
			t.Errorf("evaluation half %d-%d, want %d-%d", sf.Eval.Lo, sf.Eval.Hi, n/2, n)
		}
		wantRule := map[bool]string{true: ruleChooseAlpha, false: ruleDefault}[raw]
		if sf.Rule != wantRule || len(sf.Alphas) != 2 || !(sf.ResNet50Alpha > 0) {
			t.Errorf("raw %v: alphas %v (%s), ResNet50 %v; want two by %s", raw, sf.Alphas, sf.Rule, sf.ResNet50Alpha, wantRule)
		}
		if raw && sf.Alphas[0] != sf.Alphas[1] {
			t.Errorf("choose_alpha gave the members different alphas %v", sf.Alphas)
		}
		t.Logf("raw %v: halves median r %.3f (alpha %v), ResNet50 %.3f; script2 %.3f, ResNet50 %.3f", raw,
			metrics.Median(sf.Halves.R), sf.Alphas, metrics.Median(sf.HalvesResNet50.R), metrics.Median(sf.Script2.R), metrics.Median(sf.Script2ResNet50.R))
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
	if err == nil || !strings.Contains(err.Error(), tc.Names[1]) {
		t.Fatalf("error %v, want one naming %s", err, tc.Names[1])
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
	src := teacherSource{Images: 240, Open: func(env *harness.Env, d *eval.Data) (*ensemblefit.Teacher, teacherStatus, error) {
		return tc, teacherStatus{Members: 2}, nil
	}}
	// No shared models: their line is TestCompareSurrogates' and the golden run's.
	p := plan{Sessions: []string{v4data.QuickSession.ID}}
	res, err := runWith(context.Background(), env, p, src)
	if err != nil {
		t.Fatal(err)
	}
	ts := v4data.QuickSession
	for _, key := range []string{"teacher/halves/ensemble/r/median", "teacher/halves/ResNet50/r2/median", "teacher/script2/ensemble/r/median",
		"teacher/script2/ResNet50/r/median", "teacher/halves/compact/r/median", "C3/teacher/percent", "C4/teacher/halves/percent", "C4/teacher/script2/percent"} {
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
