package metrics

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"codeberg.org/sbinet/npyio"

	"compactv4/internal/datadir/datadirtest"
)

var update = flag.Bool("update", false, "rewrite testdata/golden.json from the real data")

// rawSessions are the two raw-response files of the public data (reference/upstream.md §1).
var rawSessions = []string{"201016", "210325"}

// loadRaw reads data_V4_responses/responses_raw/responses_<session>.npy from the data
// directory, skipping the test when it is absent, and returns it with the SHA-256 of the file.
func loadRaw(tb testing.TB, session string) (Raw, string) {
	tb.Helper()
	path := datadirtest.File(tb, rawFile(session))
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	raw, err := readRawNPY(bytes.NewReader(b))
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	sum := sha256.Sum256(b)
	return raw, hex.EncodeToString(sum[:])
}

// rawFile is the data-directory path of a session's raw responses.
func rawFile(session string) string {
	return "data_V4_responses/responses_raw/responses_" + session + ".npy"
}

// rawFileIfPresent reads a session's raw responses from the data directory (see
// datadirtest.Lookup), returning a zero Raw when the file is absent (for fuzz seeds, which must
// not skip).
func rawFileIfPresent(session string) (Raw, error) {
	dir := datadirtest.Lookup()
	if dir == "" {
		return Raw{}, nil
	}
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rawFile(session))))
	if err != nil {
		return Raw{}, nil
	}
	return readRawNPY(bytes.NewReader(b))
}

// readRawNPY reads a float64, C-order, 3-dimensional .npy (the upstream raw-response layout)
// with npyio; the project's own .npy reader lives elsewhere (internal/npy).
func readRawNPY(r io.Reader) (Raw, error) {
	nr, err := npyio.NewReader(r)
	if err != nil {
		return Raw{}, err
	}
	h := nr.Header.Descr
	// npyio reports the descr as written in the header, quotes included.
	if strings.Trim(h.Type, "'\"") != "<f8" || h.Fortran || len(h.Shape) != 3 {
		return Raw{}, fmt.Errorf("dtype %s, fortran %v, shape %v; want <f8, C order, 3 dimensions", h.Type, h.Fortran, h.Shape)
	}
	var data []float64
	if err := nr.Read(&data); err != nil {
		return Raw{}, err
	}
	raw := Raw{N: h.Shape[0], M: h.Shape[1], R: h.Shape[2], Data: data}
	return raw, raw.Validate()
}

// deterministicSplit puts, per image, the first ⌊k/2⌋ slots valid for all neurons in a and the
// next ⌊k/2⌋ in b (testdata/gen_reference.py does the same in numpy).
func deterministicSplit(raw Raw) (a, b Raw) {
	a = Raw{N: raw.N, M: raw.M, R: raw.R, Data: make([]float64, len(raw.Data))}
	b = Raw{N: raw.N, M: raw.M, R: raw.R, Data: make([]float64, len(raw.Data))}
	for k := range a.Data {
		a.Data[k], b.Data[k] = math.NaN(), math.NaN()
	}
	for i, slots := range validSlots(raw) {
		h := len(slots) / 2
		for n := range raw.N {
			for j := range h {
				a.Data[(n*raw.M+i)*raw.R+j] = raw.At(n, i, slots[j])
				b.Data[(n*raw.M+i)*raw.R+j] = raw.At(n, i, slots[h+j])
			}
		}
	}
	return a, b
}

// numpyReal is testdata/numpy_real.json, written by gen_reference.py from the data directory.
type numpyReal struct {
	Sessions map[string]numpySession `json:"sessions"`
}

type numpySession struct {
	SHA256       string     `json:"sha256"`
	Shape        [3]int     `json:"shape"`
	SNR          []*float64 `json:"snr"`
	R2ERSplit    []*float64 `json:"r2er_split"`
	PearsonSplit []*float64 `json:"pearson_split"`
}

