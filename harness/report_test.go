package harness

import (
	"strings"
	"testing"
)

func TestPaperClaims(t *testing.T) {
	cs, err := PaperClaims()
	if err != nil {
		t.Fatal(err)
	}
	if len(cs.Claims) != 9 {
		t.Errorf("%d claims, want C1-C9", len(cs.Claims))
	}
	c2, err := cs.Lookup("C2")
	if err != nil {
		t.Fatal(err)
	}
	if v, err := c2.Number("median_params"); err != nil || v != 12469 {
		t.Errorf("C2 median_params = %v, %v", v, err)
	}
	if _, err := c2.Number("nope"); err == nil {
		t.Error("unknown number accepted")
	}
}

func TestReport(t *testing.T) {
	claims := &Claims{Paper: "P", Claims: []Claim{
		{ID: "C1", Claim: "a", PaperValue: "1", Experiment: "exp"},
		{ID: "C2", Claim: "b", PaperValue: "2", Experiment: "exp"},
		{ID: "C3", Claim: "c", PaperValue: "3", Experiment: "other"},
		{ID: "C4", Claim: "d", PaperValue: "4", Experiment: "unbuilt"},
	}}
	reg := []*Experiment{{Name: "exp", Title: "E"}, {Name: "other", Title: "O"}}
	recs := map[string]*Record{"other": {
		Experiment: "other", Profile: Full,
		Claims: []ClaimResult{{ID: "C1", Value: "v1 again", Status: Computed}, {ID: "C3", Value: "v3", Status: Computed}},
	}, "exp": {
		Experiment: "exp", Profile: Quick,
		Claims:      []ClaimResult{{ID: "C1", Value: "v1", Status: Reproduced, Figures: []string{"fig"}}},
		NotRunnable: []Missing{{Path: "data_x/y.zip", SHA1: "abc", Reason: "images of session y"}},
	}}
	md := Report(claims, reg, recs, nil)
	for _, want := range []string{
		"| C1: a | 1", "| exp: v1<br>other: v1 again | exp: reproduced [quick]<br>other: computed (paper value not available) [full] | [fig](figures/exp/fig.png) |",
		"| C2: b | 2", "| — | not yet implemented in experiment exp |",
		"| C3: c | 3", "| v3 | computed (paper value not available) [full] | — |",
		"| C4: d | 4", "| — | not yet implemented | — |",
		"`data_x/y.zip` (git blob abc): images of session y",
		"| exp: E |", "run [quick]: 0 golden values from 0 data files; 1 missing file(s) named below",
		"| other: O |", "run [full]: 0 golden values",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if md != Report(claims, reg, recs, nil) {
		t.Error("report not deterministic")
	}
}

// A quick run's section shows the full profile's golden values under the experiment's
// FullSummary prefixes, one line per prefix; a full run's section does not.
func TestReportFullSummary(t *testing.T) {
	claims := &Claims{Paper: "P"}
	var vs Values
	vs.Num("fidelity/a/3072", 0.25561, 0, 0)
	vs.Num("fidelity/a/6144", 0.7772301802111442, 0, 0)
	vs.Exact("params/a", 25206)
	vs.Text("filters/a", "46-50-39-39-13")
	vs.Num("other/a", 1.5, 0, 0)
	full := map[string]*Golden{"exp": {Experiment: "exp", Profile: "full", Note: "computed in 80 min", Values: vs.List()}}
	reg := []*Experiment{{Name: "exp", Title: "E", fullSummary: []string{"fidelity/a/", "params/", "filters/a", "missing/"}}}
	for _, tt := range []struct {
		profile Profile
		want    []string
		absent  []string
	}{
		{Quick, []string{
			"Full profile (`golden/exp/full.json`: computed in 80 min):",
			"- `fidelity/a/`: 3072 0.256, 6144 0.777\n",
			"- `params/`: a 25206\n",
			"- `filters/a`: 46-50-39-39-13\n",
			"- `missing/`: no value\n",
		}, []string{"other/"}},
		{Full, nil, []string{"Full profile ("}},
	} {
		md := Report(claims, reg, map[string]*Record{"exp": {Experiment: "exp", Profile: tt.profile}}, full)
		for _, w := range tt.want {
			if !strings.Contains(md, w) {
				t.Errorf("%s run: report lacks %q:\n%s", tt.profile, w, md)
			}
		}
		for _, w := range tt.absent {
			if strings.Contains(md, w) {
				t.Errorf("%s run: report has %q:\n%s", tt.profile, w, md)
			}
		}
	}
}

func TestClaimCompare(t *testing.T) {
	c := &Claim{ID: "CX", Numbers: map[string]float64{"a": 1, "b": 2}}
	tests := []struct {
		got    map[string]float64
		status Status
		detail string
		err    bool
	}{
		{map[string]float64{"a": 1, "b": 2}, Reproduced, "", false},
		{map[string]float64{"a": 1, "b": 3}, Differs, "b 3, paper 2", false},
		{map[string]float64{"a": 0, "b": 3}, Differs, "a 0, paper 1; b 3, paper 2", false},
		{map[string]float64{"a": 1, "c": 2}, "", "", true}, // no published number "c"
	}
	for _, tt := range tests {
		st, detail, err := c.Compare(tt.got)
		if (err != nil) != tt.err || st != tt.status || detail != tt.detail {
			t.Errorf("Compare(%v) = %q, %q, %v; want %q, %q (error %v)", tt.got, st, detail, err, tt.status, tt.detail, tt.err)
		}
	}
}
