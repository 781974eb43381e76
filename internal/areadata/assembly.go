package areadata

import (
	"fmt"
	"io"
	"math"

	"compactv4/eval"
	"compactv4/internal/hdf5"
	"compactv4/internal/metrics"
)

// AssemblyVariable is the name of the data variable of the MajajHong2015 public assembly file.
const AssemblyVariable = "dicarlo.MajajHong2015.public"

// MaxAssemblyBytes bounds what ReadAssembly allocates for one dataset: the real file's data
// variable is 256 × 148,480 × 1 float32 (152 MB read as float64 after conversion).
const MaxAssemblyBytes = 1 << 30

// Assembly is a NetCDF-4 assembly of Brain-Score's layout: one float data variable of dimensions
// (neuroid, presentation, time_bin), and one-dimensional coordinate variables along each
// dimension. ReadAssembly keeps the coordinates the evaluation needs; the others are ignored.
type Assembly struct {
	// Neuroid coordinates: neuroid_id, region (V4 or IT) and animal, one per neuroid.
	NeuroidIDs, Regions, Animals []string
	// Presentation coordinates: image_id and repetition, one per presentation.
	ImageIDs    []string
	Repetitions []int64
	// Time bins [start, end) in ms, one per time bin (the public file has one, 70–170 ms).
	BinStart, BinEnd []int64
	// Data holds the responses [neuroid][presentation][time_bin], row-major.
	Data []float64
}

// Neuroids, Presentations and TimeBins are the lengths of the three dimensions.
func (a *Assembly) Neuroids() int      { return len(a.NeuroidIDs) }
func (a *Assembly) Presentations() int { return len(a.ImageIDs) }
func (a *Assembly) TimeBins() int      { return len(a.BinStart) }

// ReadAssembly reads an assembly from a NetCDF-4 file of size bytes. Every missing variable,
// wrong dimension, wrong type or length mismatch is an error naming the variable.
func ReadAssembly(r io.ReaderAt, size int64) (*Assembly, error) {
	f, err := hdf5.OpenOptions(r, size, &hdf5.Options{MaxDataBytes: MaxAssemblyBytes})
	if err != nil {
		return nil, fmt.Errorf("assembly: %w", err)
	}
	a := &Assembly{}
	for _, c := range []struct {
		name string
		dst  *[]string
	}{{"neuroid_id", &a.NeuroidIDs}, {"region", &a.Regions}, {"animal", &a.Animals}, {"image_id", &a.ImageIDs}} {
		if *c.dst, err = readStrings(f, c.name); err != nil {
			return nil, err
		}
	}
	for _, c := range []struct {
		name string
		dst  *[]int64
	}{{"repetition", &a.Repetitions}, {"time_bin_start", &a.BinStart}, {"time_bin_end", &a.BinEnd}} {
		if *c.dst, err = readInts(f, c.name); err != nil {
			return nil, err
		}
	}
	n, p, t := len(a.NeuroidIDs), len(a.ImageIDs), len(a.BinStart)
	for _, c := range []struct {
		name     string
		got, dim int
		dimName  string
	}{
		{"region", len(a.Regions), n, "neuroid"}, {"animal", len(a.Animals), n, "neuroid"},
		{"repetition", len(a.Repetitions), p, "presentation"}, {"time_bin_end", len(a.BinEnd), t, "time_bin"},
	} {
		if c.got != c.dim {
			return nil, fmt.Errorf("assembly: coordinate %s has %d values, but %s has %d", c.name, c.got, c.dimName, c.dim)
		}
	}
	if n == 0 || p == 0 || t == 0 {
		return nil, fmt.Errorf("assembly: empty dimension (neuroid %d, presentation %d, time_bin %d)", n, p, t)
	}
	for i := range t {
		if a.BinEnd[i] <= a.BinStart[i] {
			return nil, fmt.Errorf("assembly: time bin %d is [%d, %d) ms, which is empty", i, a.BinStart[i], a.BinEnd[i])
		}
	}
	for i, r := range a.Repetitions {
		if r < 0 {
			return nil, fmt.Errorf("assembly: presentation %d has repetition %d", i, r)
		}
	}
	d, err := f.Dataset(AssemblyVariable)
	if err != nil {
		return nil, fmt.Errorf("assembly: data variable %q: %w", AssemblyVariable, err)
	}
	if sh := d.Shape(); len(sh) != 3 || sh[0] != n || sh[1] != p || sh[2] != t {
		return nil, fmt.Errorf("assembly: data variable %q has shape %v, want (neuroid %d, presentation %d, time_bin %d)", AssemblyVariable, sh, n, p, t)
	}
	if a.Data, err = d.ReadFloat64(); err != nil {
		return nil, fmt.Errorf("assembly: data variable %q: %w", AssemblyVariable, err)
	}
	for k, v := range a.Data {
		if math.IsInf(v, 0) {
			return nil, fmt.Errorf("assembly: response [%d, %d, %d] is %v", k/(p*t), k/t%p, k%t, v)
		}
	}
	return a, nil
}

