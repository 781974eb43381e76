package v4data

import (
	"fmt"
	"path"
	"strings"
)

// The profiles of the suite (README.md, "Data").
const (
	// ProfileQuick is a fixed, named subset of the data that the local data copy
	// ../shared/v4data also holds, so that its results are the same for everyone.
	ProfileQuick = "quick"
	// ProfileFull is every data file of the manifest (see IsDataPath).
	ProfileFull = "full"
)

// Profiles returns the profile names, smallest first.
func Profiles() []string { return []string{ProfileQuick, ProfileFull} }

// quickFiles is THE list of the quick profile: each line is a manifest path or a path.Match
// pattern ('*' does not cross '/'), with the reason it is there. Every pattern must match at
// least one file and every file it matches must be in the local data copy (in_shared_copy=yes);
// TestQuickProfile checks both and compares the expanded list with testdata/quick_files.golden
// (refresh with `go test ./internal/v4data -run TestQuickProfile -update` after adding a line,
// and review the diff). Add lines here only; keep the reason.
var quickFiles = []struct{ pattern, why string }{
	{"README.md", "upstream overview"},
	{"LICENSE", "licence of the data"},
	{"data_*/readme.txt", "format notes of every data folder"},
	{"data_ensemble_model/ensemble_model_summary.txt", "ensemble architecture (the members are not in the local copy)"},
	// Repeat-averaged responses: the four test sessions (211022's images are not in the local
	// copy, but its responses are), the validation session, and the Bashivan-image session.
	{"data_V4_responses/responses_repeat_averaged/responses_190923.npy", "test session"},
	{"data_V4_responses/responses_repeat_averaged/responses_201025.npy", "test session"},
	{"data_V4_responses/responses_repeat_averaged/responses_210225.npy", "test session"},
	{"data_V4_responses/responses_repeat_averaged/responses_211022.npy", "test session"},
	{"data_V4_responses/responses_repeat_averaged/responses_210224.npy", "validation session"},
	{"data_V4_responses/responses_repeat_averaged/responses_210325.npy", "Bashivan-image session"},
	// The only raw (per-repeat) responses in the local copy.
	{"data_V4_responses/responses_raw/responses_201016.npy", "raw repeats (training session)"},
	{"data_V4_responses/responses_raw/responses_210325.npy", "raw repeats (Bashivan-image session)"},
	{"data_V4_responses/images/images_190923.zip", "test-session images"},
	{"data_V4_responses/images/images_210325.zip", "Bashivan-session images (pairs with its raw responses)"},
	// All 219 compact models in every format that the local copy holds.
	{"data_compact_models/models_keras/*", "compact models, Keras 3 .keras"},
	{"data_compact_models/model_weights_h5/*", "compact models, Keras 3 .weights.h5"},
	{"data_compact_models/model_weights_npy/*", "compact models, pickled numpy weights"},
	{"data_compact_models/models_torch/*", "compact models, PyTorch .pt"},
	{"data_compact_models/nums_filters/*", "compact models, filters per layer"},
	{"data_compact_models/model_summaries/*", "compact models, Keras summaries"},
	// Shared compact models of every teacher at three widths.
	{"data_shared_compact_models/*/shared_compact_model_5filters.keras", "shared models, K=5"},
	{"data_shared_compact_models/*/shared_compact_model_50filters.keras", "shared models, K=50"},
	{"data_shared_compact_models/*/shared_compact_model_200filters.keras", "shared models, K=200"},
}

// ProfileFiles returns the files of a profile in the pinned manifest (see Manifest.ProfileFiles).
func ProfileFiles(profile string) ([]Entry, error) {
	m, err := Pinned()
	if err != nil {
		return nil, err
	}
	return m.ProfileFiles(profile)
}

// ProfilesNeeding returns the profiles of the pinned manifest that include the path, smallest
// first; nil when no profile does (code files, or paths not in the manifest).
func ProfilesNeeding(p string) []string {
	m, err := Pinned()
	if err != nil {
		return nil
	}
	return m.ProfilesNeeding(p)
}

// ProfileFiles returns the files of a profile, in manifest order: for ProfileFull every data
// file, for ProfileQuick the files named by the quick list. It fails for an unknown profile, and
// for ProfileQuick when a line of the quick list matches no file of m (the profile never
// silently shrinks).
func (m *Manifest) ProfileFiles(profile string) ([]Entry, error) {
	switch profile {
	case ProfileFull:
		return m.DataFiles(), nil
	case ProfileQuick:
		return m.expandQuick()
	}
	return nil, fmt.Errorf("unknown profile %q (want %s)", profile, strings.Join(Profiles(), " or "))
}

// ProfilesNeeding returns the profiles that include the path, smallest first.
func (m *Manifest) ProfilesNeeding(p string) []string {
	e, ok := m.Lookup(p)
	if !ok || !e.IsData() {
		return nil
	}
	var out []string
	if m.inQuick(p) {
		out = append(out, ProfileQuick)
	}
	return append(out, ProfileFull)
}

func (m *Manifest) inQuick(p string) bool {
	if !IsDataPath(p) {
		return false
	}
	for _, q := range quickFiles {
		if ok, _ := path.Match(q.pattern, p); ok {
			return true
		}
	}
	return false
}

func (m *Manifest) expandQuick() ([]Entry, error) {
	for _, q := range quickFiles {
		found, err := m.Match(q.pattern)
		if err != nil {
			return nil, fmt.Errorf("quick profile: %w", err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("quick profile: %q (%s) matches no file of the manifest", q.pattern, q.why)
		}
	}
	var out []Entry
	for _, e := range m.entries {
		if m.inQuick(e.Path) {
			out = append(out, e)
		}
	}
	return out, nil
}