func TestRealDataAgainstNumpy(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "numpy_real.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref numpyReal
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatalf("testdata/numpy_real.json: %v", err)
	}
	for _, session := range rawSessions {
		t.Run(session, func(t *testing.T) {
			raw, sha := loadRaw(t, session)
			want, ok := ref.Sessions[session]
			if !ok || want.SHA256 != sha {
				t.Fatalf("testdata/numpy_real.json was made from another file (sha256 %s, have %s): rerun gen_reference.py", want.SHA256, sha)
			}
			snr, err := SNR(raw, SNROptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkFloats(t, "SNR", snr, unnull(want.SNR), 1e-11)
			a, bh := deterministicSplit(raw)
			r2er, err := R2ER(bh, a.Means(), R2EROptions{})
			if err != nil {
				t.Fatal(err)
			}
			checkFloats(t, "r2_ER of a deterministic split", r2er, unnull(want.R2ERSplit), 1e-11)
			r, err := PearsonRows(a.Means(), bh.Means())
			if err != nil {
				t.Fatal(err)
			}
			checkFloats(t, "Pearson of a deterministic split", r, unnull(want.PearsonSplit), 1e-11)
		})
	}
}

// golden is testdata/golden.json: medians over neurons of the real-data metrics, per session.
type golden struct {
	Comment   string                   `json:"comment"`
	Tolerance float64                  `json:"tolerance"`
	Sessions  map[string]goldenSession `json:"sessions"`
}

type goldenSession struct {
	SHA256 string `json:"sha256"`
	Shape  [3]int `json:"shape"`
	// NRep is n_rep, the median repeat count of neuron 0.
	NRep float64 `json:"n_rep"`
	// MedianSNR is the median of SNR (upstream's; equal to the NaN-aware variant here).
	MedianSNR float64 `json:"median_snr"`
	// MedianSplitHalfSB is the median Spearman–Brown split-half ceiling, 50 runs, NewSource(1).
	MedianSplitHalfSB float64 `json:"median_split_half_sb"`
	// MedianR2ERSplitHalf is the median r²_ER of one random half's mean (SplitRepeats with
	// NewSource(2)) predicting the other half.
	MedianR2ERSplitHalf float64 `json:"median_r2er_split_half"`
	// MedianBrainScoreSplitHalf is the median BrainScore of the same prediction against the same
	// half, with NewSource(3).
	MedianBrainScoreSplitHalf float64 `json:"median_brain_score_split_half"`
}

// fractionPositive returns the fraction of x that is > 0 and fails the test on a non-finite value.
func fractionPositive(t *testing.T, name string, x []float64) float64 {
	t.Helper()
	k := 0
	for n, v := range x {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("%s of neuron %d = %v, want finite", name, n, v)
		}
		if v > 0 {
			k++
		}
	}
	return float64(k) / float64(len(x))
}

