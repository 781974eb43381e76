package keras

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Summary is one model of a printed Keras 3 `model.summary()` (the text files
// data_compact_models/model_summaries/*.txt and data_ensemble_model/ensemble_model_summary.txt).
type Summary struct {
	Name   string         // the quoted model name, e.g. "functional_1"
	Layers []SummaryLayer // table rows in order
	// The footer counts. Keras' "Total params" includes batchnorm moving statistics and, when the
	// model was compiled and trained, the optimizer's slots ("Optimizer params").
	Total, Trainable, NonTrainable, Optimizer int
}

// SummaryLayer is one row of the summary table; cells that wrap over several text lines are
// joined with a space.
type SummaryLayer struct {
	Name   string // "layer4_conv (SeparableConv2D)"
	Output string // "(None, 28, 28, 3)"
	Params int
}

// ModelParams is the number of model parameters: Total without optimizer slots.
func (s *Summary) ModelParams() int { return s.Total - s.Optimizer }

// ParseSummaries reads every model summary in r. It checks that each footer is complete and that
// the table's "Param #" column adds up to the model parameters.
func ParseSummaries(r io.Reader) ([]Summary, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	var out []Summary
	var cur *Summary
	var row []string // cells of the row being read
	flush := func() error {
		if cur == nil || row == nil {
			return nil
		}
		l := SummaryLayer{Name: strings.TrimSpace(row[0])}
		if len(row) > 1 {
			l.Output = strings.TrimSpace(row[1])
		}
		if len(row) > 2 {
			n, err := parseCount(strings.TrimSpace(row[2]))
			if err != nil {
				return fmt.Errorf("summary %q layer %q: param count: %w", cur.Name, l.Name, err)
			}
			l.Params = n
		}
		cur.Layers = append(cur.Layers, l)
		row = nil
		return nil
	}
	line := 0
	for sc.Scan() {
		line++
		t := sc.Text()
		s := strings.TrimSpace(t)
		switch {
		case strings.HasPrefix(s, "Model: "):
			if err := finish(cur); err != nil {
				return nil, err
			}
			if cur != nil {
				out = append(out, *cur)
			}
			cur = &Summary{Name: strings.Trim(strings.TrimPrefix(s, "Model: "), `"`)}
			row = nil
		case cur == nil:
			// Lines before the first model (e.g. "using gpu 0").
		case strings.HasPrefix(s, "│"):
			cells := strings.Split(strings.Trim(s, "│"), "│")
			if row == nil {
				row = make([]string, len(cells))
			}
			if len(cells) != len(row) {
				return nil, fmt.Errorf("summary %q line %d: %d table cells, want %d", cur.Name, line, len(cells), len(row))
			}
			for i, c := range cells {
				c = strings.TrimSpace(c)
				if c == "" {
					continue
				}
				if row[i] != "" {
					row[i] += " "
				}
				row[i] += c
			}
		case strings.HasPrefix(s, "├"), strings.HasPrefix(s, "└"):
			if err := flush(); err != nil {
				return nil, err
			}
		case strings.HasPrefix(s, "Total params:"):
			if err := footer(&cur.Total, s, "Total params:"); err != nil {
				return nil, fmt.Errorf("summary %q line %d: %w", cur.Name, line, err)
			}
		case strings.HasPrefix(s, "Trainable params:"):
			if err := footer(&cur.Trainable, s, "Trainable params:"); err != nil {
				return nil, fmt.Errorf("summary %q line %d: %w", cur.Name, line, err)
			}
		case strings.HasPrefix(s, "Non-trainable params:"):
			if err := footer(&cur.NonTrainable, s, "Non-trainable params:"); err != nil {
				return nil, fmt.Errorf("summary %q line %d: %w", cur.Name, line, err)
			}
		case strings.HasPrefix(s, "Optimizer params:"):
			if err := footer(&cur.Optimizer, s, "Optimizer params:"); err != nil {
				return nil, fmt.Errorf("summary %q line %d: %w", cur.Name, line, err)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	if err := finish(cur); err != nil {
		return nil, err
	}
	if cur != nil {
		out = append(out, *cur)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read summary: no \"Model:\" line")
	}
	return out, nil
}

func finish(s *Summary) error {
	if s == nil {
		return nil
	}
	if s.Total <= 0 {
		return fmt.Errorf("summary %q: no \"Total params\" line", s.Name)
	}
	if s.Trainable+s.NonTrainable+s.Optimizer != s.Total {
		return fmt.Errorf("summary %q: trainable %d + non-trainable %d + optimizer %d != total %d",
			s.Name, s.Trainable, s.NonTrainable, s.Optimizer, s.Total)
	}
	sum := 0
	for _, l := range s.Layers {
		sum += l.Params
	}
	if sum != s.ModelParams() {
		return fmt.Errorf("summary %q: layer params add up to %d, footer says %d", s.Name, sum, s.ModelParams())
	}
	return nil
}

// footer parses " Total params: 12,466 (48.70 KB)".
func footer(dst *int, s, prefix string) error {
	f := strings.Fields(strings.TrimPrefix(s, prefix))
	if len(f) == 0 {
		return fmt.Errorf("%s has no number", prefix)
	}
	n, err := parseCount(f[0])
	if err != nil {
		return fmt.Errorf("%s %w", prefix, err)
	}
	*dst = n
	return nil
}

// parseCount parses "12,466" (and "0").
func parseCount(s string) (int, error) {
	n, err := strconv.Atoi(strings.ReplaceAll(s, ",", ""))
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad count %q", s)
	}
	return n, nil
}
