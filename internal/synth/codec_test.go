package synth

import (
	"bytes"
	"context"
	"math"
	"reflect"
	"strings"
	"testing"

	"compactv4/internal/fuzzbound"
)

func sampleSynth(t testing.TB) *Synth {
	t.Helper()
	s, err := Synthesize(context.Background(), randomQuad(6, 5, 9), 6, 5, paramsWithSteps(55), 11)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSynthRoundTrip(t *testing.T) {
	s := sampleSynth(t)
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadSynth(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("round trip changed the synthesis:\n%+v\n%+v", got, s)
	}
	// Truncation anywhere is an error, never a panic.
	for n := 0; n < len(b); n++ {
		if _, err := ReadSynth(bytes.NewReader(b[:n])); err == nil {
			t.Fatalf("truncated to %d of %d bytes: no error", n, len(b))
		}
	}
}

func TestReadSynthErrors(t *testing.T) {
	good, err := sampleSynth(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	put64 := func(b []byte, off int, v float64) []byte {
		u := math.Float64bits(v)
		for i := 0; i < 8; i++ {
			b[off+i] = byte(u >> (8 * i))
		}
		return b
	}
	const hdr = 8 + 4*4 + 8*2 + 4 // magic, H, W, best, restart, responses, trace length
	for _, c := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "magic"},
		{"bad magic", mod(func(b []byte) []byte { b[0] = 'X'; return b }), "magic"},
		{"huge height", mod(func(b []byte) []byte { b[11] = 0x7f; return b }), "out of range"},
		{"zero width", mod(func(b []byte) []byte { b[12], b[13] = 0, 0; return b }), "out of range"},
		{"huge trace", mod(func(b []byte) []byte { b[hdr-1] = 0x7f; return b }), "trace"},
		{"best step past the trace", mod(func(b []byte) []byte { b[16], b[17] = 0xff, 0x7f; return b }), "best step"},
		{"NaN response", mod(func(b []byte) []byte { return put64(b, 24, math.NaN()) }), "not finite"},
		{"pixel above 255", mod(func(b []byte) []byte { return put64(b, hdr, 256) }), "outside [0, 255]"},
		{"trailing", append(append([]byte(nil), good...), 0), "trailing"},
	} {
		_, err := ReadSynth(bytes.NewReader(c.b))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one mentioning %q", c.name, err, c.want)
		}
	}
	if _, err := (&Synth{H: 2, W: 2, Image: make([]float64, 3)}).MarshalBinary(); err == nil {
		t.Error("MarshalBinary accepted an image of the wrong length")
	}
}

// FuzzReadSynth: any input gives a Synth that encodes back to the same bytes, or an error.
func FuzzReadSynth(f *testing.F) {
	s := sampleSynth(f)
	good, err := s.MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add([]byte(synthMagic))
	empty := &Synth{H: 1, W: 1, Image: make([]float64, 3), BestStep: -1}
	if b, err := empty.MarshalBinary(); err == nil {
		f.Add(b)
	}
	fuzzbound.Fuzz(f, func(t *testing.T, b []byte) {
		s, err := ReadSynth(bytes.NewReader(b))
		if err != nil {
			return
		}
		again, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded synthesis does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatal("decode then encode changed the bytes")
		}
	})
}
