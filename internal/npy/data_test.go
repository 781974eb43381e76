package npy

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	npyio "codeberg.org/sbinet/npyio/npy"

	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/model"
)

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRepeatAveragedResponses reads all 50 repeat-averaged response files (reference/upstream.md §2.1): float64,
// (N, M), no NaN, the shapes of the spec's session table, and the same values as npyio reads.
func TestRepeatAveragedResponses(t *testing.T) {
	dir := filepath.Join(datadirtest.Dir(t), "data_V4_responses", "responses_repeat_averaged")
	files, err := filepath.Glob(filepath.Join(dir, "responses_*.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 50 {
		t.Fatalf("%d files in %s, want 50", len(files), dir)
	}
	wantShape := map[string]string{ // reference/upstream.md §2.1
		"190923": "[33 1200]", "201025": "[89 1200]", "210225": "[55 1200]", "211022": "[42 1600]",
		"210224": "[67 800]", "210325": "[50 640]",
	}
	neurons := 0
	for _, path := range files {
		session := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "responses_"), ".npy")
		b := readFile(t, path)
		a, err := Read(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if a.Dtype != Float64 || a.FortranOrder || len(a.Shape) != 2 {
			t.Fatalf("%s: dtype %v fortran %v shape %v, want <f8 C-order (N, M)", path, a.Dtype, a.FortranOrder, a.Shape)
		}
		if w, ok := wantShape[session]; ok && fmt.Sprint(a.Shape) != w {
			t.Errorf("%s: shape %v, want %s", session, a.Shape, w)
		}
		for k, v := range a.Float64 {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("%s: value %d is %v", session, k, v)
			}
		}
		var ref []float64 // npyio, an independent reader, on a well-formed file
		if err := npyio.Read(bytes.NewReader(b), &ref); err != nil {
			t.Fatalf("%s: npyio: %v", session, err)
		}
		if len(ref) != len(a.Float64) {
			t.Fatalf("%s: npyio read %d values, we read %d", session, len(ref), len(a.Float64))
		}
		for k := range ref {
			if math.Float64bits(ref[k]) != math.Float64bits(a.Float64[k]) {
				t.Fatalf("%s: value %d: npyio %v, we %v", session, k, ref[k], a.Float64[k])
			}
		}
		neurons += a.Shape[0]
	}
	t.Logf("50 sessions, %d neurons", neurons)
}

// TestRawResponses reads both raw response files present locally (reference/upstream.md §2.1): (N, M, R) float64
// spike counts, NaN only in trailing repeat slots, the same number of valid repeats for every
// neuron of an image, and nanmean over repeats equal to the repeat-averaged file exactly.
func TestRawResponses(t *testing.T) {
	root := datadirtest.Dir(t)
	for _, tt := range []struct {
		session  string
		shape    string
		min, max int
		median   int
	}{
		{"201016", "[82 600 10]", 5, 9, 6},
		{"210325", "[50 640 10]", 6, 10, 8},
	} {
		t.Run(tt.session, func(t *testing.T) {
			path := datadirtest.File(t, "data_V4_responses/responses_raw/responses_"+tt.session+".npy")
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			shape, raw, err := ReadFloat64(bufio.NewReader(f))
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(shape) != tt.shape {
				t.Fatalf("shape %v, want %s", shape, tt.shape)
			}
			n, m, r := shape[0], shape[1], shape[2]
			avgShape, avg, err := ReadFloat64(bytes.NewReader(readFile(t, filepath.Join(root, "data_V4_responses/responses_repeat_averaged/responses_"+tt.session+".npy"))))
			if err != nil || fmt.Sprint(avgShape) != fmt.Sprint([]int{n, m}) {
				t.Fatalf("repeat-averaged: shape %v, err %v", avgShape, err)
			}
			valid := make([]int, m) // valid repeats of each image
			for i := 0; i < n; i++ {
				for k := 0; k < m; k++ {
					slots := raw[(i*m+k)*r : (i*m+k+1)*r]
					c := 0
					for c < r && !math.IsNaN(slots[c]) {
						c++
					}
					sum := 0.0
					for j, v := range slots {
						if j >= c && !math.IsNaN(v) {
							t.Fatalf("neuron %d image %d: repeat %d is %v after a NaN", i, k, j, v)
						}
						if j < c {
							if v != math.Trunc(v) || v < 0 {
								t.Fatalf("neuron %d image %d: repeat %d = %v is not a spike count", i, k, j, v)
							}
							sum += v
						}
					}
					if i == 0 {
						valid[k] = c
					} else if valid[k] != c {
						t.Fatalf("image %d: neuron %d has %d valid repeats, neuron 0 has %d", k, i, c, valid[k])
					}
					// Integer sums are exact, so the mean is the correctly rounded sum/c either way.
					if c == 0 || avg[i*m+k] != sum/float64(c) {
						t.Fatalf("neuron %d image %d: repeat-averaged %v, nanmean %v over %d repeats", i, k, avg[i*m+k], sum/float64(c), c)
					}
				}
			}
			sorted := append([]int{}, valid...)
			sort.Ints(sorted)
			lo, hi, med := sorted[0], sorted[m-1], sorted[m/2]
			if lo != tt.min || hi != tt.max || med != tt.median {
				t.Errorf("valid repeats per image %d-%d (median %d), spec says %d-%d (median %d)", lo, hi, med, tt.min, tt.max, tt.median)
			}
		})
	}
}

