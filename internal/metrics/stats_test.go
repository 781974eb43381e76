package metrics

import (
	"errors"
	"testing"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		name    string
		x       []float64
		med     float64
		nanMed  float64
		nanMean float64
	}{
		{"empty", nil, nan, nan, nan},
		{"one", []float64{3}, 3, 3, 3},
		{"odd", []float64{3, 1, 2}, 2, 2, 2},
		{"even: mean of the middle two (1,3)", []float64{4, 1, 3, 0}, 2, 2, 2},
		{"even with ties", []float64{5, 5, 1, 9}, 5, 5, 5},
		// median of non-NaN {1,2,10} = 2; nanmean = 13/3
		{"NaN propagates, nan-variants skip", []float64{1, nan, 10, 2}, nan, 2, 13.0 / 3},
		{"all NaN", []float64{nan, nan}, nan, nan, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]float64(nil), tt.x...)
			if got := Median(tt.x); !sameFloat(got, tt.med, 0) {
				t.Errorf("Median = %v, want %v", got, tt.med)
			}
			if got := NaNMedian(tt.x); !sameFloat(got, tt.nanMed, 0) {
				t.Errorf("NaNMedian = %v, want %v", got, tt.nanMed)
			}
			if got := NaNMean(tt.x); !sameFloat(got, tt.nanMean, 1e-15) {
				t.Errorf("NaNMean = %v, want %v", got, tt.nanMean)
			}
			checkFloats(t, "input after the call", tt.x, in, 0)
		})
	}
}

func TestQuantile(t *testing.T) {
	x := []float64{4, 1, 3, 2} // sorted 1 2 3 4; h = 3q
	tests := []struct {
		q, want float64
	}{
		{0, 1},
		{1, 4},
		{0.5, 2.5},   // h = 1.5: 2 + 0.5 = 2.5
		{0.25, 1.75}, // h = 0.75: t ≥ 0.5 so b − (b−a)(1−t) = 2 − 0.25
		{0.1, 1.3},   // h = 0.3: 1 + 0.3
		{1.0 / 3, 2}, // h = 1: exactly x[1]
		{0.95, 3.85}, // h = 2.85: 4 − 0.15
		{-0.1, nan},  // out of range
		{1.5, nan},   // out of range
		{nan, nan},   // not a level
	}
	for _, tt := range tests {
		if got := Quantile(x, tt.q); !sameFloat(got, tt.want, 1e-15) {
			t.Errorf("Quantile(%v, %v) = %v, want %v", x, tt.q, got, tt.want)
		}
	}
	if got := Quantile(nil, 0.5); !sameFloat(got, nan, 0) {
		t.Errorf("Quantile(empty) = %v, want NaN", got)
	}
	if got := Quantile([]float64{1, nan}, 0.5); !sameFloat(got, nan, 0) {
		t.Errorf("Quantile with NaN = %v, want NaN", got)
	}
}

func TestNaNVar(t *testing.T) {
	tests := []struct {
		x    []float64
		ddof int
		want float64
	}{
		{[]float64{1, 3}, 1, 2},         // mean 2, (1+1)/1
		{[]float64{1, 3}, 0, 1},         // (1+1)/2
		{[]float64{1, 3, nan, 5}, 1, 4}, // mean 3, (4+0+4)/2
		{[]float64{7, nan}, 1, nan},     // one value, ddof 1: 0/0
		{[]float64{7}, 0, 0},            // one value, ddof 0
		{[]float64{nan, nan}, 0, nan},   // no value
		{[]float64{4, 4, 4}, 1, 0},      // constant
	}
	for _, tt := range tests {
		if got := NaNVar(tt.x, tt.ddof); !sameFloat(got, tt.want, 1e-15) {
			t.Errorf("NaNVar(%v, %d) = %v, want %v", tt.x, tt.ddof, got, tt.want)
		}
	}
}

func TestPearson(t *testing.T) {
	tests := []struct {
		name string
		x, y []float64
		want float64
	}{
		{"perfect", []float64{1, 2, 3}, []float64{2, 4, 6}, 1},
		{"anti", []float64{1, 2, 3}, []float64{3, 2, 1}, -1},
		// x̄ = ȳ = 2.5; dx = (−1.5,−.5,.5,1.5), dy = (−1.5,.5,−.5,1.5): Sxy = 2.25−.25−.25+2.25 = 4,
		// Sxx = Syy = 5, r = 4/5
		{"0.8", []float64{1, 2, 3, 4}, []float64{1, 3, 2, 4}, 0.8},
		// dx = (−1,0,1), y = (1,0,1): ȳ = 2/3, dy = (1/3,−2/3,1/3): Sxy = 0
		{"zero", []float64{1, 2, 3}, []float64{1, 0, 1}, 0},
		{"constant x gives NaN", []float64{2, 2, 2}, []float64{1, 2, 3}, nan},
		{"constant y gives NaN", []float64{1, 2, 3}, []float64{5, 5, 5}, nan},
		{"one value gives NaN", []float64{1}, []float64{2}, nan},
		{"empty gives NaN", nil, nil, nan},
		{"NaN propagates", []float64{1, nan, 3}, []float64{1, 2, 3}, nan},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Pearson(tt.x, tt.y)
			if err != nil {
				t.Fatal(err)
			}
			if !sameFloat(r, tt.want, 1e-15) {
				t.Errorf("Pearson = %v, want %v", r, tt.want)
			}
			r2, err := R2(tt.x, tt.y)
			if err != nil {
				t.Fatal(err)
			}
			if !sameFloat(r2, tt.want*tt.want, 1e-15) {
				t.Errorf("R2 = %v, want %v", r2, tt.want*tt.want)
			}
		})
	}
	if _, err := Pearson([]float64{1, 2}, []float64{1, 2, 3}); !errors.Is(err, ErrShape) {
		t.Errorf("Pearson of lengths 2, 3: err = %v, want ErrShape", err)
	}
}

func TestPearsonRows(t *testing.T) {
	a := [][]float64{{1, 2, 3, 4}, {1, 2, 3}, {1, 1, 1}}
	b := [][]float64{{1, 3, 2, 4}, {3, 2, 1}, {1, 2, 3}}
	r, err := PearsonRows(a, b)
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "PearsonRows", r, []float64{0.8, -1, nan}, 1e-15)
	r2, err := R2Rows(a, b)
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "R2Rows", r2, []float64{0.64, 1, nan}, 1e-15)
	if _, err := PearsonRows(a, b[:2]); !errors.Is(err, ErrShape) {
		t.Errorf("3 rows against 2: err = %v, want ErrShape", err)
	}
	if _, err := R2Rows([][]float64{{1, 2}}, [][]float64{{1}}); !errors.Is(err, ErrShape) {
		t.Errorf("row lengths 2 and 1: err = %v, want ErrShape", err)
	}
}
