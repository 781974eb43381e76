// Package deps pins the module dependencies until the packages that use them exist.
package deps

import (
	_ "codeberg.org/sbinet/npyio"
	_ "github.com/nlpodyssey/gopickle/pickle"
	_ "golang.org/x/sys/cpu"
	_ "gonum.org/v1/gonum/blas/gonum"
	_ "gonum.org/v1/gonum/mat"
	_ "gonum.org/v1/gonum/stat"
	_ "gonum.org/v1/plot"
	_ "gonum.org/v1/plot/plotter"
	_ "gonum.org/v1/plot/vg/vgimg"
	_ "gonum.org/v1/plot/vg/vgsvg"
)
