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
	if dir := Lookup(); dir != "" {
		return dir
	}
	tb.Skipf("no data directory: set $%s or run `make data`", datadir.EnvVar)
	return ""
}

// Lookup returns the data directory as Dir finds it, or "" when there is none, for code that
// must not skip: a fuzz target adds real files to its seed corpus when the data exist.
func Lookup() string {
	if d := os.Getenv(datadir.EnvVar); d != "" {
		return d
	}
	root, err := datadir.ProjectRoot()
	if err != nil {
		return ""
	}
	for _, dir := range []string{filepath.Join(root, datadir.Default), filepath.Join(root, "..", "shared", "v4data")} {
		if st, err := os.Stat(dir); err == nil && st.IsDir() {
			return dir
		}
	}
	return ""
}

// Seeds returns the contents of the named files of the data directory (paths relative to its
// root, slash-separated), for a fuzz target's seed corpus. Without a data directory it returns
// nil. A named file that is absent fails the test when $V4DATA is set, as File does, and is
// logged and left out otherwise.
func Seeds(tb testing.TB, rels ...string) [][]byte {
	tb.Helper()
	dir := Lookup()
	if dir == "" {
		return nil
	}
	var out [][]byte
	for _, rel := range rels {
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			if os.Getenv(datadir.EnvVar) != "" {
				tb.Fatalf("seed %s: %v", rel, err)
			}
			tb.Logf("seed %s left out: %v", rel, err)
			continue
		}
		out = append(out, b)
	}
	return out
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
