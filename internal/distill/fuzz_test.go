package distill

import (
	"bytes"
	"encoding/gob"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/model"
	"compactv4/internal/statefile"
)

// tinyResult is a small valid trained student, for seeds.
func tinyResult(f *testing.F) Trained {
	n, err := model.NewCompact([model.NumLayers]int{1, 1, 1, 1, 1})
	if err != nil {
		f.Fatal(err)
	}
	return Trained{Net: n, Curve: []Point{{64, 0.5}, {128, 0.25}}}
}

// FuzzDecode reads cached results and checkpoints: bytes that are not one are an error, never a
// panic or an unbounded allocation; a result that decodes is a valid network.
func FuzzDecode(f *testing.F) {
	r := tinyResult(f)
	b, err := Encode(r)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	var c bytes.Buffer
	ws := []model.Tensor{}
	for _, w := range r.Net.Weights() {
		ws = append(ws, *w)
	}
	if err := gob.NewEncoder(&c).Encode(&checkpoint{Fingerprint: "x", Step: 3, Students: []studentState{{Weights: ws[:2], Iter: 3, OptState: [][]float32{{1, 2}}, Curve: r.Curve}}}); err != nil {
		f.Fatal(err)
	}
	f.Add(c.Bytes())
	f.Add([]byte{})
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		if res, err := Decode(data); err == nil {
			if err := res.Net.Validate(); err != nil {
				t.Errorf("decoded an invalid network: %v", err)
			}
		}
		statefile.Decode(data, new(checkpoint))
	})
}
