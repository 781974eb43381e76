package v4data

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Store reads the files of one data directory (the upstream repository's layout), verifying
// each against the manifest before returning it. Successful verifications are remembered by
// path, size and modification time, so a file read twice is hashed once (a change to a file that
// keeps both its size and its modification time is therefore not noticed by the same Store; a new
// Store, or Verify, hashes again). A Store is safe for concurrent use.
type Store struct {
	dir string
	m   *Manifest

	mu       sync.Mutex
	verified map[string]stamp
}

// stamp identifies a version of a file on disk well enough to skip re-hashing it.
type stamp struct {
	size  int64
	mtime time.Time
}

func stampOf(fi fs.FileInfo) stamp { return stamp{fi.Size(), fi.ModTime()} }

// Open returns a Store over dir (as internal/datadir resolves it) and the pinned manifest.
func Open(dir string) (*Store, error) {
	m, err := Pinned()
	if err != nil {
		return nil, err
	}
	return OpenManifest(dir, m)
}

// OpenManifest returns a Store over dir and the given manifest.
func OpenManifest(dir string, m *Manifest) (*Store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("open data directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("open data directory: %s is not a directory", dir)
	}
	return &Store{dir: dir, m: m, verified: map[string]stamp{}}, nil
}

// Dir returns the data directory.
func (s *Store) Dir() string { return s.dir }

// Manifest returns the store's manifest.
func (s *Store) Manifest() *Manifest { return s.m }

// List returns the manifest paths that start with prefix, in manifest order, whether or not they
// are present (see Manifest.Prefix).
func (s *Store) List(prefix string) []string { return paths(s.m.Prefix(prefix)) }

// Match returns the manifest paths that match a path.Match pattern, such as
// "data_compact_models/models_keras/*.keras", in manifest order, whether or not they are present.
func (s *Store) Match(pattern string) ([]string, error) {
	es, err := s.m.Match(pattern)
	return paths(es), err
}

func paths(es []Entry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Path
	}
	return out
}

// A MissingError reports a manifest file that is absent from the data directory.
type MissingError struct {
	Entry
	Dir string
	// Profiles lists the profiles that need the file (see ProfilesNeeding).
	Profiles []string
}

// Error names the file, its SHA-1 and size, the profiles that need it, and how to get it.
func (e *MissingError) Error() string {
	size := "size unknown"
	if e.SizeKnown() {
		size = fmt.Sprintf("%d bytes", e.Size)
	}
	need := "no profile"
	if len(e.Profiles) > 0 {
		need = "profile " + strings.Join(e.Profiles, " and ")
	}
	return fmt.Sprintf("data file %s (git blob %s, %s) is missing from %s; %s needs it. To get it, %s",
		e.Path, e.SHA1, size, e.Dir, need, howToGet(e.Entry, e.Profiles, e.Dir))
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) hold.
func (e *MissingError) Unwrap() error { return fs.ErrNotExist }

// A CorruptError reports a file whose content does not hash to its manifest SHA-1.
type CorruptError struct {
	Entry
	Dir     string
	GotSHA1 string
	GotSize int64
	// Profiles lists the profiles that need the file.
	Profiles []string
}

// Error names the file, the expected and actual SHA-1, and how to re-fetch it.
func (e *CorruptError) Error() string {
	detail := fmt.Sprintf("git blob SHA-1 is %s, the manifest expects %s", e.GotSHA1, e.SHA1)
	if e.SizeKnown() && e.GotSize != e.Size {
		detail += fmt.Sprintf(" (size %d bytes, expected %d)", e.GotSize, e.Size)
	}
	return fmt.Sprintf("data file %s in %s is corrupt: %s. To re-fetch it, %s",
		e.Path, e.Dir, detail, howToGet(e.Entry, e.Profiles, e.Dir))
}

// ErrNotInManifest is returned (wrapped) for a path that the manifest does not list.
var ErrNotInManifest = errors.New("not a file of the pinned manifest")

// howToGet is the actionable part of a missing/corrupt message.
func howToGet(e Entry, profiles []string, dir string) string {
	data := ""
	if dir != "" {
		data = " -data " + dir
	}
	cmd := "go run ./harness/cmd/replicate data fetch -profile full" + data
	if len(profiles) > 0 && profiles[0] == ProfileQuick {
		return fmt.Sprintf("run `make data` (fetches the quick profile) or `go run ./harness/cmd/replicate data fetch -profile quick%s`, or download %s", data, e.URL(""))
	}
	return fmt.Sprintf("run `%s` (every data file; corrupt files are re-downloaded), or download %s", cmd, e.URL(""))
}

// entry looks up rel, refusing paths the manifest does not list.
func (s *Store) entry(rel string) (Entry, error) {
	e, ok := s.m.Lookup(rel)
	if !ok {
		return Entry{}, fmt.Errorf("data file %q: %w (%s at %.7s); paths are slash-separated and relative to the data directory", rel, ErrNotInManifest, Repository, Commit)
	}
	return e, nil
}

