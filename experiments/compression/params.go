package compression

import (
	"bytes"
	"context"
	"fmt"
	"math"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/keras"
	"compactv4/internal/metrics"
	"compactv4/internal/v4data"
)

// ensembleSummaryPath is the released Keras summary of the teacher: the ResNet50 trunk, then one
// ensemble member.
const ensembleSummaryPath = "data_ensemble_model/ensemble_model_summary.txt"

// memberPattern matches the teacher's ensemble-member files in the manifest.
const memberPattern = "data_ensemble_model/ensemble_model_member*.keras"

// teacherSize is the teacher's parameter count (claim C1): the ResNet50 trunk plus every ensemble
// member, with batchnorm moving statistics and without optimizer slots.
type teacherSize struct {
	Trunk   int // ResNet50 up to conv4_block4_out ("Total params" of the first summary)
	Member  int // one member: "Total params" − "Optimizer params" of the second summary
	Members int // ensemble members: member files listed in the upstream manifest
	Total   int
}

func countTeacher(env *harness.Env) (teacherSize, error) {
	b, err := env.Data.ReadFile(ensembleSummaryPath)
	if err != nil {
		return teacherSize{}, err
	}
	ss, err := keras.ParseSummaries(bytes.NewReader(b))
	if err != nil {
		return teacherSize{}, fmt.Errorf("%s: %w", ensembleSummaryPath, err)
	}
	if len(ss) != 2 {
		return teacherSize{}, fmt.Errorf("%s: %d model summaries, want the trunk and one member", ensembleSummaryPath, len(ss))
	}
	members, err := env.Data.Match(memberPattern)
	if err != nil {
		return teacherSize{}, err
	}
	if len(members) == 0 {
		return teacherSize{}, fmt.Errorf("the manifest lists no %s", memberPattern)
	}
	t := teacherSize{Trunk: ss[0].ModelParams(), Member: ss[1].ModelParams(), Members: len(members)}
	t.Total = t.Trunk + t.Members*t.Member
	return t, nil
}

// loadModels loads all 219 compact models from their .keras files and cross-checks each one's
// filters with nums_filters and its parameter counts with its printed summary.
func loadModels(ctx context.Context, env *harness.Env) ([]*eval.Compact, error) {
	models, err := eval.LoadCompacts(ctx, env.Data, nil)
	if err != nil {
		return nil, err
	}
	for _, m := range models {
		nf, err := v4data.NumsFilters(env.Data, m.ID)
		if err != nil {
			return nil, err
		}
		if nf != m.Filters {
			return nil, fmt.Errorf("%s: filters %v in the model, %v in nums_filters", m.ID.Stem(), m.Filters, nf)
		}
		sum, err := v4data.ModelSummary(env.Data, m.ID)
		if err != nil {
			return nil, err
		}
		p := m.Net.Params()
		if sum.Total != p.Total || sum.Trainable != p.Trainable || sum.NonTrainable != p.NonTrainable {
			return nil, fmt.Errorf("%s: weights give %+v parameters, the summary %d/%d/%d", m.ID.Stem(), p, sum.Total, sum.Trainable, sum.NonTrainable)
		}
	}
	env.Logf("loaded %d compact models (.keras), parameter counts agree with their summaries", len(models))
	return models, nil
}

// sizeSummary summarises the compact models' parameter counts (claim C2).
type sizeSummary struct {
	Median, Min, Max float64
	Factor           float64 // teacher / median
}

func summarizeSizes(models []*eval.Compact, t teacherSize) sizeSummary {
	xs := make([]float64, len(models))
	for i, m := range models {
		xs[i] = float64(m.Net.Params().Total)
	}
	s := sizeSummary{Median: metrics.Median(xs), Min: math.Inf(1), Max: math.Inf(-1)}
	for _, x := range xs {
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	s.Factor = float64(t.Total) / s.Median
	return s
}
