package harness

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"compactv4/internal/metrics"
)

// Value is one number (or, rarely, one piece of text) that a figure or table shows, with the
// tolerance a later run must meet to count as the same: |got − want| ≤ Abs + Rel·|want|.
// NaN equals only NaN, and ±Inf only itself.
type Value struct {
	Key  string
	Num  float64
	Text string // set for textual values (then Num is unused)
	Abs  float64
	Rel  float64
	text bool
}

// IsText reports whether the value is textual.
func (v Value) IsText() bool { return v.text }

type jsonValue struct {
	Key   string          `json:"key"`
	Value json.RawMessage `json:"value"`
	Abs   float64         `json:"abs_tol,omitempty"`
	Rel   float64         `json:"rel_tol,omitempty"`
}

// MarshalJSON writes numbers as JSON numbers, non-finite numbers as the strings "NaN", "+Inf"
// and "-Inf", and text as {"text": ...}.
func (v Value) MarshalJSON() ([]byte, error) {
	var raw []byte
	switch {
	case v.text:
		b, err := json.Marshal(map[string]string{"text": v.Text})
		if err != nil {
			return nil, err
		}
		raw = b
	case math.IsNaN(v.Num):
		raw = []byte(`"NaN"`)
	case math.IsInf(v.Num, 1):
		raw = []byte(`"+Inf"`)
	case math.IsInf(v.Num, -1):
		raw = []byte(`"-Inf"`)
	default:
		raw = strconv.AppendFloat(nil, v.Num, 'g', -1, 64)
	}
	return json.Marshal(jsonValue{Key: v.Key, Value: raw, Abs: v.Abs, Rel: v.Rel})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (v *Value) UnmarshalJSON(b []byte) error {
	var j jsonValue
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*v = Value{Key: j.Key, Abs: j.Abs, Rel: j.Rel}
	raw := bytes.TrimSpace(j.Value)
	if len(raw) == 0 {
		return fmt.Errorf("golden value %q has no value", j.Key)
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		switch s {
		case "NaN":
			v.Num = math.NaN()
		case "+Inf":
			v.Num = math.Inf(1)
		case "-Inf":
			v.Num = math.Inf(-1)
		default:
			return fmt.Errorf("golden value %q: unknown number %q", j.Key, s)
		}
	case '{':
		var t struct {
			Text *string `json:"text"`
		}
		if err := json.Unmarshal(raw, &t); err != nil || t.Text == nil {
			return fmt.Errorf("golden value %q: want {\"text\": ...}", j.Key)
		}
		v.Text, v.text = *t.Text, true
	default:
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return fmt.Errorf("golden value %q: %w", j.Key, err)
		}
		v.Num = f
	}
	return nil
}

// Values is an ordered list of golden values with unique keys.
type Values struct {
	list  []Value
	index map[string]int
}

// Num records a number under key with absolute and relative tolerances. It panics on a
// duplicate key, which is a programming error in an experiment.
func (vs *Values) Num(key string, x, abs, rel float64) {
	vs.add(Value{Key: key, Num: x, Abs: abs, Rel: rel})
}

// Exact records a number that must reproduce exactly (counts, parameter numbers).
func (vs *Values) Exact(key string, x float64) { vs.Num(key, x, 0, 0) }

// CI records a median and its confidence interval under key/n (exact), key/median, key/ci_lo
// and key/ci_hi (absolute tolerance tol).
func (vs *Values) CI(key string, m metrics.MedianCI, tol float64) {
	vs.Exact(key+"/n", float64(m.N))
	vs.Num(key+"/median", m.Median, tol, 0)
	vs.Num(key+"/ci_lo", m.Lo, tol, 0)
	vs.Num(key+"/ci_hi", m.Hi, tol, 0)
}

// Text records a textual value that must reproduce exactly.
func (vs *Values) Text(key, s string) { vs.add(Value{Key: key, Text: s, text: true}) }

func (vs *Values) add(v Value) {
	if vs.index == nil {
		vs.index = map[string]int{}
	}
	if _, dup := vs.index[v.Key]; dup {
		panic(fmt.Sprintf("harness: golden key %q recorded twice", v.Key))
	}
	vs.index[v.Key] = len(vs.list)
	vs.list = append(vs.list, v)
}

// List returns the values in the order they were recorded.
func (vs *Values) List() []Value { return vs.list }

// Len is the number of values.
func (vs *Values) Len() int { return len(vs.list) }

// Get returns the value recorded under key.
func (vs *Values) Get(key string) (Value, bool) {
	i, ok := vs.index[key]
	if !ok {
		return Value{}, false
	}
	return vs.list[i], true
}

