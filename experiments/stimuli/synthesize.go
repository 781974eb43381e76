package stimuli

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"

	"compactv4/eval"
	"compactv4/harness"
	"compactv4/internal/synth"
)

// synthesizeAll synthesises every model's preferred stimulus, each a cached step. A GradNet
// computes one image on one goroutine, so models run concurrently, one per core; every model's
// result depends only on its own inputs and seed, so the bytes do not depend on the schedule.
func synthesizeAll(ctx context.Context, env *harness.Env, models []*eval.Compact, p synth.Params) ([]*stimulus, error) {
	stims := make([]*stimulus, len(models))
	errs := make([]error, len(models))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu   sync.Mutex
		done int
		next = make(chan int)
		wg   sync.WaitGroup
	)
	workers := min(runtime.GOMAXPROCS(0), len(models))
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				s, err := synthesizeModel(ctx, env, models[i], p)
				if err != nil {
					errs[i] = fmt.Errorf("%s: %w", models[i].ID.Stem(), err)
					cancel()
					continue
				}
				stims[i] = s
				mu.Lock()
				done++
				env.Logf("  %s: response %.4g after step %d (%d/%d, %v)", models[i].ID.Stem(), s.Synth.Response, s.Synth.BestStep, done, len(models), time.Since(t0).Round(time.Millisecond))
				mu.Unlock()
			}
		}()
	}
	for i := range models {
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
	return stims, nil
}

func synthesizeModel(ctx context.Context, env *harness.Env, m *eval.Compact, p synth.Params) (*stimulus, error) {
	seed := synth.ModelSeed(baseSeed, m.ID.Stem())
	s, err := eval.Synthesize(ctx, env, "stimuli", m, p, seed, map[string]any{"format": "keras"})
	if err != nil {
		return nil, err
	}
	return &stimulus{ID: m.ID, Seed: seed, Synth: s, Ratio: math.NaN()}, nil
}
