package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path"
	"strings"

	"compactv4/internal/datadir"
	"compactv4/internal/v4data"
)

// The data verb dispatches to sub-verbs from dataVerbs, like the top level does from verbs. A
// sub-verb lives in its own file (data_<name>.go) and registers itself from that file's init:
//
//	func init() {
//		registerData(verb{name: "images", summary: "...", run: runDataImages})
//	}
func init() {
	register(verb{name: "data", summary: "fetch and verify the public data (data fetch, data verify, ...)", run: runData})
	registerData(verb{name: "fetch", summary: "download the files of a profile that are missing or corrupt, verifying each", run: runDataFetch})
	registerData(verb{name: "verify", summary: "check every file of a data directory against the pinned manifest", run: runDataVerify})
}

// dataVerbs holds the sub-verbs of data.
var dataVerbs = map[string]verb{}

// registerData adds a sub-verb of data.
func registerData(v verb) { addVerb(dataVerbs, "data", v) }

// command is how users run this program, for the hints it prints.
const command = "go run ./harness/cmd/replicate"

// pinnedManifest returns the manifest that the data verbs check against; tests replace it.
var pinnedManifest = v4data.Pinned

func runData(ctx context.Context, args []string) error {
	about := fmt.Sprintf("The public data of %s at commit %.7s, verified by git blob SHA-1.", v4data.Repository, v4data.Commit)
	if code := dispatch(ctx, "replicate data", about, dataVerbs, args); code != 0 {
		// dispatch has reported the problem; only the status remains to be passed on.
		return &statusError{code}
	}
	return nil
}

// profileFlag checks a -profile value.
func profileFlag(p string) error {
	for _, q := range v4data.Profiles() {
		if p == q {
			return nil
		}
	}
	return usagef("unknown profile %q (want %s)", p, strings.Join(v4data.Profiles(), " or "))
}

// fetchDir is the data directory for fetch, which need not exist yet.
func fetchDir(flag string) string {
	dir, _ := datadir.Locate(flag)
	return dir
}

