package metrics

import (
	"math"
	"math/bits"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestBootstrapMedianCIHand(t *testing.T) {
	// x = (1, 2, 10), nBoot = 4, seed 1, level 0.5. The resample indices of NewSource(1) (Lemire,
	// checked below against an independent computation) are
	//   b0: 1 0 2 → (2, 1, 10), median 2
	//   b1: 0 2 1 → (1, 10, 2), median 2
	//   b2: 2 1 0 → (10, 2, 1), median 2
	//   b3: 0 1 0 → (1, 2, 1),  median 1
	// Sorted medians 1 2 2 2: the 0.25 quantile has h = 3·0.25 = 0.75, between 1 and 2 with
	// t = 0.75, so 2 − (2−1)·0.25 = 1.75; the 0.75 quantile has h = 2.25, between 2 and 2: 2.
	// The median of x is 2.
	src := NewSource(1)
	want := []int{1, 0, 2, 0, 2, 1, 2, 1, 0, 0, 1, 0}
	for k, w := range want {
		hi, lo := bits.Mul64(src.Uint64(), 3)
		if lo < 3 {
			t.Fatalf("draw %d needs the rejection step; pick another seed for this hand case", k)
		}
		if int(hi) != w {
			t.Fatalf("index draw %d = %d, want %d", k, hi, w)
		}
	}
	med, lo, hi, err := BootstrapMedianCI([]float64{1, 2, 10}, 0.5, 4, 1)
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "median, lo, hi", []float64{med, lo, hi}, []float64{2, 1.75, 2}, 1e-15)
}

func TestBootstrapMedianCIProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	draw := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = 0.4 + 0.2*rng.NormFloat64()
		}
		return x
	}
	x := draw(219)
	med, lo, hi, err := BootstrapMedianCI(x, DefaultCILevel, DefaultBootstraps, 314159)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("n = 219: median %.4f, 90%% CI [%.4f, %.4f]", med, lo, hi)
	if med != Median(x) {
		t.Errorf("median %v, want Median(x) = %v", med, Median(x))
	}
	if !(lo < med && med < hi) {
		t.Errorf("CI [%v, %v] does not contain the median %v", lo, hi, med)
	}
	// Reproducible for a seed, different for another.
	m2, lo2, hi2, _ := BootstrapMedianCI(x, DefaultCILevel, DefaultBootstraps, 314159)
	checkFloats(t, "same seed", []float64{m2, lo2, hi2}, []float64{med, lo, hi}, 0)
	// (Bootstrap medians of an odd count are data values, so CI ends of nearby seeds often
	// coincide; with an even count and few resamples they interpolate and differ.)
	_, loA, hiA, _ := BootstrapMedianCI(x[:218], DefaultCILevel, 99, 314159)
	_, loB, hiB, _ := BootstrapMedianCI(x[:218], DefaultCILevel, 99, 314160)
	if loA == loB && hiA == hiB {
		t.Errorf("seeds 314159 and 314160 gave the same CI [%v, %v]", loA, hiA)
	}
	// The width shrinks with n (about as 1/√n: the median's standard error is
	// √(π/2)·σ/√n ≈ 1.2533·0.2/√n, and a 90 % interval is about 2·1.645 of it).
	var widths []float64
	for _, n := range []int{25, 100, 400, 1600} {
		_, l, h, err := BootstrapMedianCI(draw(n), DefaultCILevel, 1000, 1)
		if err != nil {
			t.Fatal(err)
		}
		w := h - l
		expected := 2 * 1.645 * 1.2533 * 0.2 / math.Sqrt(float64(n))
		t.Logf("n = %4d: width %.4f (normal theory %.4f)", n, w, expected)
		if w < expected/2 || w > expected*2 {
			t.Errorf("n = %d: width %v far from the normal-theory %v", n, w, expected)
		}
		widths = append(widths, w)
	}
	for k := 1; k < len(widths); k++ {
		if widths[k] >= widths[k-1] {
			t.Errorf("width did not shrink: %v", widths)
		}
	}
	// A wider level gives a wider interval from the same resamples.
	_, l50, h50, _ := BootstrapMedianCI(x, 0.5, DefaultBootstraps, 314159)
	if !(lo < l50 && h50 < hi) {
		t.Errorf("50%% CI [%v, %v] not inside the 90%% CI [%v, %v]", l50, h50, lo, hi)
	}
	// A single value: every resample is that value.
	m1, l1, h1, err := BootstrapMedianCI([]float64{0.3}, 0.9, 10, 0)
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "single value", []float64{m1, l1, h1}, []float64{0.3, 0.3, 0.3}, 0)
}

