package main

import (
	"context"
	"fmt"
	"os"

	"compactv4/internal/areadata"
	"compactv4/internal/pinfetch"
)

func init() {
	registerData(verb{name: "areas", summary: "check (or -fetch) the pinned V1, V4 and IT recordings of other sources (MajajHong2015, Cadena2019)", run: runDataAreas})
}

func runDataAreas(ctx context.Context, args []string) error {
	fs := newFlags("replicate data areas", "[-data DIR] [-set MajajHong2015|Cadena2019|all] [-fetch] [-parallel N] [-retries N] [-q]", `
Check the files of the pinned area data sets in the area data directory: Brain-Score's public
MajajHong2015 assembly (V4 and IT) with its stimulus set, and Cadena et al. 2019's V1 pickle.
Prints, per data set, "runnable" or why not: each missing or corrupt file with its SHA-1 and where
it comes from. With -fetch, first download the missing or corrupt files from the URLs Brain-Score
records, each verified against its SHA-1 before it is moved into place; Cadena et al.'s pickle
has no published hash and is served only inside an archive, so it is never fetched (the message
says how to get it). Exit status 1 when a data set asked for is not runnable.

The area data directory is -data DIR, else $AREADATA, else data/areas in the project.`)
	dir := fs.String("data", "", "area data directory (default $AREADATA, else data/areas)")
	set := fs.String("set", "all", "data set: MajajHong2015, Cadena2019 or all")
	fetch := fs.Bool("fetch", false, "download missing or corrupt files first")
	parallel := fs.Int("parallel", 2, "files downloaded at once")
	retries := fs.Int("retries", 4, "retries of a transient failure (0: none)")
	quiet := fs.Bool("q", false, "no progress on stderr")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	sets := []string{areadata.MajajHong2015, areadata.Cadena2019}
	switch *set {
	case "all":
	case areadata.MajajHong2015, areadata.Cadena2019:
		sets = []string{*set}
	default:
		return usagef("unknown -set %q (want MajajHong2015, Cadena2019 or all)", *set)
	}
	if *parallel < 1 || *retries < 0 {
		return usagef("-parallel %d, -retries %d: want at least 1 and 0 or more", *parallel, *retries)
	}
	d := areadata.Dir(*dir)
	if *fetch {
		opts := pinfetch.Options{Dir: d, Parallel: *parallel, Retries: *retries, Seed: 1, UserAgent: "compactv4-replicate/1 (area data fetch)"}
		if *retries == 0 {
			opts.Retries = -1
		}
		if !*quiet && isTerminal(stderr) {
			opts.Progress = stderr
		}
		for _, s := range sets {
			sum, err := areadata.Fetch(ctx, areadata.Dataset(s), opts)
			fmt.Fprintf(stdout, "fetch %s into %s: %d files, %d downloaded (%d bytes), %d already valid, %d failed\n",
				s, d, sum.Files, len(sum.Downloaded), sum.Bytes, sum.AlreadyValid, len(sum.Failed))
			if err != nil {
				if ctx.Err() != nil {
					return err
				}
				fmt.Fprintf(stderr, "replicate: %v\n", err)
			}
		}
	}
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("area data directory: %w", err)
	}
	st, err := areadata.Open(d)
	if err != nil {
		return err
	}
	bad := 0
	for _, s := range sets {
		errs := st.NotRunnable(s)
		if len(errs) == 0 {
			note := ""
			if u := st.Unverified(); len(u) > 0 && s == areadata.Cadena2019 {
				note = " (unverified: no SHA-1 is published for it)"
			}
			fmt.Fprintf(stdout, "%s: runnable%s\n", s, note)
			continue
		}
		bad++
		fmt.Fprintf(stdout, "%s: not runnable, %d file(s):\n", s, len(errs))
		for _, e := range errs {
			fmt.Fprintf(stdout, "  %v\n", e)
		}
	}
	if bad > 0 {
		return fmt.Errorf("%d area data set(s) not runnable in %s", bad, d)
	}
	return nil
}
