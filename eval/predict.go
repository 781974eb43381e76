package eval

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"

	"compactv4/harness"
	"compactv4/internal/npy"
	"compactv4/internal/v4data"
)

// codePackage is the package whose code computes this file's cached steps.
const codePackage = "compactv4/eval"

// Predict returns a model's outputs for images lo…hi−1 of a test session (image after image,
// (hi−lo)·Outputs() values), as a cached step keyed by the model's files (or, for a model no file
// defines, its Digest), the session's images and the range.
func (d *Data) Predict(ctx context.Context, m Model, session string, lo, hi int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	inputs, err := d.env.Inputs(append([]string{v4data.ImagesPath(session)}, m.Files()...)...)
	if err != nil {
		return nil, err
	}
	p, err := d.predict(m, fmt.Sprintf("predict/%s/%s/%d-%d", m.Name(), session, lo, hi), inputs,
		map[string]any{"lo": lo, "hi": hi}, hi-lo, func() ([]uint8, error) { return d.Pixels(session, lo, hi) })
	if err != nil {
		return nil, fmt.Errorf("predict %s on session %s: %w", m.Name(), session, err)
	}
	return p, nil
}

// PredictImages returns a model's outputs for n images that are not a session's (artificial
// stimuli, images made by the run; uint8 RGB, NHWC at the model's input size), as a cached step
// named predict/<model>/<label>, keyed by the model's files (or its Digest) and the SHA-256 of
// the pixels.
func (d *Data) PredictImages(ctx context.Context, m Model, label string, pix []uint8, n int) ([]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n < 1 || len(pix)%n != 0 {
		return nil, fmt.Errorf("predict %s on %s: %d bytes for %d images", m.Name(), label, len(pix), n)
	}
	inputs, err := d.env.Inputs(m.Files()...)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(pix)
	p, err := d.predict(m, fmt.Sprintf("predict/%s/%s", m.Name(), label), inputs,
		map[string]any{"images": hex.EncodeToString(h[:]), "n": n}, n, func() ([]uint8, error) { return pix, nil })
	if err != nil {
		return nil, fmt.Errorf("predict %s on %s: %w", m.Name(), label, err)
	}
	return p, nil
}

// predict runs m on the n images pixels gives as the cached step name.
func (d *Data) predict(m Model, name string, inputs []harness.Input, params map[string]any, n int, pixels func() ([]uint8, error)) ([]float32, error) {
	out := m.Outputs()
	if n < 1 || out < 1 {
		return nil, fmt.Errorf("%d images, %d outputs", n, out)
	}
	params["outputs"] = out
	if len(m.Files()) == 0 {
		dg, ok := m.(Digester)
		if !ok {
			return nil, fmt.Errorf("no pinned file defines %s and it has no Digest, so its predictions cannot be cached", m.Name())
		}
		params["model"] = dg.Digest()
	}
	step := harness.Step{Name: name, Inputs: inputs, Params: params, Code: []string{codePackage}}
	b, err := d.env.Cache.Do(step, func() ([]byte, error) {
		pix, err := pixels()
		if err != nil {
			return nil, err
		}
		p, err := m.Predict(pix, n)
		if err != nil {
			return nil, err
		}
		return EncodeFloat32([]int{n, out}, p)
	})
	if err != nil {
		return nil, err
	}
	return DecodeFloat32("predictions of "+m.Name(), b, n, out)
}

// PredictEach returns the predictions of single-output models for images lo…hi−1 of a session,
// [model][image], logging progress.
func (d *Data) PredictEach(ctx context.Context, models []Model, session string, lo, hi int) ([][]float32, error) {
	out := make([][]float32, len(models))
	for i, m := range models {
		if m.Outputs() != 1 {
			return nil, fmt.Errorf("%s has %d outputs, want 1", m.Name(), m.Outputs())
		}
		p, err := d.Predict(ctx, m, session, lo, hi)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	d.env.Logf("  %d models predicted images %d-%d of session %s", len(models), lo+1, hi, session)
	return out, nil
}

// EncodeFloat32 stores an array for the cache as .npy bytes.
func EncodeFloat32(shape []int, data []float32) ([]byte, error) {
	var b bytes.Buffer
	if err := npy.WriteFloat32(&b, shape, data); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// DecodeFloat32 reads an array that EncodeFloat32 stored and checks its shape and values: bytes
// that do not decode, another shape, or a NaN or ±Inf are an error (delete the cache directory to
// recompute).
func DecodeFloat32(what string, b []byte, shape ...int) ([]float32, error) {
	got, data, err := npy.ReadFloat32(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("cached %s: %w", what, err)
	}
	if len(got) != len(shape) {
		return nil, fmt.Errorf("cached %s: shape %v, want %v", what, got, shape)
	}
	for i := range got {
		if got[i] != shape[i] {
			return nil, fmt.Errorf("cached %s: shape %v, want %v", what, got, shape)
		}
	}
	for i, x := range data {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return nil, fmt.Errorf("cached %s: value %d is %v", what, i, x)
		}
	}
	return data, nil
}

// ScoreShared scores a shared compact model (219 outputs) on each of the given responses: it
// predicts their images (Predict, cached), keeps the session's output rows (SessionRows) and
// scores them (Score32); the sessions' scores are pooled in order (Pool). It also returns the
// rows, [session][neuron][image].
func (d *Data) ScoreShared(ctx context.Context, m Model, resps []*Responses) (Scores, [][][]float32, error) {
	if m.Outputs() != v4data.SharedOutputs {
		return Scores{}, nil, fmt.Errorf("%s: %d outputs, a shared model has %d", m.Name(), m.Outputs(), v4data.SharedOutputs)
	}
	ss := make([]Scores, len(resps))
	rows := make([][][]float32, len(resps))
	for i, r := range resps {
		ts, err := testSession(r.Session)
		if err != nil {
			return Scores{}, nil, err
		}
		p, err := d.Predict(ctx, m, r.Session, r.Lo, r.Hi)
		if err != nil {
			return Scores{}, nil, err
		}
		if rows[i], err = SessionRows(p, r.Images(), v4data.SharedOutputs, ts); err != nil {
			return Scores{}, nil, err
		}
		if ss[i], err = Score32(r, rows[i]); err != nil {
			return Scores{}, nil, fmt.Errorf("%s on session %s: %w", m.Name(), r.Session, err)
		}
	}
	return Pool(ss), rows, nil
}
