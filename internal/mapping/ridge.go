// Package mapping maps a network's features to neural responses as upstream's linear mappings
// do (reference/upstream.md §7): ridge regression (scikit-learn's Ridge with an intercept, all
// neurons jointly), its default alpha, the 8-fold cross-validation and choose_alpha's search, and
// the factorized two-stage mapping trained by gradient descent.
//
// Ridge regression is computed in float64 from a Design: the features of a fixed list of
// images, reduced to their Gram matrix when there are more features than images. Every fit on a
// subset of those images (a fold, a training half) and every prediction for others then costs
// only operations on the Gram matrix, so cross-validating 25 ensemble members on 600 images of
// 25,088 features costs 25 Gram matrices.
package mapping

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"

	"compactv4/internal/metrics"
)

// ErrInput reports features, targets or settings that a mapping cannot use.
var ErrInput = errors.New("bad mapping input")

// Features is a feature matrix: row i holds image i's features, flattened in NHWC order as
// upstream's np.reshape(X, (M, -1)) does.
type Features struct {
	N, P int
	X    []float32
	// Name says where the features come from (a member's file, a layer), for errors.
	Name string
}

// check returns an error naming f unless f has a positive shape that fits X and only finite
// values.
func (f Features) check() error {
	if f.N <= 0 || f.P <= 0 || f.N > math.MaxInt/f.P || len(f.X) != f.N*f.P {
		return fmt.Errorf("features %s: %d values for %d images × %d features: %w", f.Name, len(f.X), f.N, f.P, ErrInput)
	}
	for k, v := range f.X {
		if !(v >= -math.MaxFloat32 && v <= math.MaxFloat32) { // NaN or ±Inf
			return fmt.Errorf("features %s: image %d, feature %d is %v: %w", f.Name, k/f.P, k%f.P, v, ErrInput)
		}
	}
	return nil
}

// A Design is a feature matrix prepared for ridge fits on subsets of its images.
type Design struct {
	n, p int
	name string
	// gram is the n×n Gram matrix of the features centred by their mean over all n images.
	gram []float64
	// x holds those centred features (n×p) when p ≤ n, for fits in the primal form; else nil.
	x []float64
}

// NewDesign prepares f for ridge fits. It fails when f has NaN or infinite values.
func NewDesign(f Features) (*Design, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	n, p := f.N, f.P
	n4, ld := (n+3)&^3, (p+7)&^7
	xc := make([]float64, n4*ld)
	mean := make([]float64, p)
	for i := range n {
		for j, v := range f.X[i*p : i*p+p] {
			mean[j] += float64(v)
		}
	}
	for j := range mean {
		mean[j] /= float64(n)
	}
	for i := range n {
		row := xc[i*ld : i*ld+p]
		for j, v := range f.X[i*p : i*p+p] {
			row[j] = float64(v) - mean[j]
		}
	}
	g4 := gram(xc, n4, ld)
	d := &Design{n: n, p: p, name: f.Name, gram: make([]float64, n*n)}
	for i := range n {
		copy(d.gram[i*n:i*n+n], g4[i*n4:i*n4+n])
	}
	if p <= n {
		d.x = make([]float64, n*p)
		for i := range n {
			copy(d.x[i*p:i*p+p], xc[i*ld:i*ld+p])
		}
	}
	return d, nil
}

// checkRows returns an error unless rows are distinct images of d (at least min of them).
func (d *Design) checkRows(what string, rows []int, least int) error {
	if len(rows) < least {
		return fmt.Errorf("features %s: %d %s images, need at least %d: %w", d.name, len(rows), what, least, ErrInput)
	}
	seen := make(map[int]bool, len(rows))
	for _, r := range rows {
		if r < 0 || r >= d.n || seen[r] {
			return fmt.Errorf("features %s: %s image %d is out of range [0, %d) or repeated: %w", d.name, what, r, d.n, ErrInput)
		}
		seen[r] = true
	}
	return nil
}

