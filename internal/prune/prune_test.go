package prune

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// newStudent returns a compact model with Keras' initial weights drawn from seed.
func newStudent(t testing.TB, filters [model.NumLayers]int, seed uint64) *model.Network {
	t.Helper()
	net, err := model.NewCompact(filters)
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(net, seed); err != nil {
		t.Fatal(err)
	}
	return net
}

// randomImages returns n uint8 RGB images of 112×112.
func randomImages(n int, seed uint64) []uint8 {
	r := rand.New(rand.NewPCG(seed, 1))
	pix := make([]uint8, n*model.ImageSize*model.ImageSize*3)
	for i := range pix {
		pix[i] = uint8(r.IntN(256))
	}
	return pix
}

func predict(t testing.TB, net *model.Network, pix []uint8, n int) []float64 {
	t.Helper()
	c, err := nn.Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Predict(pix, n)
	if err != nil {
		t.Fatal(err)
	}
	y := make([]float64, n)
	for i, v := range out {
		y[i] = float64(v)
	}
	return y
}

// conv returns layer l's convolution: weights (kernel, bias) for l = 0, (depthwise, pointwise,
// bias) otherwise.
func conv(net *model.Network, l int) *model.Layer { return net.Layer(fmt.Sprintf("layer%d_conv", l)) }

// outWeights returns layer l's output weights, the kernel (layer 0) or the pointwise kernel
// (last axis: the layer's filters), and its bias.
func outWeights(net *model.Network, l int) (w *model.Tensor, bias *model.Tensor) {
	c := conv(net, l)
	if l == 0 {
		return &c.Weights[0], &c.Weights[1]
	}
	return &c.Weights[1], &c.Weights[2]
}

// kill makes filter f of layer l output zero on every image: its bias is so negative that the
// ReLU after its batchnorm is never positive.
func kill(net *model.Network, l, f int) {
	_, b := outWeights(net, l)
	b.Data[f] = -1e6
}

// duplicate makes filter b of layer l a copy of filter a, and layer l+1 read it as it reads a
// (same depthwise kernel, same pointwise row), so that the two contribute identically.
func duplicate(net *model.Network, l, a, b int) {
	w, bias := outWeights(net, l)
	cout := w.Shape[3]
	for i := 0; i < len(w.Data); i += cout {
		w.Data[i+b] = w.Data[i+a]
	}
	bias.Data[b] = bias.Data[a]
	next := conv(net, l+1)
	dw, pw := &next.Weights[0], &next.Weights[1]
	cin := dw.Shape[2]
	for i := 0; i < len(dw.Data); i += cin {
		dw.Data[i+b] = dw.Data[i+a]
	}
	n := pw.Shape[3]
	copy(pw.Data[b*n:(b+1)*n], pw.Data[a*n:(a+1)*n])
}

// scaleBeta multiplies the readout weights of layer-4 filter f (its outgoing weights) by s.
func scaleBeta(net *model.Network, f int, s float32) {
	beta := net.Layer("Beta").Weights[0]
	f4 := conv(net, 4).Filters
	for p := f; p < len(beta.Data); p += f4 {
		beta.Data[p] *= s
	}
}

const nImages = 12

// TestInnerLayerDuplicates builds, in one layer l, six dead filters and two duplicated ones. The
// dead filters score 0 and their removal keeps the pointwise output of layer l+1 exactly
// (fv = 1); removing one of the duplicates leaves half of it, fv = 1 − 1/4 = 0.75. Upstream
// removes the dead filters and one duplicate (B9: the removal that breaks 0.9), the exact rule
// only the dead ones.
func TestInnerLayerDuplicates(t *testing.T) {
	for _, l := range []int{0, 1, 2, 3} {
		t.Run(fmt.Sprintf("layer%d", l), func(t *testing.T) {
			net := newStudent(t, [5]int{8, 8, 8, 8, 8}, 11+uint64(l))
			dead := []int{0, 2, 3, 5, 6, 7}
			for _, f := range dead {
				kill(net, l, f)
			}
			duplicate(net, l, 1, 4)
			pix := randomImages(nImages, 5)
			teacher := predict(t, net, pix, nImages)
			for _, exact := range []bool{false, true} {
				res, err := Step1(net, pix, nImages, teacher, Options{MinFilters: 1, Exact: exact})
				if err != nil {
					t.Fatal(err)
				}
				s := res.Steps[4-l]
				if s.Layer != l {
					t.Fatalf("step %d is layer %d", 4-l, s.Layer)
				}
				for _, f := range dead {
					if s.Scores[f] != 0 {
						t.Errorf("dead filter %d scores %v", f, s.Scores[f])
					}
				}
				if s.Scores[1] <= 0 || math.Abs(s.Scores[1]-s.Scores[4]) > 1e-6*s.Scores[1] {
					t.Errorf("duplicates score %v and %v", s.Scores[1], s.Scores[4])
				}
				fvs := map[int]float64{}
				for _, p := range s.Tested {
					fvs[p.Removed] = p.FV
				}
				if fvs[6] != 1 || math.Abs(fvs[7]-0.75) > 1e-5 {
					t.Errorf("fv(6) = %v, fv(7) = %v; want 1 and 0.75 (tested %v)", fvs[6], fvs[7], s.Tested)
				}
				t.Logf("exact %v: tested %v, kept %v", exact, s.Tested, s.Kept)
				if !exact {
					if s.Count != 7 || len(s.Kept) != 1 || (s.Kept[0] != 1 && s.Kept[0] != 4) {
						t.Errorf("upstream rule: count %d, kept %v; want 7 and one of the duplicates", s.Count, s.Kept)
					}
				} else if s.Count != 6 || !slices.Equal(s.Kept, []int{1, 4}) {
					t.Errorf("exact rule: count %d, kept %v; want 6 and [1 4]", s.Count, s.Kept)
				}
			}
		})
	}
}

