package eval

import (
	"errors"
	"fmt"

	"compactv4/harness"
	"compactv4/internal/imagezip"
	"compactv4/internal/metrics"
	"compactv4/internal/model"
	"compactv4/internal/v4data"
)

// Data gives one experiment run the recorded sessions. It is not safe for concurrent use.
type Data struct {
	env    *harness.Env
	res    *harness.Result
	images map[string]*imagezip.Images
}

// New returns the sessions of an experiment run; files found missing are recorded in res.
func New(env *harness.Env, res *harness.Result) *Data {
	return &Data{env: env, res: res, images: map[string]*imagezip.Images{}}
}

// IsMissing reports whether err says that a pinned data file is absent (as opposed to corrupt or
// unreadable).
func IsMissing(err error) bool {
	var me *v4data.MissingError
	return errors.As(err, &me)
}

// Lost says what a run cannot compute without a test session's files, for the not-runnable
// records: "images of test session S: " + Images, "raw repeats of test session S: " + Raw.
type Lost struct {
	Images string
	Raw    string
}

// HasImages reports whether a session's images are present. When they are missing it records
// the zip as not runnable ("images of test session S: " + lost) and returns false.
func (d *Data) HasImages(session, lost string) (bool, error) {
	path := v4data.ImagesPath(session)
	if _, err := d.env.Data.Path(path); err != nil {
		if !IsMissing(err) {
			return false, err
		}
		d.NotRunnable(path, fmt.Sprintf("images of test session %s: %s", session, lost))
		d.env.Logf("session %s: not runnable, %s is missing", session, path)
		return false, nil
	}
	return true, nil
}

// NotRunnable records a pinned file that the run needs but the data directory lacks, with what
// could not be computed without it.
func (d *Data) NotRunnable(path, reason string) {
	d.res.NotRunnable = append(d.res.NotRunnable, d.env.MissingFile(path, reason))
}

// Images returns every image of a session, decoded once per run (uint8 NHWC, 112×112×3, the
// reference loader's pixels): as many as the session has responses (for a test session, as
// v4data.TestSessions says).
func (d *Data) Images(session string) (*imagezip.Images, error) {
	if im, ok := d.images[session]; ok {
		return im, nil
	}
	im, err := LoadImages(d.env.Data, session)
	if err != nil {
		return nil, err
	}
	d.images[session] = im
	return im, nil
}

// LoadImages decodes every image of a session as Data.Images does, without a run: as many as the
// session has responses (for a test session, as v4data.TestSessions says), 112×112×3.
func LoadImages(s *v4data.Store, session string) (*imagezip.Images, error) {
	n := 0
	if ts, ok := v4data.LookupTestSession(session); ok {
		n = ts.Images
	} else {
		avg, err := v4data.LoadAveraged(s, session)
		if err != nil {
			return nil, err
		}
		n = avg.M
	}
	im, err := v4data.LoadImages(s, session, n)
	if err != nil {
		return nil, err
	}
	if im.H != model.ImageSize || im.W != model.ImageSize || im.N != n {
		return nil, fmt.Errorf("images of %s: %d of %d×%d, want %d of %d×%d", session, im.N, im.H, im.W, n, model.ImageSize, model.ImageSize)
	}
	return im, nil
}

// Pixels returns images lo…hi−1 of a session.
func (d *Data) Pixels(session string, lo, hi int) ([]uint8, error) {
	im, err := d.Images(session)
	if err != nil {
		return nil, err
	}
	if lo < 0 || hi > im.N || lo >= hi {
		return nil, fmt.Errorf("images %d-%d of %s (%d images)", lo, hi, session, im.N)
	}
	px := im.H * im.W * 3
	return im.Pix[lo*px : hi*px], nil
}

func testSession(id string) (v4data.TestSession, error) {
	ts, ok := v4data.LookupTestSession(id)
	if !ok {
		return ts, fmt.Errorf("%s is not a test session (test sessions: %s)", id, testSessionIDs())
	}
	return ts, nil
}

func testSessionIDs() string {
	s := ""
	for i, t := range v4data.TestSessions {
		if i > 0 {
			s += ", "
		}
		s += t.ID
	}
	return s
}

