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
	"strings"
	"sync"
)

// Cache stores the outputs of expensive steps (model predictions, optimised images) on disk,
// keyed by a hash of the step's name, its input files (by git blob SHA-1), its parameters and
// the code version. A step is reused only when all four are unchanged; otherwise it runs again,
// and the cache says why.
//
// The code version is the SHA-256 of the running executable by default: any change to the code
// invalidates every entry. That is coarse, but it cannot serve a stale result.
type Cache struct {
	dir  string
	code string
	log  io.Writer
	mu   sync.Mutex
}

// CodeVersion returns the SHA-256 of the running executable.
func CodeVersion() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("code version: %w", err)
	}
	f, err := os.Open(exe)
	if err != nil {
		return "", fmt.Errorf("code version: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("code version: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// NewCache returns a cache in dir for the given code version, logging decisions to log (which
// may be nil). An empty dir gives a cache that never stores anything.
func NewCache(dir, codeVersion string, log io.Writer) *Cache {
	if log == nil {
		log = io.Discard
	}
	return &Cache{dir: dir, code: codeVersion, log: log}
}

// Step identifies one cacheable computation.
type Step struct {
	Name    string  // unique and stable, e.g. "compression/predict/190923"
	Inputs  []Input // data files read, with their SHA-1
	Params  any     // anything JSON-encodable that changes the result (seeds included)
	Version string  // bumped by hand when the step's meaning changes without a code change elsewhere
}

type stepRecord struct {
	Key     string `json:"key"`
	Inputs  string `json:"inputs"`
	Params  string `json:"params"`
	Code    string `json:"code"`
	Version string `json:"version"`
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
	r := stepRecord{Inputs: in, Params: pa, Code: c.code, Version: s.Version}
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

func reason(prev, cur stepRecord) string {
	var why []string
	if prev.Inputs != cur.Inputs {
		why = append(why, "input files changed")
	}
	if prev.Params != cur.Params {
		why = append(why, "parameters changed")
	}
	if prev.Code != cur.Code {
		why = append(why, "code changed")
	}
	if prev.Version != cur.Version {
		why = append(why, "step version changed")
	}
	if len(why) == 0 {
		return "cached result missing"
	}
	return strings.Join(why, ", ")
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
