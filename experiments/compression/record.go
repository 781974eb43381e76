package compression

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strings"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
)

// Tolerances of the golden values computed from predictions: float32 kernels round differently
// on CPUs without AVX2/FMA (pure-Go fallback), which moves a correlation by ~1e-7.
const (
	tolPerNeuron = 1e-5
	tolMedian    = 1e-5
)

func recordSizes(res *harness.Result, env *harness.Env, t teacherSize, models []*eval.Compact, s sizeSummary) error {
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
		v.Exact("params/"+m.ID.Stem(), float64(m.Net.Params().Total))
	}

	c1, err := env.Claim("C1")
	if err != nil {
		return err
	}
	st, detail, err := c1.Compare(map[string]float64{
		"teacher_params": float64(t.Total), "resnet50_trunk_params": float64(t.Trunk),
		"member_params": float64(t.Member), "members": float64(t.Members),
	})
	if err != nil {
		return err
	}
	res.Claims = append(res.Claims, harness.ClaimResult{
		ID: "C1", Status: st, Detail: detail, Figures: []string{"params"},
		Value: fmt.Sprintf("%s parameters = ResNet50 trunk %s + %d members × %s (from %s; members counted in the manifest)",
			harness.Comma(t.Total), harness.Comma(t.Trunk), t.Members, harness.Comma(t.Member), path.Base(ensembleSummaryPath)),
	})

	c2, err := env.Claim("C2")
	if err != nil {
		return err
	}
	st, detail, err = c2.Compare(map[string]float64{
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

// medianFilters returns the median number of filters of each layer over the models.
func medianFilters(models []*eval.Compact) [model.NumLayers]float64 {
	var med [model.NumLayers]float64
	for l := range med {
		xs := make([]float64, len(models))
		for i, m := range models {
			xs[i] = float64(m.Filters[l])
		}
		med[l] = metrics.Median(xs)
	}
	return med
}

func recordFilters(res *harness.Result, env *harness.Env, models []*eval.Compact) error {
	v := &res.Values
	got := map[string]float64{}
	med := medianFilters(models)
	for l, m := range med {
		v.Num(fmt.Sprintf("C5/median_filters_layer%d", l), m, 0, 0)
		got[fmt.Sprintf("median_filters_layer%d", l)] = m
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
	c5, err := env.Claim("C5")
	if err != nil {
		return err
	}
	st, detail, err := c5.Compare(got)
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

// accuracy holds the medians of the evaluation, per session (in evaluation order) and pooled.
type accuracy struct {
	session []eval.Summary
	pooled  *eval.Summary // nil when no session was evaluated
}

func summarizeAccuracy(evals []*sessionEval) (*accuracy, error) {
	acc := &accuracy{}
	var all []eval.Scores
	for i, ev := range evals {
		s, err := eval.Summarize(ev.Scores, eval.SameSeed(bootstrapSeed+uint64(i)))
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", ev.session.ID, err)
		}
		acc.session = append(acc.session, s)
		all = append(all, ev.Scores)
	}
	if len(evals) > 0 {
		p, err := eval.Summarize(eval.Pool(all), eval.SameSeed(bootstrapSeed+100))
		if err != nil {
			return nil, err
		}
		acc.pooled = &p
	}
	return acc, nil
}

// metricNames are the scores' names in keys and tables, in recording order.
var metricNames = []string{"r", "r2", "r2er"}

func recordAccuracy(res *harness.Result, env *harness.Env, evals []*sessionEval, acc *accuracy) {
	v := &res.Values
	var sessions []string
	for i, ev := range evals {
		sessions = append(sessions, ev.session.ID)
		for n := range ev.R {
			key := fmt.Sprintf("eval/%s/neuron%d", ev.session.ID, n)
			v.Num(key+"/r", ev.R[n], tolPerNeuron, 0)
			v.Num(key+"/r2", ev.R2[n], tolPerNeuron, 0)
			if ev.R2ER != nil {
				v.Num(key+"/r2er", ev.R2ER[n], tolPerNeuron, 0)
			}
		}
		ms := acc.session[i].Metrics()
		for _, name := range metricNames {
			if m, ok := ms[name]; ok {
				v.CI(fmt.Sprintf("eval/%s/%s", ev.session.ID, name), m, tolMedian)
			}
		}
	}
	var pooled map[string]metrics.MedianCI
	if acc.pooled != nil {
		pooled = acc.pooled.Metrics()
		for _, name := range metricNames {
			if m, ok := pooled[name]; ok {
				v.CI("eval/pooled/"+name, m, tolMedian)
			}
		}
	}
	for _, g := range gridNeurons(evals) {
		key := fmt.Sprintf("grid/%s/neuron%d", g.session.session.ID, g.neuron)
		mean, sd := meanSD(g.session.pred[g.neuron])
		v.Num(key+"/pred_mean", mean, 1e-4*math.Max(1, math.Abs(mean)), 0)
		v.Num(key+"/pred_sd", sd, 1e-4*math.Max(1, sd), 0)
	}

	cr := harness.ClaimResult{ID: "C3", Status: harness.Partial, Figures: []string{"accuracy", "predictions"}}
	if len(evals) == 0 {
		cr.Status = harness.NotRunnable
		cr.Value = "no test session with images"
		cr.Detail = "the images of every test session of the profile are missing"
	} else {
		var parts []string
		if m, ok := pooled["r2er"]; ok {
			parts = append(parts, "median noise-corrected R² (r²_ER) "+m.String())
		}
		parts = append(parts, "median Pearson r against repeat-averaged responses "+pooled["r"].String(), "r² "+pooled["r2"].String())
		cr.Value = fmt.Sprintf("compact models on the evaluation half of session(s) %s: %s", strings.Join(sessions, ", "), strings.Join(parts, "; "))
		var missing []string
		if _, ok := pooled["r2er"]; !ok {
			missing = append(missing, "the noise-corrected R² needs the raw repeats of the test sessions, which are missing (named below)")
		}
		missing = append(missing, "the compact-versus-teacher comparison of Fig. 1h is not made here: it needs the teacher's accuracy on the same images, which is experiment teacherfit's part of this claim (see its row)")
		cr.Detail = strings.Join(missing, "; ")
	}
	res.Claims = append(res.Claims, cr)
	env.Logf("accuracy: %s", cr.Value)
}

// gridNeuron is a neuron shown in the predicted-versus-recorded figure.
type gridNeuron struct {
	session *sessionEval
	neuron  int
}

// gridNeurons picks four neurons of the first evaluated session spanning its accuracies: the
// best, the worst, and those at the 2/3 and 1/3 quantiles of Pearson r (ties by neuron number).
func gridNeurons(evals []*sessionEval) []gridNeuron {
	if len(evals) == 0 {
		return nil
	}
	ev := evals[0]
	order := make([]int, len(ev.R))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return ev.R[order[a]] > ev.R[order[b]] })
	var out []gridNeuron
	seen := map[int]bool{}
	for _, q := range []float64{0, 1.0 / 3, 2.0 / 3, 1} {
		k := order[int(math.Round(q*float64(len(order)-1)))]
		if !seen[k] {
			seen[k] = true
			out = append(out, gridNeuron{ev, k})
		}
	}
	return out
}

func meanSD(x []float32) (mean, sd float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	for _, v := range x {
		d := float64(v) - mean
		sd += d * d
	}
	return mean, math.Sqrt(sd / float64(len(x)))
}
