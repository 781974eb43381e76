package nn

import (
	"math"
	"testing"

	"compactv4/internal/model"
)

// With i.i.d. Gaussian spatial-pool weights the 784-term sums of the shared model cancel heavily;
// the float32 result is then held to 1e-6 of Σ|term| (a few ulps of the summed magnitude), the
// error bound that conditioning allows, rather than to the output's spread.
func TestSharedIIDPoolConditioning(t *testing.T) {
	smoothPool = false
	defer func() { smoothPool = true }()
	for _, relu := range []bool{true, false} {
		mn, err := model.NewShared(5, 219, relu)
		if err != nil {
			t.Fatal(err)
		}
		randomize(t, mn, 4)
		const batch = 4
		_, x := randomImages(103, batch, model.Shape{H: 112, W: 112, C: 3})
		want, layers, err := ForwardFloat64(mn, x, batch, true)
		if err != nil {
			t.Fatal(err)
		}
		net, err := Compile(mn)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]float32, batch*219)
		if err := net.Forward(x, batch, got); err != nil {
			t.Fatal(err)
		}
		l := len(mn.Layers)
		mix, pool := layers[l-3], mn.Layers[l-2].Weights[0].Data
		worst := 0.0
		for b := 0; b < batch; b++ {
			for o := 0; o < 219; o++ {
				var mag float64
				for q := 0; q < 784; q++ {
					mag += math.Abs(mix[(b*784+q)*219+o] * float64(pool[q*219+o]))
				}
				worst = math.Max(worst, math.Abs(float64(got[b*219+o])-want[b*219+o])/mag)
			}
		}
		if !(worst <= 1e-6) {
			t.Errorf("relu=%v: max |Δ|/Σ|term| = %.3g, want ≤ 1e-6", relu, worst)
		}
		t.Logf("relu=%v: max |Δ|/Σ|term| = %.3g", relu, worst)
	}
}
