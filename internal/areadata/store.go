package areadata

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"compactv4/internal/pinfetch"
)

// ErrUnknownFile is returned (wrapped) for a path that is not a pinned file.
var ErrUnknownFile = errors.New("not a pinned area data file")

// A MissingError reports a pinned file absent from the area data directory: the data set that
// needs it is not runnable.
type MissingError struct {
	File
	Dir string
}

// Error names the file, its hash and where it comes from, and how to get it.
func (e *MissingError) Error() string {
	return fmt.Sprintf("not runnable: %s data file %s is missing from %s; it comes from %s. %s",
		e.Dataset, e.Path, e.Dir, e.Source(), howToGet(e.File, e.Dir))
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) hold.
func (e *MissingError) Unwrap() error { return fs.ErrNotExist }

// A CorruptError reports a pinned file whose SHA-1 is not the published one.
type CorruptError struct {
	File
	Dir     string
	GotSHA1 string
}

// Error names the file, both hashes and how to re-fetch it.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("not runnable: %s data file %s in %s is corrupt: SHA-1 %s, published %s. %s",
		e.Dataset, e.Path, e.Dir, e.GotSHA1, e.SHA1, howToGet(e.File, e.Dir))
}

// howToGet is the actionable part of a missing or corrupt message.
func howToGet(f File, dir string) string {
	if f.URL == "" {
		return fmt.Sprintf("Download %s, unzip it and copy %s to %s (licence: %s).",
			f.Archive, f.Member, filepath.Join(dir, filepath.FromSlash(f.Path)), f.Licence)
	}
	return fmt.Sprintf("Run `go run ./harness/cmd/replicate data areas -fetch -set %s -data %s`, or download it and save it as %s (licence: %s).",
		f.Dataset, dir, filepath.Join(dir, filepath.FromSlash(f.Path)), f.Licence)
}

// Store reads the pinned files of one area data directory, verifying each published SHA-1 every
// time a file is opened. A Store is safe for concurrent use.
type Store struct {
	dir string

	mu         sync.Mutex
	unverified map[string]bool
}

// Open returns a Store over dir, which must exist.
func Open(dir string) (*Store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open area data directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open area data directory: %s is not a directory", dir)
	}
	return &Store{dir: dir, unverified: map[string]bool{}}, nil
}

// Dir returns the area data directory.
func (s *Store) Dir() string { return s.dir }

// Path checks a pinned file and returns its path in the file system: the error is a
// *MissingError or *CorruptError saying what to do, or wraps ErrUnknownFile. A file without a
// published SHA-1 is returned unchecked and listed by Unverified.
func (s *Store) Path(rel string) (string, error) {
	f, ok := Lookup(rel)
	if !ok {
		return "", fmt.Errorf("area data file %q: %w", rel, ErrUnknownFile)
	}
	name := filepath.Join(s.dir, filepath.FromSlash(f.Path))
	if !f.Pinned() {
		fi, err := os.Stat(name)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return "", &MissingError{File: f, Dir: s.dir}
		case err != nil:
			return "", fmt.Errorf("area data file %s: %w", f.Path, err)
		case !fi.Mode().IsRegular():
			return "", fmt.Errorf("area data file %s in %s is not a regular file (%v)", f.Path, s.dir, fi.Mode().Type())
		}
		s.mu.Lock()
		s.unverified[f.Path] = true
		s.mu.Unlock()
		return name, nil
	}
	got, _, err := pinfetch.PlainSHA1.File(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", &MissingError{File: f, Dir: s.dir}
	case err != nil:
		return "", fmt.Errorf("area data file %s: %w", f.Path, err)
	case got != f.SHA1:
		return "", &CorruptError{File: f, Dir: s.dir, GotSHA1: got}
	}
	return name, nil
}

// Unverified returns the paths of the files without a published SHA-1 that this store handed
// out, sorted.
func (s *Store) Unverified() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.unverified))
	for p := range s.unverified {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// NotRunnable checks every file of a data set and returns one error per file that is missing or
// corrupt, in pinned order; an empty result means the data set is runnable.
func (s *Store) NotRunnable(dataset string) []error {
	var errs []error
	for _, f := range Dataset(dataset) {
		if _, err := s.Path(f.Path); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// Fetch downloads the files (normally Dataset(name)) that are missing or corrupt in opts.Dir from
// their URLs, each verified against its published SHA-1 before it is renamed into place (see
// internal/pinfetch, whose options apply). A file without a published SHA-1 or served only
// inside an archive (Cadena et al.'s pickle) is not downloaded: it is reported as a failure that
// says how to get it by hand.
func Fetch(ctx context.Context, files []File, opts pinfetch.Options) (pinfetch.Summary, error) {
	var fetchable []pinfetch.File
	var manual []pinfetch.Failure
	for _, f := range files {
		if !f.Pinned() || f.URL == "" {
			manual = append(manual, pinfetch.Failure{Path: f.Path, Err: fmt.Errorf("cannot be fetched: it comes from %s. %s", f.Source(), howToGet(f, opts.Dir))})
			continue
		}
		fetchable = append(fetchable, f.pinfetchFile())
	}
	if opts.Source == "" {
		opts.Source = "the data publishers"
	}
	var sum pinfetch.Summary
	var err error
	if len(fetchable) > 0 {
		sum, err = pinfetch.Fetch(ctx, fetchable, opts)
	}
	if len(manual) == 0 {
		return sum, err
	}
	sum.Files += len(manual)
	sum.Failed = append(sum.Failed, manual...)
	var b strings.Builder
	fmt.Fprintf(&b, "fetch: %d file(s) cannot be fetched:", len(manual))
	for _, m := range manual {
		fmt.Fprintf(&b, "\n  %s: %v", m.Path, m.Err)
	}
	if err != nil {
		return sum, fmt.Errorf("%w\n%s", err, b.String())
	}
	return sum, errors.New(b.String())
}