func runDataFetch(ctx context.Context, args []string) error {
	fs := newFlags("replicate data fetch", "[-profile quick|full] [-data DIR] [-base-url URL] [-parallel N] [-retries N] [-q]\n       replicate data fetch -weights [DIR] [-parallel N] [-retries N] [-q]", `
Download every file of the profile that is missing or corrupt in the data directory from the
mirror (by default GitHub at the pinned commit), N files at a time. Files already present and
valid are not downloaded again. Each download is hashed while it is written to a temporary file,
and moved into place only when its git blob SHA-1 matches the manifest; nothing partial or
unverified is ever left at a data path. Transient failures are retried with backoff.

The data directory is -data DIR, else $V4DATA, else data/V4_compact_models in the project; it is
created if absent. Progress goes to stderr when it is a terminal (not with -q).

With -weights, fetch instead the Keras ImageNet weight files of the task-driven networks
(resnet50_ and vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5) from the address
keras.applications uses, each verified against the MD5 keras.applications records before it is
renamed into place: into DIR when given, else $KERAS_HOME/models when KERAS_HOME is set, else
~/.keras/models (where Keras caches them and where the suite looks for them).`)
	profile := fs.String("profile", v4data.ProfileQuick, "profile to fetch: quick (the files every checkout shares) or full (all data)")
	dir := fs.String("data", "", "data directory (default $V4DATA, else data/V4_compact_models)")
	base := fs.String("base-url", v4data.DefaultBaseURL, "mirror: file p is fetched from URL/p")
	parallel := fs.Int("parallel", 4, "files downloaded at once")
	retries := fs.Int("retries", 4, "retries of a transient failure (0: none)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	var weights weightsFlag
	fs.Var(&weights, "weights", "fetch the Keras ImageNet weight files (into -weights=DIR, or DIR given after it; default $KERAS_HOME/models, else ~/.keras/models)")
	if err := parseFlags(fs, args, 1); err != nil {
		return err
	}
	if fs.NArg() > 0 && (!weights.on || weights.dir != "") {
		return usagef("replicate data fetch: unexpected argument %q (see -h)", fs.Arg(0))
	}
	if err := profileFlag(*profile); err != nil {
		return err
	}
	if *parallel < 1 {
		return usagef("-parallel %d: want at least 1", *parallel)
	}
	if *retries < 0 {
		return usagef("-retries %d: want 0 or more", *retries)
	}
	if weights.on {
		var other []string
		fs.Visit(func(f *flag.Flag) {
			if f.Name == "profile" || f.Name == "data" || f.Name == "base-url" {
				other = append(other, "-"+f.Name)
			}
		})
		if len(other) > 0 {
			return usagef("replicate data fetch: -weights cannot be combined with %s", strings.Join(other, ", "))
		}
		dir := weights.dir
		if fs.NArg() == 1 {
			dir = fs.Arg(0)
		}
		return fetchWeights(ctx, dir, *parallel, *retries, !*quiet && isTerminal(stderr))
	}
	m, err := pinnedManifest()
	if err != nil {
		return err
	}
	opts := v4data.Options{
		Dir: fetchDir(*dir), Profile: *profile, Manifest: m, BaseURL: *base,
		Parallel: *parallel, Retries: *retries, Seed: 1,
	}
	if *retries == 0 {
		opts.Retries = -1
	}
	if !*quiet && isTerminal(stderr) {
		opts.Progress = stderr
	}
	sum, err := v4data.Fetch(ctx, opts)
	fmt.Fprintf(stdout, "fetch %s into %s: %d files, %d downloaded (%d bytes, %d replacing corrupt files), %d already valid, %d failed",
		sum.Profile, opts.Dir, sum.Files, len(sum.Downloaded), sum.Bytes, sum.Replaced, sum.AlreadyValid, len(sum.Failed))
	if sum.NotAttempted > 0 {
		fmt.Fprintf(stdout, ", %d not attempted", sum.NotAttempted)
	}
	fmt.Fprintln(stdout)
	return err
}

func runDataVerify(ctx context.Context, args []string) error {
	fs := newFlags("replicate data verify", "[-data DIR] [-profile quick|full] [-v]", `
Hash every file of the profile in the data directory and compare it with the pinned manifest's
git blob SHA-1. Prints the counts of valid, corrupt, missing and extra files (files in the data
folders that the manifest does not list), names every corrupt file with its expected and actual
SHA-1, and lists the missing files by the profiles that need them (one line per folder when
there are many; -v lists every file). Exit status 1 when any file is corrupt.`)
	dir := fs.String("data", "", "data directory (default $V4DATA, else data/V4_compact_models)")
	profile := fs.String("profile", v4data.ProfileFull, "profile whose files to check: quick or full")
	verbose := fs.Bool("v", false, "list every missing and extra file")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if err := profileFlag(*profile); err != nil {
		return err
	}
	d, err := datadir.Resolve(*dir)
	if err != nil {
		return err
	}
	m, err := pinnedManifest()
	if err != nil {
		return err
	}
	rep, err := v4data.Verify(d, m, v4data.VerifyOptions{Profile: *profile})
	if err != nil {
		return err
	}
	writeReport(stdout, m, rep, *verbose)
	if n := rep.Count(v4data.Corrupt); n > 0 {
		return fmt.Errorf("%d corrupt file(s) in %s; re-fetch them with `%s data fetch -profile %s -data %s`", n, d, command, *profile, d)
	}
	return nil
}

// manyLines is the number of files above which a list is summarised per folder without -v.
const manyLines = 20

// writeReport prints a verification report for a person.
func writeReport(w io.Writer, m *v4data.Manifest, rep v4data.Report, verbose bool) {
	fmt.Fprintf(w, "data directory %s, profile %s (%d files), manifest %s at %.7s\n",
		rep.Dir, rep.Profile, len(rep.Files), v4data.Repository, v4data.Commit)
	fmt.Fprintf(w, "valid    %d\ncorrupt  %d\nmissing  %d\nextra    %d\n",
		rep.Count(v4data.Valid), rep.Count(v4data.Corrupt), rep.Count(v4data.Missing), len(rep.Extra))

	if bad := rep.With(v4data.Corrupt); len(bad) > 0 {
		fmt.Fprintf(w, "\ncorrupt files (%d):\n", len(bad))
		for _, f := range bad {
			fmt.Fprintf(w, "  %s: %s\n", f.Path, f.Problem())
		}
	}

	// Missing files, grouped by the profiles that need them, smallest profile first.
	groups := map[string][]v4data.FileResult{}
	var keys []string
	for _, f := range rep.With(v4data.Missing) {
		need := m.ProfilesNeeding(f.Path)
		k := strings.Join(need, " and ")
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], f)
	}
	for _, p := range v4data.Profiles() { // order: files quick needs, then full only
		for _, k := range keys {
			need := strings.Split(k, " and ")
			if need[0] != p {
				continue
			}
			files := groups[k]
			label := "profile " + k
			if len(need) > 1 {
				label = "profiles " + k
			}
			fmt.Fprintf(w, "\nmissing, needed by %s (%d): get them with %s\n", label, len(files), fetchHint(p, rep.Dir))
			listFiles(w, files, verbose)
		}
	}

	if len(rep.Extra) > 0 {
		fmt.Fprintf(w, "\nextra files, not in the manifest (%d):\n", len(rep.Extra))
		for i, p := range rep.Extra {
			if !verbose && i == manyLines {
				fmt.Fprintf(w, "  ... and %d more (-v lists them)\n", len(rep.Extra)-manyLines)
				break
			}
			fmt.Fprintf(w, "  %s\n", p)
		}
	}
}

func fetchHint(profile, dir string) string {
	cmd := fmt.Sprintf("`%s data fetch -profile %s -data %s`", command, profile, dir)
	if profile == v4data.ProfileQuick {
		return "`make data` or " + cmd
	}
	return cmd
}

// listFiles prints missing files one per line, or one line per folder when there are many.
func listFiles(w io.Writer, files []v4data.FileResult, verbose bool) {
	if verbose || len(files) <= manyLines {
		for _, f := range files {
			size := "size unknown"
			if f.SizeKnown() {
				size = fmt.Sprintf("%d bytes", f.Size)
			}
			fmt.Fprintf(w, "  %s  (git blob %s, %s)\n", f.Path, f.SHA1, size)
		}
		return
	}
	var folders []string
	count := map[string]int{}
	for _, f := range files {
		d := path.Dir(f.Path) + "/"
		if count[d] == 0 {
			folders = append(folders, d)
		}
		count[d]++
	}
	for _, d := range folders {
		fmt.Fprintf(w, "  %-50s %4d files\n", d, count[d])
	}
	fmt.Fprintf(w, "  (-v lists every file)\n")
}
