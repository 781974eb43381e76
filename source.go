// Package compactv4 carries the suite's own source files inside every binary built from it, so
// that the result cache (harness.Cache) can key each step on the code that computes it: the
// files a binary embeds are exactly the files it was compiled from.
package compactv4

import "embed"

// Source holds go.mod, go.sum and every file below the suite's package directories (Go sources,
// assembly, and the data files packages embed). TestSourceCoversPackages checks that every
// package of the module is below one of these directories.
//
//go:embed go.mod go.sum *.go eval experiments harness internal reference
var Source embed.FS
