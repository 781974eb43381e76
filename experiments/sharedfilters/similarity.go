package sharedfilters

import (
	"fmt"
	"math"
	"sort"
	"sync"

	"compactv4/internal/metrics"
	"compactv4/internal/nn"
)

// filterSet holds unit vectors (normalised kernels) of several models, grouped by model: the
// vectors of model m are rows Start[m] … Start[m+1]−1.
type filterSet struct {
	metrics.Vectors       // one row per filter
	Start           []int // len = models + 1, Start[0] = 0
}

// NewFilterSet stacks the vectors of each model; every vector must have length dim.
// A model may have no vectors.
func newFilterSet(dim int, perModel [][][]float64) (*filterSet, error) {
	if dim < 1 {
		return nil, fmt.Errorf("filter set: dimension %d", dim)
	}
	fs := &filterSet{Vectors: metrics.Vectors{Dim: dim}, Start: make([]int, 1, len(perModel)+1)}
	for m, vs := range perModel {
		for i, v := range vs {
			if len(v) != dim {
				return nil, fmt.Errorf("filter set: model %d vector %d has %d values, want %d", m, i, len(v), dim)
			}
			fs.Data = append(fs.Data, v...)
		}
		fs.Start = append(fs.Start, fs.Start[m]+len(vs))
	}
	return fs, nil
}

// Models is the number of models.
func (fs *filterSet) Models() int { return len(fs.Start) - 1 }

// Owner returns the model of vector i.
func (fs *filterSet) Owner(i int) int {
	return sort.SearchInts(fs.Start[1:], i+1)
}

// BestMatch holds, for every vector i of a filterSet and every model m, the largest absolute
// dot product of vector i with a vector of model m: Best[i*Models+m]. It is NaN for the
// vector's own model and for models without vectors.
type bestMatch struct {
	Set  *filterSet
	Best []float64
}

// blockRows is the number of vectors whose dot products with all others are computed at once.
const blockRows = 128

// bestMatches computes the best match of every vector in every model. The dot products are
// computed by nn.Sgemm in float32 (unit vectors: absolute error about 1e-7), reduced in
// float64; blocks of rows are spread over workers goroutines, and every value is computed by the
// same instructions whatever the number of workers.
func bestMatches(fs *filterSet, workers int) *bestMatch {
	n, d, nm := fs.Len(), fs.Dim, fs.Models()
	bm := &bestMatch{Set: fs, Best: make([]float64, n*nm)}
	if n == 0 {
		return bm
	}
	u := make([]float32, len(fs.Data))
	for i, x := range fs.Data {
		u[i] = float32(x)
	}
	if workers < 1 {
		workers = 1
	}
	blocks := (n + blockRows - 1) / blockRows
	var wg sync.WaitGroup
	next := make(chan int, blocks)
	for b := 0; b < blocks; b++ {
		next <- b
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := make([]float32, blockRows*n)
			for b := range next {
				r0 := b * blockRows
				rows := min(blockRows, n-r0)
				nn.Sgemm(false, true, rows, n, d, 1, u[r0*d:], d, u, d, 0, g, n)
				for r := 0; r < rows; r++ {
					i := r0 + r
					own := fs.Owner(i)
					dst := bm.Best[i*nm : (i+1)*nm]
					row := g[r*n : (r+1)*n]
					for m := 0; m < nm; m++ {
						if m == own || fs.Start[m] == fs.Start[m+1] {
							dst[m] = math.NaN()
							continue
						}
						var best float32
						for _, x := range row[fs.Start[m]:fs.Start[m+1]] {
							if x < 0 {
								x = -x
							}
							if x > best {
								best = x
							}
						}
						dst[m] = math.Min(float64(best), 1)
					}
				}
			}
		}()
	}
	wg.Wait()
	return bm
}

// PairSimilarity returns the symmetric matrix of model similarities: entry (a, b) is the mean
// of (the mean best match of a's vectors in b) and (the mean best match of b's vectors in a).
// The diagonal, and pairs involving a model without vectors, are NaN.
func (bm *bestMatch) PairSimilarity() [][]float64 {
	fs := bm.Set
	nm := fs.Models()
	dir := make([][]float64, nm) // dir[a][b]: mean over a's vectors of their best match in b
	for a := range dir {
		dir[a] = make([]float64, nm)
		cnt := fs.Start[a+1] - fs.Start[a]
		for b := range dir[a] {
			if cnt == 0 {
				dir[a][b] = math.NaN()
				continue
			}
			var s float64
			for i := fs.Start[a]; i < fs.Start[a+1]; i++ {
				s += bm.Best[i*nm+b]
			}
			dir[a][b] = s / float64(cnt)
		}
	}
	out := make([][]float64, nm)
	for a := range out {
		out[a] = make([]float64, nm)
		for b := range out[a] {
			out[a][b] = (dir[a][b] + dir[b][a]) / 2
		}
	}
	return out
}

// upperTriangle returns the finite entries above the diagonal of a square matrix, row by row.
func upperTriangle(m [][]float64) []float64 {
	var out []float64
	for a := range m {
		for b := a + 1; b < len(m[a]); b++ {
			if x := m[a][b]; !math.IsNaN(x) {
				out = append(out, x)
			}
		}
	}
	return out
}

// rowMeans returns the mean of the finite off-diagonal entries of each row: for a pair
// similarity matrix, how similar each model is to the others on average (NaN for a row without
// finite entries).
func rowMeans(m [][]float64) []float64 {
	out := make([]float64, len(m))
	for a, row := range m {
		var s float64
		n := 0
		for b, x := range row {
			if b != a && !math.IsNaN(x) {
				s += x
				n++
			}
		}
		out[a] = math.NaN()
		if n > 0 {
			out[a] = s / float64(n)
		}
	}
	return out
}