func (s *Store) osPath(e Entry) string { return filepath.Join(s.dir, filepath.FromSlash(e.Path)) }

func (s *Store) missing(e Entry) error {
	return &MissingError{Entry: e, Dir: s.dir, Profiles: s.m.ProfilesNeeding(e.Path)}
}

func (s *Store) corrupt(e Entry, got string, size int64) error {
	return &CorruptError{Entry: e, Dir: s.dir, GotSHA1: got, GotSize: size, Profiles: s.m.ProfilesNeeding(e.Path)}
}

// isVerified reports whether the file was verified with this stamp.
func (s *Store) isVerified(rel string, st stamp) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verified[rel]
	return ok && v.size == st.size && v.mtime.Equal(st.mtime)
}

// Verified returns the manifest entries of every file this store has verified so far, sorted by
// path: the inputs of whatever read through it.
func (s *Store) Verified() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Entry, 0, len(s.verified))
	for rel := range s.verified {
		if e, ok := s.m.Lookup(rel); ok {
			out = append(out, e)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

func (s *Store) remember(rel string, st stamp) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified[rel] = st
}

// openEntry opens the file of e and stats it, with a MissingError when it is absent.
func (s *Store) openEntry(e Entry) (*os.File, fs.FileInfo, error) {
	f, err := os.Open(s.osPath(e))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, s.missing(e)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("data file %s: %w", e.Path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("data file %s: %w", e.Path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, nil, fmt.Errorf("data file %s in %s is not a regular file (%v)", e.Path, s.dir, fi.Mode().Type())
	}
	return f, fi, nil
}

// ReadFile returns the content of a data file after checking that it hashes to its manifest
// SHA-1. rel is the file's manifest path (slash-separated, relative to the data directory). The
// error is a *MissingError or *CorruptError saying what to do, or wraps ErrNotInManifest. The
// bytes returned are the bytes verified: the check is on the content read, not on a re-read.
func (s *Store) ReadFile(rel string) ([]byte, error) {
	e, err := s.entry(rel)
	if err != nil {
		return nil, err
	}
	f, fi, err := s.openEntry(e)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st := stampOf(fi)
	var buf bytes.Buffer
	if fi.Size() < 1<<31 {
		buf.Grow(int(fi.Size()) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(f); err != nil {
		return nil, fmt.Errorf("read data file %s: %w", e.Path, err)
	}
	b := buf.Bytes()
	if int64(len(b)) == st.size && s.isVerified(rel, st) {
		return b, nil
	}
	if got := BlobSHA1Bytes(b); got != e.SHA1 {
		return nil, s.corrupt(e, got, int64(len(b)))
	}
	if int64(len(b)) == st.size {
		s.remember(rel, st)
	}
	return b, nil
}

// verify checks the file of e (hashing it unless the cache vouches for its stamp) and returns
// the stamp it verified.
func (s *Store) verify(e Entry) (stamp, error) {
	f, fi, err := s.openEntry(e)
	if err != nil {
		return stamp{}, err
	}
	defer f.Close()
	st := stampOf(fi)
	if s.isVerified(e.Path, st) {
		return st, nil
	}
	got, size, err := blobSHA1Sized(f, st.size)
	if err != nil {
		return stamp{}, fmt.Errorf("data file %s: %w", e.Path, err)
	}
	if got != e.SHA1 {
		return stamp{}, s.corrupt(e, got, size)
	}
	s.remember(e.Path, st)
	return st, nil
}

// Open verifies a data file and returns it open for reading, for readers that want an
// io.ReaderAt or a stream rather than the whole content in memory. It fails if the file changed
// (size or modification time) between verification and opening. The caller closes the file.
func (s *Store) Open(rel string) (*os.File, error) {
	e, err := s.entry(rel)
	if err != nil {
		return nil, err
	}
	st, err := s.verify(e)
	if err != nil {
		return nil, err
	}
	f, fi, err := s.openEntry(e)
	if err != nil {
		return nil, err
	}
	if now := stampOf(fi); now.size != st.size || !now.mtime.Equal(st.mtime) {
		f.Close()
		return nil, fmt.Errorf("data file %s changed while it was verified; retry", e.Path)
	}
	return f, nil
}

// Path verifies a data file and returns its path in the file system, for code that must open
// the file by name. Prefer ReadFile or Open, which cannot race with a change to the file.
func (s *Store) Path(rel string) (string, error) {
	e, err := s.entry(rel)
	if err != nil {
		return "", err
	}
	if _, err := s.verify(e); err != nil {
		return "", err
	}
	return s.osPath(e), nil
}

// Has reports whether the manifest lists rel and the data directory holds it, valid. It hashes
// the file unless the store verified it before; the error of ReadFile or Path says why not.
func (s *Store) Has(rel string) bool {
	e, err := s.entry(rel)
	if err != nil {
		return false
	}
	_, err = s.verify(e)
	return err == nil
}