func TestBootstrapMedianCIErrors(t *testing.T) {
	tests := []struct {
		name  string
		x     []float64
		level float64
		nBoot int
		want  string
	}{
		{"empty", nil, 0.9, 10, "no values"},
		{"NaN", []float64{1, nan}, 0.9, 10, "x[1] = NaN"},
		{"Inf", []float64{math.Inf(-1)}, 0.9, 10, "x[0] = -Inf"},
		{"level percent", []float64{1, 2}, 90, 10, "level 90 is not in (0, 1)"},
		{"level zero", []float64{1, 2}, 0, 10, "level 0 is not in (0, 1)"},
		{"level NaN", []float64{1, 2}, nan, 10, "is not in (0, 1)"},
		{"no resamples", []float64{1, 2}, 0.9, 0, "0 resamples"},
	}
	for _, tt := range tests {
		m, lo, hi, err := BootstrapMedianCI(tt.x, tt.level, tt.nBoot, 1)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.want)
		}
		if !math.IsNaN(m) || !math.IsNaN(lo) || !math.IsNaN(hi) {
			t.Errorf("%s: values %v %v %v, want NaN with an error", tt.name, m, lo, hi)
		}
	}
}

func TestCountedMedian(t *testing.T) {
	xs := []float64{1, 2, 3, 10}
	tests := []struct {
		cnt  []int
		want float64
	}{
		{[]int{1, 1, 1, 1}, 2.5}, // 1 2 3 10
		{[]int{4, 0, 0, 0}, 1},   // 1 1 1 1
		{[]int{0, 0, 2, 2}, 6.5}, // 3 3 10 10
		{[]int{1, 0, 0, 3}, 10},  // 1 10 10 10
		{[]int{2, 0, 0, 2}, 5.5}, // 1 1 10 10
		{[]int{0, 3, 0, 1}, 2},   // 2 2 2 10
		{[]int{1, 2, 0, 1}, 2},   // 1 2 2 10
	}
	for _, tt := range tests {
		if got := countedMedian(xs, tt.cnt); got != tt.want {
			t.Errorf("countedMedian(%v, %v) = %v, want %v", xs, tt.cnt, got, tt.want)
		}
	}
	odd := []float64{1, 2, 3}
	for _, tt := range []struct {
		cnt  []int
		want float64
	}{{[]int{1, 1, 1}, 2}, {[]int{2, 0, 1}, 1}, {[]int{0, 1, 2}, 3}, {[]int{1, 0, 2}, 3}} {
		if got := countedMedian(odd, tt.cnt); got != tt.want {
			t.Errorf("countedMedian(%v, %v) = %v, want %v", odd, tt.cnt, got, tt.want)
		}
	}
	// Against sorting the resample.
	rng := rand.New(rand.NewPCG(8, 8))
	for range 200 {
		n := 1 + rng.IntN(12)
		xs := make([]float64, n)
		for i := range xs {
			xs[i] = float64(rng.IntN(5))
		}
		slices.Sort(xs)
		cnt := make([]int, n)
		var res []float64
		for range n {
			j := rng.IntN(n)
			cnt[j]++
			res = append(res, xs[j])
		}
		if got, want := countedMedian(xs, cnt), Median(res); got != want {
			t.Fatalf("countedMedian(%v, %v) = %v, Median of the resample %v", xs, cnt, got, want)
		}
	}
}

func TestMedianWithCI(t *testing.T) {
	x := []float64{0.3, 0.1, 0.7, 0.5, 0.2, 0.9, 0.4}
	m, lo, hi, err := BootstrapMedianCI(x, DefaultCILevel, DefaultBootstraps, 7)
	if err != nil {
		t.Fatal(err)
	}
	got, err := MedianWithCI(x, 7)
	if err != nil {
		t.Fatal(err)
	}
	if got != (MedianCI{N: 7, Median: m, Lo: lo, Hi: hi}) {
		t.Errorf("MedianWithCI = %+v, want %v [%v, %v]", got, m, lo, hi)
	}
	if s := got.String(); s != "0.400 ["+fmtf(lo)+", "+fmtf(hi)+"] (n = 7)" {
		t.Errorf("String() = %q", s)
	}
	if _, err := MedianWithCI(nil, 1); err == nil {
		t.Error("empty input accepted")
	}
}

func fmtf(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
