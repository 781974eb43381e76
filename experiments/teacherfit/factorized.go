package teacherfit

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"slices"
	"time"

	"compactv4/harness"
	"compactv4/internal/mapping"
	"compactv4/internal/teacherrows"
	"compactv4/internal/v4data"
)

// The mappings of the teacher's rows (-mappings).
const (
	ridge      = "ridge"
	factorized = "factorized"
)

// allMappings are the mappings a plan runs by default, in recording order.
var allMappings = []string{ridge, factorized}

// factorizedPlan are the options of the factorized mappings: the ensemble's members' and the
// task-driven networks' (mapping.EnsembleDefaults and mapping.TaskDrivenDefaults, spec §7).
type factorizedPlan struct {
	Ensemble   mapping.FactorizedOptions `json:"ensemble"`
	TaskDriven mapping.FactorizedOptions `json:"task_driven"`
}

// options returns the factorized options of a model's units.
func (fp factorizedPlan) options(model string) mapping.FactorizedOptions {
	if model == teacherrows.Ensemble {
		return fp.Ensemble
	}
	return fp.TaskDriven
}

// unit is one unit of work of the teacher's rows on a session, the unit a killed run resumes
// from and -shard splits: the session's ridge rows (teacherrows.Session.Ridge), or one factorized
// fit (a member's, or a task-driven network's).
type unit struct {
	Ridge bool
	Fz    teacherrows.FactorizedUnit
}

func (u unit) String() string {
	if u.Ridge {
		return "ridge rows"
	}
	return "factorized " + u.Fz.String()
}

// sessionUnits are the units of work of one session, in order: the ridge rows when the plan
// maps with ridge, then, when it maps with the factorized mapping, each member's and each
// task-driven network's factorized fit.
func sessionUnits(p plan, nets *openedTeacher) []unit {
	var out []unit
	if slices.Contains(p.Mappings, ridge) {
		out = append(out, unit{Ridge: true})
	}
	if slices.Contains(p.Mappings, factorized) {
		for _, fz := range teacherrows.FactorizedUnits(nets.Nets) {
			out = append(out, unit{Fz: fz})
		}
	}
	return out
}

// progress logs the units of work done so far with an estimate of the time left: the mean time
// of the units computed in this run (not read from the cache) times the units left.
type progress struct {
	env        *harness.Env
	total, did int
	start      time.Time
	// ran is set by a unit's computation; computed and computing count and time those units.
	ran       bool
	computed  int
	computing time.Duration
}

// begin starts a unit's timing.
func (pr *progress) begin() time.Time {
	pr.ran = false
	return time.Now()
}

// done logs unit u of a session, begun at t0.
func (pr *progress) done(session string, u unit, t0 time.Time) {
	pr.did++
	how := "read from the cache"
	if pr.ran {
		pr.computed++
		pr.computing += time.Since(t0)
		how = "computed in " + time.Since(t0).Round(time.Second).String()
	}
	eta := "unknown"
	if pr.computed > 0 {
		eta = (pr.computing / time.Duration(pr.computed) * time.Duration(pr.total-pr.did)).Round(time.Second).String()
	}
	pr.env.Logf("teacher: session %s, %s: %s; unit %d of %d (%s elapsed, ETA %s)", session, u, how, pr.did, pr.total, time.Since(pr.start).Round(time.Second), eta)
}

// cached reports whether the teacher's steps are cached: the networks come from files (Members)
// or are identified by Key.
func (nets *openedTeacher) cached() bool { return len(nets.Members) > 0 || nets.Key != "" }

// sessionInputs are the cache inputs of a session's steps: paths (member files) and the session's
// images, averaged responses and, when in has them, raw repeats.
func sessionInputs(env *harness.Env, in teacherrows.SessionInput, paths ...string) ([]harness.Input, error) {
	paths = append(slices.Clone(paths), v4data.ImagesPath(in.Session), v4data.AveragedPath(in.Session))
	if in.Resp.Raw != nil {
		paths = append(paths, v4data.RawPath(in.Session))
	}
	return env.Inputs(paths...)
}

