package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	_ "compactv4/experiments" // registers every experiment
	"compactv4/harness"
	"compactv4/internal/datadir"
)

func init() {
	register(verb{name: "list", summary: "list the experiments and the claims they check", run: runList})
	register(verb{name: "run", summary: "run experiments, write their tables and figures, check goldens and write REPRODUCE.md", run: runRun})
	register(verb{name: "check", summary: "compare the results under -out with the goldens (or rewrite them with -update)", run: runCheck})
	register(verb{name: "report", summary: "write REPRODUCE.md from the results under -out", run: runReport})
}

func runList(ctx context.Context, args []string) error {
	fs := newFlags("replicate list", "", "List the registered experiments: name, paper figures, claims, title.")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "experiment\tpaper\tclaims\ttitle")
	for _, e := range harness.Experiments() {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.Name, e.Paper, strings.Join(e.Claims, ","), e.Title)
	}
	return tw.Flush()
}

// projectRoot is where golden/, figures/ and REPRODUCE.md live.
func projectRoot() (string, error) {
	root, err := datadir.ProjectRoot()
	if err != nil {
		return "", fmt.Errorf("find the project root (run replicate inside the project): %w", err)
	}
	return root, nil
}

// selectExperiments returns the named experiments, or all of them.
func selectExperiments(names []string) ([]*harness.Experiment, error) {
	if len(names) == 0 {
		return harness.Experiments(), nil
	}
	var es []*harness.Experiment
	for _, n := range names {
		e, err := harness.Lookup(n)
		if err != nil {
			return nil, usagef("%v", err)
		}
		es = append(es, e)
	}
	return es, nil
}

// experimentArgs returns the experiments that the command line names after its flags (all of them
// when it names none) and the project root.
func experimentArgs(fs *flag.FlagSet) ([]*harness.Experiment, string, error) {
	es, err := selectExperiments(fs.Args())
	if err != nil {
		return nil, "", err
	}
	root, err := projectRoot()
	if err != nil {
		return nil, "", err
	}
	return es, root, nil
}

func runRun(ctx context.Context, args []string) error {
	fs := newFlags("replicate run", "[-profile auto|quick|full] [-data DIR] [-out DIR] [flags] [EXPERIMENT...]", `
Run the named experiments (default: all) on a profile, writing each one's tables, figures and
result.json below -out/<experiment>, copying its figures to figures/<experiment>/, checking its
numbers against golden/<experiment>/<profile>.json and writing REPRODUCE.md.

The quick profile uses a fixed subset of the data that every checkout has (and the local copy);
full uses everything public. auto (the default) picks full when every file of the full profile
is present, else quick. Files a profile needs but the data directory lacks are reported as not
runnable, by name, never silently skipped.

Expensive steps are cached under -cache, keyed by their input files, their parameters and the
code that computes them (the packages a step names and those they import: an edit elsewhere
keeps the cached result); the log says why each step ran or was reused. Exit status 1 when an experiment fails or a golden
check finds differences.`)
	profile := fs.String("profile", "auto", "auto, quick or full")
	dir := fs.String("data", "", "data directory (default $V4DATA, else data/V4_compact_models)")
	out := fs.String("out", "out", "output directory")
	figures := fs.String("figures", "", "where to copy figures (default <project>/figures; \"-\" to skip)")
	cacheDir := fs.String("cache", "", "cache directory (default <project>/.cache/replicate)")
	noCache := fs.Bool("no-cache", false, "recompute every step")
	noCheck := fs.Bool("no-check", false, "do not compare with the goldens")
	noReport := fs.Bool("no-report", false, "do not write REPRODUCE.md")
	quiet := fs.Bool("q", false, "no progress on stderr")
	owners := experimentOptions(fs)
	if err := parseFlags(fs, args, -1); err != nil {
		return err
	}
	es, root, err := experimentArgs(fs)
	if err != nil {
		return err
	}
	options, err := givenOptions(fs, owners, es)
	if err != nil {
		return err
	}
	if f := fs.Lookup(harness.ShardOption.Name); *noCache && f != nil && f.Value.String() != "" {
		return usagef("-%s with -no-cache: a shard's work is kept only in the cache, for the run without -%[1]s that assembles it", harness.ShardOption.Name)
	}
	d, err := datadir.Resolve(*dir)
	if err != nil {
		return err
	}
	var p harness.Profile
	if *profile == "auto" {
		if p, err = harness.AutoProfile(d); err != nil {
			return err
		}
	} else if p, err = harness.ParseProfile(*profile); err != nil {
		return usagef("%v", err)
	}
	log := stderr
	if *quiet {
		log = io.Discard
	}
	var cache *harness.Cache
	if !*noCache {
		cd := *cacheDir
		if cd == "" {
			cd = filepath.Join(root, ".cache", "replicate")
		}
		if cache, err = harness.NewCache(cd, log); err != nil {
			return err
		}
	}
	figDir := *figures
	switch figDir {
	case "":
		figDir = filepath.Join(root, "figures")
	case "-":
		figDir = ""
	}
	fmt.Fprintf(log, "replicate run: profile %s, data %s, output %s\n", p, d, *out)
	var failed []string
	for _, e := range es {
		start := time.Now()
		fmt.Fprintf(log, "== %s (%s profile)\n", e.Name, p)
		rec, err := harness.RunExperiment(ctx, e, harness.RunOptions{
			Profile: p, DataDir: d, Out: *out, FiguresDir: figDir, Cache: cache, Log: log, Options: options[e.Name],
		})
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			fmt.Fprintf(stderr, "replicate: %v\n", err)
			failed = append(failed, e.Name+" (failed)")
			continue
		}
		fmt.Fprintf(stdout, "%s: %d values, %d figures, %d tables in %s (%.1fs)\n", e.Name, len(rec.Values), len(rec.Figures), len(rec.Tables), filepath.Join(*out, e.Name), time.Since(start).Seconds())
		for _, m := range rec.NotRunnable {
			fmt.Fprintf(stdout, "  not runnable: %s (git blob %s): %s\n", m.Path, m.SHA1, m.Reason)
		}
		if len(options[e.Name]) > 0 {
			fmt.Fprintf(stdout, "  golden %s/%s: not checked (the experiment's own options change its plan)\n", rec.Experiment, rec.Profile)
		} else if !*noCheck {
			if !checkOne(root, rec) {
				failed = append(failed, e.Name+" (golden differs)")
			}
		}
	}
	if !*noReport {
		if err := writeReproduce(root, *out); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, ", "))
	}
	return nil
}