// DefaultAlpha returns upstream's default ridge penalty for training on rows of f:
// 0.01·median_j(var_j·(t−1)²), var_j the population variance of feature j over the t rows
// (reference/upstream.md §7; note the square). It is computed in float64.
func DefaultAlpha(f Features, rows []int) (float64, error) {
	if err := f.check(); err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, fmt.Errorf("features %s: default alpha of no images: %w", f.Name, ErrInput)
	}
	for _, r := range rows {
		if r < 0 || r >= f.N {
			return 0, fmt.Errorf("features %s: image %d out of range [0, %d): %w", f.Name, r, f.N, ErrInput)
		}
	}
	return defaultAlpha(f, rows), nil
}

// defaultAlpha is DefaultAlpha for features and rows already checked. The features are split
// into one contiguous range per worker; each feature's sums run over the rows in order, so the
// result does not depend on the number of workers.
func defaultAlpha(f Features, rows []int) float64 {
	t := float64(len(rows))
	ss := make([]float64, f.P)
	workers := max(1, min(runtime.GOMAXPROCS(0), f.P/1024))
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*f.P/workers, (w+1)*f.P/workers
		wg.Add(1)
		go func() {
			defer wg.Done()
			mean, ss := make([]float64, hi-lo), ss[lo:hi]
			for _, r := range rows {
				for j, v := range f.X[r*f.P+lo : r*f.P+hi] {
					mean[j] += float64(v)
				}
			}
			for j := range mean {
				mean[j] /= t
			}
			for _, r := range rows {
				for j, v := range f.X[r*f.P+lo : r*f.P+hi] {
					d := float64(v) - mean[j]
					ss[j] += d * d
				}
			}
			for j := range ss {
				ss[j] = ss[j] / t * (t - 1) * (t - 1)
			}
		}()
	}
	wg.Wait()
	return 0.01 * metrics.Median(ss)
}

// A Fit is a ridge regression fitted on some images of a Design.
type Fit struct {
	d     *Design
	train []int
	ybar  []float64 // per neuron: mean target over the training images
	// Kernel form: dual coefficients (t×N, row k for training image train[k]) and, per image
	// of the design, the mean of its Gram row over the training images (and their mean).
	dual *mat.Dense
	rowT []float64
	mu   float64
	// Primal form: coefficients (p×N) and the training mean of the centred features.
	w    *mat.Dense
	xbar []float64
}

// Fit fits scikit-learn's Ridge(alpha) with an intercept (reference/upstream.md §7) on the
// images train of d to targets y (y[n][k]: neuron n's response to image train[k]), all neurons
// with the same alpha. As scikit-learn does, it solves the kernel (dual) form when the features
// outnumber the training images and the primal form otherwise, each by a Cholesky factorisation,
// falling back to the minimum-norm least-squares solution when that fails (alpha 0 with
// collinear features).
func (d *Design) Fit(train []int, y [][]float64, alpha float64) (*Fit, error) {
	if err := d.checkRows("training", train, 1); err != nil {
		return nil, err
	}
	if math.IsNaN(alpha) || math.IsInf(alpha, 0) || alpha < 0 {
		return nil, fmt.Errorf("features %s: ridge alpha %v: must be finite and ≥ 0: %w", d.name, alpha, ErrInput)
	}
	t := len(train)
	if len(y) == 0 {
		return nil, fmt.Errorf("features %s: no neurons to fit: %w", d.name, ErrInput)
	}
	nn := len(y)
	f := &Fit{d: d, train: train, ybar: make([]float64, nn)}
	yc := mat.NewDense(t, nn, nil)
	for n, row := range y {
		if len(row) != t {
			return nil, fmt.Errorf("features %s: neuron %d has %d targets for %d training images: %w", d.name, n, len(row), t, ErrInput)
		}
		s := 0.0
		for k, v := range row {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("features %s: neuron %d, training image %d: target %v: %w", d.name, n, train[k], v, ErrInput)
			}
			s += v
		}
		f.ybar[n] = s / float64(t)
		for k, v := range row {
			yc.Set(k, n, v-f.ybar[n])
		}
	}
	if d.p > t {
		f.fitKernel(yc, alpha)
	} else {
		f.fitPrimal(yc, alpha)
	}
	return f, nil
}

