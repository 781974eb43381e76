package compression

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"compactv4/harness"
	"compactv4/internal/keras"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// EnsembleSummaryPath is the released Keras summary of the teacher: the ResNet50 trunk, then one
// ensemble member.
const EnsembleSummaryPath = "data_ensemble_model/ensemble_model_summary.txt"

// MemberPattern matches the teacher's ensemble-member files in the manifest.
const MemberPattern = "data_ensemble_model/ensemble_model_member*.keras"

// Teacher is the teacher's parameter count (claim C1): the ResNet50 trunk plus every ensemble
// member, with batchnorm moving statistics and without optimizer slots.
type Teacher struct {
	Trunk   int // ResNet50 up to conv4_block4_out ("Total params" of the first summary)
	Member  int // one member: "Total params" − "Optimizer params" of the second summary
	Members int // ensemble members: member files listed in the upstream manifest
	Total   int
}

func countTeacher(env *harness.Env) (Teacher, error) {
	b, err := env.Data.ReadFile(EnsembleSummaryPath)
	if err != nil {
		return Teacher{}, err
	}
	ss, err := keras.ParseSummaries(bytes.NewReader(b))
	if err != nil {
		return Teacher{}, fmt.Errorf("%s: %w", EnsembleSummaryPath, err)
	}
	if len(ss) != 2 {
		return Teacher{}, fmt.Errorf("%s: %d model summaries, want the trunk and one member", EnsembleSummaryPath, len(ss))
	}
	members, err := env.Data.Match(MemberPattern)
	if err != nil {
		return Teacher{}, err
	}
	if len(members) == 0 {
		return Teacher{}, fmt.Errorf("the manifest lists no %s", MemberPattern)
	}
	t := Teacher{Trunk: ss[0].ModelParams(), Member: ss[1].ModelParams(), Members: len(members)}
	t.Total = t.Trunk + t.Members*t.Member
	return t, nil
}

// Compact is one published compact model, as the experiment uses it.
type Compact struct {
	ID      v4data.CompactID
	Filters [model.NumLayers]int
	Params  model.Counts
	Net     *model.Network
}

// loadModels loads all 219 compact models from their .keras files and cross-checks each one's
// parameter counts with its printed summary and its filters with nums_filters.
func loadModels(ctx context.Context, env *harness.Env) ([]Compact, error) {
	ids, err := v4data.CompactIDs(env.Data)
	if err != nil {
		return nil, err
	}
	out := make([]Compact, 0, len(ids))
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		net, err := v4data.LoadCompact(env.Data, id, v4data.FormatKeras)
		if err != nil {
			return nil, err
		}
		f, err := model.CompactFilters(net)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", id.Stem(), err)
		}
		c := Compact{ID: id, Filters: f, Params: net.Params(), Net: net}
		nf, err := v4data.NumsFilters(env.Data, id)
		if err != nil {
			return nil, err
		}
		if nf != f {
			return nil, fmt.Errorf("%s: filters %v in the model, %v in nums_filters", id.Stem(), f, nf)
		}
		sum, err := v4data.ModelSummary(env.Data, id)
		if err != nil {
			return nil, err
		}
		if sum.Total != c.Params.Total || sum.Trainable != c.Params.Trainable || sum.NonTrainable != c.Params.NonTrainable {
			return nil, fmt.Errorf("%s: weights give %+v parameters, the summary %d/%d/%d", id.Stem(), c.Params, sum.Total, sum.Trainable, sum.NonTrainable)
		}
		out = append(out, c)
	}
	env.Logf("loaded %d compact models (.keras), parameter counts agree with their summaries", len(out))
	return out, nil
}

// Sizes summarises the compact models' parameter counts (claim C2).
type Sizes struct {
	Median, Min, Max float64
	Factor           float64 // teacher / median
}

