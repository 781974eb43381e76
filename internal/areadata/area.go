package areadata

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"compactv4/eval"
	"compactv4/internal/metrics"
)

// BrainScoreWindow is the time window, in ms after image onset, whose responses Brain-Score's
// MajajHong2015 benchmarks use for both regions: the public assembly's single time bin
// (time_bin_start 70, time_bin_end 170), which load_assembly squeezes
// (brainscore_vision/benchmarks/majajhong2015/benchmark.py; the temporal benchmarks, which
// read another assembly, are not these).
var BrainScoreWindow = [2]int64{70, 170}

// BrainScoreTrainSize is the fraction of images Brain-Score's cross-validation fits on
// (brainscore_vision/metric_helpers/transformations.py, Split.Defaults.train_size; the
// MajajHong2015 benchmarks stratify by object_name).
const BrainScoreTrainSize = 0.9

// Area is one visual area's recordings, ready for evaluation: the responses of its neurons to
// every image (repeat-averaged and raw), the image ids in response order and, where the data
// set has them, each image's object (the stratum of the split).
type Area struct {
	// Name names the area for messages and tables, e.g. "MajajHong2015 IT".
	Name string
	// ImageIDs are the images in the order of Resp's columns.
	ImageIDs []string
	// Objects holds each image's object_name (nil when the data set has none).
	Objects []string
	// Resp holds the responses to all images (Lo 0, Hi len(ImageIDs)).
	Resp *eval.Responses
	// Window is the time window averaged, in ms after image onset; {0, 0} when the data set
	// holds one binned count per presentation (Cadena et al.'s pickle).
	Window [2]int64
}

// Area returns region's neuroids of the assembly as an Area: the responses averaged over the
// time bins inside BrainScoreWindow (the public file's single bin is that window), repeats and
// averages as Responses describes, and each image's object_name from the stimulus set (st may be
// nil: Objects is then nil and a split is not stratified). A time bin that straddles the window
// is an error, as is an image the stimulus set lacks.
func (a *Assembly) Area(region string, st *Stimuli) (*Area, error) {
	w, err := a.window(BrainScoreWindow)
	if err != nil {
		return nil, err
	}
	name := MajajHong2015 + " " + region
	r, images, err := w.Responses(name, region)
	if err != nil {
		return nil, err
	}
	out := &Area{Name: name, ImageIDs: images, Resp: r, Window: BrainScoreWindow}
	if st != nil {
		col, ok := st.Columns["object_name"]
		if !ok {
			return nil, fmt.Errorf("%s: the stimulus set has no column object_name to stratify the split by", name)
		}
		out.Objects = make([]string, len(images))
		for i, id := range images {
			k, ok := st.index[id]
			if !ok {
				return nil, fmt.Errorf("%s: image %s is not in the stimulus set", name, id)
			}
			out.Objects[i] = col[k]
		}
	}
	return out, nil
}

