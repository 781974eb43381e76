// Command replicate is the command line of the replication suite for "Compact deep neural network
// models of the visual cortex" (Cowley, Stan, Pillow & Smith, Nature 2026): it fetches and
// verifies the public data, runs the paper's experiments, and checks and reports their results.
//
// Usage:
//
//	go run ./harness/cmd/replicate <verb> [flags] [arguments]
//	go run ./harness/cmd/replicate <verb> -h
//
// Exit status: 0 on success, 1 when the verb fails, 2 for a usage error.
//
// Adding a verb: put it in its own file of this package and register it from that file's init
// function, for example
//
//	func init() {
//		register(verb{name: "list", summary: "list the experiments", run: runList})
//	}
//
// A verb parses its arguments with newFlags and parseFlags (so that -h and usage errors behave
// alike everywhere), writes its results to stdout and its progress to stderr (both package
// variables, which tests replace), and returns an error instead of exiting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// verb is a command of replicate, or a sub-verb of a verb (see data.go).
type verb struct {
	name    string
	summary string // one line, lower case, no final period
	run     func(ctx context.Context, args []string) error
}

// verbs holds the registered verbs by name.
var verbs = map[string]verb{}

// register adds a top-level verb; it panics on a duplicate name (a programming error, caught by
// any test of the package).
func register(v verb) { addVerb(verbs, "", v) }

func addVerb(table map[string]verb, parent string, v verb) {
	if _, dup := table[v.name]; dup || v.name == "" || v.run == nil {
		panic(fmt.Sprintf("replicate: bad or duplicate verb %q %q", parent, v.name))
	}
	table[v.name] = v
}

// Where verbs write; tests replace them.
var (
	stdout io.Writer = os.Stdout
	stderr io.Writer = os.Stderr
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run dispatches args to a verb and returns the exit status.
func run(ctx context.Context, args []string) int {
	return dispatch(ctx, "replicate", "", verbs, args)
}

// dispatch runs the verb of table named by args[0] (prog is the command so far, for messages;
// about is one line printed atop the usage).
func dispatch(ctx context.Context, prog, about string, table map[string]verb, args []string) int {
	if len(args) == 0 {
		fmt.Fprintf(stderr, "%s: no verb given\n\n", prog)
		printVerbs(stderr, prog, about, table)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		printVerbs(stdout, prog, about, table)
		return 0
	}
	v, ok := table[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "%s: unknown verb %q\n\n", prog, args[0])
		printVerbs(stderr, prog, about, table)
		return 2
	}
	return exitCode(v.run(ctx, args[1:]))
}

// exitCode reports err and maps it to an exit status.
func exitCode(err error) int {
	var ue *usageError
	var se *statusError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &se):
		return se.code
	case errors.As(err, &ue):
		if !ue.reported {
			fmt.Fprintf(stderr, "replicate: %v\n", err)
		}
		return 2
	}
	fmt.Fprintf(stderr, "replicate: %v\n", err)
	return 1
}

// statusError passes on an exit status whose cause was already reported (by a nested dispatch).
type statusError struct{ code int }

func (e *statusError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// printVerbs writes the usage of a verb table.
func printVerbs(w io.Writer, prog, about string, table map[string]verb) {
	if about != "" {
		fmt.Fprintf(w, "%s\n\n", about)
	}
	fmt.Fprintf(w, "usage: %s <verb> [flags] [arguments]\n       %s <verb> -h\n\nverbs:\n", prog, prog)
	names := make([]string, 0, len(table))
	width := 0
	for n := range table {
		names = append(names, n)
		width = max(width, len(n))
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-*s  %s\n", width, n, table[n].summary)
	}
	if prog == "replicate" {
		fmt.Fprintf(w, "\nThe data directory is -data DIR, else $V4DATA, else data/V4_compact_models in the project.\n")
	}
}

// A usageError is a mistake in the command line: exit status 2.
type usageError struct {
	err      error
	reported bool // already printed (with the usage) by the flag package
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usagef returns a usage error.
func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// newFlags returns a flag set for the command prog (e.g. "replicate data fetch"), whose -h
// prints "usage: prog synopsis", the description and the flags.
func newFlags(prog, synopsis, description string) *flag.FlagSet {
	fs := flag.NewFlagSet(prog, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "usage: %s %s\n\n%s\n", prog, synopsis, strings.TrimSpace(description))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nflags:\n")
			fs.PrintDefaults()
		}
	}
	return fs
}

// parseFlags parses args, returning flag.ErrHelp for -h and a usage error for bad flags (the
// flag package has printed both). maxArgs bounds the positional arguments (-1: any number).
func parseFlags(fs *flag.FlagSet, args []string, maxArgs int) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(flagsFirst(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err: err, reported: true}
	}
	if maxArgs >= 0 && fs.NArg() > maxArgs {
		return usagef("%s: unexpected arguments %q (see %s -h)", fs.Name(), fs.Args()[maxArgs:], fs.Name())
	}
	return nil
}

// flagsFirst moves the flags of args (with their values) before the positional arguments, so
// that `replicate run stimuli -profile full` means what `replicate run -profile full stimuli`
// does. A "--" ends the flags, as in the flag package.
func flagsFirst(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			i = len(args)
		case len(a) > 1 && a[0] == '-':
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if strings.Contains(name, "=") {
				continue
			}
			if f := fs.Lookup(name); f != nil && !isBoolFlag(f) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			pos = append(pos, a)
		}
	}
	if len(pos) == 0 {
		return flags
	}
	return append(append(flags, "--"), pos...)
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// isTerminal reports whether w is a terminal (character device), where progress is shown.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
