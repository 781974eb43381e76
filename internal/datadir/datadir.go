// Package datadir finds the directory that holds the public data of
// github.com/cowleygroup/V4_compact_models (the upstream repository's layout).
//
// The order is the suite's contract (README.md, "Data"): an explicit directory (the -data flag),
// else $V4DATA, else data/V4_compact_models below the project root, which `make data` fills.
package datadir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// EnvVar is the environment variable that names the data directory.
const EnvVar = "V4DATA"

// Default is the data directory relative to the project root, filled by `make data`.
const Default = "data/V4_compact_models"

// Locate returns the data directory without checking that it exists: flag if non-empty, else
// $V4DATA, else Default below the project root (the nearest parent of the working directory
// holding go.mod), else Default relative to the working directory. source says which rule chose it.
func Locate(flag string) (dir, source string) {
	if flag != "" {
		return flag, "-data"
	}
	if env := os.Getenv(EnvVar); env != "" {
		return env, "$" + EnvVar
	}
	if root, err := ProjectRoot(); err == nil {
		return filepath.Join(root, Default), "the default"
	}
	return Default, "the default"
}

// Resolve returns the data directory chosen by Locate and checks that it exists.
func Resolve(flag string) (string, error) {
	dir, source := Locate(flag)
	st, err := os.Stat(dir)
	if err != nil {
		return "", fmt.Errorf("data directory %s (from %s): %w; run `make data` to download the public data, or set -data or $%s", dir, source, err, EnvVar)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("data directory %s (from %s) is not a directory", dir, source)
	}
	return dir, nil
}

// ProjectRoot returns the nearest parent of the working directory that holds go.mod.
func ProjectRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}
