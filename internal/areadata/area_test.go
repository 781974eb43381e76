package areadata

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/metrics"
)

func readFixture(t *testing.T, name string) *Assembly {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(seedDir, name+".nc"))
	if err != nil {
		t.Fatal(err)
	}
	a, err := ReadAssembly(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestAssemblyArea: both fixtures' bins lie inside 70–170 ms, so the area's responses are
// Responses' (the 2-bin fixture's mean of its bins, checked against xarray in TestReadAssembly);
// objects come from the stimulus set in image order.
func TestAssemblyArea(t *testing.T) {
	st, err := ReadStimuli(strings.NewReader("image_id,image_file_name,object_name\nimg_a,a.png,car\nimg_b,b.png,face\nimg_c,c.png,car\nimg_d,d.png,face\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"assembly_1bin", "assembly_2bins"} {
		a := readFixture(t, name)
		ar, err := a.Area("IT", st)
		if err != nil {
			t.Fatal(err)
		}
		r, images, err := a.Responses("x", "IT")
		if err != nil {
			t.Fatal(err)
		}
		if ar.Name != "MajajHong2015 IT" || !slices.Equal(ar.ImageIDs, images) || ar.Window != BrainScoreWindow {
			t.Errorf("%s: area %q images %v window %v", name, ar.Name, ar.ImageIDs, ar.Window)
		}
		for i, id := range ar.ImageIDs {
			want := map[string]string{"img_a": "car", "img_b": "face", "img_c": "car", "img_d": "face"}[id]
			if ar.Objects[i] != want {
				t.Errorf("%s: object of %s is %q, want %q", name, id, ar.Objects[i], want)
			}
		}
		if !slices.EqualFunc(ar.Resp.Raw.Data, r.Raw.Data, sameFloat) {
			t.Errorf("%s: raw responses differ from Responses'", name)
		}
	}
	short, err := ReadStimuli(strings.NewReader("image_id,image_file_name,object_name\nimg_a,a.png,car\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readFixture(t, "assembly_1bin").Area("IT", short); err == nil || !strings.Contains(err.Error(), "not in the stimulus set") {
		t.Errorf("an image missing from the stimulus set: %v", err)
	}
}

func sameFloat(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// TestAssemblyWindow: bins outside the window are dropped, a straddling bin or no bin inside is
// an error.
func TestAssemblyWindow(t *testing.T) {
	a := &Assembly{
		NeuroidIDs: []string{"n0"}, Regions: []string{"IT"}, Animals: []string{"x"},
		ImageIDs: []string{"i0", "i1"}, Repetitions: []int64{0, 0},
		BinStart: []int64{0, 70, 120}, BinEnd: []int64{70, 120, 170},
		Data: []float64{100, 1, 3, 200, 5, 7},
	}
	ar, err := a.Area("IT", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ar.Resp.Averaged[0]; got[0] != 2 || got[1] != 6 || ar.Objects != nil {
		t.Errorf("averages over 70–170 ms: %v (objects %v), want [2 6]", got, ar.Objects)
	}
	a.BinStart, a.BinEnd = []int64{50, 150}, []int64{150, 250}
	if _, err := a.Area("IT", nil); err == nil || !strings.Contains(err.Error(), "straddles") {
		t.Errorf("straddling bins: %v", err)
	}
	a.BinStart, a.BinEnd = []int64{0, 200}, []int64{70, 300}
	if _, err := a.Area("IT", nil); err == nil || !strings.Contains(err.Error(), "no time bin") {
		t.Errorf("no bin inside: %v", err)
	}
}

// TestSplit: sizes are Brain-Score's (floor of 90 % to fit), each object contributes its share
// of the evaluation images, the parts cover the images once, and the draw depends on the seed
// alone.
func TestSplit(t *testing.T) {
	objects := make([]string, 0, 64)
	for i := range 64 {
		objects = append(objects, []string{"a", "b", "c", "d"}[i%4]+map[bool]string{true: "", false: "x"}[i < 40])
	}
	ar := &Area{Name: "test", ImageIDs: make([]string, 64), Objects: objects}
	tests := []struct {
		name    string
		objects []string
		train   float64
		nEval   int
	}{
		{"stratified 0.9", objects, BrainScoreTrainSize, 7},
		{"stratified 0.5", objects, 0.5, 32},
		{"unstratified 0.9", nil, BrainScoreTrainSize, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ar.Objects = tt.objects
			s, err := ar.Split(tt.train, 3)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Eval) != tt.nEval || len(s.Fit)+len(s.Eval) != 64 {
				t.Fatalf("fit %d eval %d, want eval %d of 64", len(s.Fit), len(s.Eval), tt.nEval)
			}
			all := append(slices.Clone(s.Fit), s.Eval...)
			slices.Sort(all)
			for i, v := range all {
				if v != i {
					t.Fatalf("parts do not cover the images once: %v", all)
				}
			}
			again, _ := ar.Split(tt.train, 3)
			if !slices.Equal(again.Eval, s.Eval) {
				t.Error("same seed, different split")
			}
			if other, _ := ar.Split(tt.train, 4); slices.Equal(other.Eval, s.Eval) {
				t.Error("seeds 3 and 4 give the same split")
			}
			if tt.objects != nil {
				count := map[string]int{}
				for _, i := range s.Eval {
					count[tt.objects[i]]++
				}
				size := map[string]int{}
				for _, o := range tt.objects {
					size[o]++
				}
				for o, n := range size {
					share := float64(n) * float64(tt.nEval) / 64
					if c := float64(count[o]); c < math.Floor(share) || c > math.Ceil(share) {
						t.Errorf("object %s: %v evaluation images, share %.2f", o, c, share)
					}
				}
			}
		})
	}
	for _, bad := range []float64{0, 1, 0.001, math.NaN()} {
		if _, err := ar.Split(bad, 1); err == nil {
			t.Errorf("train size %v accepted", bad)
		}
	}
}

// TestAreaPartScore: a part's r²_ER through eval.Score is metrics.R2ER of the selected raw
// repeats, on the Cadena fixture (unequal repeats, NaN slots).
func TestAreaPartScore(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(cadenaDir, "cadena_small.pkl"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := ReadCadena(b)
	if err != nil {
		t.Fatal(err)
	}
	ar, err := c.Area(nil)
	if err != nil {
		t.Fatal(err)
	}
	images := []int{4, 0, 2}
	part, err := ar.Part("eval", images)
	if err != nil {
		t.Fatal(err)
	}
	pred := make([][]float64, part.Neurons())
	for n := range pred {
		pred[n] = []float64{1, 3, float64(n) + 2}
	}
	s, err := eval.Score(part, pred, metrics.R2EROptions{})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := ar.Resp.Raw.Select(images)
	if err != nil {
		t.Fatal(err)
	}
	want, err := metrics.R2ER(raw, pred, metrics.R2EROptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.EqualFunc(s.R2ER, want, sameFloat) {
		t.Errorf("r²_ER %v, want %v", s.R2ER, want)
	}
	for n := range part.Averaged {
		for j, i := range images {
			if !sameFloat(part.Averaged[n][j], ar.Resp.Averaged[n][i]) {
				t.Errorf("averaged[%d][%d] = %v, want %v", n, j, part.Averaged[n][j], ar.Resp.Averaged[n][i])
			}
		}
	}
	if _, err := ar.Part("x", []int{5}); err == nil {
		t.Error("an image out of range was accepted")
	}
}
