package harness

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"path/filepath"

	"gonum.org/v1/plot/vg"

	"compactv4/internal/npy"
	"compactv4/internal/plots"
)

// Inputs verifies data files through the store (so that the run records them as inputs even when
// every step using them is reused from the cache) and returns them with their git blob SHA-1s,
// for cache keys. A missing or corrupt file is an error saying how to get it.
func (e *Env) Inputs(paths ...string) ([]Input, error) {
	out := make([]Input, 0, len(paths))
	for _, p := range paths {
		if _, err := e.Data.Path(p); err != nil {
			return nil, err
		}
		ent, ok := e.Data.Manifest().Lookup(p)
		if !ok {
			return nil, fmt.Errorf("input %s is not in the manifest", p)
		}
		out = append(out, Input{Path: p, SHA1: ent.SHA1})
	}
	return out, nil
}

// MissingFile describes a manifest file that a step needs but the data directory lacks.
func (e *Env) MissingFile(path, reason string) Missing {
	m := Missing{Path: path, Reason: reason}
	if ent, ok := e.Data.Manifest().Lookup(path); ok {
		m.SHA1 = ent.SHA1
	}
	return m
}

// WriteCSV writes a table with a header row to Out/name and returns name, for Result.AddTable.
func (e *Env) WriteCSV(name string, header []string, rows [][]string) (string, error) {
	return name, WriteCSVFile(filepath.Join(e.Out, name), header, rows)
}

// WriteCSVFile writes a table with a header row to path (atomically). Every row must have the
// header's number of fields; numbers are written with FormatFloat.
func WriteCSVFile(path string, header []string, rows [][]string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write(header); err != nil {
		return err
	}
	for i, r := range rows {
		if len(r) != len(header) {
			return fmt.Errorf("table %s row %d has %d fields, header %d", filepath.Base(path), i, len(r), len(header))
		}
	}
	if err := w.WriteAll(rows); err != nil {
		return fmt.Errorf("table %s: %w", filepath.Base(path), err)
	}
	return WriteFileAtomic(path, b.Bytes())
}

// WriteJSON writes v as indented JSON to Out/name and returns name.
func (e *Env) WriteJSON(name string, v any) (string, error) {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return "", fmt.Errorf("table %s: %w", name, err)
	}
	return name, WriteFileAtomic(filepath.Join(e.Out, name), append(b, '\n'))
}

// WriteNPY writes a float32 array as a NumPy .npy file (np.save's bytes) to Out/name and returns
// name: arrays for Python users.
func (e *Env) WriteNPY(name string, shape []int, data []float32) (string, error) {
	var b bytes.Buffer
	if err := npy.WriteFloat32(&b, shape, data); err != nil {
		return "", fmt.Errorf("array %s: %w", name, err)
	}
	return name, WriteFileAtomic(filepath.Join(e.Out, name), b.Bytes())
}

// SaveFigure writes a figure as Out/name.png and Out/name.svg in the house style and returns
// name, for Result.AddFigure:
//
//	if err := res.AddFigure(env.SaveFigure(p, "params", plots.SingleColumn, h)); err != nil { ... }
func (e *Env) SaveFigure(d plots.Drawer, name string, w, h vg.Length) (string, error) {
	if err := plots.Save(d, e.Out, name, w, h); err != nil {
		return "", fmt.Errorf("figure %s: %w", name, err)
	}
	return name, nil
}
