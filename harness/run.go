package harness

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"compactv4/internal/v4data"
)

// RunOptions configure RunExperiment.
type RunOptions struct {
	Profile    Profile
	DataDir    string    // resolved data directory
	Out        string    // output root; the experiment writes below Out/<name>
	FiguresDir string    // when non-empty, figures are copied to FiguresDir/<name>/
	Cache      *Cache    // may be nil (no caching)
	Log        io.Writer // may be nil
	// Options are values of the experiment's own options (Definition.Options) by name; nil
	// runs the profile's plan as it is.
	Options map[string]string
}

// Record is the machine-readable outcome of one run, written as <out>/<name>/result.json and read
// back by `replicate check` and `replicate report`.
type Record struct {
	Experiment  string        `json:"experiment"`
	Title       string        `json:"title"`
	Paper       string        `json:"paper"`
	Profile     Profile       `json:"profile"`
	Plan        any           `json:"plan"`
	Claims      []ClaimResult `json:"claims"`
	Figures     []string      `json:"figures"`
	Tables      []string      `json:"tables"`
	NotRunnable []Missing     `json:"not_runnable,omitempty"`
	Notes       []string      `json:"notes,omitempty"`
	Inputs      []Input       `json:"computed_from"`
	Values      []Value       `json:"values"`
}

// ResultFile is the name of the record below <out>/<experiment>/.
const ResultFile = "result.json"

// RunExperiment runs one experiment into a fresh output directory, writes its record, and copies
// its figures. It returns the record.
func RunExperiment(ctx context.Context, e *Experiment, opts RunOptions) (*Record, error) {
	log := opts.Log
	if log == nil {
		log = io.Discard
	}
	store, err := v4data.Open(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	out := filepath.Join(opts.Out, e.Name)
	if err := os.RemoveAll(out); err != nil {
		return nil, fmt.Errorf("%s: clear %s: %w", e.Name, out, err)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("%s: %w", e.Name, err)
	}
	plan, err := e.plan(opts.Profile, opts.Options)
	if err != nil {
		return nil, fmt.Errorf("%s (%s profile): %w", e.Name, opts.Profile, err)
	}
	env := &Env{Profile: opts.Profile, Data: store, Out: out, Cache: opts.Cache, Log: log}
	if env.claims, err = declaredClaims(e); err != nil {
		return nil, err
	}
	res, err := e.run(ctx, env, plan)
	if err != nil {
		return nil, fmt.Errorf("%s (%s profile): %w", e.Name, opts.Profile, err)
	}
	if err := checkClaims(e, res.Claims); err != nil {
		return nil, err
	}
	rec := &Record{
		Experiment: e.Name, Title: e.Title, Paper: e.Paper, Profile: opts.Profile, Plan: plan,
		Claims: res.Claims, Figures: res.Figures, Tables: res.Tables,
		NotRunnable: res.NotRunnable, Notes: res.Notes,
		Values: res.Values.List(),
	}
	for _, v := range store.Verified() {
		rec.Inputs = append(rec.Inputs, Input{Path: v.Path, SHA1: v.SHA1})
	}
	sort.Slice(rec.Inputs, func(i, j int) bool { return rec.Inputs[i].Path < rec.Inputs[j].Path })
	if err := writeRecord(filepath.Join(out, ResultFile), rec); err != nil {
		return nil, err
	}
	if opts.FiguresDir != "" {
		if err := copyFigures(out, filepath.Join(opts.FiguresDir, e.Name), res.Figures); err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
	}
	return rec, nil
}

// declaredClaims returns the claims an experiment declares, from reference/claims.json.
func declaredClaims(e *Experiment) (map[string]*Claim, error) {
	all, err := PaperClaims()
	if err != nil {
		return nil, err
	}
	out := map[string]*Claim{}
	for _, id := range e.Claims {
		c, err := all.Lookup(id)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name, err)
		}
		out[id] = c
	}
	return out, nil
}

