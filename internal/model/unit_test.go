package model_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"compactv4/internal/model"
)

// TestUnit checks a truncated network's output against the full network's activation of the
// same unit, bit for bit, and its errors.
func TestUnit(t *testing.T) {
	n := randomCompact(t)
	rng := rand.New(rand.NewPCG(7, 0))
	const count = 3
	pix := make([]uint8, count*model.ImageSize*model.ImageSize*3)
	for i := range pix {
		pix[i] = uint8(rng.IntN(256))
	}
	for _, c := range []struct {
		layer   string
		y, x, c int
		h, w, f int // the layer's output shape
	}{
		{"layer0_act", 50, 7, 2, 112, 112, 4},
		{"layer1_act", 20, 30, 4, 56, 56, 5},
		{"layer2_act", 27, 0, 0, 28, 28, 3},
		{"layer1_bn", 20, 30, 4, 56, 56, 5}, // before the ReLU: compared through it below
	} {
		u, err := model.Unit(n, c.layer, c.y, c.x, c.c)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := forward(t, u, pix, count, "unit")
		act := c.layer
		if strings.HasSuffix(act, "_bn") {
			act = strings.TrimSuffix(act, "_bn") + "_act"
		}
		_, acts := forward(t, n, pix, count, act)
		for i := range count {
			want := acts[i*c.h*c.w*c.f+(c.y*c.w+c.x)*c.f+c.c]
			if strings.HasSuffix(c.layer, "_bn") {
				out[i] = max(out[i], 0)
			}
			if out[i] != want {
				t.Errorf("%s (%d, %d, %d), image %d: unit %v, activation %v", c.layer, c.y, c.x, c.c, i, out[i], want)
			}
		}
	}
	for _, c := range []struct {
		layer   string
		y, x, c int
		want    string
	}{
		{"layer9_act", 0, 0, 0, "no layer"},
		{"layer1_act", 56, 0, 0, "outside"},
		{"layer1_act", 0, -1, 0, "outside"},
		{"layer1_act", 0, 0, 5, "outside"},
		{"embeddings", 0, 0, 0, "flat"},
	} {
		if _, err := model.Unit(n, c.layer, c.y, c.x, c.c); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s (%d, %d, %d): error %v, want %q", c.layer, c.y, c.x, c.c, err, c.want)
		}
	}
}
