package sharedfilters

import (
	"math/rand/v2"
	"testing"

	"compactv4/eval"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

func TestSummariseConsolidation(t *testing.T) {
	ms := []*eval.Compact{
		{Filters: [5]int{40, 50, 3, 7, 3}},
		{Filters: [5]int{20, 60, 10, 3, 3}},
		{Filters: [5]int{30, 10, 3, 3, 3}},
	}
	pr := [][model.NumLayers]float64{{10, 8, 2, 2, 1.5}, {5, 6, 3, 2.5, 2}, {6, 4, 2.5, 2, 1}}
	c, err := summariseConsolidation(ms, pr)
	if err != nil {
		t.Fatal(err)
	}
	if c.MedianFilters != [5]float64{30, 50, 3, 3, 3} {
		t.Errorf("median filters %v", c.MedianFilters)
	}
	// Filters narrow most at 1→2 in every model (model 2: 10/30 = 0.33 at 0→1, 3/10 = 0.3 at 1→2).
	if c.FilterNarrow[0] != 2 || c.FilterNarrow[1] != 2 || c.FilterNarrow[2] != 2 {
		t.Errorf("filter narrowing %v", c.FilterNarrow)
	}
	// Dimensionality: model 0 at 1→2 (0.25), model 1 at 1→2 (0.5), model 2 at 3→4 (0.5; 1→2 is 0.625).
	if c.PRNarrow[0] != 2 || c.PRNarrow[1] != 2 || c.PRNarrow[2] != 4 {
		t.Errorf("dimensionality narrowing %v", c.PRNarrow)
	}
	if c.FilterNarrowN[2] != 3 || c.PRNarrowN[2] != 2 || c.PRNarrowN[4] != 1 {
		t.Errorf("counts %v %v", c.FilterNarrowN, c.PRNarrowN)
	}
	if c.ThreeInLayer2 != 2 {
		t.Errorf("three in layer 2: %d", c.ThreeInLayer2)
	}
	if _, err := summariseConsolidation(ms, pr[:2]); err == nil {
		t.Error("length mismatch accepted")
	}
}

// TestPatchMetric checks that dot products of transformed filters are the Pearson correlations
// of the filters' responses over every valid position of some images.
func TestPatchMetric(t *testing.T) {
	const n, h, w, c = 3, 9, 11, 3
	src := rand.New(metrics.NewSource(5))
	x := make([]float32, n*h*w*c)
	for i := range x {
		// Correlated neighbours, like images: a smooth ramp plus noise.
		x[i] = float32(0.01*float64(i%(w*c)) + src.NormFloat64())
	}
	cov, count, err := eval.PatchCovariance(x, n, h, w, c, kernelSize)
	if err != nil {
		t.Fatal(err)
	}
	if count != n*(h-4)*(w-4) {
		t.Fatalf("%d patches", count)
	}
	pm, err := factorPatchCov(cov, 75, count)
	if err != nil {
		t.Fatal(err)
	}
	fa, fb := make([]float64, 75), make([]float64, 75)
	for i := range fa {
		fa[i], fb[i] = src.NormFloat64(), src.NormFloat64()+0.5*fa[i]
	}
	resp := func(f []float64) []float64 {
		var out []float64
		for k := 0; k < n; k++ {
			for y := 0; y+5 <= h; y++ {
				for xx := 0; xx+5 <= w; xx++ {
					var s float64
					for i := 0; i < 5; i++ {
						for j := 0; j < 5; j++ {
							for ch := 0; ch < c; ch++ {
								s += f[(i*5+j)*c+ch] * float64(x[((k*h+y+i)*w+xx+j)*c+ch])
							}
						}
					}
					out = append(out, s)
				}
			}
		}
		return out
	}
	want, err := metrics.Pearson(resp(fa), resp(fb))
	if err != nil {
		t.Fatal(err)
	}
	ua, err := pm.Transform(fa)
	if err != nil {
		t.Fatal(err)
	}
	ub, _ := pm.Transform(fb)
	if got := metrics.Dot(ua, ub); !near(got, want, 1e-5) {
		t.Errorf("transformed cosine %v, response correlation %v", got, want)
	}
	var sum float64
	for _, s := range pm.VarianceShare {
		sum += s
	}
	if !near(sum, 1, 1e-12) || pm.VarianceShare[0] < pm.VarianceShare[1] {
		t.Errorf("variance shares %v", pm.VarianceShare[:3])
	}
	if _, err := pm.Transform(fa[:10]); err == nil {
		t.Error("short filter accepted")
	}
	if _, _, err := eval.PatchCovariance(x[:10], n, h, w, c, kernelSize); err == nil {
		t.Error("short input accepted")
	}
	if _, err := factorPatchCov(make([]float64, 4), 2, 1); err == nil {
		t.Error("singular covariance accepted")
	}
}
