// Package harness runs the paper's experiments: it keeps the registry of experiments, resolves
// the data and the profile, caches expensive steps, writes every experiment's tables and figures,
// compares its numbers with the goldens, and writes REPRODUCE.md.
//
// An experiment is a package under experiments/ that registers a Definition in its init function
// (the package doc of experiments/ is the template). The harness asks it for the Plan of the
// profile, hands Run the plan and an Env (the verified data, the cache, the output directory and
// the claims it declared), records the plan in result.json, and checks that Run reported on
// exactly the declared claims. Run records every number its figures show in Result.Values (with
// tolerances) and writes its figures and tables below Env.Out.
package harness

import (
	"context"
	"fmt"
	"io"
	"slices"
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
	Cache   *Cache        // may be nil: every step computes
	Log     io.Writer     // progress and cache decisions; never nil
	claims  map[string]*Claim
}

// Claim returns one of the claims the experiment declared in its Definition, with the paper's
// published numbers; any other id is an error.
func (e *Env) Claim(id string) (*Claim, error) {
	c, ok := e.claims[id]
	if !ok {
		return nil, fmt.Errorf("claim %s is not one this experiment declares", id)
	}
	return c, nil
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

// AddFigure records a figure that Env.SaveFigure wrote, as AddTable records a table.
func (r *Result) AddFigure(name string, err error) error {
	if err != nil {
		return err
	}
	r.Figures = append(r.Figures, name)
	return nil
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

// Definition describes an experiment whose plan has type P. An experiment package registers one
// from its init function (see the package doc of experiments/ for the template):
//
//	func init() {
//		harness.Register(harness.Definition[Plan]{
//			Name: "compression", Title: "...", Paper: "Fig. 1c-h",
//			Claims: []string{"C1", "C2"},
//			Plan:   planFor,
//			Run:    run,
//		})
//	}
type Definition[P any] struct {
	Name   string   // package name under experiments/, e.g. "compression"
	Title  string   // one line
	Paper  string   // the paper's figures, e.g. "Fig. 1c-h"
	Claims []string // ids of reference/claims.json the experiment reports on, each exactly once
	// Plan says what a profile runs (sessions, models, parameters): a JSON-encodable value,
	// recorded in result.json. It fails only for a profile the experiment cannot run.
	Plan func(Profile) (P, error)
	// Run computes the experiment for a plan. It reads data, the cache and its claims through
	// env, and returns every number its figures show (Result.Values) and a ClaimResult for each
	// of Claims.
	Run func(ctx context.Context, env *Env, plan P) (*Result, error)
	// Options are the experiment's own command-line options (`replicate run -<name> value`),
	// and Configure applies the values given (only those, by name) to the profile's plan
	// before it is recorded and run. A value Configure rejects is an error of the run.
	Options   []Option
	Configure func(plan *P, values map[string]string) error
	// FullSummary lists key prefixes of the full profile's golden values that REPRODUCE.md
	// shows when the experiment's latest run is another profile: what only the full profile
	// measures (a curve against training time, say), one line per prefix.
	FullSummary []string
}

// Option is a command-line option of an experiment.
type Option struct {
	Name  string // the flag's name, e.g. "neurons"
	Usage string // one line, for `replicate run -h`
}

// Experiment is one registered experiment of the paper.
type Experiment struct {
	Name   string
	Title  string
	Paper  string
	Claims []string
	// Options are the experiment's own command-line options.
	Options     []Option
	fullSummary []string
	plan        func(Profile, map[string]string) (any, error)
	run         func(ctx context.Context, env *Env, plan any) (*Result, error)
}

// Plan returns what the experiment runs on a profile with the given option values (nil for
// none); an option the experiment does not declare is an error.
func (e *Experiment) Plan(p Profile, values map[string]string) (any, error) { return e.plan(p, values) }

// New checks a definition and returns its experiment without registering it (for tests; an
// experiment package calls Register). An incomplete definition, or a claim id that
// reference/claims.json lacks, is an error.
func New[P any](d Definition[P]) (*Experiment, error) {
	if d.Name == "" || d.Plan == nil || d.Run == nil {
		return nil, fmt.Errorf("harness: experiment %q needs a name, a Plan and a Run function", d.Name)
	}
	claims, err := PaperClaims()
	if err != nil {
		return nil, err
	}
	for i, id := range d.Claims {
		if _, err := claims.Lookup(id); err != nil || slices.Contains(d.Claims[:i], id) {
			return nil, fmt.Errorf("harness: experiment %s: claim %q is unknown or listed twice", d.Name, id)
		}
	}
	if (len(d.Options) > 0) != (d.Configure != nil) {
		return nil, fmt.Errorf("harness: experiment %s: options need a Configure function and Configure needs options", d.Name)
	}
	for i, o := range d.Options {
		if o.Name == "" || slices.ContainsFunc(d.Options[:i], func(p Option) bool { return p.Name == o.Name }) {
			return nil, fmt.Errorf("harness: experiment %s: option %q is unnamed or listed twice", d.Name, o.Name)
		}
	}
	return &Experiment{
		Name: d.Name, Title: d.Title, Paper: d.Paper, Claims: d.Claims, Options: d.Options, fullSummary: d.FullSummary,
		plan: func(p Profile, values map[string]string) (any, error) {
			plan, err := d.Plan(p)
			if err != nil || len(values) == 0 {
				return plan, err
			}
			for name := range values {
				if !slices.ContainsFunc(d.Options, func(o Option) bool { return o.Name == name }) {
					return plan, fmt.Errorf("experiment %s has no option -%s", d.Name, name)
				}
			}
			if err := d.Configure(&plan, values); err != nil {
				return plan, err
			}
			return plan, nil
		},
		run: func(ctx context.Context, env *Env, plan any) (*Result, error) {
			return d.Run(ctx, env, plan.(P))
		},
	}, nil
}

// Register adds an experiment to the registry. It panics on a duplicate or incomplete
// registration, or a claim id that reference/claims.json lacks: programming errors that any test
// catches.
func Register[P any](d Definition[P]) {
	e, err := New(d)
	if err != nil {
		panic(err)
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[e.Name]; dup {
		panic("harness: experiment " + e.Name + " registered twice")
	}
	registry[e.Name] = e
}

var (
	regMu    sync.Mutex
	registry = map[string]*Experiment{}
)

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
