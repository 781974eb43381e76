package hdf5_test

import (
	"fmt"
	"log"
	"os"

	"compactv4/internal/hdf5"
)

func Example() {
	fh, err := os.Open("testdata/userblock_latest.h5")
	if err != nil {
		log.Fatal(err)
	}
	defer fh.Close()
	st, err := fh.Stat()
	if err != nil {
		log.Fatal(err)
	}
	f, err := hdf5.Open(fh, st.Size())
	if err != nil {
		log.Fatal(err)
	}
	err = f.Walk(func(path string, obj hdf5.Object) error {
		switch o := obj.(type) {
		case *hdf5.Group:
			fmt.Printf("group %s\n", path)
		case *hdf5.Dataset:
			v, err := o.ReadFloat32()
			if err != nil {
				return err
			}
			fmt.Printf("dataset %s %s %v: %v\n", path, o.Type(), o.Shape(), v)
		}
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	a, err := f.Root().Attr("missing")
	fmt.Println(a, err)
	// Output:
	// group g
	// dataset x <i4 [2 3]: [0 1 2 3 4 5]
	// <nil> hdf5: attribute "missing" of /: hdf5: not found
}
