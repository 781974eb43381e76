package metrics

import (
	"math"
	"slices"
	"testing"

	"compactv4/internal/fuzzbound"
)

// rawFromBytes decodes a fuzz input: bytes 0–2 give N = 1+b0%4, M = 1+b1%8, R = 1+b2%6; then
// N·M·R response bytes (255 → NaN, 254 → +Inf, else b%32) and N·M prediction bytes
// (253 → NaN, else b−128), missing bytes reading as 0.
func rawFromBytes(data []byte) (Raw, [][]float64) {
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	raw := Raw{N: 1 + int(next())%4, M: 1 + int(next())%8, R: 1 + int(next())%6}
	raw.Data = make([]float64, raw.N*raw.M*raw.R)
	for k := range raw.Data {
		switch b := next(); b {
		case 255:
			raw.Data[k] = math.NaN()
		case 254:
			raw.Data[k] = math.Inf(1)
		default:
			raw.Data[k] = float64(b % 32)
		}
	}
	pred := make([][]float64, raw.N)
	for n := range pred {
		pred[n] = make([]float64, raw.M)
		for i := range pred[n] {
			if b := next(); b == 253 {
				pred[n][i] = math.NaN()
			} else {
				pred[n][i] = float64(b) - 128
			}
		}
	}
	return raw, pred
}

// rawToBytes is the inverse of rawFromBytes for small integer responses (for seeds).
func rawToBytes(raw Raw, pred [][]float64) []byte {
	b := []byte{byte(raw.N - 1), byte(raw.M - 1), byte(raw.R - 1)}
	for _, v := range raw.Data {
		if math.IsNaN(v) {
			b = append(b, 255)
		} else {
			b = append(b, byte(int(v)%32))
		}
	}
	for _, row := range pred {
		for _, v := range row {
			b = append(b, byte(int(v)+128))
		}
	}
	return b
}

func FuzzMetrics(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{1, 2, 3, 1, 3, 255, 4, 4, 4, 6, 255, 255, 130, 131, 133})
	f.Add([]byte{0, 7, 5, 254})
	f.Add(rawToBytes(rawOf([][][]float64{{{1, 3}, {2, 2}, {5, 7}}, {{0, 2, 0, 2}, {2, 4, 2, 4}, {4, 6, 4, 6}}}),
		[][]float64{{1, 2, 3}, {1, 2, 3}}))
	// A corner (3 neurons × 8 images × 6 slots) of each real raw-response file, when present.
	for _, session := range rawSessions {
		raw, err := rawFileIfPresent(session)
		if err != nil {
			f.Fatal(err)
		}
		if raw.N == 0 {
			continue
		}
		sub := Raw{N: 3, M: 8, R: 6}
		for n := range 3 {
			for i := range 8 {
				sub.Data = append(sub.Data, raw.repeats(n, i)[:6]...)
			}
		}
		f.Add(rawToBytes(sub, sub.Means()))
	}
	fuzzbound.Fuzz(f, func(t *testing.T, data []byte) {
		raw, pred := rawFromBytes(data)
		r2, err := R2ER(raw, pred, R2EROptions{})
		_, errBS := BrainScore(raw, pred, NewSource(1))
		if (err == nil) != (errBS == nil) {
			t.Fatalf("R2ER err %v but BrainScore err %v", err, errBS)
		}
		if err == nil && len(r2) != raw.N {
			t.Fatalf("R2ER returned %d values for %d neurons", len(r2), raw.N)
		}
		r2pn, errPN := R2ER(raw, pred, R2EROptions{PerNeuronRepeats: true})
		if (err == nil) != (errPN == nil) {
			t.Fatalf("R2ER err %v, per-neuron err %v", err, errPN)
		}
		sameCounts := true
		for n := 1; n < raw.N; n++ {
			sameCounts = sameCounts && slices.Equal(raw.Counts(n), raw.Counts(0))
		}
		if err == nil && sameCounts {
			for n := range r2 {
				if !sameFloat(r2[n], r2pn[n], 0) {
					t.Fatalf("equal repeat counts but r2_ER %v != per-neuron %v", r2[n], r2pn[n])
				}
			}
		}
		for _, opts := range []SNROptions{{}, {NaNAware: true}} {
			s, err := SNR(raw, opts)
			if (err == nil) != (raw.Validate() == nil) || (err == nil && len(s) != raw.N) {
				t.Fatalf("SNR(%+v): %d values, err %v", opts, len(s), err)
			}
		}
		a, b, err := SplitRepeats(raw, NewSource(2))
		if err == nil {
			for n := range raw.N {
				c, ca, cb := raw.Counts(n), a.Counts(n), b.Counts(n)
				for i := range c {
					if ca[i] != cb[i] || 2*ca[i] > c[i] {
						t.Fatalf("neuron %d image %d: %d repeats split into %d and %d", n, i, c[i], ca[i], cb[i])
					}
				}
			}
		}
		rho, sb, err := SplitHalfCorrelation(raw, 1+len(data)%3, NewSource(3))
		if err == nil {
			for n := range rho {
				if rho[n] < -1 || rho[n] > 1 {
					t.Fatalf("split-half correlation %v outside [-1, 1]", rho[n])
				}
				if !sameFloat(sb[n], 2*rho[n]/(1+rho[n]), 0) {
					t.Fatalf("Spearman–Brown %v of %v", sb[n], rho[n])
				}
			}
		}
	})
}

func FuzzBootstrap(f *testing.F) {
	f.Add([]byte{1, 2, 10}, 0.5, uint16(4), uint64(1))
	f.Add([]byte{}, 0.9, uint16(10), uint64(0))
	f.Add([]byte{7}, 0.0, uint16(0), uint64(3))
	f.Add([]byte{200, 3, 3, 3, 90, 17}, 0.999, uint16(300), uint64(12345))
	f.Add([]byte{5, 5}, math.NaN(), uint16(3), uint64(9))
	fuzzbound.Minimize(f)
	f.Fuzz(func(t *testing.T, xb []byte, level float64, nb uint16, seed uint64) {
		fuzzbound.Run(t, func() {
			if len(xb) > 300 {
				xb = xb[:300] // bound the work (nBoot·len(x) draws) of one input, so that the
				// fuzzer's minimisation of new inputs stays quick
			}
			x := make([]float64, len(xb))
			for i, b := range xb {
				x[i] = float64(b) / 7
			}
			nBoot := int(nb % 128)
			med, lo, hi, err := BootstrapMedianCI(x, level, nBoot, seed)
			if err != nil {
				return
			}
			if med != Median(x) {
				t.Fatalf("median %v, want %v", med, Median(x))
			}
			if !(slices.Min(x) <= lo && lo <= hi && hi <= slices.Max(x)) {
				t.Fatalf("CI [%v, %v] outside [min, max] = [%v, %v] or inverted", lo, hi, slices.Min(x), slices.Max(x))
			}
			m2, lo2, hi2, _ := BootstrapMedianCI(x, level, nBoot, seed)
			if m2 != med || lo2 != lo || hi2 != hi {
				t.Fatal("not deterministic")
			}
			q1, q2 := Quantile(x, (1-level)/2), Quantile(x, (1+level)/2)
			if !(slices.Min(x) <= q1 && q1 <= q2 && q2 <= slices.Max(x)) {
				t.Fatalf("quantiles %v, %v not ordered inside the data", q1, q2)
			}
		})
	})
}
