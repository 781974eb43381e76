// Package experiments registers every experiment of the suite with the harness: importing it
// (as harness/cmd/replicate does) makes them all available to `replicate list|run|check`.
// `go test ./experiments` runs every registered experiment on the quick profile, twice (the second
// run from the cache must write the same bytes), and compares its numbers with its golden
// (golden/<experiment>/quick.json); `go test ./experiments -update` rewrites those goldens.
//
// # Adding an experiment
//
// Every experiment has the same shape; copy it (compression is the smallest complete one, and
// template_test.go holds a minimal one that goes through the golden check):
//
//	experiments/<name>/
//	  <name>.go     package doc: what it computes, for which figure and claims, what each
//	                profile runs; init() registers a harness.Definition[plan]; the plan type and
//	                planFor (quick: a fixed subset every copy of the data has, in minutes;
//	                full: everything public); named seeds; run, which calls the steps below
//	  <compute>.go  the computation, one file per step (evaluate.go, synthesize.go, ...)
//	  record.go     the golden values (Result.Values, each with a tolerance and the reason for
//	                it) and one ClaimResult per declared claim (env.Claim, Claim.Compare)
//	  output.go     tables (env.WriteCSV / WriteJSON / WriteNPY, res.AddTable; numbers through
//	                harness.FormatFloat) and figures (internal/plots, env.SaveFigure,
//	                res.AddFigure)
//	  <name>_test.go  unit tests of the computation on constructed inputs with known answers
//
// then add the package's import below, run `make golden` (writes golden/<name>/quick.json) and
// `make figures` (writes figures/<name>/ and REPRODUCE.md), and commit all three.
//
// The rules the harness and the reviews hold an experiment to:
//
//   - Data comes through eval: eval.New(env, res) gives the sessions (EvalHalf, Pixels) and
//     records a missing file as not runnable with the reason the experiment gives; eval.Data's
//     Predict caches predictions; eval.Score and eval.Summarize are the only scoring path. A new
//     kind of model implements eval.Model.
//   - Anything another experiment could use goes to a library package (eval, or internal/...),
//     never to an import of another experiment.
//   - An expensive step is a harness.Step run through env.Cache: its Inputs (env.Inputs), its
//     Params (everything that changes the result, seeds included) and its Code, the packages
//     whose code computes it. Keep that code in library packages so that editing the
//     experiment's tables or figures does not invalidate it.
//   - Run reports on exactly the claims the Definition declares; a claim whose published value
//     is not available is Computed, never compared with an invented number.
//   - Same inputs, same bytes: explicit seeds, no timestamps or timings in files (the log may
//     have them), deterministic map iteration.
package experiments

import (
	_ "compactv4/experiments/areas"         // E6, ED Fig. 6
	_ "compactv4/experiments/compression"   // E2, Fig. 1c-h
	_ "compactv4/experiments/distillation"  // E2 rerun: distillation of compact models
	_ "compactv4/experiments/dots"          // E5, Fig. 4, ED Fig. 7-8
	_ "compactv4/experiments/sharedfilters" // E4, Fig. 3a-d
	_ "compactv4/experiments/stimuli"       // E3, Fig. 2a
	_ "compactv4/experiments/teacherfit"    // E1, Fig. 1b
)