// checkClaims requires one result for each declared claim and none for another.
func checkClaims(e *Experiment, got []ClaimResult) error {
	n := map[string]int{}
	for _, c := range got {
		if !slices.Contains(e.Claims, c.ID) {
			return fmt.Errorf("%s reports on claim %s, which it does not declare", e.Name, c.ID)
		}
		n[c.ID]++
	}
	for _, id := range e.Claims {
		if n[id] != 1 {
			return fmt.Errorf("%s declares claim %s but reports on it %d times (want once)", e.Name, id, n[id])
		}
	}
	return nil
}

func writeRecord(path string, rec *Record) error {
	b, err := json.MarshalIndent(rec, "", " ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadRecord reads <out>/<name>/result.json.
func ReadRecord(out, name string) (*Record, error) {
	path := filepath.Join(out, name, ResultFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rec Record
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return &rec, nil
}

// copyFigures replaces dst with the figures (.png and .svg) named in figs.
func copyFigures(src, dst string, figs []string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	for _, f := range figs {
		for _, ext := range []string{".png", ".svg"} {
			b, err := os.ReadFile(filepath.Join(src, f+ext))
			if err != nil {
				return fmt.Errorf("figure %s: %w", f, err)
			}
			if err := WriteFileAtomic(filepath.Join(dst, f+ext), b); err != nil {
				return err
			}
		}
	}
	return nil
}

// GoldenOf turns a record into the golden file content.
func GoldenOf(rec *Record, note string) *Golden {
	return &Golden{
		Experiment: rec.Experiment, Profile: string(rec.Profile), Note: note,
		NotRunnable: rec.NotRunnable, Inputs: rec.Inputs, Values: rec.Values,
	}
}

// CheckGolden compares a record with golden/<name>/<profile>.json below root. It returns the
// mismatches, or an error when the golden file cannot be read.
func CheckGolden(root string, rec *Record) ([]Mismatch, error) {
	g, err := ReadGolden(GoldenPath(root, rec.Experiment, rec.Profile))
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no golden for %s (%s profile): record one with `make golden`: %w", rec.Experiment, rec.Profile, err)
		}
		return nil, err
	}
	ms := Compare(rec.Values, g.Values)
	// The inputs must be the same files: a golden computed from other data is no reference.
	want := map[string]string{}
	for _, in := range g.Inputs {
		want[in.Path] = in.SHA1
	}
	got := map[string]string{}
	for _, in := range rec.Inputs {
		got[in.Path] = in.SHA1
	}
	for p, s := range want {
		if got[p] != s {
			ms = append(ms, Mismatch{Key: "input " + p, Got: orNothing(got[p]), Want: s, Why: "input file differs from the golden's"})
		}
	}
	for p, s := range got {
		if _, ok := want[p]; !ok {
			ms = append(ms, Mismatch{Key: "input " + p, Got: s, Want: "nothing", Why: "input file not used by the golden run"})
		}
	}
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].Key < ms[j].Key })
	return ms, nil
}

func orNothing(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// AutoProfile is Full when every file of the full profile is present in the data directory dir,
// else Quick.
func AutoProfile(dir string) (Profile, error) {
	files, err := v4data.ProfileFiles(v4data.ProfileFull)
	if err != nil {
		return "", err
	}
	for _, e := range files {
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(e.Path))); err != nil {
			return Quick, nil
		}
	}
	return Full, nil
}

// WriteReproduce writes REPRODUCE.md in the project root from the records of the registered
// experiments under out (an experiment not run there is shown as not run), and returns its path.
func WriteReproduce(root, out string) (string, error) {
	claims, err := PaperClaims()
	if err != nil {
		return "", err
	}
	recs, full := map[string]*Record{}, map[string]*Golden{}
	for _, e := range Experiments() {
		if len(e.fullSummary) > 0 {
			g, err := ReadGolden(GoldenPath(root, e.Name, Full))
			switch {
			case err == nil:
				full[e.Name] = g
			case !errors.Is(err, os.ErrNotExist):
				return "", err
			}
		}
		rec, err := ReadRecord(out, e.Name)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		recs[e.Name] = rec
	}
	path := filepath.Join(root, "REPRODUCE.md")
	return path, WriteFileAtomic(path, []byte(Report(claims, Experiments(), recs, full)))
}
