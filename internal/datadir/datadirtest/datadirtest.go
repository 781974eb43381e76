// Package datadirtest gives tests the data directory.
//
// Tests that need the public data call Dir. When $V4DATA is set (as in CI) the directory must
// exist, else the test fails; when it is unset, Dir falls back to the project's default data
// directory and then to ../shared/v4data beside the project, and skips the test when neither
// exists, so that `go test ./...` on a machine without data still runs every other test.
package datadirtest

import (
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir"
)

// Dir returns the data directory or skips (see the package comment).
func Dir(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(datadir.EnvVar) != "" {
		dir, err := datadir.Resolve("")
		if err != nil {
			tb.Fatal(err)
		}
		return dir
	}
	root, err := datadir.ProjectRoot()
	if err != nil {
		tb.Skipf("no data: %v", err)
	}
	for _, dir := range []string{filepath.Join(root, datadir.Default), filepath.Join(root, "..", "shared", "v4data")} {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	tb.Skipf("no data directory: set $%s or run `make data`", datadir.EnvVar)
	return ""
}

// File returns the path of a file of the data directory, relative to its root, and skips the test
// when that file is absent and $V4DATA is unset; with $V4DATA set, a missing file fails the test.
func File(tb testing.TB, rel string) string {
	tb.Helper()
	p := filepath.Join(Dir(tb), filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		if os.Getenv(datadir.EnvVar) != "" {
			tb.Fatalf("data file %s: %v", rel, err)
		}
		tb.Skipf("data file %s absent: %v", rel, err)
	}
	return p
}
