package metrics

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestRandomStream(t *testing.T) {
	// The documented streams: uintN is Lemire's method on Uint64 (checked against an
	// independent 128-bit computation, including n that are powers of two, where rand.IntN
	// would mask instead), and shuffle is Fisher–Yates from the end.
	src, ref := NewSource(42), NewSource(42)
	for _, n := range []int{1, 2, 3, 4, 7, 8, 10, 1000, 1 << 40} {
		for range 50 {
			got := uintN(src, n)
			hi, lo := bits.Mul64(ref.Uint64(), uint64(n))
			for lo < -uint64(n)%uint64(n) {
				hi, lo = bits.Mul64(ref.Uint64(), uint64(n))
			}
			if got != int(hi) {
				t.Fatalf("uintN(%d) = %d, want %d", n, got, hi)
			}
		}
	}
	// Top bits of the first Uint64 of NewSource(1): 1 0 1 0 1 1 1 1 (PCG-DXSM, seed (1, 0)).
	// For n = 2, uintN is the top bit (no rejection is possible), so a shuffle of two slots keeps
	// the order iff the bit is 1.
	s := NewSource(1)
	for k, want := range []uint64{1, 0, 1, 0, 1, 1, 1, 1} {
		if got := s.Uint64() >> 63; got != want {
			t.Fatalf("NewSource(1): top bit of Uint64 #%d = %d, want %d", k, got, want)
		}
	}
	p := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	shuffle(NewSource(5), p)
	sorted := slices.Clone(p)
	slices.Sort(sorted)
	if !slices.Equal(sorted, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}) || slices.IsSorted(p) {
		t.Errorf("shuffle gave %v, want a non-identity permutation of 0…9", p)
	}
}

func TestSplitHalfHand(t *testing.T) {
	// One neuron, four images of two repeats: (1,3) (2,6) (5,4) (8,8); runs = 2, NewSource(1).
	// Each image draws one top bit (see TestRandomStream): run 1 = 1 0 1 0 (keep, swap, keep,
	// swap), run 2 = 1 1 1 1 (keep all).
	// Run 1: half 1 = (1,6,5,8), half 2 = (3,2,4,8). Means 5 and 4.25; deviations
	//   (−4,1,0,3) and (−1.25,−2.25,−0.25,3.75): Sxy = 5 − 2.25 + 0 + 11.25 = 14, Sxx = 26,
	//   Syy = 1.5625+5.0625+0.0625+14.0625 = 20.75; ρ₁ = 14/√(26·20.75).
	// Run 2: half 1 = (1,2,5,8), half 2 = (3,6,4,8). Means 4 and 5.25; deviations (−3,−2,1,4) and
	//   (−2.25,0.75,−1.25,2.75): Sxy = 6.75 − 1.5 − 1.25 + 11 = 15, Sxx = 30, Syy = 14.75;
	//   ρ₂ = 15/√(30·14.75).
	// ρ = (ρ₁+ρ₂)/2 ≈ 0.6579, ρ_SB = 2ρ/(1+ρ).
	raw := rawOf([][][]float64{{{1, 3}, {2, 6}, {5, 4}, {8, 8}}})
	rho1 := 14 / math.Sqrt(26*20.75)
	rho2 := 15 / math.Sqrt(30*14.75)
	rho := (rho1 + rho2) / 2
	gotRho, gotSB, err := SplitHalfCorrelation(raw, 2, NewSource(1))
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "rho", gotRho, []float64{rho}, 1e-14)
	checkFloats(t, "rho_SB", gotSB, []float64{2 * rho / (1 + rho)}, 1e-14)

	// SplitRepeats draws the same first split.
	a, b, err := SplitRepeats(raw, NewSource(1))
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "half a", a.Data, []float64{1, 6, 5, 8}, 0)
	checkFloats(t, "half b", b.Data, []float64{3, 2, 4, 8}, 0)
}

func TestSplitRepeatsProperties(t *testing.T) {
	// Image repeat counts 5, 2, 1, 0, 10 (trailing NaN), three neurons; neuron 1 = neuron 0 + 100
	// so that the split must be shared; neuron 2 misses slot 4 of image 0, so only 4 slots of
	// image 0 are valid for all neurons (upstream counts non-NaN slots of the mean over neurons).
	rng := rand.New(rand.NewPCG(9, 9))
	counts := []int{5, 2, 1, 0, 10}
	z := make([][][]float64, 3)
	for n := range z {
		z[n] = make([][]float64, len(counts))
	}
	for i, k := range counts {
		for r := range 10 {
			v := nan
			if r < k {
				v = float64(rng.IntN(1000))
			}
			z[0][i] = append(z[0][i], v)
			z[1][i] = append(z[1][i], v+100)
			z[2][i] = append(z[2][i], v)
		}
	}
	z[2][0][4] = nan
	raw := rawOf(z)
	for seed := range uint64(20) {
		a, b, err := SplitRepeats(raw, NewSource(seed))
		if err != nil {
			t.Fatal(err)
		}
		if a.R != 5 || b.R != 5 || a.N != 3 || a.M != 5 {
			t.Fatalf("halves of shape (%d,%d,%d), want (3,5,5)", a.N, a.M, a.R)
		}
		wantHalf := []int{2, 1, 0, 0, 5} // ⌊4/2⌋, ⌊2/2⌋, ⌊1/2⌋, 0, ⌊10/2⌋
		for i, h := range wantHalf {
			for n := range 3 {
				if ca, cb := a.Counts(n)[i], b.Counts(n)[i]; ca != h || cb != h {
					t.Fatalf("seed %d image %d neuron %d: halves hold %d and %d repeats, want %d", seed, i, n, ca, cb, h)
				}
			}
			for r := range h {
				if a.At(1, i, r) != a.At(0, i, r)+100 || b.At(1, i, r) != b.At(0, i, r)+100 {
					t.Fatalf("seed %d image %d: neurons split differently", seed, i)
				}
			}
			// The halves are disjoint draws from the image's valid repeats (slots 0…3 for image 0).
			nValid := counts[i]
			if i == 0 {
				nValid = 4 // slot 4 is NaN for neuron 2
			}
			valid := z[0][i][:nValid]
			var used []float64
			for r := range h {
				used = append(used, a.At(0, i, r), b.At(0, i, r))
			}
			for _, v := range used {
				k := slices.Index(valid, v)
				if k < 0 {
					t.Fatalf("seed %d image %d: value %v is not a valid repeat %v", seed, i, v, valid)
				}
				valid = slices.Delete(slices.Clone(valid), k, k+1)
			}
		}
	}
	// The split-half correlation with one run uses the same split as SplitRepeats.
	a, b, _ := SplitRepeats(raw, NewSource(3))
	want, _ := PearsonRows(a.Means(), b.Means())
	rho, _, err := SplitHalfCorrelation(raw, 1, NewSource(3))
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "one-run split-half correlation", rho, want, 1e-15)
	// Images 2 and 3 have < 2 valid repeats: their half means are NaN, so the correlation is
	// NaN for every neuron, as upstream (np.mean of an empty slice, then np.corrcoef).
	checkFloats(t, "NaN because of images with < 2 repeats", rho, []float64{nan, nan, nan}, 0)
}

