package eval

import (
	"fmt"
	"math"

	"compactv4/internal/metrics"
)

// Scores are per-neuron accuracies of predictions.
type Scores struct {
	R, R2 []float64 // Pearson r and r² against the repeat-averaged responses
	R2ER  []float64 // noise-corrected R² (r²_ER); nil without raw repeats
}

// Score compares predictions pred[neuron][image] with the recorded responses: Pearson r and r²
// against the repeat-averaged responses for every neuron, and r²_ER (metrics.R2ER with opts) when
// the raw repeats are present. A prediction that is NaN or infinite is an error naming the neuron
// and the image.
func Score(r *Responses, pred [][]float64, opts metrics.R2EROptions) (Scores, error) {
	if len(pred) != r.Neurons() {
		return Scores{}, fmt.Errorf("session %s: predictions for %d neurons, responses of %d", r.Session, len(pred), r.Neurons())
	}
	for n, row := range pred {
		if len(row) != r.Images() {
			return Scores{}, fmt.Errorf("session %s neuron %d: predictions for %d images, responses to %d (images %d-%d)", r.Session, n, len(row), r.Images(), r.Lo+1, r.Hi)
		}
		for i, x := range row {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return Scores{}, fmt.Errorf("session %s neuron %d: prediction %v for image %d", r.Session, n, x, r.Lo+i+1)
			}
		}
	}
	var s Scores
	var err error
	if s.R, err = metrics.PearsonRows(pred, r.Averaged); err != nil {
		return Scores{}, fmt.Errorf("session %s: %w", r.Session, err)
	}
	if s.R2, err = metrics.R2Rows(pred, r.Averaged); err != nil {
		return Scores{}, fmt.Errorf("session %s: %w", r.Session, err)
	}
	if r.Raw != nil {
		if s.R2ER, err = metrics.R2ER(*r.Raw, pred, opts); err != nil {
			return Scores{}, fmt.Errorf("session %s: %w", r.Session, err)
		}
	}
	return s, nil
}

// Score32 is Score for float32 predictions, with upstream's default r²_ER.
func Score32(r *Responses, pred [][]float32) (Scores, error) {
	return Score(r, Float64s(pred), metrics.R2EROptions{})
}

// Float64s converts [row][column] float32 values to float64.
func Float64s(x [][]float32) [][]float64 {
	out := make([][]float64, len(x))
	for i, row := range x {
		out[i] = make([]float64, len(row))
		for j, v := range row {
			out[i][j] = float64(v)
		}
	}
	return out
}

// Pool concatenates the scores of several sessions, neurons in session order. r²_ER is pooled
// only when every session has it: a median over the sessions with raw repeats alone would be
// reported as if it covered them all.
func Pool(ss []Scores) Scores {
	var out Scores
	all := len(ss) > 0
	for _, s := range ss {
		out.R = append(out.R, s.R...)
		out.R2 = append(out.R2, s.R2...)
		if s.R2ER == nil {
			all = false
		}
	}
	if all {
		for _, s := range ss {
			out.R2ER = append(out.R2ER, s.R2ER...)
		}
	}
	return out
}

// Summary is the median over neurons of each metric with its 90 % bootstrap interval
// (metrics.MedianWithCI), over the neurons whose value is a number (N says how many).
type Summary struct {
	R, R2 metrics.MedianCI
	R2ER  *metrics.MedianCI // nil when the scores have no r²_ER
}

// Seeds seeds the bootstrap of each metric's interval: R for r, R2 for r², R2ER for r²_ER.
type Seeds struct{ R, R2, R2ER uint64 }

// SameSeed uses one seed for all three metrics.
func SameSeed(seed uint64) Seeds { return Seeds{seed, seed, seed} }

// Summarize returns the medians with their intervals. Neurons whose value is NaN (a constant
// prediction has no correlation) are left out; a metric with no number at all is an error.
func Summarize(s Scores, seeds Seeds) (Summary, error) {
	var out Summary
	var err error
	if out.R, err = medianCI("r", s.R, seeds.R); err != nil {
		return out, err
	}
	if out.R2, err = medianCI("r²", s.R2, seeds.R2); err != nil {
		return out, err
	}
	if s.R2ER != nil {
		m, err := medianCI("r²_ER", s.R2ER, seeds.R2ER)
		if err != nil {
			return out, err
		}
		out.R2ER = &m
	}
	return out, nil
}

func medianCI(name string, xs []float64, seed uint64) (metrics.MedianCI, error) {
	m, err := metrics.MedianWithCI(metrics.DropNaN(xs), seed)
	if err != nil {
		return m, fmt.Errorf("median %s over %d neurons: %w", name, len(xs), err)
	}
	return m, nil
}

// Metrics returns the summary by metric name ("r", "r2", "r2er"), for tables and JSON.
func (s Summary) Metrics() map[string]metrics.MedianCI {
	out := map[string]metrics.MedianCI{"r": s.R, "r2": s.R2}
	if s.R2ER != nil {
		out["r2er"] = *s.R2ER
	}
	return out
}
