package distillation

import (
	"bytes"
	"encoding/gob"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/model"
	"compactv4/internal/prune"
)

// FuzzDecodePruned reads cached pruning results: bytes that are not one are an error, never a
// panic or an unbounded allocation.
func FuzzDecodePruned(f *testing.F) {
	after := [model.NumLayers]int{3, 4, 3, 3, 3}
	pr := pruned{
		Result: &prune.Result{FiltersBefore: [model.NumLayers]int{5, 5, 5, 5, 5}, FiltersAfter: after,
			Steps: []prune.Layer{{Layer: 4, Kept: []int{0, 2, 4}, Tested: []prune.Tested{{Removed: 1, FV: 0.95}}}}},
		Path: []pathPoint{{Layer: -1, Filters: [model.NumLayers]int{5, 5, 5, 5, 5}, Params: 2000, Fidelity: 0.5}, {Layer: 4, Filters: after, Params: 1500, Fidelity: 0.4}},
	}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&pr); err != nil {
		f.Fatal(err)
	}
	if _, err := decodePruned(b.Bytes()); err != nil {
		f.Fatal(err)
	}
	f.Add(b.Bytes())
	f.Add([]byte{})
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		if got, err := decodePruned(data); err == nil && (got.Result == nil || len(got.Path) != len(got.Result.Steps)+1) {
			t.Errorf("decoded an inconsistent pruning result")
		}
	})
}
