package ensemblefit

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"compactv4/internal/ensemble"
	"compactv4/internal/mapping"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/nn"
)

// narrowTeacher is a narrowed teacher with random weights: ResNet50 divided by 64 (16 channels at
// conv4_block4_out, Keras' initialisation from a seed) and two members read from the narrowed
// member archive of internal/ensemble's tests, the second with its weights scaled.
func narrowTeacher(t *testing.T) *Teacher {
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
	in := model.Shape{H: 14, W: 14, C: 16}
	path := filepath.Join("..", "ensemble", "testdata", "member_narrow.keras")
	_, m0, err := ensemble.ReadMember(path, in)
	if err != nil {
		t.Fatal(err)
	}
	net1, _, err := ensemble.ReadMember(path, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range net1.Weights() {
		for i := range w.Data {
			w.Data[i] *= 1 + 0.1*float32(i%3)
		}
	}
	m1, err := nn.CompileGraph(net1)
	if err != nil {
		t.Fatal(err)
	}
	return &Teacher{Trunk: trunk, Members: []*nn.GraphNet{m0, m1}, Batch: 7}
}

// The whole path on random weights: trunk features and embeddings do not depend on the batch
// size, and the ridge fit is the average of the members' own fits (the held-out correlation with
// responses that are a linear read-out of the members' mean embedding is logged).
func TestTeacherRidge(t *testing.T) {
	const n, size, neurons = 40, 112, 3
	tc := narrowTeacher(t)
	rng := rand.New(rand.NewPCG(5, 5))
	pix := make([]uint8, n*size*size*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	feats, err := tc.TrunkFeatures(pix, n, size)
	if err != nil {
		t.Fatal(err)
	}
	one := *tc
	one.Batch = n
	feats1, err := one.TrunkFeatures(pix, n, size)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(feats, feats1) {
		t.Fatal("trunk features depend on the batch size")
	}
	var embs []mapping.Features
	for i := range tc.Members {
		f, err := tc.Embeddings(i, feats, n)
		if err != nil {
			t.Fatal(err)
		}
		g, err := one.Embeddings(i, feats, n)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(f.X, g.X) {
			t.Fatalf("member %d: embeddings depend on the batch size", i)
		}
		if f.P%(ensemble.EmbeddingSize*ensemble.EmbeddingSize) != 0 {
			t.Fatalf("member %d: %d embedding values per image, not 7×7×C", i, f.P)
		}
		embs = append(embs, f)
	}
	// Responses: a random linear read-out of the members' mean embedding.
	y := make([][]float64, neurons)
	for nu := range y {
		w := make([]float64, embs[0].P)
		for j := range w {
			w[j] = rng.NormFloat64()
		}
		y[nu] = make([]float64, n)
		for i := range n {
			for j := range w {
				y[nu][i] += w[j] * float64(embs[0].X[i*embs[0].P+j]+embs[1].X[i*embs[1].P+j]) / 2
			}
		}
	}
	train, rows := make([]int, 30), make([]int, 10)
	for i := range train {
		train[i] = i
	}
	for i := range rows {
		rows[i] = 30 + i
	}
	ytrain := make([][]float64, neurons)
	for nu := range y {
		ytrain[nu] = y[nu][:30]
	}
	pred, err := tc.Ridge(feats, n, train, rows, ytrain, 1e-3)
	if err != nil {
		t.Fatal(err)
	}
	// The average of the members' own ridge fits, computed separately.
	want := make([][]float64, neurons)
	for nu := range want {
		want[nu] = make([]float64, len(rows))
	}
	for _, f := range embs {
		d, err := mapping.NewDesign(f)
		if err != nil {
			t.Fatal(err)
		}
		fit, err := d.Fit(train, ytrain, 1e-3)
		if err != nil {
			t.Fatal(err)
		}
		p, err := fit.Predict(rows)
		if err != nil {
			t.Fatal(err)
		}
		for nu := range p {
			for k, v := range p[nu] {
				want[nu][k] += v / float64(len(embs))
			}
		}
	}
	for nu := range pred {
		for k := range pred[nu] {
			if d := math.Abs(pred[nu][k] - want[nu][k]); d > 1e-12*(1+math.Abs(want[nu][k])) {
				t.Fatalf("neuron %d image %d: %v, the members' own fits %v", nu, rows[k], pred[nu][k], want[nu][k])
			}
		}
		r, err := metrics.Pearson(pred[nu], y[nu][30:])
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("neuron %d: held-out r %.3f", nu, r)
	}
	if _, err := tc.Ridge(feats, n, train, rows, ytrain, mapping.Auto); err != nil {
		t.Fatalf("default alpha: %v", err)
	}
}
