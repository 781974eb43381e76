package teacherfit

import (
	"bytes"
	"encoding/gob"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/teacherrows"
)

// FuzzDecodeFactorized reads cached factorized fits: bytes that are not one of the unit are an
// error, never a panic or an unbounded allocation, and a fit read back is consistent.
func FuzzDecodeFactorized(f *testing.F) {
	u := teacherrows.FactorizedUnit{Model: teacherrows.Ensemble, Member: 1}
	ff := teacherrows.FactorizedFit{Unit: u,
		EpochVal:  [][][]float32{{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}},
		EpochTest: [][][]float32{{{1, 2, 3}, {4, 5, 6}}, {{7, 8, 9}, {0, 1, 2}}}}
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&ff); err != nil {
		f.Fatal(err)
	}
	if _, err := decodeFactorized(b.Bytes(), u); err != nil {
		f.Fatal(err)
	}
	if _, err := decodeFactorized(b.Bytes(), teacherrows.FactorizedUnit{Model: "VGG19", Member: -1}); err == nil {
		f.Fatal("a member's fit read back as VGG19's")
	}
	f.Add(b.Bytes())
	f.Add([]byte{})
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		got, err := decodeFactorized(data, u)
		if err != nil {
			return
		}
		if len(got.EpochVal) != len(got.EpochTest) || len(got.EpochVal[0]) != len(got.EpochTest[0]) {
			t.Errorf("decoded an inconsistent fit")
		}
	})
}
