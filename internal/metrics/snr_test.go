package metrics

import (
	"strings"
	"testing"
)

func TestSNRHand(t *testing.T) {
	// Three images: (1,3) ȳ 2 var 2; (4,4,4) ȳ 4 var 0; (5,7,6) ȳ 6 var 1.
	// n = median(2,3,3) = 3, m = 3, σ² = (2+0+1)/3 = 1, var₀(ȳ) = (4+0+4)/3 = 8/3,
	// d² = 8/3 − (2/3)(1/3) = 22/9, SNR = 22/9.
	base := [][]float64{{1, 3}, {4, 4, 4}, {5, 7, 6}}
	// With a fourth image of one repeat (9): upstream's plain mean of variances is NaN.
	// NaN-aware: ȳ = (2,4,6,9), m = 4, counts (2,3,3,1) → n = 2.5, σ² = (2+0+1)/3 = 1,
	// var₀(ȳ) = (3.25² + 1.25² + 0.75² + 3.75²)/4 = 26.75/4 = 6.6875,
	// d² = 6.6875 − (3/4)(1/2.5) = 6.3875, SNR = 6.3875.
	one := append(append([][]float64{}, base...), []float64{9})
	// With a fourth image of no repeat: upstream NaN (ȳ and var NaN); NaN-aware drops the image
	// and gives 22/9 again.
	none := append(append([][]float64{}, base...), []float64{nan, nan})
	tests := []struct {
		name            string
		z               [][]float64
		upstream, aware float64
	}{
		{"all images with ≥ 2 repeats", base, 22.0 / 9, 22.0 / 9},
		{"an image with 1 repeat", one, nan, 6.3875},
		{"an image with no repeat", none, nan, 22.0 / 9},
		// σ² = 0: d²/σ² = (8/3)/0 = +Inf
		{"noiseless", [][]float64{{1, 1}, {3, 3}, {5, 5}}, inf, inf},
		// constant signal and no noise: 0/0
		{"constant", [][]float64{{1, 1}, {1, 1}}, nan, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := rawOf([][][]float64{tt.z})
			up, err := SNR(raw, SNROptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkFloats(t, "SNR", up, []float64{tt.upstream}, 1e-14)
			aw, err := SNR(raw, SNROptions{NaNAware: true})
			if err != nil {
				t.Fatal(err)
			}
			checkFloats(t, "NaN-aware SNR", aw, []float64{tt.aware}, 1e-14)
		})
	}
}

func TestSNRFirstNeuronRepeats(t *testing.T) {
	// Upstream uses neuron 0's median repeats for all: neuron 1 below has 4 repeats per image
	// but n = 2 (neuron 0's). Neuron 1: ȳ = (1,3,5), σ² = 4/3, var₀(ȳ) = 8/3, m = 3:
	// d² = 8/3 − (2/3)(4/3)/2 = 8/3 − 4/9 = 20/9, SNR = (20/9)/(4/3) = 5/3.
	// NaN-aware uses its own n = 4: d² = 8/3 − (2/3)(4/3)/4 = 8/3 − 2/9 = 22/9, SNR = 11/6.
	raw := rawOf([][][]float64{
		{{1, 3}, {2, 2}, {5, 7}},
		{{0, 2, 0, 2}, {2, 4, 2, 4}, {4, 6, 4, 6}},
	})
	up, err := SNR(raw, SNROptions{})
	if err != nil {
		t.Fatal(err)
	}
	aw, err := SNR(raw, SNROptions{NaNAware: true})
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "SNR neuron 1", up[1:], []float64{5.0 / 3}, 1e-14)
	checkFloats(t, "NaN-aware SNR neuron 1", aw[1:], []float64{11.0 / 6}, 1e-14)
	checkFloats(t, "neuron 0 in both modes", up[:1], aw[:1], 1e-14)
}

func TestSNRErrors(t *testing.T) {
	_, err := SNR(Raw{N: 1, M: 2, R: 2, Data: []float64{1}}, SNROptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "snr: ") {
		t.Fatalf("err = %v, want a shape error prefixed with snr:", err)
	}
}