// factorizedCached is one factorized unit of a session (ss.Fit with the plan's options for its
// model) as a cached step when nets is cached: keyed by the member's file (for a member), the
// session's data, the weight files' MD5s, the number of images and the options. A computation
// sets pr.ran.
func factorizedCached(ctx context.Context, env *harness.Env, nets *openedTeacher, ss *teacherrows.Session, in teacherrows.SessionInput, u teacherrows.FactorizedUnit, fp factorizedPlan, pr *progress) (*teacherrows.FactorizedFit, error) {
	opts := fp.options(u.Model)
	compute := func() (*teacherrows.FactorizedFit, error) {
		pr.ran = true
		return ss.Fit(ctx, u, opts)
	}
	if !nets.cached() {
		return compute()
	}
	var members []string
	if u.Model == teacherrows.Ensemble && u.Member < len(nets.Members) {
		members = nets.Members[u.Member : u.Member+1]
	}
	inputs, err := sessionInputs(env, in, members...)
	if err != nil {
		return nil, err
	}
	step := harness.Step{
		Name:   fmt.Sprintf("teacherfactorized/%s/%d/%s", in.Session, in.N, u),
		Inputs: inputs,
		Params: map[string]any{"images": in.N, "unit": u, "options": opts, "weights_md5": nets.Weights, "networks": nets.Key},
		Code:   []string{"compactv4/internal/teacherrows"},
	}
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		ff, err := compute()
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		if err := gob.NewEncoder(&buf).Encode(ff); err != nil {
			return nil, fmt.Errorf("factorized fit %s of %s: %w", u, in.Session, err)
		}
		return buf.Bytes(), nil
	})
	if err != nil {
		return nil, err
	}
	ff, err := decodeFactorized(b, u)
	if err != nil {
		return nil, fmt.Errorf("cached factorized fit of session %s: %w", in.Session, err)
	}
	return ff, nil
}

// decodeFactorized reads a factorized fit of unit u that factorizedCached stored, checking that
// it is u's and that every epoch predicts the same neurons and images.
func decodeFactorized(b []byte, u teacherrows.FactorizedUnit) (*teacherrows.FactorizedFit, error) {
	var ff teacherrows.FactorizedFit
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&ff); err != nil {
		return nil, fmt.Errorf("factorized fit %s: %w", u, err)
	}
	if ff.Unit != u {
		return nil, fmt.Errorf("factorized fit %s holds %s", u, ff.Unit)
	}
	if len(ff.EpochVal) == 0 || len(ff.EpochTest) != len(ff.EpochVal) {
		return nil, fmt.Errorf("factorized fit %s: %d validation and %d test epochs", u, len(ff.EpochVal), len(ff.EpochTest))
	}
	for _, ep := range [][][][]float32{ff.EpochVal, ff.EpochTest} {
		for e, pred := range ep {
			if len(pred) == 0 || len(pred) != len(ep[0]) {
				return nil, fmt.Errorf("factorized fit %s: epoch %d predicts %d neurons, epoch 0 %d", u, e, len(pred), len(ep[0]))
			}
			for n, row := range pred {
				if len(row) != len(ep[0][0]) {
					return nil, fmt.Errorf("factorized fit %s: epoch %d, neuron %d: %d images, %d in epoch 0", u, e, n, len(row), len(ep[0][0]))
				}
			}
		}
	}
	if len(ff.EpochVal[0]) != len(ff.EpochTest[0]) {
		return nil, fmt.Errorf("factorized fit %s: %d neurons validated, %d tested", u, len(ff.EpochVal[0]), len(ff.EpochTest[0]))
	}
	return &ff, nil
}

// assembleFactorized makes the factorized rows of a session from its units' fits: the ensemble
// (its members' fits averaged), then each task-driven network.
func assembleFactorized(ss *teacherrows.Session, nets *openedTeacher, fits []*teacherrows.FactorizedFit, fp factorizedPlan) ([]*teacherrows.FactorizedRow, error) {
	models := []string{teacherrows.Ensemble}
	for _, t := range nets.Task {
		models = append(models, t.Name)
	}
	var rows []*teacherrows.FactorizedRow
	for _, m := range models {
		var of []*teacherrows.FactorizedFit
		for _, f := range fits {
			if f.Unit.Model == m {
				of = append(of, f)
			}
		}
		r, err := ss.AssembleFactorized(m, of, fp.options(m))
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, nil
}