func summarizeSizes(models []Compact, t Teacher) Sizes {
	xs := make([]float64, len(models))
	for i, m := range models {
		xs[i] = float64(m.Params.Total)
	}
	s := Sizes{Median: metrics.Median(xs), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range xs {
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	s.Factor = float64(t.Total) / s.Median
	return s
}

// status compares named values with a claim's published numbers: Reproduced when every one is
// equal, else Differs with the differences listed.
func status(c *harness.Claim, got map[string]float64) (harness.Status, string, error) {
	names := make([]string, 0, len(got))
	for n := range got {
		names = append(names, n)
	}
	sort.Strings(names)
	var diffs []string
	for _, n := range names {
		want, err := c.Number(n)
		if err != nil {
			return "", "", err
		}
		if got[n] != want {
			diffs = append(diffs, fmt.Sprintf("%s %g, paper %g", n, got[n], want))
		}
	}
	if len(diffs) > 0 {
		return harness.Differs, strings.Join(diffs, "; "), nil
	}
	return harness.Reproduced, "", nil
}

func recordSizes(res *harness.Result, claims *harness.Claims, t Teacher, models []Compact, s Sizes) error {
	v := &res.Values
	v.Exact("C1/trunk_params", float64(t.Trunk))
	v.Exact("C1/member_params", float64(t.Member))
	v.Exact("C1/members", float64(t.Members))
	v.Exact("C1/teacher_params", float64(t.Total))
	v.Exact("C2/compact_models", float64(len(models)))
	v.Exact("C2/median_params", s.Median)
	v.Exact("C2/min_params", s.Min)
	v.Exact("C2/max_params", s.Max)
	v.Num("C2/compression_factor", s.Factor, 0, 1e-12)
	for _, m := range models {
		v.Exact("params/"+m.ID.Stem(), float64(m.Params.Total))
	}

	c1, err := claims.Lookup("C1")
	if err != nil {
		return err
	}
	st, detail, err := status(c1, map[string]float64{
		"teacher_params": float64(t.Total), "resnet50_trunk_params": float64(t.Trunk),
		"member_params": float64(t.Member), "members": float64(t.Members),
	})
	if err != nil {
		return err
	}
	res.Claims = append(res.Claims, harness.ClaimResult{
		ID: "C1", Status: st, Detail: detail, Figures: []string{"params"},
		Value: fmt.Sprintf("%s parameters = ResNet50 trunk %s + %d members × %s (from %s; members counted in the manifest)",
			harness.Comma(t.Total), harness.Comma(t.Trunk), t.Members, harness.Comma(t.Member), path.Base(EnsembleSummaryPath)),
	})

	c2, err := claims.Lookup("C2")
	if err != nil {
		return err
	}
	st, detail, err = status(c2, map[string]float64{
		"compact_models": float64(len(models)), "median_params": s.Median,
		"min_params": s.Min, "max_params": s.Max, "compression_factor": math.Round(s.Factor),
	})
	if err != nil {
		return err
	}
	res.Claims = append(res.Claims, harness.ClaimResult{
		ID: "C2", Status: st, Detail: detail, Figures: []string{"params"},
		Value: fmt.Sprintf("%d models: median %s parameters (min %s, max %s), counted from the weights and equal to every model summary; %s / %s = %.0f-fold",
			len(models), harness.Comma(int(s.Median)), harness.Comma(int(s.Min)), harness.Comma(int(s.Max)), harness.Comma(t.Total), harness.Comma(int(s.Median)), s.Factor),
	})
	return nil
}

func recordFilters(res *harness.Result, claims *harness.Claims, models []Compact) error {
	v := &res.Values
	got := map[string]float64{}
	var med [model.NumLayers]float64
	for l := 0; l < model.NumLayers; l++ {
		xs := make([]float64, len(models))
		for i, m := range models {
			xs[i] = float64(m.Filters[l])
		}
		med[l] = metrics.Median(xs)
		v.Num(fmt.Sprintf("C5/median_filters_layer%d", l), med[l], 0, 0)
		got[fmt.Sprintf("median_filters_layer%d", l)] = med[l]
	}
	three := 0
	for _, m := range models {
		if m.Filters[2] == 3 {
			three++
		}
		v.Text("filters/"+m.ID.Stem(), filterString(m.Filters))
	}
	v.Exact("C5/models_with_3_filters_in_layer2", float64(three))
	got["models_with_3_filters_in_layer2"] = float64(three)
	c5, err := claims.Lookup("C5")
	if err != nil {
		return err
	}
	st, detail, err := status(c5, got)
	if err != nil {
		return err
	}
	res.Claims = append(res.Claims, harness.ClaimResult{
		ID: "C5", Status: st, Detail: detail, Figures: []string{"filters"},
		Value: fmt.Sprintf("median filters per layer %g, %g, %g, %g, %g; %d of %d models keep 3 filters in layer 2",
			med[0], med[1], med[2], med[3], med[4], three, len(models)),
	})
	return nil
}

func filterString(f [model.NumLayers]int) string {
	s := make([]string, len(f))
	for i, x := range f {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}
