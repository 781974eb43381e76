package hdf5

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// The synthetic files of testdata/ and expected.json are written by testdata/gen.py with h5py:
// expected.json holds what h5py reads back from each file.

type expValue struct {
	Class   string
	Size    int
	Dtype   string
	Space   string
	Shape   []int
	Ints    []json.Number
	Floats  []any
	Strings []string
}

type expAttr struct {
	Name string
	expValue
}

type expDataset struct {
	expValue
	Maxshape []int
	Layout   string
	Chunks   []int
	Filters  []int
	Intent   struct{ Layout, Index, Error string }
	Attrs    []expAttr
}

type expFile struct {
	Superblock int
	Walk       []string
	Groups     map[string]struct {
		Members []string
		Attrs   []expAttr
	}
	Datasets  map[string]expDataset
	Links     map[string]struct{ Type, Target, File string }
	Datatypes map[string]struct {
		Class string
		Size  int
		Attrs []expAttr
	}
}

func loadExpected(t *testing.T) map[string]expFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var exp struct{ Files map[string]expFile }
	if err := json.Unmarshal(b, &exp); err != nil {
		t.Fatal(err)
	}
	if len(exp.Files) == 0 {
		t.Fatal("expected.json lists no files")
	}
	return exp.Files
}

func openTestFile(t testing.TB, name string) *File {
	t.Helper()
	fh, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fh.Close() })
	st, err := fh.Stat()
	if err != nil {
		t.Fatal(err)
	}
	f, err := Open(fh, st.Size())
	if err != nil {
		t.Fatalf("Open %s: %v", name, err)
	}
	return f
}

// valueReader is what datasets and attributes have in common.
type valueReader interface {
	Type() Datatype
	Shape() []int
	Space() Dataspace
	ReadFloat64() ([]float64, error)
	ReadFloat32() ([]float32, error)
	ReadInt64() ([]int64, error)
	ReadStrings() ([]string, error)
}

var classOf = map[string]Class{
	"fixed-point": ClassFixedPoint, "floating-point": ClassFloat, "string": ClassString, "compound": ClassCompound,
	"array": ClassArray, "enum": ClassEnum, "opaque": ClassOpaque, "reference": ClassReference,
	"variable-length": ClassVarLen, "bitfield": ClassBitfield, "time": ClassTime,
}

