package sharedfilters

import (
	"fmt"

	"compactv4/internal/metrics"

	"gonum.org/v1/gonum/mat"
)

// patchSpace turns the correlation of two layer-0 filters' responses to natural images into a
// cosine similarity. The response of filter w at one image position is w·p + bias, where p is
// the recentred 5×5×3 patch there; over a set of patches with covariance Σ, the Pearson
// correlation of the responses of filters a and b is aᵀΣb / sqrt(aᵀΣa · bᵀΣb). With Σ = L Lᵀ
// (Cholesky) that is the cosine of Lᵀa and Lᵀb, so the best-match machinery of the kernel
// comparison applies unchanged to the transformed filters.
type patchSpace struct {
	Dim     int
	Patches int       // patches the covariance was estimated from
	L       []float64 // Dim×Dim lower-triangular Cholesky factor of Σ, row-major
	// VarianceShare is the share of the patches' variance along each principal component,
	// largest first: natural-image patches vary mostly along a few smooth directions, which
	// makes the responses of unrelated filters correlated.
	VarianceShare []float64
}

// factorPatchCov factorises a patch covariance matrix (dim×dim, row-major) estimated from
// patches patches.
func factorPatchCov(cov []float64, dim, patches int) (*patchSpace, error) {
	if dim < 1 || len(cov) != dim*dim {
		return nil, fmt.Errorf("patch covariance: %d values for %d×%d", len(cov), dim, dim)
	}
	sym := mat.NewSymDense(dim, append([]float64(nil), cov...))
	var ch mat.Cholesky
	if ok := ch.Factorize(sym); !ok {
		return nil, fmt.Errorf("patch covariance of %d patches is not positive definite", patches)
	}
	var l mat.TriDense
	ch.LTo(&l)
	pm := &patchSpace{Dim: dim, Patches: patches, L: make([]float64, dim*dim)}
	for i := 0; i < dim; i++ {
		for j := 0; j <= i; j++ {
			pm.L[i*dim+j] = l.At(i, j)
		}
	}
	var eig mat.EigenSym
	if ok := eig.Factorize(sym, false); !ok {
		return nil, fmt.Errorf("patch covariance: eigendecomposition failed")
	}
	ev := eig.Values(nil) // ascending
	var tot float64
	for _, x := range ev {
		tot += x
	}
	for i := len(ev) - 1; i >= 0; i-- {
		pm.VarianceShare = append(pm.VarianceShare, ev[i]/tot)
	}
	return pm, nil
}

// Transform returns Lᵀw scaled to unit norm: dot products of transformed filters are the
// correlations of the filters' responses to the patches.
func (pm *patchSpace) Transform(w []float64) ([]float64, error) {
	if len(w) != pm.Dim {
		return nil, fmt.Errorf("patch metric: filter of %d values, want %d", len(w), pm.Dim)
	}
	v := make([]float64, pm.Dim)
	for i := 0; i < pm.Dim; i++ {
		var s float64
		for j := i; j < pm.Dim; j++ {
			s += pm.L[j*pm.Dim+i] * w[j]
		}
		v[i] = s
	}
	return metrics.Unit(v)
}