// TestLastLayerZeroOutgoing gives six layer-4 filters zero readout weights (their contributions
// are 0: standard deviation 0, ranked first, and leaving them out changes nothing) and keeps two,
// c and d, with std(u_c) < std(u_d). The teacher is u_c with its projection on u_d taken out, so
// that once c is left out the remaining sum u_d is uncorrelated with it (fv ≈ 0). Upstream lists
// the six and c for removal (B9), the exact rule the six; MinFilters then decides what is left.
func TestLastLayerZeroOutgoing(t *testing.T) {
	net := newStudent(t, [5]int{8, 8, 8, 8, 8}, 3)
	const c, d = 2, 5
	zero := []int{0, 1, 3, 4, 6, 7}
	for _, f := range zero {
		scaleBeta(net, f, 0)
	}
	scaleBeta(net, d, 10)
	pix := randomImages(nImages, 9)
	only := func(keep int) []float64 {
		m := net.Clone()
		scaleBeta(m, c+d-keep, 0)
		return predict(t, m, pix, nImages)
	}
	uc, ud := only(c), only(d)
	mc, md := metrics.Mean(uc), metrics.Mean(ud)
	var cov, vd float64
	for i := range uc {
		cov += (uc[i] - mc) * (ud[i] - md)
		vd += (ud[i] - md) * (ud[i] - md)
	}
	teacher := make([]float64, nImages)
	for i := range teacher {
		teacher[i] = uc[i] - cov/vd*ud[i]
	}
	for _, tc := range []struct {
		exact bool
		min   int
		count int
		kept  []int
	}{
		{false, 1, 7, []int{d}},
		{true, 1, 6, []int{c, d}},
		{false, 0, 7, []int{c, d, 7}}, // MinFilters 3: the last zero filter in index order stays
		{true, 0, 6, []int{c, d, 7}},
	} {
		res, err := Step1(net, pix, nImages, teacher, Options{MinFilters: tc.min, Exact: tc.exact})
		if err != nil {
			t.Fatal(err)
		}
		s := res.Steps[0]
		if s.Layer != 4 || s.Criterion != CriterionOutput {
			t.Fatalf("first step: layer %d, %s", s.Layer, s.Criterion)
		}
		for _, f := range zero {
			if s.Scores[f] != 0 {
				t.Errorf("filter %d with zero readout scores %v", f, s.Scores[f])
			}
		}
		if !(0 < s.Scores[c] && s.Scores[c] < s.Scores[d]) {
			t.Fatalf("scores of c and d: %v, %v; the test needs 0 < c < d", s.Scores[c], s.Scores[d])
		}
		if len(s.Tested) != 8 {
			t.Fatalf("tested %v, want counts 0-7", s.Tested)
		}
		for j, p := range s.Tested[:7] {
			if p.FV != s.FVFull {
				t.Errorf("fv(%d) = %v, want fv_full %v", j, p.FV, s.FVFull)
			}
		}
		if fv := s.Tested[7].FV; fv > 1e-9 {
			t.Errorf("fv without c = %v, want 0", fv)
		}
		slices.Sort(tc.kept)
		if s.Count != tc.count || !slices.Equal(s.Kept, tc.kept) {
			t.Errorf("exact %v, min %d: count %d, kept %v; want %d, %v", tc.exact, tc.min, s.Count, s.Kept, tc.count, tc.kept)
		}
		if res.FiltersAfter[4] != len(tc.kept) {
			t.Errorf("FiltersAfter %v", res.FiltersAfter)
		}
	}
}