func oneDim(f *hdf5.File, name string) (*hdf5.Dataset, error) {
	d, err := f.Dataset(name)
	if err != nil {
		return nil, fmt.Errorf("assembly: coordinate %s: %w", name, err)
	}
	if sh := d.Shape(); len(sh) != 1 {
		return nil, fmt.Errorf("assembly: coordinate %s has shape %v, want one dimension", name, sh)
	}
	return d, nil
}

func readStrings(f *hdf5.File, name string) ([]string, error) {
	d, err := oneDim(f, name)
	if err != nil {
		return nil, err
	}
	s, err := d.ReadStrings()
	if err != nil {
		return nil, fmt.Errorf("assembly: coordinate %s: %w", name, err)
	}
	return s, nil
}

func readInts(f *hdf5.File, name string) ([]int64, error) {
	d, err := oneDim(f, name)
	if err != nil {
		return nil, err
	}
	v, err := d.ReadInt64()
	if err != nil {
		return nil, fmt.Errorf("assembly: coordinate %s: %w", name, err)
	}
	return v, nil
}

// Responses returns the responses of one region's neuroids (in file order) to every image, the
// images in order of first presentation: each presentation's response is the mean over its recorded (non-NaN) time
// bins (the public file has the single bin 70–170 ms, which Brain-Score's MajajHong2015
// benchmarks squeeze, so the mean is that bin), the raw repeats are the presentations of an image
// in file order (NaN fills the slots of images shown fewer times than the most-shown one), and
// the averaged responses are their means over the recorded (non-NaN) values, as Brain-Score's
// average_repetition groups by image and averages with xarray's NaN-skipping mean. Session is set to name; Lo is 0 and Hi the number of images.
func (a *Assembly) Responses(name, region string) (*eval.Responses, []string, error) {
	var neurons []int
	for i, r := range a.Regions {
		if r == region {
			neurons = append(neurons, i)
		}
	}
	if len(neurons) == 0 {
		return nil, nil, fmt.Errorf("assembly: no neuroid of region %q", region)
	}
	p, t := a.Presentations(), a.TimeBins()
	index := map[string]int{}
	var images []string
	slot := make([]int, p) // repeat slot of each presentation
	var count []int
	for i, id := range a.ImageIDs {
		k, ok := index[id]
		if !ok {
			k = len(images)
			index[id] = k
			images = append(images, id)
			count = append(count, 0)
		}
		slot[i] = count[k]
		count[k]++
	}
	reps := 0
	for _, c := range count {
		reps = max(reps, c)
	}
	m := len(images)
	raw := metrics.Raw{N: len(neurons), M: m, R: reps, Data: make([]float64, len(neurons)*m*reps)}
	for i := range raw.Data {
		raw.Data[i] = math.NaN()
	}
	avg := make([][]float64, len(neurons))
	for j, n := range neurons {
		avg[j] = make([]float64, m)
		valid := make([]int, m)
		for i := range p {
			var s float64
			var c int
			for b := range t {
				if x := a.Data[(n*p+i)*t+b]; !math.IsNaN(x) {
					s += x
					c++
				}
			}
			v := math.NaN()
			if c > 0 {
				v = s / float64(c)
			}
			k := index[a.ImageIDs[i]]
			raw.Data[(j*m+k)*reps+slot[i]] = v
			if !math.IsNaN(v) {
				avg[j][k] += v
				valid[k]++
			}
		}
		for k := range m {
			if valid[k] == 0 {
				avg[j][k] = math.NaN()
			} else {
				avg[j][k] /= float64(valid[k])
			}
		}
	}
	return &eval.Responses{Session: name, Lo: 0, Hi: m, Averaged: avg, Raw: &raw}, images, nil
}