var summaryLine = regexp.MustCompile(`^\s*(Total|Trainable|Non-trainable) params: ([0-9,]+)`)

// summaryCounts parses the Total, Trainable and Non-trainable lines of a Keras model summary.
func summaryCounts(text string) (model.Counts, error) {
	var c model.Counts
	found := 0
	for _, line := range strings.Split(text, "\n") {
		m := summaryLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v, err := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
		if err != nil {
			return c, err
		}
		switch m[1] {
		case "Total":
			c.Total = v
		case "Trainable":
			c.Trainable = v
		case "Non-trainable":
			c.NonTrainable = v
		}
		found++
	}
	if found != 3 {
		return c, fmt.Errorf("found %d of the 3 parameter lines", found)
	}
	return c, nil
}

// TestCompactModelWeights loads the pickled weights of all 219 compact models (reference/upstream.md §2.2, §4.3):
// 36 float32 arrays whose shapes agree with nums_filters, and whose parameter counts, built into
// model.NewCompact, equal the Keras summaries' Total, Trainable and Non-trainable lines.
func TestCompactModelWeights(t *testing.T) {
	root := filepath.Join(datadirtest.Dir(t), "data_compact_models")
	files, err := filepath.Glob(filepath.Join(root, "model_weights_npy", "compact_model_*.npy"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 219 {
		t.Fatalf("%d weight files, want 219", len(files))
	}
	lo := [5]int{math.MaxInt, math.MaxInt, math.MaxInt, math.MaxInt, math.MaxInt}
	var hi [5]int
	for _, path := range files {
		stem := strings.TrimSuffix(filepath.Base(path), ".npy")
		ws, err := ReadTensors(bytes.NewReader(readFile(t, path)))
		if err != nil {
			t.Fatalf("%s: %v", stem, err)
		}
		if len(ws) != 36 {
			t.Fatalf("%s: %d arrays, want 36", stem, len(ws))
		}
		shape, nf, err := ReadInt64(bytes.NewReader(readFile(t, filepath.Join(root, "nums_filters", stem+".npy"))))
		if err != nil || fmt.Sprint(shape) != "[5]" {
			t.Fatalf("%s: nums_filters shape %v, err %v", stem, shape, err)
		}
		var f [5]int
		for l := range f {
			f[l] = int(nf[l])
			lo[l], hi[l] = min(lo[l], f[l]), max(hi[l], f[l])
		}
		// Layer l's output channels are the last axis of its (pointwise) kernel: indices 0,7,14,21,28.
		for l, idx := range []int{0, 7, 14, 21, 28} {
			if s := ws[idx].Shape; s[len(s)-1] != f[l] {
				t.Errorf("%s: array %d has shape %v, nums_filters says F%d = %d", stem, idx, s, l, f[l])
			}
		}
		net, err := model.NewCompact(f)
		if err != nil {
			t.Fatalf("%s: %v", stem, err)
		}
		if err := net.SetWeights(ws); err != nil {
			t.Fatalf("%s: %v", stem, err)
		}
		if err := net.Validate(); err != nil {
			t.Fatalf("%s: %v", stem, err)
		}
		want, err := summaryCounts(string(readFile(t, filepath.Join(root, "model_summaries", stem+".txt"))))
		if err != nil {
			t.Fatalf("%s summary: %v", stem, err)
		}
		if got := net.Params(); got != want {
			t.Errorf("%s: params %+v, summary says %+v", stem, got, want)
		}
		if got := model.CompactParams(f); got != want.Total {
			t.Errorf("%s: CompactParams %d, summary says %d", stem, got, want.Total)
		}
	}
	// reference/upstream.md §2.2: F0 ∈ [15, 58], F1 ∈ [3, 77], F2 ∈ [3, 74], F3 ∈ [3, 46], F4 ∈ [3, 11].
	if lo != [5]int{15, 3, 3, 3, 3} || hi != [5]int{58, 77, 74, 46, 11} {
		t.Errorf("filter ranges %v-%v differ from the spec's", lo, hi)
	}
}