// TestStep1Deterministic checks that the decisions do not depend on the batch size or the number
// of goroutines, and that every layer keeps at least MinFilters.
func TestStep1Deterministic(t *testing.T) {
	net := newStudent(t, [5]int{10, 9, 8, 7, 6}, 21)
	pix := randomImages(nImages, 22)
	teacher := predict(t, net, pix, nImages)
	r := rand.New(rand.NewPCG(23, 0))
	for i := range teacher {
		teacher[i] += 0.3 * r.NormFloat64() * math.Abs(teacher[i])
	}
	var first []byte
	for _, o := range []Options{{}, {Batch: 5, Workers: 1}, {Batch: 1, Workers: 2}} {
		res, err := Step1(net, pix, nImages, teacher, o)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
			for l, f := range res.FiltersAfter {
				if f < DefaultMinFilters || f > res.FiltersBefore[l] {
					t.Errorf("layer %d keeps %d of %d filters", l, f, res.FiltersBefore[l])
				}
			}
			t.Logf("filters %v -> %v, params %d -> %d", res.FiltersBefore, res.FiltersAfter, res.ParamsBefore, res.Steps[4].Params)
			continue
		}
		if !bytes.Equal(b, first) {
			t.Errorf("options %+v: result differs from the default options'", o)
		}
	}
}

func TestStep1Errors(t *testing.T) {
	net := newStudent(t, [5]int{4, 4, 4, 4, 4}, 1)
	pix := randomImages(3, 2)
	good := predict(t, net, pix, 3)
	shared, err := model.NewShared(5, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		net     *model.Network
		pix     []uint8
		n       int
		teacher []float64
		opts    Options
		want    string
	}{
		{"teacher length", net, pix, 3, good[:2], Options{}, "3 images and 2 teacher responses"},
		{"one image", net, pix[:len(pix)/3], 1, good[:1], Options{}, "at least 2"},
		{"NaN teacher", net, pix, 3, []float64{1, math.NaN(), 2}, Options{}, "teacher response 1 is NaN"},
		{"constant teacher", net, pix, 3, []float64{1, 1, 1}, Options{}, "constant"},
		{"short images", net, pix[:100], 3, good, Options{}, "bytes of images"},
		{"not compact", shared, pix, 3, good, Options{}, "not a compact model"},
		{"threshold", net, pix, 3, good, Options{Threshold: 1.5}, "threshold 1.5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Step1(tt.net, tt.pix, tt.n, tt.teacher, tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
			if !errors.Is(err, ErrInput) {
				t.Errorf("%v does not wrap ErrInput", err)
			}
		})
	}
}

// mask zeroes the removed filters' weights as upstream's prune_model does: the filter's output
// weights and bias, the next layer's depthwise kernel and pointwise row for it, or for layer 4
// its Beta slice. Batchnorm parameters stay.
func mask(net *model.Network, kept [model.NumLayers][]int) *model.Network {
	m := net.Clone()
	for l := range model.NumLayers {
		w, bias := outWeights(m, l)
		cout := w.Shape[3]
		for f := range cout {
			if slices.Contains(kept[l], f) {
				continue
			}
			for i := f; i < len(w.Data); i += cout {
				w.Data[i] = 0
			}
			bias.Data[f] = 0
			if l == model.NumLayers-1 {
				scaleBeta(m, f, 0)
				continue
			}
			next := conv(m, l+1)
			dw, pw := &next.Weights[0], &next.Weights[1]
			for i := f; i < len(dw.Data); i += cout {
				dw.Data[i] = 0
			}
			n := pw.Shape[3]
			clear(pw.Data[f*n : (f+1)*n])
		}
	}
	return m
}

// TestReconstructPredictsAsMasked checks that the reconstructed network computes what the student
// computes with the removed filters zeroed (upstream's prune_model), and, where the removed
// filters were dead or had zero outgoing weights, what the student itself computes.
func TestReconstructPredictsAsMasked(t *testing.T) {
	net := newStudent(t, [5]int{9, 8, 7, 6, 5}, 31)
	for _, f := range []int{0, 4} {
		kill(net, 1, f)
	}
	scaleBeta(net, 2, 0)
	pix := randomImages(6, 32)
	want := predict(t, net, pix, 6)
	all := func(n int) []int { return every(n) }
	tests := []struct {
		name string
		kept [5][]int
		same bool // the student's own predictions
	}{
		{"nothing removed", [5][]int{all(9), all(8), all(7), all(6), all(5)}, true},
		{"dead and zero-readout filters", [5][]int{all(9), {1, 2, 3, 5, 6, 7}, all(7), all(6), {0, 1, 3, 4}}, true},
		{"live filters", [5][]int{{0, 3, 8}, {1, 2, 7}, {0, 6}, {2, 3, 5}, {4}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec, err := Reconstruct(net, tt.kept)
			if err != nil {
				t.Fatal(err)
			}
			f, err := model.CompactFilters(rec)
			if err != nil {
				t.Fatal(err)
			}
			for l := range f {
				if f[l] != len(tt.kept[l]) {
					t.Fatalf("filters %v for kept %v", f, tt.kept)
				}
			}
			ref := want
			if !tt.same {
				ref = predict(t, mask(net, tt.kept), pix, 6)
			}
			got := predict(t, rec, pix, 6)
			scale := 0.0
			for _, v := range ref {
				scale = max(scale, math.Abs(v))
			}
			for i := range got {
				if math.Abs(got[i]-ref[i]) > 1e-5*scale+1e-6 {
					t.Errorf("image %d: reconstructed %v, reference %v", i, got[i], ref[i])
				}
			}
		})
	}
}