// fitKernel solves (K_c + αI)·A = Y_c, K_c the Gram matrix of the training images centred by
// their own mean: K_c[a][b] = G[a][b] − m[a] − m[b] + μ with m[a] the mean of G[a][·] over the
// training images and μ the mean of m over them.
func (f *Fit) fitKernel(yc *mat.Dense, alpha float64) {
	d, t := f.d, len(f.train)
	f.rowT = make([]float64, d.n)
	for a := range d.n {
		s := 0.0
		row := d.gram[a*d.n:]
		for _, b := range f.train {
			s += row[b]
		}
		f.rowT[a] = s / float64(t)
	}
	for _, a := range f.train {
		f.mu += f.rowT[a]
	}
	f.mu /= float64(t)
	k := mat.NewSymDense(t, nil)
	for i, a := range f.train {
		for j := i; j < t; j++ {
			b := f.train[j]
			v := d.gram[a*d.n+b] - f.rowT[a] - f.rowT[b] + f.mu
			if i == j {
				v += alpha
			}
			k.SetSym(i, j, v)
		}
	}
	f.dual = solveSym(k, yc)
}

// fitPrimal solves (X_cᵀX_c + αI)·w = X_cᵀY_c, X_c the training features centred by their mean.
func (f *Fit) fitPrimal(yc *mat.Dense, alpha float64) {
	d, t, p := f.d, len(f.train), f.d.p
	f.xbar = make([]float64, p)
	for _, a := range f.train {
		for j, v := range d.x[a*p : a*p+p] {
			f.xbar[j] += v
		}
	}
	for j := range f.xbar {
		f.xbar[j] /= float64(t)
	}
	xc := mat.NewDense(t, p, nil)
	for i, a := range f.train {
		for j, v := range d.x[a*p : a*p+p] {
			xc.Set(i, j, v-f.xbar[j])
		}
	}
	c := mat.NewSymDense(p, nil)
	c.SymOuterK(1, xc.T())
	for j := range p {
		c.SetSym(j, j, c.At(j, j)+alpha)
	}
	var rhs mat.Dense
	rhs.Mul(xc.T(), yc)
	f.w = solveSym(c, &rhs)
}

// solveSym solves a·x = b for symmetric positive semi-definite a: by Cholesky (whose
// near-singularity warning, like scipy's, does not stop it), or when a is not positive definite
// the minimum-norm least-squares solution (rank from singular values above ε·n·σ_max, as
// LAPACK's gelsd with scipy's default).
func solveSym(a *mat.SymDense, b mat.Matrix) *mat.Dense {
	var ch mat.Cholesky
	var x mat.Dense
	if ch.Factorize(a) {
		err := ch.SolveTo(&x, b)
		if err == nil || errors.As(err, new(mat.Condition)) {
			return &x
		}
	}
	var svd mat.SVD
	if !svd.Factorize(a, mat.SVDThin) {
		panic("mapping: SVD of a finite matrix did not converge")
	}
	n, _ := a.Dims()
	rank := svd.Rank(0x1p-52 * float64(n))
	x.Reset()
	svd.SolveTo(&x, b, max(rank, 1))
	return &x
}

// Predict returns the fit's predictions for images rows of its design: out[n][k] for neuron n
// and image rows[k].
func (f *Fit) Predict(rows []int) ([][]float64, error) {
	d := f.d
	if err := d.checkRows("predicted", rows, 0); err != nil {
		return nil, err
	}
	nn := len(f.ybar)
	out := make([][]float64, nn)
	for n := range out {
		out[n] = make([]float64, len(rows))
	}
	if f.dual != nil {
		kc := make([]float64, len(f.train))
		for k, s := range rows {
			row := d.gram[s*d.n:]
			for i, b := range f.train {
				kc[i] = row[b] - f.rowT[s] - f.rowT[b] + f.mu
			}
			for n := range nn {
				v := 0.0
				for i, c := range kc {
					v += c * f.dual.At(i, n)
				}
				out[n][k] = f.ybar[n] + v
			}
		}
		return out, nil
	}
	p := d.p
	xc := make([]float64, p)
	for k, s := range rows {
		for j, v := range d.x[s*p : s*p+p] {
			xc[j] = v - f.xbar[j]
		}
		for n := range nn {
			v := 0.0
			for j, c := range xc {
				v += c * f.w.At(j, n)
			}
			out[n][k] = f.ybar[n] + v
		}
	}
	return out, nil
}
