package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"compactv4/eval"
	"compactv4/internal/datadir/datadirtest"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

var update = flag.Bool("update", false, "rewrite testdata goldens")

// noisyPrediction is a deterministic prediction with a known kind of error: each neuron's
// repeat-averaged responses plus independent Gaussian noise (seeded) with the standard deviation
// of those responses, so that its r² is about one half.
func noisyPrediction(avg *v4data.Averaged, lo, hi int) []float64 {
	rng := rand.New(rand.NewPCG(20261126, 0))
	out := make([]float64, 0, avg.N*(hi-lo))
	for n := 0; n < avg.N; n++ {
		row := avg.Row(n)[lo:hi]
		mean, sd := 0.0, 0.0
		for _, v := range row {
			mean += v
		}
		mean /= float64(len(row))
		for _, v := range row {
			sd += (v - mean) * (v - mean)
		}
		sd = math.Sqrt(sd / float64(len(row)))
		for _, v := range row {
			out = append(out, v+sd*rng.NormFloat64())
		}
	}
	return out
}

// The noise-corrected R² is computed for the two sessions whose raw repeats are public, and its
// medians are pinned in testdata/score_golden.json (go test -update rewrites it).
func TestScoreRawSessions(t *testing.T) {
	dir := datadirtest.Dir(t)
	s, err := v4data.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	golden := map[string]map[string]eval.MedianJSON{}
	for _, session := range []string{"201016", "210325"} {
		raw, err := v4data.LoadRaw(s, session)
		if err != nil {
			t.Fatal(err)
		}
		avg, err := v4data.LoadAveraged(s, session)
		if err != nil {
			t.Fatal(err)
		}
		lo, hi := raw.M/2, raw.M
		var b bytes.Buffer
		if err := npy.WriteFloat64(&b, []int{raw.N, hi - lo}, noisyPrediction(avg, lo, hi)); err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		pred := filepath.Join(tmp, "pred.npy")
		if err := os.WriteFile(pred, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out, errs := runCLI(t, "score", "-data", dir, "-session", session, "-pred", pred, "-out", tmp)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", session, code, errs)
		}
		var sum eval.UserScore
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if sum.Neurons != raw.N || sum.Images != [2]int{lo + 1, hi} || len(sum.Missing) != 0 {
			t.Errorf("%s: summary %+v", session, sum)
		}
		rows := readCSV(t, sum.PerNeuron)
		if len(rows) != raw.N+1 || strings.Join(rows[0], ",") != "neuron,r,r2,r2er" {
			t.Fatalf("%s: csv header %v, %d rows", session, rows[0], len(rows))
		}
		for _, row := range rows[1:] {
			if row[3] == "" {
				t.Fatalf("%s: r2er missing: %v", session, row)
			}
			r, _ := strconv.ParseFloat(row[1], 64)
			r2, _ := strconv.ParseFloat(row[2], 64)
			if math.Abs(r*r-r2) > 1e-9 {
				t.Errorf("%s: r² %v is not r %v squared", session, r2, r)
			}
		}
		golden[session] = sum.Medians
	}
	path := filepath.Join("testdata", "score_golden.json")
	if *update {
		b, _ := json.MarshalIndent(golden, "", " ")
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string]map[string]eval.MedianJSON
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	for session, ms := range want {
		for name, w := range ms {
			g := golden[session][name]
			if g.N != w.N || math.Abs(g.Median-w.Median) > 1e-9 || math.Abs(g.Lo-w.Lo) > 1e-9 || math.Abs(g.Hi-w.Hi) > 1e-9 {
				t.Errorf("%s %s: got %+v, golden %+v", session, name, g, w)
			}
		}
		if len(golden[session]) != len(ms) {
			t.Errorf("%s: metrics %v, golden %v", session, golden[session], ms)
		}
	}
}

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestScoreErrors(t *testing.T) {
	dir := datadirtest.Dir(t)
	tmp := t.TempDir()
	bad := filepath.Join(tmp, "bad.npy")
	var b bytes.Buffer
	npy.WriteFloat32(&b, []int{2, 3}, make([]float32, 6))
	os.WriteFile(bad, b.Bytes(), 0o644)
	nan := filepath.Join(tmp, "nan.npy")
	b.Reset()
	vals := make([]float32, 33*600)
	vals[5] = float32(math.NaN())
	npy.WriteFloat32(&b, []int{33, 600}, vals)
	os.WriteFile(nan, b.Bytes(), 0o644)
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"score", "-data", dir}, 2, "-session and -pred are required"},
		{[]string{"score", "-data", dir, "-session", "190923", "-pred", bad, "-half", "middle"}, 2, "-half must be"},
		{[]string{"score", "-data", dir, "-session", "999999", "-pred", bad}, 2, "no responses"},
		{[]string{"score", "-data", dir, "-session", "190923", "-pred", bad, "-out", tmp}, 1, "need (33, 600)"},
		{[]string{"score", "-data", dir, "-session", "190923", "-pred", nan, "-out", tmp}, 1, "neuron 0 image 5 is NaN"},
		{[]string{"score", "-data", dir, "-session", "190923", "-pred", filepath.Join(tmp, "none.npy")}, 1, "no such file"},
	}
	for _, tt := range tests {
		code, _, errs := runCLI(t, tt.args...)
		if code != tt.code || !strings.Contains(errs, tt.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args[1:], code, errs, tt.code, tt.msg)
		}
	}
}
