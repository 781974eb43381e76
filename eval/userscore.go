package eval

import (
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// metricVersion names the scoring recipe of ScoreFile, printed with every score (as Brain-Score
// names its metrics).
const metricVersion = "compactv4/score v1: Pearson r and r² against repeat-averaged responses; r2_ER (Pospisil & Bair 2021) as upstream LinearMappingClass.compute_r2_ER"

// userScoreSeed seeds the bootstrap of ScoreFile's intervals: the same inputs give the same
// numbers.
const userScoreSeed = 1

// MedianJSON is a median with its interval as the suite's JSON files write it.
type MedianJSON struct {
	N      int     `json:"n"`
	Median float64 `json:"median"`
	Lo     float64 `json:"ci90_lo"`
	Hi     float64 `json:"ci90_hi"`
}

// JSONMedians converts a summary for JSON output, by metric name.
func JSONMedians(s Summary) map[string]MedianJSON {
	out := map[string]MedianJSON{}
	for k, m := range s.Metrics() {
		out[k] = MedianJSON{N: m.N, Median: m.Median, Lo: m.Lo, Hi: m.Hi}
	}
	return out
}

// UserScore is the outcome of scoring a user's predictions of one session (ScoreFile).
type UserScore struct {
	Session      string                `json:"session"`
	Half         Part                  `json:"half"`
	Images       [2]int                `json:"images"` // 1-based, inclusive: image files image%04d.jpg
	Neurons      int                   `json:"neurons"`
	Prediction   string                `json:"prediction"`
	Metric       string                `json:"metric"`
	RepeatCounts string                `json:"repeat_counts"`
	Medians      map[string]MedianJSON `json:"medians"`
	Missing      []string              `json:"not_computed,omitempty"`
	Bootstrap    map[string]any        `json:"bootstrap"`
	Inputs       []harness.Input       `json:"computed_from"`
	PerNeuron    string                `json:"per_neuron_csv"`
	// Scores are the per-neuron values; Table returns them as rows.
	Scores Scores `json:"-"`
}

// ScoreFile scores predictions stored in an .npy file (float32 or float64, neurons × images of
// the part) against a session's responses with the paper's metric.
func ScoreFile(s *v4data.Store, session string, part Part, predPath string, opts metrics.R2EROptions) (*UserScore, error) {
	r, err := LoadResponses(s, session, part)
	if err != nil {
		return nil, err
	}
	pred, err := readPredictions(predPath, r.Neurons(), r.Images())
	if err != nil {
		return nil, err
	}
	sc, err := Score(r, pred, opts)
	if err != nil {
		return nil, err
	}
	u := &UserScore{
		Session: session, Half: part, Images: [2]int{r.Lo + 1, r.Hi}, Neurons: r.Neurons(),
		Prediction: predPath, Metric: metricVersion, Scores: sc,
		RepeatCounts: "r2_ER uses the median repeat count of the first neuron for every neuron (upstream quirk B2)",
		Bootstrap: map[string]any{"level": metrics.DefaultCILevel, "resamples": metrics.DefaultBootstraps,
			"seed": userScoreSeed, "method": "percentile, numpy linear interpolation"},
	}
	if opts.PerNeuronRepeats {
		u.RepeatCounts = "r2_ER uses each neuron's own median repeat count"
	}
	if r.RawMissing != nil {
		u.Missing = append(u.Missing, fmt.Sprintf("r2er: %s is missing (git blob %s); fetch it with `go run ./harness/cmd/replicate data fetch -profile full`", r.RawMissing.Path, r.RawMissing.SHA1))
	}
	sum, err := Summarize(sc, SameSeed(userScoreSeed))
	if err != nil {
		return nil, err
	}
	u.Medians = JSONMedians(sum)
	for _, e := range s.Verified() {
		u.Inputs = append(u.Inputs, harness.Input{Path: e.Path, SHA1: e.SHA1})
	}
	return u, nil
}

// Table returns the per-neuron scores as a header and rows (neuron, r, r2, r2er), numbers
// formatted as every table of the suite (harness.FormatFloat; r2er NaN without raw repeats).
func (u *UserScore) Table() ([]string, [][]string) {
	rows := make([][]string, len(u.Scores.R))
	for n := range rows {
		r2er := math.NaN()
		if u.Scores.R2ER != nil {
			r2er = u.Scores.R2ER[n]
		}
		rows[n] = []string{strconv.Itoa(n), harness.FormatFloat(u.Scores.R[n]), harness.FormatFloat(u.Scores.R2[n]), harness.FormatFloat(r2er)}
	}
	return []string{"neuron", "r", "r2", "r2er"}, rows
}

// readPredictions reads a (neurons, images) float32 or float64 .npy file.
func readPredictions(path string, neurons, images int) ([][]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("predictions: %w", err)
	}
	defer f.Close()
	return decodePredictions(path, f, neurons, images)
}

func decodePredictions(path string, r io.Reader, neurons, images int) ([][]float64, error) {
	shape, data, err := npy.ReadFloat64(r)
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
