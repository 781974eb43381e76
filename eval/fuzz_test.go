package eval

import (
	"bytes"
	"math"
	"testing"

	"compactv4/internal/fuzzbound"
	"compactv4/internal/metrics"
	"compactv4/internal/npy"
)

// FuzzDecodeCached feeds arbitrary bytes to the decoder of cached arrays (a cache directory is
// a file the experiment reads back): it must return an error or an array of the asked shape with
// finite values, never panic.
func FuzzDecodeCached(f *testing.F) {
	ok, _ := EncodeFloat32([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(ok)
	f.Add(ok[:len(ok)-3])
	f.Add([]byte{})
	f.Add([]byte("\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
	// Other dtypes and shapes (errors).
	var f64 bytes.Buffer
	if err := npy.WriteFloat64(&f64, []int{3, 2}, []float64{1, 2, 3, 4, 5, 6}); err != nil {
		f.Fatal(err)
	}
	f.Add(f64.Bytes())
	wrong, _ := EncodeFloat32([]int{3, 2}, []float32{1, 2, 3, 4, 5, 6})
	f.Add(wrong)
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		got, err := DecodeFloat32("fuzz", b, 2, 3)
		if err != nil {
			return
		}
		if len(got) != 6 {
			t.Fatalf("%d values for shape (2,3)", len(got))
		}
		for _, x := range got {
			if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
				t.Fatalf("non-finite value %v", x)
			}
		}
	})
}

// FuzzParticipationRatio checks that the participation ratio of any covariance matrix built from
// arbitrary rows lies in [1, F] (or is 0 when nothing varies).
func FuzzParticipationRatio(f *testing.F) {
	f.Add([]byte{2, 1, 0, 0, 1, 3, 3})
	f.Add([]byte{5, 255, 1, 7, 19, 4, 4, 4, 4, 4, 9, 8, 7, 6, 5, 1, 2, 3, 4, 5})
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		if len(b) < 2 {
			return
		}
		fc := 1 + int(b[0])%6
		b = b[1:]
		rows := len(b) / fc
		if rows < 2 {
			return
		}
		x := make([]float32, rows*fc)
		for i := range x {
			x[i] = float32(int8(b[i]))
		}
		a := newCovAccum(fc)
		if err := a.add(x); err != nil {
			t.Fatal(err)
		}
		cov, err := a.cov()
		if err != nil {
			t.Fatal(err)
		}
		// Symmetrise: the float32 Gram is exactly symmetric, but be explicit about the contract.
		for i := 0; i < fc; i++ {
			for j := 0; j < i; j++ {
				cov[j*fc+i] = cov[i*fc+j]
			}
		}
		pr, err := metrics.ParticipationRatio(cov, fc)
		if err != nil {
			t.Fatal(err)
		}
		var tr float64
		for i := 0; i < fc; i++ {
			tr += cov[i*fc+i]
		}
		if tr <= 1e-9 {
			return // (almost) nothing varies: rounding decides
		}
		if pr < 1-1e-6 || pr > float64(fc)+1e-6 {
			t.Fatalf("PR %v for %d channels (trace %v)", pr, fc, tr)
		}
	})
}