// TestReconstructSlices checks individual weights of a reconstructed network against the
// student's.
func TestReconstructSlices(t *testing.T) {
	net := newStudent(t, [5]int{4, 5, 3, 4, 2}, 41)
	for _, w := range net.Weights() { // distinct batchnorm values, so that slicing shows
		for i := range w.Data {
			if w.Data[i] == 0 || w.Data[i] == 1 {
				w.Data[i] = float32(len(w.Data)*7+i) / 1000
			}
		}
	}
	kept := [5][]int{{1, 3}, {0, 4}, {2}, {0, 1, 3}, {1}}
	rec, err := Reconstruct(net, kept)
	if err != nil {
		t.Fatal(err)
	}
	at := func(t *model.Tensor, idx ...int) float32 {
		k := 0
		for d, i := range idx {
			k = k*t.Shape[d] + i
		}
		return t.Data[k]
	}
	src, dst := net.Weights(), rec.Weights()
	checks := []struct {
		name     string
		got, val float32
	}{
		{"layer0 kernel", at(dst[0], 4, 2, 1, 1), at(src[0], 4, 2, 1, 3)},
		{"layer0 bias", at(dst[1], 0), at(src[1], 1)},
		{"layer0 moving variance", at(dst[5], 1), at(src[5], 3)},
		{"layer1 depthwise", at(dst[6], 3, 0, 1, 0), at(src[6], 3, 0, 3, 0)},
		{"layer1 pointwise", at(dst[7], 0, 0, 1, 1), at(src[7], 0, 0, 3, 4)},
		{"layer1 gamma", at(dst[9], 1), at(src[9], 4)},
		{"layer3 pointwise", at(dst[21], 0, 0, 0, 2), at(src[21], 0, 0, 2, 3)},
		{"layer4 pointwise", at(dst[28], 0, 0, 2, 0), at(src[28], 0, 0, 3, 1)},
		{"layer4 gamma", at(dst[30], 0), at(src[30], 1)},
		{"Beta", at(dst[34], 100, 0), at(src[34], 100*2+1, 0)},
		{"Beta bias", at(dst[35], 0), at(src[35], 0)},
	}
	for _, c := range checks {
		if c.got != c.val {
			t.Errorf("%s: %v, want %v", c.name, c.got, c.val)
		}
	}
	if rec.Params().Total != model.CompactParams([5]int{2, 2, 1, 3, 1}) {
		t.Errorf("params %d", rec.Params().Total)
	}
	for _, bad := range [][5][]int{
		{{1, 3}, {0, 4}, {}, {0}, {1}},
		{{3, 1}, {0}, {0}, {0}, {0}},
		{{1, 1}, {0}, {0}, {0}, {0}},
		{{4}, {0}, {0}, {0}, {0}},
	} {
		if _, err := Reconstruct(net, bad); !errors.Is(err, ErrInput) {
			t.Errorf("kept %v: err = %v", bad, err)
		}
	}
}

// TestKeptAfter checks the path's intermediate kept sets.
func TestKeptAfter(t *testing.T) {
	r := &Result{FiltersBefore: [5]int{3, 3, 3, 3, 3}, Steps: []Layer{{Layer: 4, Kept: []int{1}}, {Layer: 3, Kept: []int{0, 2}}}}
	if got := r.KeptAfter(0); !slices.Equal(got[4], []int{0, 1, 2}) {
		t.Errorf("KeptAfter(0) = %v", got)
	}
	got := r.KeptAfter(1)
	if !slices.Equal(got[4], []int{1}) || !slices.Equal(got[3], []int{0, 1, 2}) {
		t.Errorf("KeptAfter(1) = %v", got)
	}
	if got := r.Kept(); !slices.Equal(got[3], []int{0, 2}) || !slices.Equal(got[4], []int{1}) {
		t.Errorf("Kept() = %v", got)
	}
}
