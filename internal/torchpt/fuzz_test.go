package torchpt

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"compactv4/internal/datadir"
	"compactv4/internal/datadir/datadirtest"
)

// optionalDataDir finds the data directory as datadirtest.Dir does, but returns "" instead of
// skipping when there is none, so that the fuzz target can add real seeds when they exist.
func optionalDataDir() string {
	if d := os.Getenv(datadir.EnvVar); d != "" {
		return d
	}
	root, err := datadir.ProjectRoot()
	if err != nil {
		return ""
	}
	for _, d := range []string{filepath.Join(root, datadir.Default), filepath.Join(root, "..", "shared", "v4data")} {
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
	}
	return ""
}

func FuzzReadStateDict(f *testing.F) {
	f.Add(synthetic(f, binary.LittleEndian))
	f.Add(synthetic(f, binary.BigEndian))
	for _, name := range []string{"views.pt", "views_proto4.pt", "expand.pt", "parameter.pt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if dir := optionalDataDir(); dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, "data_compact_models/models_torch/compact_model_211022_neuron27.pt"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sd, err := ReadStateDict(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		for _, k := range sd.Keys {
			tt := sd.Tensors[k]
			n := 1
			for _, d := range tt.Shape {
				n *= d
			}
			if len(tt.Float)+len(tt.Int) != n || (tt.Float == nil) == (tt.Int == nil) {
				t.Fatalf("%s: shape %v with %d float and %d int values", k, tt.Shape, len(tt.Float), len(tt.Int))
			}
		}
		Compact(sd) // must not panic
	})
}

// BenchmarkReadStateDict reads and converts one compact model's checkpoint (a median-sized file)
// from memory.
func BenchmarkReadStateDict(b *testing.B) {
	data, err := os.ReadFile(datadirtest.File(b, "data_compact_models/models_torch/compact_model_201025_neuron10.pt"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		sd, err := ReadStateDict(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Compact(sd); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompactAll219 reads and converts the checkpoints of all 219 compact models from memory.
func BenchmarkCompactAll219(b *testing.B) {
	files, err := filepath.Glob(filepath.Join(datadirtest.Dir(b), "data_compact_models/models_torch/*.pt"))
	if err != nil || len(files) != 219 {
		b.Fatalf("%d files, %v", len(files), err)
	}
	var all [][]byte
	var n int64
	for _, f := range files {
		d, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		all = append(all, d)
		n += int64(len(d))
	}
	b.SetBytes(n)
	for b.Loop() {
		for _, d := range all {
			sd, err := ReadStateDict(bytes.NewReader(d), int64(len(d)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := Compact(sd); err != nil {
				b.Fatal(err)
			}
		}
	}
}
