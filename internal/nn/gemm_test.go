package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

// naiveGemm is C = alpha·op(A)·op(B) + beta·C in float64, with the magnitude Σ|a·b| for tolerances.
func naiveGemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) (out, mag []float64) {
	out = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s, g float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				g += math.Abs(float64(av) * float64(bv))
			}
			s *= float64(alpha)
			g *= math.Abs(float64(alpha))
			if beta != 0 {
				s += float64(beta) * float64(c[i*ldc+j])
				g += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			out[i*n+j], mag[i*n+j] = s, g
		}
	}
	return out, mag
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra leading-dimension padding
}

func gemmCases() []gemmCase {
	var cs []gemmCase
	sizes := [][3]int{{0, 0, 0}, {1, 1, 1}, {0, 5, 3}, {5, 0, 3}, {4, 4, 0}, {1, 17, 1}, {7, 1, 9}, {6, 16, 1},
		{6, 16, 75}, {13, 33, 75}, {12, 48, 75}, {37, 60, 48}, {97, 31, 257}, {5, 100, 513}, {200, 3, 20}, {8, 290, 33}, {19, 531, 300}}
	for i, s := range sizes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				c := gemmCase{transA: tA, transB: tB, m: s[0], n: s[1], k: s[2], alpha: 1, pad: i % 3}
				switch i % 4 {
				case 1:
					c.beta = 1
				case 2:
					c.alpha, c.beta = -0.5, 0.25
				case 3:
					c.alpha = 2
				}
				cs = append(cs, c)
			}
		}
	}
	return cs
}

func runGemmCase(t *testing.T, tc gemmCase, gemm func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int)) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(tc.m), uint64(tc.n*1000+tc.k)))
	ar, ac := tc.m, tc.k
	if tc.transA {
		ar, ac = tc.k, tc.m
	}
	br, bc := tc.k, tc.n
	if tc.transB {
		br, bc = tc.n, tc.k
	}
	lda, ldb, ldc := max(ac, 1)+tc.pad, max(bc, 1)+tc.pad, max(tc.n, 1)+tc.pad
	a := randSlice(rng, ar*lda)
	b := randSlice(rng, br*ldb)
	c := randSlice(rng, tc.m*ldc)
	if tc.beta == 0 && len(c) > 0 {
		c[0] = float32(math.NaN()) // must not propagate with beta = 0
	}
	want, mag := naiveGemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
	orig := append([]float32(nil), c...)
	gemm(tc, a, lda, b, ldb, c, ldc)
	for i := 0; i < tc.m; i++ {
		for j := 0; j < ldc; j++ {
			got := float64(c[i*ldc+j])
			if j >= tc.n {
				if c[i*ldc+j] != orig[i*ldc+j] && !(math.IsNaN(got) && math.IsNaN(float64(orig[i*ldc+j]))) {
					t.Fatalf("%+v: padding C[%d,%d] changed", tc, i, j)
				}
				continue
			}
			w := want[i*tc.n+j]
			if d := math.Abs(got - w); !(d <= 1e-6*mag[i*tc.n+j]+1e-30) {
				t.Fatalf("%+v: C[%d,%d] = %v, want %v (|Δ| %g, scale %g)", tc, i, j, got, w, d, mag[i*tc.n+j])
			}
		}
	}
}

func TestSgemm(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		for _, tc := range gemmCases() {
			runGemmCase(t, tc, func(tc gemmCase, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
				Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			})
		}
	})
}

// ParallelSgemm must give the bytes of Sgemm whatever the number of workers.
func TestParallelSgemmDeterministic(t *testing.T) {
	forEachKernel(t, func(t *testing.T) {
		for _, tc := range []gemmCase{{m: 301, n: 37, k: 300, alpha: 1}, {m: 7, n: 300, k: 50, alpha: 1, transB: true}, {m: 30, n: 600, k: 40, alpha: 1, transA: true}, {m: 64, n: 64, k: 600, alpha: 1, beta: 1, transA: true}} {
			rng := rand.New(rand.NewPCG(1, 2))
			ar, ac := tc.m, tc.k
			if tc.transA {
				ar, ac = ac, ar
			}
			br, bc := tc.k, tc.n
			if tc.transB {
				br, bc = bc, br
			}
			a, b, c0 := randSlice(rng, ar*ac), randSlice(rng, br*bc), randSlice(rng, tc.m*tc.n)
			ref := append([]float32(nil), c0...)
			Sgemm(tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, ac, b, bc, tc.beta, ref, tc.n)
			for _, w := range []int{1, 2, 3, 5, 8} {
				c := append([]float32(nil), c0...)
				ParallelSgemm(w, tc.transA, tc.transB, tc.m, tc.n, tc.k, tc.alpha, a, ac, b, bc, tc.beta, c, tc.n)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
						t.Fatalf("%+v workers=%d: element %d = %v, Sgemm %v", tc, w, i, c[i], ref[i])
					}
				}
			}
		}
	})
}

func TestSgemmPanics(t *testing.T) {
	tests := []struct {
		name string
		f    func()
	}{
		{"negative", func() { Sgemm(false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) }},
		{"short A", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		}},
		{"small ldc", func() {
			Sgemm(false, false, 2, 2, 2, 1, make([]float32, 4), 2, make([]float32, 4), 2, 0, make([]float32, 4), 1)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			tt.f()
		})
	}
}

func BenchmarkSgemm(b *testing.B) {
	for _, s := range [][3]int{{256, 256, 256}, {3136, 64, 48}, {12544, 48, 75}, {1024, 1024, 1024}} {
		m, n, k := s[0], s[1], s[2]
		rng := rand.New(rand.NewPCG(1, 1))
		x, y, z := randSlice(rng, m*k), randSlice(rng, k*n), make([]float32, m*n)
		b.Run(fmt.Sprintf("%dx%dx%d", m, n, k), func(b *testing.B) {
			for b.Loop() {
				Sgemm(false, false, m, n, k, 1, x, k, y, n, 0, z, n)
			}
			b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
