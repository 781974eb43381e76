package v4data

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"compactv4/internal/pinfetch"
)

// Options configure Fetch. Only Dir is required.
type Options struct {
	// Dir is the data directory to fill; it is created if absent.
	Dir string
	// Profile names the files to fetch (see ProfileFiles); "" means ProfileQuick.
	Profile string
	// Manifest lists the files and their hashes; nil means Pinned().
	Manifest *Manifest
	// BaseURL is the mirror: file p is downloaded from <BaseURL>/<p>; "" means DefaultBaseURL.
	BaseURL string
	// Parallel bounds the number of files handled at once; 0 means 4.
	Parallel int
	// Retries is how many times a transient failure (network error, truncated body, stalled
	// body, HTTP 408, 429 or 5xx) is retried; 0 means 4, negative means never. Other failures
	// (404, 403, a body that does not hash to the manifest's SHA-1) are not retried.
	Retries int
	// Backoff is the delay before the first retry; it doubles each retry up to MaxBackoff, and
	// each delay is drawn uniformly from [d/2, d] (jitter). 0 means 1s; MaxBackoff 0 means 30s.
	// A Retry-After header of a 429/503 answer lengthens the delay, up to MaxBackoff.
	Backoff, MaxBackoff time.Duration
	// Seed seeds the jitter, so that a run's delays are reproducible.
	Seed uint64
	// StallTimeout fails an attempt (transiently) when no byte of a body arrives for that long;
	// 0 means 60s.
	StallTimeout time.Duration
	// Client makes the requests; nil means a client with a 60s response-header timeout.
	Client *http.Client
	// Progress, when not nil, receives a line per downloaded, retried or failed file and a final
	// summary line. Pass nil to be quiet.
	Progress io.Writer
}

// Summary is what Fetch did.
type Summary struct {
	// Profile is the profile fetched.
	Profile string
	pinfetch.Summary
}

// Failure is a file that Fetch could not fetch.
type Failure = pinfetch.Failure

// A CorruptDownloadError reports a downloaded body that does not hash to the manifest's SHA-1 (or
// is longer than the manifest's size). The body was discarded, never moved into place.
type CorruptDownloadError = pinfetch.CorruptDownloadError

// An HTTPStatusError is a non-200 answer.
type HTTPStatusError = pinfetch.HTTPStatusError

// Fetch downloads every file of a profile that is missing or corrupt in opts.Dir from the mirror,
// opts.Parallel files at a time, through internal/pinfetch: files already present and valid are
// not requested, and a body is moved into place only when its git blob SHA-1 (and size, when the
// manifest records it) match the manifest, so a file at a manifest path is never a partial or
// unverified download.
//
// The error is nil when every file is valid at the end; otherwise it names each failed file
// (Summary.Failed has the same list), or wraps ctx.Err() when ctx was cancelled.
func Fetch(ctx context.Context, opts Options) (Summary, error) {
	m := opts.Manifest
	if m == nil {
		var err error
		if m, err = Pinned(); err != nil {
			return Summary{}, err
		}
	}
	profile := opts.Profile
	if profile == "" {
		profile = ProfileQuick
	}
	sum := Summary{Profile: profile}
	entries, err := m.ProfileFiles(profile)
	if err != nil {
		return sum, fmt.Errorf("fetch: %w", err)
	}
	sum.Files = len(entries)
	if opts.Dir == "" {
		return sum, fmt.Errorf("fetch: no data directory given")
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	base = strings.TrimRight(base, "/")
	files := make([]pinfetch.File, len(entries))
	for i, e := range entries {
		files[i] = pinfetch.File{Path: e.Path, URL: e.URL(base), SHA1: e.SHA1, Hash: pinfetch.GitBlobSHA1, Size: e.Size}
	}
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "fetch: %d files of profile %s into %s from %s\n", len(files), profile, opts.Dir, base)
	}
	sum.Summary, err = pinfetch.Fetch(ctx, files, pinfetch.Options{
		Dir:             opts.Dir,
		Source:          "the mirror " + base,
		UnreachableHint: ", or fetch from another mirror with -base-url",
		UserAgent:       "compactv4-replicate/1 (+" + Repository + " data fetch)",
		Parallel:        opts.Parallel,
		Retries:         opts.Retries,
		Backoff:         opts.Backoff,
		MaxBackoff:      opts.MaxBackoff,
		Seed:            opts.Seed,
		StallTimeout:    opts.StallTimeout,
		Client:          opts.Client,
		Progress:        opts.Progress,
	})
	return sum, err
}
