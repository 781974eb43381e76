package eval

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"runtime"
	"sync"
	"time"

	"compactv4/harness"
	"compactv4/internal/nn"
	"compactv4/internal/synth"
)

// Synthesize returns m's preferred stimulus by gradient ascent (synth.Synthesize with p and
// seed, one worker) as the cached step "<experiment>/synth/<model>", keyed by m's files, p, seed
// and the entries of params (anything else the caller's result depends on).
func Synthesize(ctx context.Context, env *harness.Env, experiment string, m *Compact, p synth.Params, seed uint64, params map[string]any) (*synth.Synth, error) {
	inputs, err := env.Inputs(m.Files()...)
	if err != nil {
		return nil, err
	}
	keyed := map[string]any{"params": p, "seed": seed}
	maps.Copy(keyed, params)
	step := harness.Step{
		Name: experiment + "/synth/" + m.ID.Stem(), Inputs: inputs, Params: keyed,
		Code: []string{"compactv4/internal/synth", "compactv4/internal/nn", "compactv4/internal/v4data"},
	}
	h, w := m.Net.Input[0], m.Net.Input[1]
	b, err := env.Cache.Do(step, func() ([]byte, error) {
		g, err := nn.NewGradNet(m.Net)
		if err != nil {
			return nil, err
		}
		g.SetWorkers(1)
		s, err := synth.Synthesize(ctx, g, h, w, p, seed)
		if err != nil {
			return nil, err
		}
		return s.MarshalBinary()
	})
	if err != nil {
		return nil, err
	}
	s, err := synth.ReadSynth(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cached synthesis: %w", err)
	}
	if s.H != h || s.W != w || len(s.Trace) != p.Steps {
		return nil, fmt.Errorf("cached synthesis: %d×%d image, %d steps; want %d×%d, %d", s.H, s.W, len(s.Trace), h, w, p.Steps)
	}
	return s, nil
}

// A SynthTask is one call of Synthesize in SynthesizeAll: the model (or unit) to maximise, the
// cache namespace, the seed and the extra parameters that key its cached step.
type SynthTask struct {
	Experiment string
	Model      *Compact
	Seed       uint64
	Params     map[string]any
	Name       string // shown in the progress log; the model's stem if empty
}

// SynthesizeAll runs Synthesize for every task, one task per core (a GradNet computes an image
// on one goroutine), logging each as it ends. Every result depends only on its own model, seed
// and parameters, so the bytes do not depend on the schedule. The first error (by task) stops
// the rest.
func SynthesizeAll(ctx context.Context, env *harness.Env, tasks []SynthTask, p synth.Params) ([]*synth.Synth, error) {
	out := make([]*synth.Synth, len(tasks))
	errs := make([]error, len(tasks))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		done int
		next = make(chan int)
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), len(tasks)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				t := tasks[i]
				name := t.Name
				if name == "" {
					name = t.Model.ID.Stem()
				}
				s, err := Synthesize(ctx, env, t.Experiment, t.Model, p, t.Seed, t.Params)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", name, err)
					cancel()
					continue
				}
				out[i] = s
				mu.Lock()
				done++
				env.Logf("  %s: response %.4g after step %d (%d/%d, %v)", name, s.Response, s.BestStep, done, len(tasks), time.Since(t0).Round(time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	for i := range tasks {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}
