package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"compactv4/harness"
	"compactv4/internal/datadir"
	"compactv4/internal/metrics"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

func init() {
	register(verb{name: "score", summary: "score your own predictions of a session's responses with the paper's metric", run: runScore})
}

// MetricVersion names the scoring recipe, printed with every score (as Brain-Score does).
const metricVersion = "compactv4/score v1: Pearson r and r² against repeat-averaged responses; r2_ER (Pospisil & Bair 2021) as upstream LinearMappingClass.compute_r2_ER"

// scoreSummary is score's JSON output.
type scoreSummary struct {
	Session      string            `json:"session"`
	Half         string            `json:"half"`
	Images       [2]int            `json:"images"` // 1-based, inclusive: image files image%04d.jpg
	Neurons      int               `json:"neurons"`
	Prediction   string            `json:"prediction"`
	Metric       string            `json:"metric"`
	RepeatCounts string            `json:"repeat_counts"`
	Medians      map[string]ciJSON `json:"medians"`
	Missing      []string          `json:"not_computed,omitempty"`
	Bootstrap    map[string]any    `json:"bootstrap"`
	Inputs       []harness.Input   `json:"computed_from"`
	PerNeuron    string            `json:"per_neuron_csv"`
}

type ciJSON struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Lo     float64 `json:"ci90_lo"`
	Hi     float64 `json:"ci90_hi"`
}

// scoreSeed seeds the bootstrap of the medians' confidence intervals.
const scoreSeed = 1

func runScore(ctx context.Context, args []string) error {
	fs := newFlags("replicate score", "-session ID -pred FILE.npy [-data DIR] [-half first|second|all] [-out DIR]", `
Score predictions of one recording session's V4 responses with the paper's metric. FILE.npy is a
float32 or float64 array of shape (neurons, images) covering the chosen part of the session:
-half second (the default) is the evaluation half of spec §5.1, images M/2+1 … M (image files
image%04d.jpg, 1-based); first is images 1 … M/2; all is every image. Neuron n of the file is
row n of the session's response files.

For each neuron: Pearson r and r² against the repeat-averaged responses and, when the session's
raw repeats are present, the noise-corrected R² (r²_ER, Pospisil & Bair 2021) exactly as the
upstream compute_r2_ER (by default with its quirk of using the first neuron's median repeat
count for every neuron; -per-neuron-repeats fixes it). Writes OUT/score_SESSION_HALF.csv
(neuron,r,r2,r2er; r2er empty without raw repeats) and prints a JSON summary of the medians with
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
	avg, err := v4data.LoadAveraged(s, *session)
	if err != nil {
		if errors.Is(err, v4data.ErrNotInManifest) {
			return usagef("replicate score: session %q has no responses in the upstream repository", *session)
		}
		return err
	}
	lo, hi := 0, avg.M
	switch *half {
	case "first":
		hi = avg.M / 2
	case "second":
		lo = avg.M / 2
	case "all":
	default:
		return usagef("replicate score: -half must be first, second or all, not %q", *half)
	}
	pred, err := readPredictions(*predPath, avg.N, hi-lo)
	if err != nil {
		return err
	}
	recorded := avg.Rows(lo, hi)
	r, err := metrics.PearsonRows(pred, recorded)
	if err != nil {
		return err
	}
	r2 := make([]float64, len(r))
	for i, x := range r {
		r2[i] = x * x
	}
	sum := scoreSummary{
		Session: *session, Half: *half, Images: [2]int{lo + 1, hi}, Neurons: avg.N,
		Prediction: *predPath, Metric: metricVersion,
		RepeatCounts: "r2_ER uses the median repeat count of the first neuron for every neuron (upstream quirk B2)",
		Medians:      map[string]ciJSON{},
		Bootstrap:    map[string]any{"level": metrics.DefaultCILevel, "resamples": metrics.DefaultBootstraps, "seed": scoreSeed, "method": "percentile, numpy linear interpolation"},
	}
	if *perNeuron {
		sum.RepeatCounts = "r2_ER uses each neuron's own median repeat count"
	}
	var r2er []float64
	raw, err := v4data.LoadRaw(s, *session)
	var me *v4data.MissingError
	switch {
	case errors.As(err, &me):
		sum.Missing = append(sum.Missing, fmt.Sprintf("r2er: %s is missing (git blob %s); fetch it with `go run ./harness/cmd/replicate data fetch -profile full`", me.Path, me.SHA1))
	case err != nil:
		return err
	default:
		part := raw.Images(lo, hi)
		if part.N != avg.N {
			return fmt.Errorf("raw responses have %d neurons, repeat-averaged %d", part.N, avg.N)
		}
		r2er, err = metrics.R2ER(metrics.Raw{N: part.N, M: part.M, R: part.R, Data: part.Data}, pred, metrics.R2EROptions{PerNeuronRepeats: *perNeuron})
		if err != nil {
			return err
		}
	}
	for name, xs := range map[string][]float64{"r": r, "r2": r2, "r2er": r2er} {
		if xs == nil {
			continue
		}
		finite := metrics.DropNaN(xs)
		if len(finite) == 0 {
			continue
		}
		m, l, h, err := metrics.BootstrapMedianCI(finite, metrics.DefaultCILevel, metrics.DefaultBootstraps, scoreSeed)
		if err != nil {
			return err
		}
		sum.Medians[name] = ciJSON{N: len(finite), Median: m, Lo: l, Hi: h}
	}
	for _, e := range s.Verified() {
		sum.Inputs = append(sum.Inputs, harness.Input{Path: e.Path, SHA1: e.SHA1})
	}

	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"neuron", "r", "r2", "r2er"})
	for n := range r {
		row := []string{strconv.Itoa(n), ftoa(r[n]), ftoa(r2[n]), ""}
		if r2er != nil {
			row[3] = ftoa(r2er[n])
		}
		w.Write(row)
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	sum.PerNeuron = filepath.Join(*out, fmt.Sprintf("score_%s_%s.csv", *session, *half))
	if err := harness.WriteFileAtomic(sum.PerNeuron, b.Bytes()); err != nil {
		return err
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(sum)
}

func ftoa(x float64) string {
	if math.IsNaN(x) {
		return "NaN"
	}
	return strconv.FormatFloat(x, 'g', 10, 64)
}

// readPredictions reads a (neurons, images) float32 or float64 .npy file.
func readPredictions(path string, neurons, images int) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}
	defer f.Close()
	shape, data, err := npy.ReadFloat64(f)
	if err != nil {
		return nil, fmt.Errorf("predictions %s: %w", path, err)
	}
	if len(shape) != 2 || shape[0] != neurons || shape[1] != images {
		return nil, fmt.Errorf("predictions %s have shape %v; this session and part need (%d, %d): (neurons, images)", path, shape, neurons, images)
	}
	out := make([][]float64, neurons)
	for n := range out {
		out[n] = data[n*images : (n+1)*images]
		for i, v := range out[n] {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("predictions %s: neuron %d image %d is %v", path, n, i, v)
			}
		}
	}
	return out, nil
}
