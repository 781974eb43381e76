package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Cache stores the outputs of expensive steps (model predictions, optimised images) on disk,
// keyed by a hash of the step's name, its input files (by their pinned hashes), its parameters,
// and the code that computes it (see code.go: the packages the step names and everything of the
// module they import). A step is reused only when all of these are unchanged; otherwise it runs
// again, and the cache says why.
type Cache struct {
	dir  string
	code *codeGraph
	log  io.Writer
	mu   sync.Mutex
}

// NewCache returns a cache in dir, logging its decisions to log (which may be nil). The code of
// every step is read from the sources embedded in the running binary. An empty dir gives a cache
// that never stores anything.
func NewCache(dir string, log io.Writer) (*Cache, error) {
	g, err := suiteCode()
	if err != nil {
		return nil, err
	}
	return newCache(dir, g, log), nil
}

func newCache(dir string, g *codeGraph, log io.Writer) *Cache {
	if log == nil {
		log = io.Discard
	}
	return &Cache{dir: dir, code: g, log: log}
}

// Step identifies one cacheable computation.
type Step struct {
	Name   string  // unique and stable, e.g. "predict/compact_model_190923_neuron0/190923/600-1200"
	Inputs []Input // data files read, with their pinned hashes
	Params any     // anything JSON-encodable that changes the result (seeds included)
	// Code lists the import paths of the packages whose code computes the step (e.g.
	// "compactv4/internal/synth"); the packages they import are included. Name the package
	// that holds the step's computation, and keep that computation out of packages that change
	// for other reasons (an experiment's tables and figures) so that editing those does not
	// invalidate the step. Empty means every package of the module.
	Code []string
	// Version is bumped by hand when the step's meaning changes in a way no code edit shows
	// (for example, a change of data layout in a file read from outside the module).
	Version string
}

type stepRecord struct {
	Key      string            `json:"key"`
	Inputs   string            `json:"inputs"`
	Params   string            `json:"params"`
	Code     string            `json:"code"`
	Packages map[string]string `json:"packages"`
	Version  string            `json:"version"`
}

func hashJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

func (c *Cache) record(s Step) (stepRecord, error) {
	in, err := hashJSON(s.Inputs)
	if err != nil {
		return stepRecord{}, fmt.Errorf("cache key of %s: inputs: %w", s.Name, err)
	}
	pa, err := hashJSON(s.Params)
	if err != nil {
		return stepRecord{}, fmt.Errorf("cache key of %s: params: %w", s.Name, err)
	}
	code, pkgs, err := c.code.version(s.Code)
	if err != nil {
		return stepRecord{}, fmt.Errorf("cache key of %s: %w", s.Name, err)
	}
	r := stepRecord{Inputs: in, Params: pa, Code: code, Packages: pkgs, Version: s.Version}
	r.Key, err = hashJSON([]string{s.Name, r.Inputs, r.Params, r.Code, r.Version})
	return r, err
}

func safeName(name string) string {
	r := strings.NewReplacer("/", "__", "\\", "_", " ", "_", ":", "_")
	return r.Replace(name)
}

// Do returns the cached bytes of step when its key matches, and otherwise runs compute, stores
// its result and returns it. It logs "reuse" or "run" with the reason.
func (c *Cache) Do(s Step, compute func() ([]byte, error)) ([]byte, error) {
	if c == nil || c.dir == "" {
		return compute()
	}
	rec, err := c.record(s)
	if err != nil {
		return nil, err
	}
	dataPath := filepath.Join(c.dir, "data", rec.Key)
	metaPath := filepath.Join(c.dir, "steps", safeName(s.Name)+".json")
	if b, err := os.ReadFile(dataPath); err == nil {
		fmt.Fprintf(c.log, "reuse %s (cache %s)\n", s.Name, rec.Key[:12])
		return b, nil
	}
	why := "not cached before"
	if old, err := os.ReadFile(metaPath); err == nil {
		var prev stepRecord
		if json.Unmarshal(old, &prev) == nil {
			why = reason(prev, rec)
		}
	}
	fmt.Fprintf(c.log, "run   %s (%s)\n", s.Name, why)
	out, err := compute()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := WriteFileAtomic(dataPath, out); err != nil {
		return nil, fmt.Errorf("cache %s: %w", s.Name, err)
	}
	meta, err := json.MarshalIndent(rec, "", " ")
	if err != nil {
		return nil, err
	}
	if err := WriteFileAtomic(metaPath, meta); err != nil {
		return nil, fmt.Errorf("cache %s: %w", s.Name, err)
	}
	return out, nil
}

// Has reports whether step's result is cached, so that a caller can compute several missing
// steps together before storing each with Do. A cache that stores nothing has nothing.
func (c *Cache) Has(s Step) (bool, error) {
	if c == nil || c.dir == "" {
		return false, nil
	}
	rec, err := c.record(s)
	if err != nil {
		return false, err
	}
	_, err = os.Stat(filepath.Join(c.dir, "data", rec.Key))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fmt.Errorf("cache %s: %w", s.Name, err)
}

// WorkDir returns a directory where a long step keeps the state it resumes from when it is
// interrupted (a checkpoint), keyed as the step's result is: a step of other inputs, parameters
// or code never finds another's state. It is "" for a cache that stores nothing. The step
// removes what it keeps there when it completes.
func (c *Cache) WorkDir(s Step) (string, error) {
	if c == nil || c.dir == "" {
		return "", nil
	}
	rec, err := c.record(s)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(c.dir, "work", rec.Key)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("cache %s: %w", s.Name, err)
	}
	return dir, nil
}

func reason(prev, cur stepRecord) string {
	var why []string
	if prev.Inputs != cur.Inputs {
		why = append(why, "input files changed")
	}
	if prev.Params != cur.Params {
		why = append(why, "parameters changed")
	}
	if prev.Code != cur.Code {
		why = append(why, codeChange(prev.Packages, cur.Packages))
	}
	if prev.Version != cur.Version {
		why = append(why, "step version changed")
	}
	if len(why) == 0 {
		return "cached result missing"
	}
	return strings.Join(why, ", ")
}

// codeChange says which packages' code differs between two records.
func codeChange(prev, cur map[string]string) string {
	var changed []string
	for p, h := range cur {
		if prev[p] != h {
			changed = append(changed, p)
		}
	}
	for p := range prev {
		if _, ok := cur[p]; !ok {
			changed = append(changed, p)
		}
	}
	if len(changed) == 0 {
		return "code changed (toolchain, kernels or external modules)"
	}
	slices.Sort(changed)
	if len(changed) > 3 {
		changed = append(changed[:3], fmt.Sprintf("%d more", len(changed)-3))
	}
	return "code changed: " + strings.Join(changed, ", ")
}

// Clear removes every cached entry.
func (c *Cache) Clear() error {
	if c == nil || c.dir == "" {
		return nil
	}
	err := os.RemoveAll(c.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