// Responses are a session's recorded responses to images Lo…Hi−1 (0-based; image file
// image%04d.jpg of index k+1).
type Responses struct {
	Session string
	Lo, Hi  int
	// Averaged holds the repeat-averaged responses, [neuron][image].
	Averaged [][]float64
	// Raw holds the raw repeats of the same images, nil when the session's raw file is missing;
	// RawMissing then names that file.
	Raw        *metrics.Raw
	RawMissing *v4data.MissingError
}

// Neurons is the number of neurons.
func (r *Responses) Neurons() int { return len(r.Averaged) }

// Images is the number of images.
func (r *Responses) Images() int { return r.Hi - r.Lo }

// Neuron returns the responses of neuron n alone (as a Responses of one neuron, for Score).
func (r *Responses) Neuron(n int) (*Responses, error) {
	if n < 0 || n >= r.Neurons() {
		return nil, fmt.Errorf("session %s: neuron %d of %d", r.Session, n, r.Neurons())
	}
	out := &Responses{Session: r.Session, Lo: r.Lo, Hi: r.Hi, Averaged: r.Averaged[n : n+1], RawMissing: r.RawMissing}
	if r.Raw != nil {
		raw, err := r.Raw.Neurons(n, n+1)
		if err != nil {
			return nil, fmt.Errorf("session %s: %w", r.Session, err)
		}
		out.Raw = &raw
	}
	return out, nil
}

// Part selects which images of a session a score covers: the first half (images 0…M/2−1, which
// fit the teacher's mapping), the second (M/2…M−1, the evaluation half of reference/upstream.md
// §5.1) or all.
type Part string

// The parts of a session.
const (
	FirstHalf  Part = "first"
	SecondHalf Part = "second"
	AllImages  Part = "all"
)

// Range returns the images [lo, hi) of part for a session of m images.
func (p Part) Range(m int) (lo, hi int, err error) {
	switch p {
	case FirstHalf:
		return 0, m / 2, nil
	case SecondHalf:
		return m / 2, m, nil
	case AllImages:
		return 0, m, nil
	}
	return 0, 0, fmt.Errorf("part %q: want first, second or all", string(p))
}

// LoadResponses reads a session's responses to the images of part: the repeat-averaged file, and
// the raw repeats when present (else RawMissing names the file). The session may be any of the
// upstream repository's sessions.
func LoadResponses(s *v4data.Store, session string, part Part) (*Responses, error) {
	avg, err := v4data.LoadAveraged(s, session)
	if err != nil {
		return nil, err
	}
	lo, hi, err := part.Range(avg.M)
	if err != nil {
		return nil, err
	}
	r := &Responses{Session: session, Lo: lo, Hi: hi, Averaged: avg.Rows(lo, hi)}
	raw, err := v4data.LoadRaw(s, session)
	var me *v4data.MissingError
	switch {
	case errors.As(err, &me):
		r.RawMissing = me
	case err != nil:
		return nil, err
	default:
		if raw.N != avg.N || raw.M != avg.M {
			return nil, fmt.Errorf("session %s: raw responses (%d,%d,%d) do not match the repeat-averaged (%d,%d)", session, raw.N, raw.M, raw.R, avg.N, avg.M)
		}
		h := raw.Images(lo, hi)
		r.Raw = &metrics.Raw{N: h.N, M: h.M, R: h.R, Data: h.Data}
	}
	return r, nil
}

// EvalHalf returns the evaluation half of a test session (images M/2…M−1), checked against the
// session's neurons and images. It returns nil when the session's images are missing, and
// Responses without Raw when its raw repeats are; each missing file is recorded as not runnable
// with what lost says.
func (d *Data) EvalHalf(session string, lost Lost) (*Responses, error) {
	ts, err := testSession(session)
	if err != nil {
		return nil, err
	}
	if ok, err := d.HasImages(session, lost.Images); !ok || err != nil {
		return nil, err
	}
	r, err := LoadResponses(d.env.Data, session, SecondHalf)
	if err != nil {
		return nil, err
	}
	if r.Neurons() != ts.Neurons || r.Hi != ts.Images {
		return nil, fmt.Errorf("responses of %s: %d neurons × %d images, want %d × %d", session, r.Neurons(), r.Hi, ts.Neurons, ts.Images)
	}
	if r.RawMissing != nil {
		d.NotRunnable(r.RawMissing.Path, fmt.Sprintf("raw repeats of test session %s: %s", session, lost.Raw))
	}
	return r, nil
}
