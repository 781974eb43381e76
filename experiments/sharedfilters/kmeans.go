package sharedfilters

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"compactv4/internal/metrics"
)

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

func dot(a, b []float64) float64 {
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

// AxialKMeans partitions the unit vectors (rows of fs) into k clusters, maximising the mean
// absolute cosine similarity to the cluster centre. Each of restarts runs is seeded by k-means++
// (distance 1 − |cos|) from src; the best run is returned. A centre is the unit vector
// maximising the summed |cos| of its members for their current signs (the normalised signed
// sum); an emptied cluster is re-seeded with the vector worst fitted by its centre.
func AxialKMeans(fs *FilterSet, k, restarts int, src *rand.Rand) (*Clustering, error) {
	n := fs.Len()
	if k < 1 || k > n {
		return nil, fmt.Errorf("k-means: k = %d for %d vectors", k, n)
	}
	if restarts < 1 {
		restarts = 1
	}
	var best *Clustering
	for r := 0; r < restarts; r++ {
		c := kmeansOnce(fs, k, src)
		if best == nil || c.Fit > best.Fit {
			best = c
		}
	}
	return best, nil
}

func kmeansOnce(fs *FilterSet, k int, src *rand.Rand) *Clustering {
	n, d := fs.Len(), fs.Dim
	// k-means++ seeding with distance 1 − |cos|.
	centres := make([][]float64, 0, k)
	first := src.IntN(n)
	centres = append(centres, append([]float64(nil), fs.Row(first)...))
	dist := make([]float64, n)
	for i := range dist {
		dist[i] = 1 - math.Abs(dot(fs.Row(i), centres[0]))
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
		c := append([]float64(nil), fs.Row(pick)...)
		centres = append(centres, c)
		for i := range dist {
			dist[i] = math.Min(dist[i], 1-math.Abs(dot(fs.Row(i), c)))
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
			v := fs.Row(i)
			bj, bs := 0, -1.0
			for j, c := range centres {
				if s := math.Abs(dot(v, c)); s > bs {
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
			v := fs.Row(i)
			sign := 1.0
			if dot(v, centres[j]) < 0 {
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
				centres[j] = append(centres[j][:0], fs.Row(w)...)
				sims[w] = 1
				continue
			}
			if u, err := unit(sum[j]); err == nil {
				centres[j] = u
			}
		}
	}
	var fit float64
	for i := 0; i < n; i++ {
		fit += math.Abs(dot(fs.Row(i), centres[assign[i]]))
	}
	return &Clustering{K: k, Centres: centres, Assign: assign, Fit: fit / float64(n)}
}

// Silhouette returns the mean silhouette width (Rousseeuw 1987) of a partition of the rows idx
// of fs, with distance 1 − |cos|: for each vector, a = its mean distance to the other members
// of its cluster, b = the smallest mean distance to another cluster's members, s = (b − a) /
// max(a, b), and s = 0 for a vector alone in its cluster. assign gives the cluster of every row
// of fs; only the rows in idx (and only clusters with members in idx) take part.
func Silhouette(fs *FilterSet, assign []int, k int, idx []int) (float64, error) {
	if len(idx) < 2 {
		return 0, fmt.Errorf("silhouette: %d vectors", len(idx))
	}
	return silhouetteFromDist(sampleDistances(fs, idx), len(idx), assign, k, idx)
}

// sampleDistances returns the m×m matrix of distances 1 − |cos| between the rows idx of fs,
// clamped at 0: for (nearly) identical vectors rounding can make |cos| exceed 1, and a negative
// distance would push a silhouette outside [−1, 1].
func sampleDistances(fs *FilterSet, idx []int) []float64 {
	m := len(idx)
	dist := make([]float64, m*m)
	for a := 0; a < m; a++ {
		for b := a + 1; b < m; b++ {
			x := math.Max(0, 1-math.Abs(dot(fs.Row(idx[a]), fs.Row(idx[b]))))
			dist[a*m+b], dist[b*m+a] = x, x
		}
	}
	return dist
}

func silhouetteFromDist(dist []float64, m int, assign []int, k int, idx []int) (float64, error) {
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

// sampleIndices returns up to n distinct indices of [0, total), sorted, drawn with a seeded
// source (all indices when total ≤ n).
func sampleIndices(total, n int, seed uint64) []int {
	if total <= n {
		out := make([]int, total)
		for i := range out {
			out[i] = i
		}
		return out
	}
	src := rand.New(metrics.NewSource(seed))
	perm := src.Perm(total)[:n]
	slices.Sort(perm)
	return perm
}
