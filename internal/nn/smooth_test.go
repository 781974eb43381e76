package nn

import (
	"testing"

	"compactv4/internal/gauss"
	"compactv4/internal/model"
)

// SmoothWeights filters exactly the upstream weight indices: [6,13,20,27,34] of a compact model
// (Beta as (28,28,F4)) and [6,13,20,27,36] of a shared model; everything else is unchanged.
func TestSmoothWeightsIndices(t *testing.T) {
	compact, err := model.NewCompact([model.NumLayers]int{3, 4, 2, 3, 2})
	if err != nil {
		t.Fatal(err)
	}
	shared, err := model.NewShared(2, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		net      *model.Network
		smoothed []int
		shapes   map[int][3]int // (h, w, rest) of each smoothed tensor
	}{
		{compact, []int{6, 13, 20, 27, 34}, map[int][3]int{6: {5, 5, 3}, 13: {5, 5, 4}, 20: {5, 5, 2}, 27: {5, 5, 3}, 34: {28, 28, 2}}},
		{shared, []int{6, 13, 20, 27, 36}, map[int][3]int{6: {5, 5, 2}, 13: {5, 5, 2}, 20: {5, 5, 2}, 27: {5, 5, 100}, 36: {28, 28, 3}}},
	} {
		randomize(t, tc.net, 5)
		before := tc.net.Clone().Weights()
		if err := SmoothWeights(tc.net); err != nil {
			t.Fatal(err)
		}
		after := tc.net.Weights()
		want := map[int]bool{}
		for _, i := range tc.smoothed {
			want[i] = true
		}
		for i := range after {
			if !want[i] {
				assertSameBits(t, tc.net.Name+" unsmoothed weight", after[i].Data, before[i].Data)
				continue
			}
			s := tc.shapes[i]
			ref := make([]float32, len(before[i].Data))
			if err := gauss.Filter2D(ref, before[i].Data, s[0], s[1], s[2], 0.5, 4); err != nil {
				t.Fatal(err)
			}
			assertSameBits(t, tc.net.Name+" smoothed weight", after[i].Data, ref)
		}
	}
}
