package distimages

import (
	"bytes"
	"math/rand/v2"
	"slices"
	"testing"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/imagezip"
	"compactv4/internal/v4data"
)

func randomImages(seed uint64, n int) *imagezip.Images {
	rng := rand.New(rand.NewPCG(seed, 9))
	im := &imagezip.Images{N: n, H: Size, W: Size, Pix: make([]uint8, n*pixels)}
	for i := range im.Pix {
		im.Pix[i] = uint8(rng.IntN(256))
	}
	return im
}

func testSet(t *testing.T, f Families) *Set {
	t.Helper()
	s, err := New([]Session{
		{ID: "a", Images: randomImages(1, 12), Exclude: func(k int) bool { return k >= 6 }},
		{ID: "b", Images: randomImages(2, 10)},
	}, Config{HeldOut: 4, Seed: 7, Families: f})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSplit(t *testing.T) {
	s := testSet(t, AllFamilies)
	held := s.HeldOut()
	if len(held) != 4 || s.Train() != 12 {
		t.Fatalf("%d held out, %d training images; want 4 and 12", len(held), s.Train())
	}
	seen := map[[2]any]bool{}
	for _, r := range append(held, s.train...) {
		k := [2]any{r.Session, r.Index}
		if seen[k] {
			t.Errorf("%v used twice", r)
		}
		seen[k] = true
		if r.Session == "a" && r.Index >= 6 {
			t.Errorf("excluded image %v used", r)
		}
	}
	if !slices.IsSortedFunc(held, func(a, b Ref) int {
		if a.Session != b.Session {
			return map[bool]int{true: -1, false: 1}[a.Session < b.Session]
		}
		return a.Index - b.Index
	}) {
		t.Errorf("held-out images not in session and index order: %v", held)
	}
	px := s.HeldOutPixels()
	for i, r := range held {
		want := append([]uint8(nil), s.base(r)...)
		if r.Flipped {
			mirror8(want)
		}
		if !bytes.Equal(px[i*pixels:(i+1)*pixels], want) {
			t.Errorf("held-out image %d (%v) is not its base image", i, r)
		}
	}
	if _, err := New([]Session{{ID: "a", Images: randomImages(1, 5)}}, Config{HeldOut: 2}); err == nil {
		t.Error("5 images split into 2 held out and 3 training images")
	}
}

// An image depends on its position only: any window of the stream equals the same positions of a
// longer run, and the same seed gives the same bytes.
func TestStreamDeterministic(t *testing.T) {
	s := testSet(t, AllFamilies)
	const n = 40
	all := make([]uint8, n*pixels)
	if err := s.Fill(0, n, all); err != nil {
		t.Fatal(err)
	}
	again := testSet(t, AllFamilies)
	for _, w := range [][2]int{{25, 7}, {3, 10}, {0, 1}, {39, 1}} {
		part := make([]uint8, w[1]*pixels)
		if err := again.Fill(int64(w[0]), w[1], part); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(part, all[w[0]*pixels:(w[0]+w[1])*pixels]) {
			t.Errorf("positions %d-%d differ from the same positions of a longer run", w[0], w[0]+w[1]-1)
		}
	}
	if err := s.Fill(-1, 1, make([]uint8, pixels)); err == nil {
		t.Error("negative position accepted")
	}
	// Every image is augmented differently: no two equal.
	for i := range n {
		for j := range i {
			if bytes.Equal(all[i*pixels:(i+1)*pixels], all[j*pixels:(j+1)*pixels]) {
				t.Errorf("images %d and %d are equal", j, i)
			}
		}
	}
}

// Without augmentation each pass shows every training image once.
func TestStreamPasses(t *testing.T) {
	s := testSet(t, Families{})
	T := s.Train()
	buf := make([]uint8, 2*T*pixels)
	if err := s.Fill(0, 2*T, buf); err != nil {
		t.Fatal(err)
	}
	for pass := range 2 {
		var got []Ref
		for i := range T {
			p := pass*T + i
			r := s.trainRef(int64(p))
			if !bytes.Equal(buf[p*pixels:(p+1)*pixels], s.base(r)) {
				t.Fatalf("position %d is not its base image", p)
			}
			got = append(got, r)
		}
		want := slices.Clone(s.train)
		key := func(a, b Ref) int {
			if a.Session != b.Session {
				return map[bool]int{true: -1, false: 1}[a.Session < b.Session]
			}
			return a.Index - b.Index
		}
		slices.SortFunc(got, key)
		slices.SortFunc(want, key)
		if !slices.Equal(got, want) {
			t.Errorf("pass %d shows %v, want every training image once", pass, got)
		}
	}
}

// With TestEvery = 3, positions 0, 3, 6, … pass over the test sessions' training images, and the
// others pass over all training images in the order of the stream without it.
func TestStreamTestEvery(t *testing.T) {
	sessions := []Session{
		{ID: "a", Images: randomImages(1, 12), Exclude: func(k int) bool { return k >= 6 }, Test: true},
		{ID: "b", Images: randomImages(2, 10)},
	}
	plain, err := New(sessions, Config{HeldOut: 4, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(sessions, Config{HeldOut: 4, Seed: 7, TestEvery: 3})
	if err != nil {
		t.Fatal(err)
	}
	nt := len(s.test)
	if nt == 0 || nt >= s.Train() {
		t.Fatalf("%d test-session training images of %d", nt, s.Train())
	}
	var tests, others []Ref
	for p := range int64(6 * nt) {
		r := s.trainRef(p)
		if p%3 == 0 {
			tests = append(tests, r)
		} else {
			others = append(others, r)
		}
	}
	for pass := range 2 {
		got := slices.Clone(tests[pass*nt : (pass+1)*nt])
		slices.SortFunc(got, func(a, b Ref) int { return a.Index - b.Index })
		if !slices.Equal(got, s.test) {
			t.Errorf("pass %d of the test stream shows %v, want each of %v once", pass, got, s.test)
		}
	}
	for i, r := range others {
		if want := plain.trainRef(int64(i)); r != want {
			t.Fatalf("general image %d is %v, want %v (the stream without test images)", i, r, want)
		}
	}
	if _, err := New(sessions[1:], Config{HeldOut: 4, Seed: 7, TestEvery: 3}); err == nil {
		t.Error("TestEvery without a test session: no error")
	}
}

func TestTransforms(t *testing.T) {
	src := randomImages(3, 1).Pix
	f := make([]float32, pixels)
	for i, v := range src {
		f[i] = float32(v)
	}
	orig := slices.Clone(f)
	tmp := make([]float32, pixels)
	rotate(f, tmp, 1)
	if slices.Equal(f, orig) {
		t.Error("a quarter turn changed nothing")
	}
	rotate(f, tmp, 3)
	if !slices.Equal(f, orig) {
		t.Error("quarter turn then three quarters is not the identity")
	}
	rotate(f, tmp, 2)
	rotate(f, tmp, 2)
	mirror(f)
	mirror(f)
	if !slices.Equal(f, orig) {
		t.Error("two half turns and two mirrors are not the identity")
	}
	out := make([]float32, pixels)
	resample(src, 0, 0, Size, Size, out, 0, 0, Size, Size)
	if !slices.Equal(out, orig) {
		t.Error("resampling the whole image to its own size changed it")
	}
	shift(src, 0, 0, out)
	if !slices.Equal(out, orig) {
		t.Error("a zero shift changed the image")
	}
	shift(src, 5, -3, out)
	if out[((10+0)*Size+20)*3] != orig[((10+3)*Size+15)*3] || out[(0*Size+2)*3] != orig[(3*Size+2)*3] {
		t.Error("shift by (5, -3) misplaces pixels")
	}
	copy(out, orig)
	gaudy(out)
	for _, v := range out {
		if v != 0 && v != 255 {
			t.Fatalf("gaudy value %v", v)
		}
	}
	if reflect(-1, 4) != 0 || reflect(4, 4) != 3 || reflect(-6, 4) != 2 {
		t.Error("reflect")
	}
}

func TestFamilies(t *testing.T) {
	for _, s := range []string{"mirror,rot90", "crop,shift,colour,mosaic,gaudy", "none"} {
		f, err := ParseFamilies(s)
		if err != nil || f.String() != s {
			t.Errorf("%q: %v, %v", s, f, err)
		}
	}
	if f, err := ParseFamilies("all"); err != nil || f != AllFamilies {
		t.Errorf("all: %v %v", f, err)
	}
	if _, err := ParseFamilies("mirror,blur"); err == nil {
		t.Error("unknown family accepted")
	}
}

// On the local data: every image outside the evaluation halves and, unless kept, the synthesized
// images upstream's training class leaves out.
func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("decodes every image of the data directory")
	}
	st, err := v4data.Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, synth := range []bool{false, true} {
		s, absent, err := Load(st, Config{HeldOut: 1000, Seed: 1, Families: AllFamilies, LeaveOutSynth: !synth})
		if err != nil {
			t.Fatal(err)
		}
		total, tests, synths := 0, 0, 0
		for _, ss := range s.sessions {
			n := ss.Images.N
			ts, ok := v4data.LookupTestSession(ss.ID)
			if ok {
				n = ts.Half()
				tests += n
			}
			if first, end := v4data.SynthImages(ss.ID); end > first {
				synths += end - first
				if !synth {
					n -= end - first
				}
			}
			if ss.Test != ok {
				t.Errorf("session %s marked Test %v", ss.ID, ss.Test)
			}
			total += n
		}
		if held := len(s.HeldOut()); s.TestImages() > tests || s.TestImages() < tests-held {
			t.Errorf("%d training images of test sessions, want %d less those among the %d held out", s.TestImages(), tests, held)
		}
		t.Logf("synthesized images kept %v: %d sessions (%d absent), %d base images (%d synthesized images in the archives)", synth, len(s.sessions), len(absent), total, synths)
		if s.Train()+len(s.HeldOut()) != total || len(s.HeldOut()) != 1000 {
			t.Errorf("synthesized images kept %v: %d training + %d held-out images, want %d in all", synth, s.Train(), len(s.HeldOut()), total)
		}
		for _, r := range append(s.HeldOut(), s.train...) {
			if first, end := v4data.SynthImages(r.Session); !synth && r.Index >= first && r.Index < end {
				t.Fatalf("base image %+v is a synthesized image", r)
			}
		}
	}
}

// BenchmarkFill times the stream's making of one batch of 64 images with every family.
func BenchmarkFill(b *testing.B) {
	s, err := New([]Session{{ID: "a", Images: randomImages(1, 200)}}, Config{HeldOut: 10, Seed: 3, Families: AllFamilies})
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]uint8, 64*pixels)
	b.ResetTimer()
	for i := range b.N {
		if err := s.Fill(int64(i)*64, 64, dst); err != nil {
			b.Fatal(err)
		}
	}
}
