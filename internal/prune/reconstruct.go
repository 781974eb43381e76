package prune

import (
	"fmt"

	"compactv4/internal/model"
)

// Reconstruct returns the compact model made of the kept filters of student (upstream
// reconstruct_network, reference/upstream.md §8): a new network of reference/upstream.md §4.1
// with len(kept[l]) filters in layer l, holding the kept slices of the student's weights: layer
// 0's kernel [:,:,:,kept0] and bias; for layer l ≥ 1 the depthwise kernel [:,:,kept_{l−1}], the
// pointwise kernel [:,:,kept_{l−1},kept_l] and the bias; all four batchnorm vectors; Beta reshaped
// to (28, 28, F4) [:,:,kept4], and Beta's bias. Kept indices must be ascending and distinct, as
// Result.Kept gives them. The student is not changed.
func Reconstruct(student *model.Network, kept [model.NumLayers][]int) (*model.Network, error) {
	filters, err := model.CompactFilters(student)
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	var counts [model.NumLayers]int
	for l, k := range kept {
		if len(k) == 0 {
			return nil, fmt.Errorf("reconstruct: layer %d keeps no filter: %w", l, ErrInput)
		}
		for i, f := range k {
			if f < 0 || f >= filters[l] || (i > 0 && f <= k[i-1]) {
				return nil, fmt.Errorf("reconstruct: layer %d kept filters %v are not ascending indices below %d: %w", l, k, filters[l], ErrInput)
			}
		}
		counts[l] = len(k)
	}
	out, err := model.NewCompact(counts)
	if err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	out.Name = student.Name
	src, dst := student.Weights(), out.Weights()
	if len(src) != len(dst) {
		return nil, fmt.Errorf("reconstruct: student has %d weight arrays, the compact model %d", len(src), len(dst))
	}
	i := 0
	for l := range model.NumLayers {
		if l == 0 {
			slice(dst[i], src[i], every(src[i].Shape[2]), kept[0]) // kernel (5,5,3,F0)
			i++
		} else {
			slice(dst[i], src[i], kept[l-1], []int{0})    // depthwise (5,5,F_{l−1},1)
			slice(dst[i+1], src[i+1], kept[l-1], kept[l]) // pointwise (1,1,F_{l−1},F_l)
			i += 2
		}
		slice1(dst[i], src[i], kept[l]) // bias
		i++
		for range 4 { // batchnorm γ, β, moving mean, moving variance
			slice1(dst[i], src[i], kept[l])
			i++
		}
	}
	// Beta (H·W·F4, 1): the rows of the kept filters at every pixel.
	f4, k4 := filters[4], kept[4]
	pixels := src[i].Shape[0] / f4
	for p := range pixels {
		for j, c := range k4 {
			dst[i].Data[p*len(k4)+j] = src[i].Data[p*f4+c]
		}
	}
	copy(dst[i+1].Data, src[i+1].Data)
	if err := out.Validate(); err != nil {
		return nil, fmt.Errorf("reconstruct: %w", err)
	}
	return out, nil
}

// slice1 copies src[idx] into dst, one-dimensional.
func slice1(dst, src *model.Tensor, idx []int) {
	for j, k := range idx {
		dst.Data[j] = src.Data[k]
	}
}

// slice copies the 4-D src[h, w, c, o] for every h and w, c in cin and o in cout into dst,
// whose shape is the selection's.
func slice(dst, src *model.Tensor, cin, cout []int) {
	sh := src.Shape
	k := 0
	for hw := range sh[0] * sh[1] {
		for _, c := range cin {
			base := (hw*sh[2] + c) * sh[3]
			for _, o := range cout {
				dst.Data[k] = src.Data[base+o]
				k++
			}
		}
	}
}

// every returns 0, 1, …, n−1.
func every(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