// experimentOptions defines a flag for every option of a registered experiment (one flag for an
// option name several experiments share) and returns the experiments that own each name.
func experimentOptions(fs *flag.FlagSet) map[string][]string {
	owners := map[string][]string{}
	usage := map[string]string{}
	for _, e := range harness.Experiments() {
		for _, o := range e.Options {
			owners[o.Name] = append(owners[o.Name], e.Name)
			if usage[o.Name] == "" {
				usage[o.Name] = o.Usage
			}
		}
	}
	for name, es := range owners {
		fs.String(name, "", fmt.Sprintf("%s (experiment %s)", usage[name], strings.Join(es, ", ")))
	}
	return owners
}

// givenOptions returns the experiment options set on the command line, per selected experiment;
// an option that none of the selected experiments has is a usage error.
func givenOptions(fs *flag.FlagSet, owners map[string][]string, es []*harness.Experiment) (map[string]map[string]string, error) {
	out := map[string]map[string]string{}
	var err error
	fs.Visit(func(f *flag.Flag) {
		own, ok := owners[f.Name]
		if !ok || err != nil {
			return
		}
		used := false
		for _, e := range es {
			if slices.Contains(own, e.Name) {
				if out[e.Name] == nil {
					out[e.Name] = map[string]string{}
				}
				out[e.Name][f.Name] = f.Value.String()
				used = true
			}
		}
		if !used {
			err = usagef("-%s is an option of experiment %s, which is not run", f.Name, strings.Join(own, ", "))
		}
	})
	return out, err
}

// checkOne compares a record with its golden and prints the outcome; it reports success.
func checkOne(root string, rec *harness.Record) bool {
	ms, err := harness.CheckGolden(root, rec)
	if err != nil {
		fmt.Fprintf(stdout, "  golden %s/%s: %v\n", rec.Experiment, rec.Profile, err)
		return false
	}
	if len(ms) == 0 {
		fmt.Fprintf(stdout, "  golden %s/%s: ok (%d values)\n", rec.Experiment, rec.Profile, len(rec.Values))
		return true
	}
	fmt.Fprintf(stdout, "  golden %s/%s: %d differences\n", rec.Experiment, rec.Profile, len(ms))
	for i, m := range ms {
		if i == 20 {
			fmt.Fprintf(stdout, "    ... and %d more\n", len(ms)-i)
			break
		}
		fmt.Fprintf(stdout, "    %s\n", m)
	}
	return false
}

func runCheck(ctx context.Context, args []string) error {
	fs := newFlags("replicate check", "[-out DIR] [-update] [EXPERIMENT...]", `
Compare the results of the last run (-out/<experiment>/result.json) with
golden/<experiment>/<profile>.json: every value within its tolerance, and the same input files.
With -update, rewrite the goldens from the results instead (review the diff before committing).`)
	out := fs.String("out", "out", "output directory of the run")
	update := fs.Bool("update", false, "rewrite the goldens from the results")
	note := fs.String("note", "", "with -update: a note stored in the golden (e.g. which data it was computed from)")
	if err := parseFlags(fs, args, -1); err != nil {
		return err
	}
	es, root, err := experimentArgs(fs)
	if err != nil {
		return err
	}
	bad := 0
	for _, e := range es {
		rec, err := harness.ReadRecord(*out, e.Name)
		if errors.Is(err, os.ErrNotExist) {
			fmt.Fprintf(stdout, "%s: not run into %s (run `replicate run %s`)\n", e.Name, *out, e.Name)
			bad++
			continue
		}
		if err != nil {
			return err
		}
		if *update {
			path := harness.GoldenPath(root, e.Name, rec.Profile)
			if err := harness.WriteGolden(path, harness.GoldenOf(rec, *note)); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "%s: wrote %s (%d values)\n", e.Name, path, len(rec.Values))
			continue
		}
		if !checkOne(root, rec) {
			bad++
		}
	}
	if bad > 0 {
		return &statusError{code: 1}
	}
	return nil
}

func runReport(ctx context.Context, args []string) error {
	fs := newFlags("replicate report", "[-out DIR]", `
Write REPRODUCE.md in the project root: for every claim of reference/claims.json, the paper's
value, this suite's value from the last run under -out, its status and its figure.`)
	out := fs.String("out", "out", "output directory of the run")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	root, err := projectRoot()
	if err != nil {
		return err
	}
	return writeReproduce(root, *out)
}

func writeReproduce(root, out string) error {
	path, err := harness.WriteReproduce(root, out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", path)
	return nil
}
