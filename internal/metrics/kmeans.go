package metrics

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
)

// ErrZeroVector reports a vector of zeros, which has no direction.
var ErrZeroVector = errors.New("zero vector has no direction")

// Unit returns v scaled to unit length. A zero vector is ErrZeroVector; a NaN or infinite value
// is an error.
func Unit(v []float64) ([]float64, error) {
	var ss float64
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("vector holds %v", x)
		}
		ss += x * x
	}
	if ss == 0 {
		return nil, ErrZeroVector
	}
	n := math.Sqrt(ss)
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x / n
	}
	return out, nil
}

// Vectors are vectors of Dim values, row after row in Data.
type Vectors struct {
	Dim  int
	Data []float64
}

// Len is the number of vectors.
func (vs Vectors) Len() int {
	if vs.Dim < 1 {
		return 0
	}
	return len(vs.Data) / vs.Dim
}

// Row returns vector i.
func (vs Vectors) Row(i int) []float64 { return vs.Data[i*vs.Dim : (i+1)*vs.Dim] }

// Clustering is an axial (sign-invariant) spherical k-means partition of unit vectors: a vector
// and its negative are the same filter up to the sign that the next layer can absorb, as in the
// absolute cosine similarity.
type Clustering struct {
	K       int
	Centres [][]float64 // unit vectors
	Assign  []int       // cluster of every vector
	// Fit is the mean absolute cosine similarity of the vectors to their centres.
	Fit float64
}

// kmeansMaxIter bounds the Lloyd iterations of one restart.
const kmeansMaxIter = 100

