package v4data

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"compactv4/internal/imagezip"
	"compactv4/internal/npy"
)

// TestSessions are the four held-out sessions whose neurons have compact models, in the order
// of the upstream class_neural_data_test (isession 0-3) and of the shared models' outputs
// (reference/upstream.md §2.1, §4.6).
var TestSessions = []TestSession{
	{ID: "190923", Images: 1200, Neurons: 33, Offset: 0},
	{ID: "201025", Images: 1200, Neurons: 89, Offset: 33},
	{ID: "210225", Images: 1200, Neurons: 55, Offset: 122},
	{ID: "211022", Images: 1600, Neurons: 42, Offset: 177},
}

// QuickSession is the test session of the quick profile: the only one whose images are in every
// copy of the data, the project's local copy included (ProfileQuick lists its files).
var QuickSession = TestSessions[0]

// TestSessionIDs returns the ids of the test sessions, in TestSessions order.
func TestSessionIDs() []string {
	out := make([]string, len(TestSessions))
	for i, t := range TestSessions {
		out[i] = t.ID
	}
	return out
}

// SharedOutputs is the number of outputs of a shared compact model: the test neurons of all four
// test sessions, concatenated in TestSessions order.
const SharedOutputs = 219

// TestSession describes a held-out session.
type TestSession struct {
	ID      string
	Images  int // M
	Neurons int // N
	Offset  int // index of its first neuron among the 219 shared-model outputs
}

// Half is the first image of the evaluation half: images 0…Half−1 trained the teacher's linear
// mapping, images Half…M−1 evaluate (reference/upstream.md §5.1, `int(M/2)`).
func (t TestSession) Half() int { return t.Images / 2 }

// LookupTestSession returns the test session with the given id.
func LookupTestSession(id string) (TestSession, bool) {
	for _, t := range TestSessions {
		if t.ID == id {
			return t, true
		}
	}
	return TestSession{}, false
}

// SynthImages returns the images first…end−1 (0-based) of a session that upstream's training
// class leaves out of the ensemble's training data as synthesized images
// (class_neural_data_train inds_imgs, "avoids synth": images 601-900 of sessions
// 190924-190929, reference/upstream.md §2.1), and first = end = 0 for every other session.
func SynthImages(session string) (first, end int) {
	if session >= "190924" && session <= "190929" && len(session) == 6 {
		return 600, 900
	}
	return 0, 0
}

// Paths of a session's files in the upstream layout.
func AveragedPath(session string) string {
	return "data_V4_responses/responses_repeat_averaged/responses_" + session + ".npy"
}

// RawPath is the path of a session's raw (per-repeat) responses.
func RawPath(session string) string {
	return "data_V4_responses/responses_raw/responses_" + session + ".npy"
}

// ImagesPath is the path of a session's image archive.
func ImagesPath(session string) string {
	return "data_V4_responses/images/images_" + session + ".zip"
}

// Averaged holds repeat-averaged responses: N neurons × M images, row-major, float64.
type Averaged struct {
	Session string
	N, M    int
	Data    []float64
}

// Row returns neuron n's responses to all images.
func (a *Averaged) Row(n int) []float64 { return a.Data[n*a.M : (n+1)*a.M] }

// Rows returns the responses of every neuron to images lo…hi−1 as [neuron][image] (copies).
func (a *Averaged) Rows(lo, hi int) [][]float64 {
	out := make([][]float64, a.N)
	for n := range out {
		out[n] = append([]float64(nil), a.Row(n)[lo:hi]...)
	}
	return out
}

// Raw holds per-repeat responses: N neurons × M images × R repeat slots, row-major, float64 spike
// counts with NaN in unused (trailing) slots.
type Raw struct {
	Session string
	N, M, R int
	Data    []float64
}

// readResponses reads the float64 array of the store's file rel and checks that it has the
// dimensions named by dims, one name for each, as "(neurons, images)".
func readResponses(s *Store, rel, dims string) ([]int, []float64, error) {
	b, err := s.ReadFile(rel)
	if err != nil {
		return nil, nil, err
	}
	shape, data, err := npy.ReadFloat64(bytes.NewReader(b))
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", rel, err)
	}
	if len(shape) != strings.Count(dims, ",")+1 {
		return nil, nil, fmt.Errorf("read %s: shape %v, want %s", rel, shape, dims)
	}
	return shape, data, nil
}

// LoadAveraged reads a session's repeat-averaged responses (reference/upstream.md §2.1) and checks them: 2-D, no
// NaN or infinity.
func LoadAveraged(s *Store, session string) (*Averaged, error) {
	rel := AveragedPath(session)
	shape, data, err := readResponses(s, rel, "(neurons, images)")
	if err != nil {
		return nil, err
	}
	for i, v := range data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("read %s: value %d is %v", rel, i, v)
		}
	}
	return &Averaged{Session: session, N: shape[0], M: shape[1], Data: data}, nil
}

// LoadRaw reads a session's raw responses (reference/upstream.md §2.1) and checks them: 3-D, finite
// non-negative counts, NaN only in trailing repeat slots, and at least one repeat per image.
func LoadRaw(s *Store, session string) (*Raw, error) {
	rel := RawPath(session)
	shape, data, err := readResponses(s, rel, "(neurons, images, repeats)")
	if err != nil {
		return nil, err
	}
	r := &Raw{Session: session, N: shape[0], M: shape[1], R: shape[2], Data: data}
	for n := 0; n < r.N; n++ {
		for i := 0; i < r.M; i++ {
			slots := r.Data[(n*r.M+i)*r.R : (n*r.M+i+1)*r.R]
			valid := 0
			for k, v := range slots {
				switch {
				case math.IsNaN(v):
				case math.IsInf(v, 0) || v < 0:
					return nil, fmt.Errorf("read %s: neuron %d image %d repeat %d is %v", rel, n, i, k, v)
				case k != valid:
					return nil, fmt.Errorf("read %s: neuron %d image %d has a repeat after an empty slot", rel, n, i)
				default:
					valid++
				}
			}
			if valid == 0 {
				return nil, fmt.Errorf("read %s: neuron %d image %d has no repeat", rel, n, i)
			}
		}
	}
	return r, nil
}

// Images returns the repeat slots of images lo…hi−1 (a copy).
func (r *Raw) Images(lo, hi int) *Raw {
	out := &Raw{Session: r.Session, N: r.N, M: hi - lo, R: r.R, Data: make([]float64, 0, r.N*(hi-lo)*r.R)}
	for n := 0; n < r.N; n++ {
		out.Data = append(out.Data, r.Data[(n*r.M+lo)*r.R:(n*r.M+hi)*r.R]...)
	}
	return out
}

// LoadImages decodes a session's images (reference/upstream.md §2.1, §3.1) as uint8 NHWC with the pixels of the
// reference loader (PIL/libjpeg-turbo). n is the number of images expected (from the responses
// file); n <= 0 takes image0001.jpg up to the last consecutive index.
func LoadImages(s *Store, session string, n int) (*imagezip.Images, error) {
	rel := ImagesPath(session)
	f, err := s.Open(rel)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	im, err := imagezip.Read(f, st.Size(), n)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", rel, err)
	}
	return im, nil
}
