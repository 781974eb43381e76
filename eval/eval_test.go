package eval

import (
	"context"
	"io"
	"math"
	"slices"
	"testing"

	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/v4data"
)

func TestSessionRows(t *testing.T) {
	const images, outputs = 3, v4data.SharedOutputs
	pred := make([]float32, images*outputs)
	for i := 0; i < images; i++ {
		for o := 0; o < outputs; o++ {
			pred[i*outputs+o] = float32(1000*i + o)
		}
	}
	// reference/upstream.md §4.6: 190923 → 0-32, 201025 → 33-121, 210225 → 122-176, 211022 → 177-218.
	wantFirst := map[string]int{"190923": 0, "201025": 33, "210225": 122, "211022": 177}
	wantLast := map[string]int{"190923": 32, "201025": 121, "210225": 176, "211022": 218}
	for _, ts := range v4data.TestSessions {
		rows, err := SessionRows(pred, images, outputs, ts)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != ts.Neurons {
			t.Fatalf("%s: %d rows", ts.ID, len(rows))
		}
		if got := int(rows[0][0]); got != wantFirst[ts.ID] {
			t.Errorf("%s neuron 0 is output %d, want %d", ts.ID, got, wantFirst[ts.ID])
		}
		last := rows[len(rows)-1]
		if got := int(last[2]) - 2000; got != wantLast[ts.ID] {
			t.Errorf("%s last neuron is output %d, want %d", ts.ID, got, wantLast[ts.ID])
		}
	}
	if _, err := SessionRows(pred[:10], images, outputs, v4data.TestSessions[0]); err == nil {
		t.Error("short predictions accepted")
	}
	bad := v4data.TestSession{ID: "x", Neurons: 50, Offset: 200}
	if _, err := SessionRows(pred, images, outputs, bad); err == nil {
		t.Error("rows beyond the outputs accepted")
	}
}

func TestScore(t *testing.T) {
	r := &Responses{Session: "s", Lo: 0, Hi: 4, Averaged: [][]float64{{1, 2, 3, 4}, {1, 0, 1, 0}}}
	pred := [][]float32{{2, 4, 6, 8}, {0, 1, 0, 1}}
	s, err := Score32(r, pred)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.R[0]-1) > 1e-12 || math.Abs(s.R[1]+1) > 1e-12 || math.Abs(s.R2[1]-1) > 1e-12 || s.R2ER != nil {
		t.Errorf("scores %+v", s)
	}
	pred[0][1] = float32(math.NaN())
	if _, err := Score32(r, pred); err == nil {
		t.Error("NaN prediction accepted")
	}
}

func TestDecodeFloat32(t *testing.T) {
	b, err := EncodeFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeFloat32("x", b, 2, 3)
	if err != nil || !slices.Equal(got, []float32{1, 2, 3, 4, 5, 6}) {
		t.Errorf("decode %v, %v", got, err)
	}
	for _, shape := range [][]int{{3, 2}, {6}, {2, 3, 1}} {
		if _, err := DecodeFloat32("x", b, shape...); err == nil {
			t.Errorf("shape %v accepted", shape)
		}
	}
	nan, _ := EncodeFloat32([]int{1}, []float32{float32(math.NaN())})
	if _, err := DecodeFloat32("x", nan, 1); err == nil {
		t.Error("NaN accepted")
	}
	if _, err := DecodeFloat32("x", b[:len(b)-1], 2, 3); err == nil {
		t.Error("truncated entry accepted")
	}
}

func TestNetworkDigest(t *testing.T) {
	mk := func() *model.Network {
		n, err := model.NewCompact([model.NumLayers]int{4, 3, 3, 3, 3})
		if err != nil {
			t.Fatal(err)
		}
		if err := nn.InitKeras(n, 1); err != nil {
			t.Fatal(err)
		}
		return n
	}
	a, b := NewNetwork("a", nil, mk()), NewNetwork("b", nil, mk())
	if a.Digest() != b.Digest() {
		t.Error("equal networks have different digests")
	}
	n := mk()
	n.Layers[0].Weights[0].Data[7] += 1e-6
	if NewNetwork("c", nil, n).Digest() == a.Digest() {
		t.Error("a changed weight keeps the digest")
	}
	n = mk()
	n.Layers[1].Epsilon = 1e-5
	if NewNetwork("d", nil, n).Digest() == a.Digest() {
		t.Error("a changed configuration keeps the digest")
	}
}

// TestPredictImages checks the cached prediction of images that are not a session's: the
// cached bytes give the model's own predictions, other pixels are another step, and bad
// counts are errors.
func TestPredictImages(t *testing.T) {
	n, err := model.NewCompact([model.NumLayers]int{2, 2, 2, 2, 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := nn.InitKeras(n, 2); err != nil {
		t.Fatal(err)
	}
	m := NewNetwork("img", nil, n)
	cache, err := harness.NewCache(t.TempDir(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	d := New(&harness.Env{Log: io.Discard, Cache: cache}, &harness.Result{})
	pix := make([]uint8, 2*model.ImageSize*model.ImageSize*3)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	want, err := m.Predict(pix, 2)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // computed, then from the cache
		got, err := d.PredictImages(context.Background(), m, "set", pix, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("predictions %v, want %v", got, want)
		}
	}
	other := slices.Clone(pix)
	other[0]++
	want2, _ := m.Predict(other, 2)
	if got, _ := d.PredictImages(context.Background(), m, "set", other, 2); !slices.Equal(got, want2) {
		t.Error("other pixels under the same label gave the cached predictions")
	}
	if _, err := d.PredictImages(context.Background(), m, "set", pix[1:], 2); err == nil {
		t.Error("a pixel count that is not a multiple of the images was accepted")
	}
}