func checkValue(t *testing.T, what string, v valueReader, e expValue) {
	t.Helper()
	dt := v.Type()
	vlenStr := e.Dtype == "vlen-str"
	if vlenStr {
		if dt.Class != ClassVarLen || !dt.VarString {
			t.Errorf("%s: type %v, want a variable-length string", what, dt)
		}
	} else {
		if want, ok := classOf[e.Class]; !ok || dt.Class != want {
			t.Errorf("%s: class %v, want %s", what, dt.Class, e.Class)
		}
		if dt.Size != e.Size {
			t.Errorf("%s: size %d, want %d", what, dt.Size, e.Size)
		}
		if e.Dtype != "" && dt.String() != e.Dtype {
			t.Errorf("%s: dtype %q, want %q", what, dt.String(), e.Dtype)
		}
	}
	sp := v.Space()
	if sp.Kind.String() != e.Space {
		t.Errorf("%s: dataspace %v, want %s", what, sp.Kind, e.Space)
	}
	if !slices.Equal(v.Shape(), e.Shape) && !(len(v.Shape()) == 0 && len(e.Shape) == 0) {
		t.Errorf("%s: shape %v, want %v", what, v.Shape(), e.Shape)
	}
	switch {
	case e.Strings != nil:
		got, err := v.ReadStrings()
		if err != nil {
			t.Errorf("%s: ReadStrings: %v", what, err)
		} else if !slices.Equal(got, e.Strings) {
			t.Errorf("%s: strings %q, want %q", what, got, e.Strings)
		}
		if _, err := v.ReadFloat64(); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: ReadFloat64 of strings: err %v, want ErrUnsupported", what, err)
		}
	case e.Ints != nil:
		f64, err := v.ReadFloat64()
		if err != nil {
			t.Fatalf("%s: ReadFloat64: %v", what, err)
		}
		i64, ierr := v.ReadInt64()
		overflow := false
		for i, n := range e.Ints {
			want, err := strconv.ParseInt(string(n), 10, 64)
			if err != nil {
				u, uerr := strconv.ParseUint(string(n), 10, 64)
				if uerr != nil {
					t.Fatalf("bad expected integer %s", n)
				}
				overflow = true
				if i < len(f64) && f64[i] != float64(u) {
					t.Errorf("%s[%d]: float64 %v, want %v", what, i, f64[i], float64(u))
				}
				continue
			}
			if ierr == nil && (i >= len(i64) || i64[i] != want) {
				t.Errorf("%s[%d]: int64 %v, want %d", what, i, i64, want)
			}
			if i < len(f64) && f64[i] != float64(want) {
				t.Errorf("%s[%d]: float64 %v, want %v", what, i, f64[i], float64(want))
			}
		}
		if overflow != (ierr != nil) {
			t.Errorf("%s: ReadInt64 error %v, overflow expected: %v", what, ierr, overflow)
		}
		if len(f64) != len(e.Ints) {
			t.Errorf("%s: %d values, want %d", what, len(f64), len(e.Ints))
		}
		if _, err := v.ReadStrings(); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: ReadStrings of numbers: err %v, want ErrUnsupported", what, err)
		}
	case e.Floats != nil:
		f64, err := v.ReadFloat64()
		if err != nil {
			t.Fatalf("%s: ReadFloat64: %v", what, err)
		}
		f32, err := v.ReadFloat32()
		if err != nil {
			t.Fatalf("%s: ReadFloat32: %v", what, err)
		}
		if len(f64) != len(e.Floats) || len(f32) != len(e.Floats) {
			t.Fatalf("%s: %d/%d values, want %d", what, len(f64), len(f32), len(e.Floats))
		}
		for i, x := range e.Floats {
			want := expFloat(t, x)
			if !sameFloat(f64[i], want) {
				t.Errorf("%s[%d]: %v, want %v", what, i, f64[i], want)
			}
			if !sameFloat(float64(f32[i]), float64(float32(want))) {
				t.Errorf("%s[%d]: float32 %v, want %v", what, i, f32[i], float32(want))
			}
		}
		if _, err := v.ReadInt64(); !errors.Is(err, errors.ErrUnsupported) {
			t.Errorf("%s: ReadInt64 of floats: err %v, want ErrUnsupported", what, err)
		}
	default:
		if e.Space == "null" {
			got, err := v.ReadFloat64()
			if e.Class == "floating-point" && (err != nil || len(got) != 0) {
				t.Errorf("%s: null dataspace read %v, %v; want no values", what, got, err)
			}
			return
		}
		// A class this package does not convert: reading must fail cleanly.
		for name, read := range map[string]func() error{
			"ReadFloat64": func() error { _, err := v.ReadFloat64(); return err },
			"ReadInt64":   func() error { _, err := v.ReadInt64(); return err },
			"ReadStrings": func() error { _, err := v.ReadStrings(); return err },
		} {
			if err := read(); !errors.Is(err, errors.ErrUnsupported) {
				t.Errorf("%s (%s): %s: err %v, want ErrUnsupported", what, e.Class, name, err)
			}
		}
	}
}

func expFloat(t *testing.T, x any) float64 {
	switch v := x.(type) {
	case float64:
		return v
	case string:
		switch v {
		case "nan":
			return math.NaN()
		case "inf":
			return math.Inf(1)
		case "-inf":
			return math.Inf(-1)
		case "-0":
			return math.Copysign(0, -1)
		}
	}
	t.Fatalf("bad expected float %v", x)
	return 0
}

// sameFloat compares bit patterns except that all NaNs are equal.
func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

func checkAttrs(t *testing.T, owner string, attrs []*Attribute, err error, exp []expAttr) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: Attrs: %v", owner, err)
		return
	}
	var names, want []string
	for _, a := range attrs {
		names = append(names, a.Name())
	}
	for _, a := range exp {
		want = append(want, a.Name)
	}
	if !slices.Equal(names, want) {
		t.Errorf("%s: attributes %q, want %q", owner, names, want)
		return
	}
	for i, a := range attrs {
		checkValue(t, owner+" attribute "+a.Name(), a, exp[i].expValue)
	}
}