// Dot returns Σ a_i·b_i over len(a) values, summed in four interleaved partial sums (so the result
// is the same bits on every run and platform).
func Dot(a, b []float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(a); i += 4 {
		s0 += a[i] * b[i]
		s1 += a[i+1] * b[i+1]
		s2 += a[i+2] * b[i+2]
		s3 += a[i+3] * b[i+3]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// AxialKMeans partitions the unit vectors (rows of vs) into k clusters, maximising the mean
// absolute cosine similarity to the cluster centre. Each of restarts runs is seeded by k-means++
// (distance 1 − |cos|) from src; the best run is returned. A centre is the unit vector
// maximising the summed |cos| of its members for their current signs (the normalised signed
// sum); an emptied cluster is re-seeded with the vector worst fitted by its centre.
func AxialKMeans(vs Vectors, k, restarts int, src *rand.Rand) (*Clustering, error) {
	n := vs.Len()
	if k < 1 || k > n {
		return nil, fmt.Errorf("k-means: k = %d for %d vectors", k, n)
	}
	if restarts < 1 {
		restarts = 1
	}
	var best *Clustering
	for r := 0; r < restarts; r++ {
		c := kmeansOnce(vs, k, src)
		if best == nil || c.Fit > best.Fit {
			best = c
		}
	}
	return best, nil
}

func kmeansOnce(vs Vectors, k int, src *rand.Rand) *Clustering {
	n, d := vs.Len(), vs.Dim
	// k-means++ seeding with distance 1 − |cos|.
	centres := make([][]float64, 0, k)
	first := src.IntN(n)
	centres = append(centres, append([]float64(nil), vs.Row(first)...))
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = 1 - math.Abs(Dot(vs.Row(i), centres[0]))
	}
	for len(centres) < k {
		var tot float64
		for _, x := range dist {
			tot += x * x
		}
		pick := 0
		if tot > 0 {
			t := src.Float64() * tot
			for i, x := range dist {
				t -= x * x
				if t < 0 {
					pick = i
					break
				}
				pick = i
			}
		} else {
			pick = src.IntN(n)
		}
		c := append([]float64(nil), vs.Row(pick)...)
		centres = append(centres, c)
		for i := range dist {
			dist[i] = math.Min(dist[i], 1-math.Abs(Dot(vs.Row(i), c)))
		}
	}

	assign := make([]int, n)
	sims := make([]float64, n) // |cos| to own centre
	for i := range assign {
		assign[i] = -1
	}
	sum := make([][]float64, k)
	for j := range sum {
		sum[j] = make([]float64, d)
	}
	for iter := 0; iter < kmeansMaxIter; iter++ {
		changed := false
		for i := 0; i < n; i++ {
			v := vs.Row(i)
			bj, bs := 0, -1.0
			for j, c := range centres {
				if s := math.Abs(Dot(v, c)); s > bs {
					bj, bs = j, s
				}
			}
			if assign[i] != bj {
				assign[i], changed = bj, true
			}
			sims[i] = bs
		}
		if !changed {
			break
		}
		for j := range sum {
			clear(sum[j])
		}
		count := make([]int, k)
		for i := 0; i < n; i++ {
			j := assign[i]
			v := vs.Row(i)
			sign := 1.0
			if Dot(v, centres[j]) < 0 {
				sign = -1
			}
			for t, x := range v {
				sum[j][t] += sign * x
			}
			count[j]++
		}
		for j := range centres {
			if count[j] == 0 {
				// Re-seed an empty cluster with the worst-fitted vector.
				w := 0
				for i := range sims {
					if sims[i] < sims[w] {
						w = i
					}
				}
				centres[j] = append(centres[j][:0], vs.Row(w)...)
				sims[w] = 1
				continue
			}
			if u, err := Unit(sum[j]); err == nil {
				centres[j] = u
			}
		}
	}
	var fit float64
	for i := 0; i < n; i++ {
		fit += math.Abs(Dot(vs.Row(i), centres[assign[i]]))
	}
	return &Clustering{K: k, Centres: centres, Assign: assign, Fit: fit / float64(n)}
}

// Silhouette returns the mean silhouette width (Rousseeuw 1987) of a partition of the rows idx
// of vs, with distance 1 − |cos|: for each vector, a = its mean distance to the other members
// of its cluster, b = the smallest mean distance to another cluster's members, s = (b − a) /
// max(a, b), and s = 0 for a vector alone in its cluster. assign gives the cluster of every row
// of fs; only the rows in idx (and only clusters with members in idx) take part.
func Silhouette(vs Vectors, assign []int, k int, idx []int) (float64, error) {
	if len(idx) < 2 {
		return 0, fmt.Errorf("silhouette: %d vectors", len(idx))
	}
	return SilhouetteFromDistances(AxialDistances(vs, idx), len(idx), assign, k, idx)
}

// AxialDistances returns the m×m matrix of distances 1 − |cos| between the rows idx of vs,
// clamped at 0: for (nearly) identical vectors rounding can make |cos| exceed 1, and a negative
// distance would push a silhouette outside [−1, 1].
func AxialDistances(vs Vectors, idx []int) []float64 {
	m := len(idx)
	dist := make([]float64, m*m)
	for a := 0; a < m; a++ {
		for b := a + 1; b < m; b++ {
			x := math.Max(0, 1-math.Abs(Dot(vs.Row(idx[a]), vs.Row(idx[b]))))
			dist[a*m+b], dist[b*m+a] = x, x
		}
	}
	return dist
}

// SilhouetteFromDistances is Silhouette from the m×m distances AxialDistances returns for idx,
// so that several partitions of the same vectors share them.
func SilhouetteFromDistances(dist []float64, m int, assign []int, k int, idx []int) (float64, error) {
	if m != len(idx) || len(dist) != m*m {
		return 0, fmt.Errorf("silhouette: %d distances for %d vectors (%d indices)", len(dist), m, len(idx))
	}
	count := make([]int, k)
	for _, i := range idx {
		if assign[i] < 0 || assign[i] >= k {
			return 0, fmt.Errorf("silhouette: cluster %d of %d", assign[i], k)
		}
		count[assign[i]]++
	}
	var total float64
	sums := make([]float64, k)
	for a := 0; a < m; a++ {
		clear(sums)
		for b := 0; b < m; b++ {
			if b != a {
				sums[assign[idx[b]]] += dist[a*m+b]
			}
		}
		own := assign[idx[a]]
		if count[own] == 1 {
			continue // s = 0
		}
		ai := sums[own] / float64(count[own]-1)
		bi := math.Inf(1)
		for j := 0; j < k; j++ {
			if j != own && count[j] > 0 {
				bi = math.Min(bi, sums[j]/float64(count[j]))
			}
		}
		if math.IsInf(bi, 1) {
			continue // one cluster only: s = 0
		}
		if den := math.Max(ai, bi); den > 0 {
			total += (bi - ai) / den
		}
	}
	return total / float64(m), nil
}