// window returns the assembly restricted to its time bins inside [win[0], win[1]) ms.
func (a *Assembly) window(win [2]int64) (*Assembly, error) {
	var keep []int
	for b := range a.TimeBins() {
		in := a.BinStart[b] >= win[0] && a.BinEnd[b] <= win[1]
		out := a.BinEnd[b] <= win[0] || a.BinStart[b] >= win[1]
		if !in && !out {
			return nil, fmt.Errorf("assembly: time bin [%d, %d) ms straddles the window [%d, %d) ms", a.BinStart[b], a.BinEnd[b], win[0], win[1])
		}
		if in {
			keep = append(keep, b)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("assembly: no time bin inside the window [%d, %d) ms (bins start at %v ms)", win[0], win[1], a.BinStart)
	}
	if len(keep) == a.TimeBins() {
		return a, nil
	}
	w := *a
	w.BinStart, w.BinEnd = nil, nil
	for _, b := range keep {
		w.BinStart, w.BinEnd = append(w.BinStart, a.BinStart[b]), append(w.BinEnd, a.BinEnd[b])
	}
	t, k := a.TimeBins(), len(keep)
	w.Data = make([]float64, 0, a.Neuroids()*a.Presentations()*k)
	for np := 0; np < a.Neuroids()*a.Presentations(); np++ {
		for _, b := range keep {
			w.Data = append(w.Data, a.Data[np*t+b])
		}
	}
	return &w, nil
}

// Area returns the given neurons (nil: Complete()) as an Area named "Cadena2019 V1", images
// named by their index in the file; the data set has no objects, so a split is not stratified.
func (c *Cadena) Area(neurons []int) (*Area, error) {
	name := Cadena2019 + " V1"
	r, err := c.Responses(name, neurons)
	if err != nil {
		return nil, err
	}
	ids := make([]string, c.M)
	for i := range ids {
		ids[i] = strconv.Itoa(i)
	}
	return &Area{Name: name, ImageIDs: ids, Resp: r}, nil
}

// Split divides an area's images into the images a model is fitted on and those it is
// evaluated on, as index lists in ascending order.
type Split struct {
	Fit, Eval []int
}

// Split draws the fit/evaluation split with Brain-Score's sizes: floor(trainSize·M) images to
// fit on and the rest to evaluate on (sklearn's StratifiedShuffleSplit sizes), stratified by
// object when the area has Objects. It is not Brain-Score's draw (that is numpy's generator
// inside sklearn, with random_state 1): here p = metrics.Permutation(seed, M), each object's
// share of the evaluation images is its count times (M − n_fit)/M, rounded by largest
// remainder (ties to the object seen first), and an object's evaluation images are its first
// ones in the order of p. The same seed gives the same split.
func (a *Area) Split(trainSize float64, seed uint64) (Split, error) {
	m := len(a.ImageIDs)
	if !(trainSize > 0 && trainSize < 1) {
		return Split{}, fmt.Errorf("%s: train size %v, want a fraction in (0, 1)", a.Name, trainSize)
	}
	nFit := int(math.Floor(trainSize * float64(m)))
	nEval := m - nFit
	if nFit < 1 || nEval < 1 {
		return Split{}, fmt.Errorf("%s: %d images cannot be split %v/%v", a.Name, m, trainSize, 1-trainSize)
	}
	if a.Objects != nil && len(a.Objects) != m {
		return Split{}, fmt.Errorf("%s: %d objects for %d images", a.Name, len(a.Objects), m)
	}
	strata := a.Objects
	if strata == nil {
		strata = make([]string, m)
	}
	group := map[string]int{}
	var size []int
	of := make([]int, m)
	for i, s := range strata {
		g, ok := group[s]
		if !ok {
			g = len(size)
			group[s] = g
			size = append(size, 0)
		}
		of[i] = g
		size[g]++
	}
	quota := make([]int, len(size))
	rem := make([]float64, len(size))
	left := nEval
	for g, n := range size {
		q := float64(n) * float64(nEval) / float64(m)
		quota[g] = int(math.Floor(q))
		rem[g] = q - float64(quota[g])
		left -= quota[g]
	}
	order := make([]int, len(size))
	for g := range order {
		order[g] = g
	}
	slices.SortStableFunc(order, func(x, y int) int {
		switch {
		case rem[x] > rem[y]:
			return -1
		case rem[x] < rem[y]:
			return 1
		}
		return 0
	})
	for _, g := range order[:left] {
		quota[g]++
	}
	var s Split
	isEval := make([]bool, m)
	for _, i := range metrics.Permutation(seed, m) {
		if g := of[i]; quota[g] > 0 {
			quota[g]--
			isEval[i] = true
		}
	}
	for i, e := range isEval {
		if e {
			s.Eval = append(s.Eval, i)
		} else {
			s.Fit = append(s.Fit, i)
		}
	}
	return s, nil
}

// Part returns the responses to the given images (indices into ImageIDs), repeat-averaged and
// raw, as a Responses of its own (Session "<area> <part>", Lo 0, Hi len(images)), for
// eval.Score: r²_ER then uses the area's own repeats of those images.
func (a *Area) Part(part string, images []int) (*eval.Responses, error) {
	if len(images) == 0 {
		return nil, fmt.Errorf("%s %s: no image", a.Name, part)
	}
	avg := make([][]float64, a.Resp.Neurons())
	for n, row := range a.Resp.Averaged {
		avg[n] = make([]float64, len(images))
		for j, i := range images {
			if i < 0 || i >= len(row) {
				return nil, fmt.Errorf("%s %s: image %d of %d", a.Name, part, i, len(row))
			}
			avg[n][j] = row[i]
		}
	}
	out := &eval.Responses{Session: a.Name + " " + part, Lo: 0, Hi: len(images), Averaged: avg}
	if a.Resp.Raw != nil {
		raw, err := a.Resp.Raw.Select(images)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", a.Name, part, err)
		}
		out.Raw = &raw
	}
	return out, nil
}
