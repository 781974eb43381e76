package distimages

import (
	"fmt"
	"path"
	"strings"

	"compactv4/eval"
	"compactv4/internal/v4data"
)

// imagesGlob matches the image archives of every session in the manifest.
const imagesGlob = "data_V4_responses/images/images_*.zip"

// Load makes a Set of every session whose image archive the data directory holds (in manifest
// order), without the evaluation half (images M/2…M−1, reference/upstream.md §5.1) of each test
// session, the test sessions marked Test, and, with cfg.LeaveOutSynth, without the synthesized
// images that upstream's training class leaves out (v4data.SynthImages). It also returns the
// sessions of the manifest whose archives are absent.
func Load(s *v4data.Store, cfg Config) (set *Set, absent []string, err error) {
	zips, err := s.Match(imagesGlob)
	if err != nil {
		return nil, nil, err
	}
	var sessions []Session
	for _, z := range zips {
		id := strings.TrimSuffix(strings.TrimPrefix(path.Base(z), "images_"), ".zip")
		if _, err := s.Path(z); err != nil {
			if eval.IsMissing(err) {
				absent = append(absent, id)
				continue
			}
			return nil, nil, err
		}
		im, err := eval.LoadImages(s, id)
		if err != nil {
			return nil, nil, fmt.Errorf("distillation images: %w", err)
		}
		ss := Session{ID: id, Images: im}
		if ts, ok := v4data.LookupTestSession(id); ok {
			half := ts.Half()
			ss.Exclude = func(k int) bool { return k >= half }
			ss.Test = true
		} else if first, end := v4data.SynthImages(id); end > first && cfg.LeaveOutSynth {
			ss.Exclude = func(k int) bool { return k >= first && k < end }
		}
		sessions = append(sessions, ss)
	}
	if len(sessions) == 0 {
		return nil, absent, fmt.Errorf("distillation images: the data directory %s holds none of the %d image archives (%s)", s.Dir(), len(zips), imagesGlob)
	}
	set, err = New(sessions, cfg)
	return set, absent, err
}
