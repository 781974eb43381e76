package hdf5

import (
	"slices"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentReads reads every dataset of one File from several goroutines (run with -race).
func TestConcurrentReads(t *testing.T) {
	f := openTestFile(t, "latest.h5")
	var paths []string
	if err := f.Walk(func(p string, obj Object) error {
		if ds, ok := obj.(*Dataset); ok && ds.Type().Class == ClassFloat && !strings.HasPrefix(p, "unsupported/") {
			paths = append(paths, p)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]float64{}
	for _, p := range paths {
		ds, err := f.Dataset(p)
		if err != nil {
			t.Fatal(err)
		}
		if want[p], err = ds.ReadFloat64(); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for _, p := range paths {
				ds, err := f.Dataset(p)
				if err != nil {
					t.Error(err)
					return
				}
				got, err := ds.ReadFloat64()
				if err != nil {
					t.Error(err)
					return
				}
				if !slices.EqualFunc(got, want[p], sameFloat) {
					t.Errorf("%s: concurrent read differs", p)
				}
			}
		})
	}
	wg.Wait()
}
