package compression

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"compactv4/harness"
	"compactv4/internal/metrics"
)

// Tolerances of the golden values computed from predictions: float32 kernels round differently
// on CPUs without AVX2/FMA (pure-Go fallback), which moves a correlation by ~1e-7.
const (
	tolPerNeuron = 1e-5
	tolMedian    = 1e-5
)

// Accuracy summarises the evaluation: per session and pooled medians of r, r² and r²_ER.
type Accuracy struct {
	Session map[string]map[string]metrics.MedianCI // session → metric → summary
	Pooled  map[string]metrics.MedianCI
}

var metricNames = []string{"r", "r2", "r2er"}

func (ev *SessionEval) metric(name string) []float64 {
	switch name {
	case "r":
		return ev.R
	case "r2":
		return ev.R2
	case "r2er":
		return ev.R2ER
	}
	return nil
}

func summarizeAccuracy(evals []*SessionEval) (*Accuracy, error) {
	acc := &Accuracy{Session: map[string]map[string]metrics.MedianCI{}, Pooled: map[string]metrics.MedianCI{}}
	pooled := map[string][]float64{}
	complete := map[string]bool{"r": true, "r2": true, "r2er": true}
	for i, ev := range evals {
		acc.Session[ev.Session.ID] = map[string]metrics.MedianCI{}
		for _, name := range metricNames {
			xs := ev.metric(name)
			if xs == nil {
				complete[name] = false
				continue
			}
			m, err := metrics.MedianWithCI(xs, BootstrapSeed+uint64(i))
			if err != nil {
				return nil, fmt.Errorf("session %s %s: %w", ev.Session.ID, name, err)
			}
			acc.Session[ev.Session.ID][name] = m
			pooled[name] = append(pooled[name], xs...)
		}
	}
	for _, name := range metricNames {
		// A pooled median over some sessions only would mislead: pool a metric only when every
		// evaluated session has it.
		if !complete[name] || len(pooled[name]) == 0 {
			continue
		}
		m, err := metrics.MedianWithCI(pooled[name], BootstrapSeed+100)
		if err != nil {
			return nil, err
		}
		acc.Pooled[name] = m
	}
	return acc, nil
}

func recordAccuracy(res *harness.Result, env *harness.Env, evals []*SessionEval) error {
	v := &res.Values
	acc, err := summarizeAccuracy(evals)
	if err != nil {
		return err
	}
	var sessions []string
	for _, ev := range evals {
		sessions = append(sessions, ev.Session.ID)
		for n := range ev.R {
			key := fmt.Sprintf("eval/%s/neuron%d", ev.Session.ID, n)
			v.Num(key+"/r", ev.R[n], tolPerNeuron, 0)
			v.Num(key+"/r2", ev.R2[n], tolPerNeuron, 0)
			if ev.R2ER != nil {
				v.Num(key+"/r2er", ev.R2ER[n], tolPerNeuron, 0)
			}
		}
		for _, name := range metricNames {
			if m, ok := acc.Session[ev.Session.ID][name]; ok {
				v.CI(fmt.Sprintf("eval/%s/%s", ev.Session.ID, name), m, tolMedian)
			}
		}
	}
	for _, name := range metricNames {
		if m, ok := acc.Pooled[name]; ok {
			v.CI("eval/pooled/"+name, m, tolMedian)
		}
	}
	for _, ev := range gridNeurons(evals) {
		key := fmt.Sprintf("grid/%s/neuron%d", ev.session.Session.ID, ev.neuron)
		p := ev.session.Pred[ev.neuron]
		mean, sd := meanSD(p)
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
		if m, ok := acc.Pooled["r2er"]; ok {
			parts = append(parts, "median noise-corrected R² (r²_ER) "+m.String())
		}
		if m, ok := acc.Pooled["r"]; ok {
			parts = append(parts, "median Pearson r against repeat-averaged responses "+m.String())
		}
		if m, ok := acc.Pooled["r2"]; ok {
			parts = append(parts, "r² "+m.String())
		}
		cr.Value = fmt.Sprintf("compact models on the evaluation half of session(s) %s: %s", strings.Join(sessions, ", "), strings.Join(parts, "; "))
		var missing []string
		if _, ok := acc.Pooled["r2er"]; !ok {
			missing = append(missing, "the noise-corrected R² needs the raw repeats of the test sessions, which are missing (named below)")
		}
		missing = append(missing, "the teacher's accuracy on the same images (experiment teacherfit, E1) is not yet implemented, so the compact-versus-teacher comparison of Fig. 1h is not made")
		cr.Detail = strings.Join(missing, "; ")
	}
	res.Claims = append(res.Claims, cr)
	env.Logf("accuracy: %s", cr.Value)
	return nil
}

// gridNeuron is a neuron shown in the predicted-versus-recorded figure.
type gridNeuron struct {
	session *SessionEval
	neuron  int
}

// gridNeurons picks four neurons of the first evaluated session spanning its accuracies: the
// best, the worst, and those at the 2/3 and 1/3 quantiles of Pearson r (ties by neuron number).
func gridNeurons(evals []*SessionEval) []gridNeuron {
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
