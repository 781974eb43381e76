package stimuli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"

	"compactv4/harness"
	"compactv4/internal/model"
	"compactv4/internal/nn"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// isMissing reports whether err says a data file is absent (as opposed to corrupt or unreadable).
func isMissing(err error) bool {
	var me *v4data.MissingError
	return errors.As(err, &me)
}

// naturalResponses predicts, for every session of the stimuli, the responses of its models to
// all of the session's natural images (one cached step per session), and fills in each
// stimulus's natural-image statistics and response ratio. A session whose images are missing is
// recorded as not runnable (its stimuli keep Natural == nil). It also evaluates every model on
// its stimulus as saved in the PNG (Uint8Response).
func naturalResponses(ctx context.Context, env *harness.Env, res *harness.Result, stims []*Stimulus, nets []*model.Network) error {
	bySession := map[string][]int{}
	var order []string
	for i, s := range stims {
		if _, ok := bySession[s.ID.Session]; !ok {
			order = append(order, s.ID.Session)
		}
		bySession[s.ID.Session] = append(bySession[s.ID.Session], i)
	}
	for _, session := range order {
		idx := bySession[session]
		ts, ok := v4data.LookupTestSession(session)
		if !ok {
			return fmt.Errorf("unknown test session %s", session)
		}
		imgPath := v4data.ImagesPath(session)
		if _, err := env.Data.Path(imgPath); err != nil {
			if !isMissing(err) {
				return err
			}
			res.NotRunnable = append(res.NotRunnable, env.MissingFile(imgPath, fmt.Sprintf(
				"images of test session %s: the natural-image responses of its %d synthesised models, and so their response ratios, are not computed (their preferred stimuli are)", session, len(idx))))
			env.Logf("session %s: natural-image responses not runnable, %s is missing", session, imgPath)
			continue
		}
		paths := []string{imgPath}
		neurons := make([]int, len(idx))
		for k, i := range idx {
			paths = append(paths, v4data.FormatKeras.CompactPath(stims[i].ID))
			neurons[k] = stims[i].ID.Neuron
		}
		inputs, err := env.Inputs(paths...)
		if err != nil {
			return err
		}
		m := ts.Images
		step := harness.Step{
			Name: "stimuli/natural/" + session, Inputs: inputs, Version: StepVersion,
			Params: map[string]any{"format": "keras", "neurons": neurons, "images": m},
		}
		b, err := env.Cache.Do(step, func() ([]byte, error) {
			im, err := v4data.LoadImages(env.Data, session, m)
			if err != nil {
				return nil, err
			}
			all := make([]float32, 0, len(idx)*m)
			for k, i := range idx {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				net, err := nn.Compile(nets[i])
				if err != nil {
					return nil, fmt.Errorf("%s: %w", stims[i].ID.Stem(), err)
				}
				p, err := net.Predict(im.Pix, m)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", stims[i].ID.Stem(), err)
				}
				all = append(all, p...)
				env.Logf("  natural images: %s (%d/%d)", stims[i].ID.Stem(), k+1, len(idx))
			}
			var buf bytes.Buffer
			if err := npy.WriteFloat32(&buf, []int{len(idx), m}, all); err != nil {
				return nil, err
			}
			return buf.Bytes(), nil
		})
		if err != nil {
			return fmt.Errorf("session %s: %w", session, err)
		}
		shape, flat, err := npy.ReadFloat32(bytes.NewReader(b))
		if err != nil || len(shape) != 2 || shape[0] != len(idx) || shape[1] != m {
			return fmt.Errorf("cached natural-image responses of %s: shape %v, %v", session, shape, err)
		}
		for k, i := range idx {
			if err := setNatural(stims[i], flat[k*m:(k+1)*m]); err != nil {
				return err
			}
		}
		env.Logf("session %s: %d models on %d natural images", session, len(idx), m)
	}
	for i, s := range stims {
		net, err := nn.Compile(nets[i])
		if err != nil {
			return fmt.Errorf("%s: %w", s.ID.Stem(), err)
		}
		out, err := net.Predict(s.Synth.Uint8(), 1)
		if err != nil {
			return fmt.Errorf("%s: response to its PNG stimulus: %w", s.ID.Stem(), err)
		}
		s.Uint8Response = float64(out[0])
	}
	return nil
}

// setNatural stores a model's natural-image responses and derives the statistics, ratio and
// comparison of the stimulus.
func setNatural(s *Stimulus, resp []float32) error {
	if len(resp) == 0 {
		return fmt.Errorf("%s: no natural-image responses", s.ID.Stem())
	}
	s.Natural = resp
	s.NatMax, s.NatArgmax = math.Inf(-1), -1
	xs := make([]float64, len(resp))
	for j, v := range resp {
		x := float64(v)
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("%s: response %v to natural image %d", s.ID.Stem(), v, j+1)
		}
		xs[j] = x
		if x > s.NatMax {
			s.NatMax, s.NatArgmax = x, j
		}
	}
	sort.Float64s(xs)
	s.NatMedian = median(xs)
	s.Exceeds = s.Synth.Response > s.NatMax
	s.Ratio = math.NaN()
	if s.NatMax > 0 {
		s.Ratio = s.Synth.Response / s.NatMax
	}
	return nil
}
