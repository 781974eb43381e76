// Package harness runs the paper's experiments: it keeps the registry of experiments, resolves
// the data and the profile, caches expensive steps, writes every experiment's tables and figures,
// compares its numbers with the goldens, and writes REPRODUCE.md.
//
// An experiment is a package under experiments/ that registers an Experiment in its init
// function. Its Run reads data through the Env, records every number its figures show in
// Result.Values (with tolerances), states what it found for each claim of
// reference/claims.json, and writes its figures and tables below Env.Out.
package harness

import (
	"context"
	"fmt"
	"io"
	"sort"
	"sync"

	"compactv4/internal/v4data"
)

// Profile selects how much of the data an experiment uses.
type Profile string

// The profiles. Quick uses a fixed subset of files that every checkout has, including the local
// data copy, so its goldens are the same for everyone; full uses all public data.
const (
	Quick Profile = "quick"
	Full  Profile = "full"
)

// ParseProfile checks a profile name.
func ParseProfile(s string) (Profile, error) {
	switch Profile(s) {
	case Quick, Full:
		return Profile(s), nil
	}
	return "", fmt.Errorf("unknown profile %q (want quick or full)", s)
}

// Env is what an experiment run gets.
type Env struct {
	Profile Profile
	Data    *v4data.Store // verified access to the public data
	Out     string        // directory for this experiment's tables and figures (exists, empty)
	Cache   *Cache
	Log     io.Writer // progress and cache decisions; never nil
}

// Logf writes one progress line.
func (e *Env) Logf(format string, args ...any) {
	fmt.Fprintf(e.Log, format+"\n", args...)
}

// Status is the outcome for one claim.
type Status string

// Claim statuses, as REPRODUCE.md shows them.
const (
	// Reproduced: the paper's value is known and this suite's value agrees with it.
	Reproduced Status = "reproduced"
	// Differs: the paper's value is known and this suite's value does not agree.
	Differs Status = "differs"
	// Computed: this suite computed the value but the paper's number is not available to compare.
	Computed Status = "computed (paper value not available)"
	// Partial: part of the claim was computed, part could not be (the detail says which).
	Partial Status = "partly computed"
	// NotRunnable: a file the claim needs is missing (the detail names it).
	NotRunnable Status = "not runnable"
	// NotImplemented: no experiment of the suite computes this claim yet.
	NotImplemented Status = "not yet implemented"
	// NotRun: the experiment exists but has not been run into the output directory.
	NotRun Status = "not run"
)

// ClaimResult is what an experiment found for one claim of reference/claims.json.
type ClaimResult struct {
	ID      string   `json:"id"`
	Value   string   `json:"value"`  // this suite's value, in words and numbers
	Status  Status   `json:"status"` // see the Status constants
	Detail  string   `json:"detail,omitempty"`
	Figures []string `json:"figures,omitempty"` // figure base names of this experiment
}

// Result is what an experiment run produced.
type Result struct {
	Values      Values
	Claims      []ClaimResult
	Figures     []string // base names of figures written below Env.Out as .png and .svg
	Tables      []string // file names of tables written below Env.Out
	NotRunnable []Missing
	Notes       []string
}

// AddTable records a table that one of Env's writers wrote: it appends name to r.Tables unless
// err is set, and returns err, so that a write reads
//
//	if err := res.AddTable(env.WriteCSV("models.csv", header, rows)); err != nil { ... }
func (r *Result) AddTable(name string, err error) error {
	if err != nil {
		return err
	}
	r.Tables = append(r.Tables, name)
	return nil
}

// Experiment is one experiment of the paper.
type Experiment struct {
	Name   string   // package name under experiments/, e.g. "compression"
	Title  string   // one line
	Paper  string   // the paper's figures, e.g. "Fig. 1c-h"
	Claims []string // ids of reference/claims.json this experiment speaks to
	Run    func(ctx context.Context, env *Env) (*Result, error)
}

var (
	regMu    sync.Mutex
	registry = map[string]*Experiment{}
)

// Register adds an experiment to the registry. It panics on a duplicate or incomplete
// registration, which are programming errors caught by any test.
func Register(e *Experiment) {
	regMu.Lock()
	defer regMu.Unlock()
	if e.Name == "" || e.Run == nil {
		panic("harness: Register needs a name and a Run function")
	}
	if _, dup := registry[e.Name]; dup {
		panic("harness: experiment " + e.Name + " registered twice")
	}
	registry[e.Name] = e
}

// Experiments returns every registered experiment, sorted by name.
func Experiments() []*Experiment {
	regMu.Lock()
	defer regMu.Unlock()
	es := make([]*Experiment, 0, len(registry))
	for _, e := range registry {
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].Name < es[j].Name })
	return es
}

// Lookup returns the registered experiment with the given name.
func Lookup(name string) (*Experiment, error) {
	regMu.Lock()
	defer regMu.Unlock()
	e, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("no experiment %q (see `replicate list`)", name)
	}
	return e, nil
}
