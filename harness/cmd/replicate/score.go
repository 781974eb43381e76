package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/datadir"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

func init() {
	register(verb{name: "score", summary: "score your own predictions of a session's responses with the paper's metric", run: runScore})
}

func runScore(ctx context.Context, args []string) error {
	fs := newFlags("replicate score", "-session ID -pred FILE.npy [-data DIR] [-half first|second|all] [-out DIR]", `
Score predictions of one recording session's V4 responses with the paper's metric. FILE.npy is a
float32 or float64 array of shape (neurons, images) covering the chosen part of the session:
-half second (the default) is the evaluation half of reference/upstream.md §5.1, images M/2+1 … M (image files
image%04d.jpg, 1-based); first is images 1 … M/2; all is every image. Neuron n of the file is
row n of the session's response files.

For each neuron: Pearson r and r² against the repeat-averaged responses and, when the session's
raw repeats are present, the noise-corrected R² (r²_ER, Pospisil & Bair 2021) exactly as the
upstream compute_r2_ER (by default with its quirk of using the first neuron's median repeat
count for every neuron; -per-neuron-repeats fixes it). Writes OUT/score_SESSION_HALF.csv
(neuron,r,r2,r2er; r2er NaN without raw repeats) and prints a JSON summary of the medians with
90 % bootstrap confidence intervals (seeded: the same inputs give the same numbers).`)
	session := fs.String("session", "", "session id, e.g. 210325")
	predPath := fs.String("pred", "", "prediction file (.npy, float32 or float64, neurons × images)")
	dir := fs.String("data", "", "data directory (default $V4DATA, else data/V4_compact_models)")
	half := fs.String("half", "second", "which images the predictions cover: first, second or all")
	out := fs.String("out", ".", "directory for the per-neuron CSV")
	perNeuron := fs.Bool("per-neuron-repeats", false, "use each neuron's own median repeat count in r²_ER (fixes upstream quirk B2)")
	if err := parseFlags(fs, args, 0); err != nil {
		return err
	}
	if *session == "" || *predPath == "" {
		return usagef("replicate score: -session and -pred are required (see -h)")
	}
	d, err := datadir.Resolve(*dir)
	if err != nil {
		return err
	}
	s, err := v4data.Open(d)
	if err != nil {
		return err
	}
	if _, _, err := eval.Part(*half).Range(2); err != nil {
		return usagef("replicate score: -half must be first, second or all, not %q", *half)
	}
	u, err := eval.ScoreFile(s, *session, eval.Part(*half), *predPath, metrics.R2EROptions{PerNeuronRepeats: *perNeuron})
	if errors.Is(err, v4data.ErrNotInManifest) {
		return usagef("replicate score: session %q has no responses in the upstream repository", *session)
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	u.PerNeuron = filepath.Join(*out, fmt.Sprintf("score_%s_%s.csv", *session, *half))
	header, rows := u.Table()
	if err := harness.WriteCSVFile(u.PerNeuron, header, rows); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(u)
}
