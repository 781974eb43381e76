package eval

import (
	"bytes"
	"context"
	"fmt"
	"maps"

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