func computeGolden(t *testing.T, session string) goldenSession {
	raw, sha := loadRaw(t, session)
	g := goldenSession{SHA256: sha, Shape: [3]int{raw.N, raw.M, raw.R}, NRep: medianCount(raw, 0)}

	// Repeat counts are the same for every neuron, at least 2 per image: quirk B2 is moot and
	// upstream's SNR (plain mean of variances) is not degenerate on these sessions.
	c0 := raw.Counts(0)
	if slices.Min(c0) < 2 {
		t.Errorf("an image has %d repeats", slices.Min(c0))
	}
	for n := 1; n < raw.N; n++ {
		if !slices.Equal(raw.Counts(n), c0) {
			t.Fatalf("neuron %d has other repeat counts than neuron 0", n)
		}
	}

	snr, err := SNR(raw, SNROptions{})
	if err != nil {
		t.Fatal(err)
	}
	aware, err := SNR(raw, SNROptions{NaNAware: true})
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "NaN-aware SNR", aware, snr, 1e-12)
	if f := fractionPositive(t, "SNR", snr); f < 0.9 {
		t.Errorf("only %.2f of the SNRs are positive", f)
	}
	g.MedianSNR = Median(snr)

	_, sb, err := SplitHalfCorrelation(raw, BrainScoreRuns, NewSource(1))
	if err != nil {
		t.Fatal(err)
	}
	if f := fractionPositive(t, "split-half ceiling", sb); f < 0.9 {
		t.Errorf("only %.2f of the split-half ceilings are positive", f)
	}
	for n, v := range sb {
		if v > 1 {
			t.Errorf("split-half ceiling of neuron %d = %v > 1", n, v)
		}
	}
	g.MedianSplitHalfSB = Median(sb)

	a, b, err := SplitRepeats(raw, NewSource(2))
	if err != nil {
		t.Fatal(err)
	}
	pred := a.Means()
	r2er, err := R2ER(b, pred, R2EROptions{})
	if err != nil {
		t.Fatal(err)
	}
	perNeuron, err := R2ER(b, pred, R2EROptions{PerNeuronRepeats: true})
	if err != nil {
		t.Fatal(err)
	}
	checkFloats(t, "r2_ER with per-neuron repeats", perNeuron, r2er, 0)
	if f := fractionPositive(t, "split-half r2_ER", r2er); f < 0.9 {
		t.Errorf("only %.2f of the split-half r2_ER are positive", f)
	}
	naive, _ := R2Rows(b.Means(), pred)
	if Median(naive) >= Median(r2er) {
		t.Errorf("median naive r² %v should be below the noise-corrected %v", Median(naive), Median(r2er))
	}
	g.MedianR2ERSplitHalf = Median(r2er)

	bs, err := BrainScore(b, pred, NewSource(3))
	if err != nil {
		t.Fatal(err)
	}
	fractionPositive(t, "split-half brain score", bs)
	g.MedianBrainScoreSplitHalf = Median(bs)
	t.Logf("%s %v: n_rep %v, median SNR %.4f, split-half ceiling %.4f, split-half r2_ER %.4f (naive r² %.4f), brain score %.4f",
		session, g.Shape, g.NRep, g.MedianSNR, g.MedianSplitHalfSB, g.MedianR2ERSplitHalf, Median(naive), g.MedianBrainScoreSplitHalf)
	return g
}

func TestRealDataGolden(t *testing.T) {
	path := filepath.Join("testdata", "golden.json")
	var want golden
	if !*update {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./internal/metrics -update)", err)
		}
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	got := golden{
		Comment:   "medians over neurons of real-data metrics; rewritten by `go test ./internal/metrics -update`",
		Tolerance: 1e-9,
		Sessions:  map[string]goldenSession{},
	}
	for _, session := range rawSessions {
		t.Run(session, func(t *testing.T) {
			g := computeGolden(t, session)
			got.Sessions[session] = g
			if *update {
				return
			}
			w, ok := want.Sessions[session]
			if !ok {
				t.Fatalf("%s has no entry for %s (run -update)", path, session)
			}
			if w.SHA256 != g.SHA256 || w.Shape != g.Shape {
				t.Fatalf("data file differs from the golden's (sha256 %s shape %v, golden %s %v)", g.SHA256, g.Shape, w.SHA256, w.Shape)
			}
			for _, c := range []struct {
				name      string
				got, want float64
			}{
				{"n_rep", g.NRep, w.NRep},
				{"median_snr", g.MedianSNR, w.MedianSNR},
				{"median_split_half_sb", g.MedianSplitHalfSB, w.MedianSplitHalfSB},
				{"median_r2er_split_half", g.MedianR2ERSplitHalf, w.MedianR2ERSplitHalf},
				{"median_brain_score_split_half", g.MedianBrainScoreSplitHalf, w.MedianBrainScoreSplitHalf},
			} {
				if math.Abs(c.got-c.want) > want.Tolerance {
					t.Errorf("%s = %.12g, golden %.12g (tolerance %g)", c.name, c.got, c.want, want.Tolerance)
				}
			}
		})
	}
	if *update && !t.Failed() {
		if len(got.Sessions) != len(rawSessions) {
			t.Fatalf("only %d of %d sessions computed (data missing?); golden not written", len(got.Sessions), len(rawSessions))
		}
		b, err := json.MarshalIndent(got, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Println("wrote", path)
	}
}