func TestSplitHalfDeterminism(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	signal := [][]float64{make([]float64, 50), make([]float64, 50)}
	for n := range signal {
		for i := range signal[n] {
			signal[n][i] = 3 * rng.NormFloat64()
		}
	}
	raw := simSession(rng, signal, 8, 3, 1)
	r1, sb1, err := SplitHalfCorrelation(raw, 50, NewSource(7))
	if err != nil {
		t.Fatal(err)
	}
	r2, sb2, _ := SplitHalfCorrelation(raw, 50, NewSource(7))
	r3, _, _ := SplitHalfCorrelation(raw, 50, NewSource(8))
	checkFloats(t, "same seed rho", r2, r1, 0)
	checkFloats(t, "same seed rho_SB", sb2, sb1, 0)
	if r3[0] == r1[0] {
		t.Errorf("seeds 7 and 8 gave the same split-half correlation %v", r1[0])
	}
	for n := range sb1 {
		if !(sb1[n] > r1[n] && sb1[n] < 1) {
			t.Errorf("neuron %d: Spearman–Brown %v should lie in (ρ = %v, 1)", n, sb1[n], r1[n])
		}
	}
	// BrainScore uses exactly SplitHalfCorrelation(raw, 50, src) for its ceiling.
	pred := [][]float64{signal[0], signal[1]}
	bs, err := BrainScore(raw, pred, NewSource(7))
	if err != nil {
		t.Fatal(err)
	}
	rm, _ := PearsonRows(raw.Means(), pred)
	want := []float64{rm[0] * rm[0] / sb1[0], rm[1] * rm[1] / sb1[1]}
	checkFloats(t, "brain score", bs, want, 1e-15)
	bs2, _ := BrainScore(raw, pred, NewSource(7))
	checkFloats(t, "brain score, same seed", bs2, bs, 0)
}

func TestBrainScoreHand(t *testing.T) {
	// Noiseless repeats (all equal within an image): every split has half 1 = half 2 = ȳ, so
	// ρ_split = 1 and ρ_SB = 2/2 = 1 whatever the permutations, and the score is ρ_model².
	// ȳ = (1,2,4), ŷ = (1,2,3): x = (−1,0,1), y = (−4/3,−1/3,5/3), Sxy = 3, Sxx = 2,
	// Syy = 42/9: ρ² = 9/(2·42/9) = 81/84 = 27/28.
	raw := rawOf([][][]float64{{{1, 1, 1}, {2, 2, 2, 2}, {4, 4}}})
	got, err := BrainScore(raw, [][]float64{{1, 2, 3}}, NewSource(0))
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "brain score", got, []float64{27.0 / 28}, 1e-14)
	// A constant prediction gives NaN.
	got, err = BrainScore(raw, [][]float64{{5, 5, 5}}, NewSource(0))
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "brain score of a constant", got, []float64{nan}, 0)
}

func TestSplitHalfErrors(t *testing.T) {
	ok := rawOf([][][]float64{{{1, 3}, {2, 6}, {5, 4}}})
	bad := Raw{N: 1, M: 3, R: 2, Data: ok.Data[:4]}
	tests := []struct {
		name, want string
		err        error
	}{
		{"runs", "0 runs", func() error { _, _, err := SplitHalfCorrelation(ok, 0, NewSource(0)); return err }()},
		{"split raw", "split repeats: raw responses", func() error { _, _, err := SplitRepeats(bad, NewSource(0)); return err }()},
		{"correlation raw", "split-half correlation: raw", func() error { _, _, err := SplitHalfCorrelation(bad, 1, NewSource(0)); return err }()},
		{"brain score raw", "brain score: raw", func() error { _, err := BrainScore(bad, [][]float64{{1, 2, 3}}, NewSource(0)); return err }()},
		{"brain score pred", "brain score: prediction [0, 0] = NaN", func() error {
			_, err := BrainScore(ok, [][]float64{{nan, 2, 3}}, NewSource(0))
			return err
		}()},
	}
	for _, tt := range tests {
		if tt.err == nil || !strings.Contains(tt.err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, tt.err, tt.want)
		}
	}
}
