package main

import (
	"context"
	"fmt"
	"strings"

	"compactv4/internal/kerasweights"
	"compactv4/internal/pinfetch"
)

// weightsFlag is -weights of data fetch: given alone it selects the Keras ImageNet weight files
// and their default directory; -weights=DIR (or -weights DIR, the directory then being the one
// positional argument) names the directory.
type weightsFlag struct {
	on  bool
	dir string
}

func (w *weightsFlag) String() string   { return w.dir }
func (w *weightsFlag) IsBoolFlag() bool { return true }

func (w *weightsFlag) Set(s string) error {
	switch s {
	case "true":
		w.on = true
	case "false":
		w.on, w.dir = false, ""
	default:
		w.on, w.dir = true, s
	}
	return nil
}

// weightFiles returns the files that data fetch -weights downloads; tests replace it.
var weightFiles = kerasweights.Files

// fetchWeights downloads the pinned Keras ImageNet weight files into dir (default: where Keras
// caches them).
func fetchWeights(ctx context.Context, dir string, parallel, retries int, progress bool) error {
	d, err := kerasweights.FetchDir(dir)
	if err != nil {
		return err
	}
	opts := pinfetch.Options{Parallel: parallel, Retries: retries, Seed: 1}
	if retries == 0 {
		opts.Retries = -1
	}
	if progress {
		opts.Progress = stderr
	}
	files := weightFiles()
	sum, err := kerasweights.Fetch(ctx, d, files, opts, stdout)
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	fmt.Fprintf(stdout, "fetch Keras ImageNet weights (%s) into %s: %d files, %d downloaded (%d bytes), %d already valid, %d failed",
		strings.Join(names, ", "), d, sum.Files, len(sum.Downloaded), sum.Bytes, sum.AlreadyValid, len(sum.Failed))
	if sum.NotAttempted > 0 {
		fmt.Fprintf(stdout, ", %d not attempted", sum.NotAttempted)
	}
	fmt.Fprintln(stdout)
	return err
}