// Input names a data file an experiment read, with its git blob SHA-1.
type Input struct {
	Path string `json:"path"`
	SHA1 string `json:"sha1"`
}

// Missing names a file a profile needs but the data directory lacks. Path is a path of the V4
// manifest, whose SHA1 is a git blob hash, or, for a file of another pinned source, "$VAR/" and
// its path below the directory $VAR names, whose SHA1 is the plain SHA-1 its publisher records
// ("" when none is published).
type Missing struct {
	Path   string `json:"path"`
	SHA1   string `json:"sha1"`
	Reason string `json:"reason"` // what could not be run without it
}

// Golden is the content of golden/<experiment>/<profile>.json.
type Golden struct {
	Experiment  string    `json:"experiment"`
	Profile     string    `json:"profile"`
	Note        string    `json:"note,omitempty"`
	NotRunnable []Missing `json:"not_runnable,omitempty"`
	Inputs      []Input   `json:"computed_from"`
	Values      []Value   `json:"values"`
}

// GoldenPath is where the golden file of an experiment and profile lives, below the project root.
func GoldenPath(root, experiment string, p Profile) string {
	return filepath.Join(root, "golden", experiment, string(p)+".json")
}

// ReadGolden reads a golden file.
func ReadGolden(path string) (*Golden, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read golden: %w", err)
	}
	var g Golden
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return nil, fmt.Errorf("read golden %s: %w", path, err)
	}
	seen := map[string]bool{}
	for _, v := range g.Values {
		if seen[v.Key] {
			return nil, fmt.Errorf("read golden %s: key %q appears twice", path, v.Key)
		}
		seen[v.Key] = true
	}
	return &g, nil
}

// WriteGolden writes a golden file deterministically (indented JSON, values in recorded order,
// inputs sorted by path), through a temporary file and a rename.
func WriteGolden(path string, g *Golden) error {
	sort.Slice(g.Inputs, func(i, j int) bool { return g.Inputs[i].Path < g.Inputs[j].Path })
	b, err := json.MarshalIndent(g, "", " ")
	if err != nil {
		return fmt.Errorf("encode golden: %w", err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// Mismatch is one difference between a run and its golden.
type Mismatch struct {
	Key       string
	Got, Want string
	Why       string
}

func (m Mismatch) String() string {
	if m.Why != "" {
		return fmt.Sprintf("%s: %s (got %s, want %s)", m.Key, m.Why, m.Got, m.Want)
	}
	return fmt.Sprintf("%s: got %s, want %s", m.Key, m.Got, m.Want)
}

// Compare checks every golden value against the run's values, with the golden's tolerances.
// Keys present on one side only are mismatches too.
func Compare(got []Value, want []Value) []Mismatch {
	gi := map[string]Value{}
	for _, v := range got {
		gi[v.Key] = v
	}
	var ms []Mismatch
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.Key] = true
		g, ok := gi[w.Key]
		if !ok {
			ms = append(ms, Mismatch{Key: w.Key, Got: "nothing", Want: format(w), Why: "missing from this run"})
			continue
		}
		if why := differs(g, w); why != "" {
			ms = append(ms, Mismatch{Key: w.Key, Got: format(g), Want: format(w), Why: why})
		}
	}
	for _, g := range got {
		if !seen[g.Key] {
			ms = append(ms, Mismatch{Key: g.Key, Got: format(g), Want: "nothing", Why: "not in the golden file"})
		}
	}
	return ms
}

func differs(g, w Value) string {
	if g.text != w.text {
		return "text versus number"
	}
	if w.text {
		if g.Text != w.Text {
			return "text differs"
		}
		return ""
	}
	switch {
	case math.IsNaN(w.Num) || math.IsNaN(g.Num):
		if math.IsNaN(w.Num) != math.IsNaN(g.Num) {
			return "NaN on one side"
		}
		return ""
	case math.IsInf(w.Num, 0) || math.IsInf(g.Num, 0):
		if g.Num != w.Num {
			return "infinite"
		}
		return ""
	}
	tol := w.Abs + w.Rel*math.Abs(w.Num)
	if d := math.Abs(g.Num - w.Num); d > tol {
		return fmt.Sprintf("|diff| %.3g > tolerance %.3g", d, tol)
	}
	return ""
}

func format(v Value) string {
	if v.text {
		return strconv.Quote(v.Text)
	}
	return FormatFloat(v.Num)
}

// WriteFileAtomic writes data to path through a temporary file in the same directory and a
// rename, creating the directory if needed, so that a reader never sees a partial file.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