func TestSyntheticFiles(t *testing.T) {
	files := loadExpected(t)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		exp := files[name]
		t.Run(name, func(t *testing.T) {
			f := openTestFile(t, name)
			if f.SuperblockVersion() != exp.Superblock {
				t.Errorf("superblock version %d, want %d", f.SuperblockVersion(), exp.Superblock)
			}
			var walked []string
			if err := f.Walk(func(p string, obj Object) error {
				walked = append(walked, p)
				if obj.Path() != "/"+p {
					t.Errorf("walk %s: object path %s", p, obj.Path())
				}
				return nil
			}); err != nil {
				t.Fatalf("Walk: %v", err)
			}
			if !slices.Equal(walked, exp.Walk) {
				t.Errorf("walk order:\n got %q\nwant %q", walked, exp.Walk)
			}
			for p, eg := range exp.Groups {
				g, err := f.Group(p)
				if err != nil {
					t.Errorf("Group(%s): %v", p, err)
					continue
				}
				if !slices.Equal(g.Members(), eg.Members) && len(eg.Members)+len(g.Members()) > 0 {
					t.Errorf("%s: members\n got %q\nwant %q", p, g.Members(), eg.Members)
				}
				attrs, err := g.Attrs()
				checkAttrs(t, p, attrs, err, eg.Attrs)
			}
			for p, el := range exp.Links {
				dir, base := filepath.Split(p)
				g, err := f.Group(dir)
				if err != nil {
					t.Fatal(err)
				}
				l, ok := g.Link(base)
				if !ok {
					t.Errorf("link %s missing", p)
					continue
				}
				if l.Type.String() != el.Type || l.Target != el.Target || l.File != el.File {
					t.Errorf("link %s: %v %q %q, want %s %q %q", p, l.Type, l.Target, l.File, el.Type, el.Target, el.File)
				}
			}
			for p, ed := range exp.Datatypes {
				obj, err := f.Root().Object(p)
				if err != nil {
					t.Errorf("Object(%s): %v", p, err)
					continue
				}
				nt, ok := obj.(*NamedDatatype)
				if !ok {
					t.Errorf("%s: got %T, want *NamedDatatype", p, obj)
					continue
				}
				if nt.Type().Class != classOf[ed.Class] || nt.Type().Size != ed.Size {
					t.Errorf("%s: %v, want %s of %d bytes", p, nt.Type(), ed.Class, ed.Size)
				}
			}
			for p, ed := range exp.Datasets {
				ds, err := f.Dataset(p)
				if err != nil {
					t.Errorf("Dataset(%s): %v", p, err)
					continue
				}
				checkDataset(t, p, ds, ed)
			}
		})
	}
}

func checkDataset(t *testing.T, p string, ds *Dataset, ed expDataset) {
	t.Helper()
	l := ds.Layout()
	if l.Class.String() != ed.Layout {
		t.Errorf("%s: layout %v, want %s", p, l.Class, ed.Layout)
	}
	if ed.Intent.Layout != "" && l.Class.String() != ed.Intent.Layout {
		t.Errorf("%s: layout %v, meant to be %s", p, l.Class, ed.Intent.Layout)
	}
	if ed.Intent.Index != "" && l.Index.String() != ed.Intent.Index {
		t.Errorf("%s: chunk index %v, meant to be %s", p, l.Index, ed.Intent.Index)
	}
	if ed.Layout == "chunked" {
		if !slices.Equal(l.Chunk, ed.Chunks) {
			t.Errorf("%s: chunks %v, want %v", p, l.Chunk, ed.Chunks)
		}
		var ids []int
		for _, flt := range l.Filters {
			ids = append(ids, int(flt.ID))
		}
		if !slices.Equal(ids, ed.Filters) && len(ids)+len(ed.Filters) > 0 {
			t.Errorf("%s: filters %v, want %v", p, ids, ed.Filters)
		}
	}
	maxDims := ds.Space().MaxDims
	if !slices.Equal(maxDims, ed.Maxshape) && len(maxDims)+len(ed.Maxshape) > 0 {
		t.Errorf("%s: max dims %v, want %v", p, maxDims, ed.Maxshape)
	}
	if ed.Intent.Error != "" {
		// Made with a filter this package does not implement: every read must say so.
		_, err := ds.ReadFloat64()
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), ed.Intent.Error) {
			t.Errorf("%s: err %v, want ErrUnsupported naming %q", p, err, ed.Intent.Error)
		}
	} else {
		checkValue(t, p, ds, ed.expValue)
	}
	attrs, err := ds.Attrs()
	checkAttrs(t, p, attrs, err, ed.Attrs)
}

// TestIntentCoverage checks that the synthetic files really exercise every chunk index, layout
// class, superblock version and filter (so that a generator change cannot silently drop one).
func TestIntentCoverage(t *testing.T) {
	files := loadExpected(t)
	seen := map[string]bool{}
	for _, ef := range files {
		seen["superblock "+strconv.Itoa(ef.Superblock)] = true
		for _, d := range ef.Datasets {
			seen["layout "+d.Layout] = true
			if d.Intent.Index != "" {
				seen["index "+d.Intent.Index] = true
			}
			for _, id := range d.Filters {
				seen["filter "+strconv.Itoa(id)] = true
			}
		}
	}
	for _, want := range []string{"superblock 0", "superblock 1", "superblock 2", "superblock 3",
		"layout compact", "layout contiguous", "layout chunked",
		"index btree1", "index single", "index implicit", "index fixed-array", "index extensible-array", "index btree2",
		"filter 1", "filter 2", "filter 3"} {
		if !seen[want] {
			t.Errorf("no synthetic file covers %s", want)
		}
	}
}
