package main

import (
	"context"
	"fmt"
	"strings"

	"compactv4/internal/plots"
)

func init() {
	register(verb{name: "diff", summary: "compare two figures (PNG pixel by pixel, SVG line by line)", run: runDiff})
}

func runDiff(ctx context.Context, args []string) error {
	fs := newFlags("replicate diff", "[-o DIFF.png] A B", `
Compare two versions of a figure. For PNGs: the number and fraction of differing pixels, the
largest per-channel difference and the bounding box of the differences; with -o, an image that
marks the differing pixels over a dimmed copy of A. For SVGs: the number of differing lines.
Exit status 1 when the files differ.`)
	outPath := fs.String("o", "", "write the PNG diff image here")
	if err := parseFlags(fs, args, 2); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return usagef("replicate diff: give two files A and B (see -h)")
	}
	a, b := fs.Arg(0), fs.Arg(1)
	switch {
	case strings.HasSuffix(a, ".png") && strings.HasSuffix(b, ".png"):
		st, err := plots.DiffFiles(a, b, *outPath)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, st)
		if !st.Identical() {
			return &statusError{code: 1}
		}
	case strings.HasSuffix(a, ".svg") && strings.HasSuffix(b, ".svg"):
		if *outPath != "" {
			return usagef("replicate diff: -o is for PNG files")
		}
		st, err := plots.DiffTextFiles(a, b)
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, st)
		if !st.Equal {
			return &statusError{code: 1}
		}
	default:
		return usagef("replicate diff: compare two .png or two .svg files, got %s and %s", a, b)
	}
	return nil
}
