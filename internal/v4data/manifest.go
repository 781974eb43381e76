// Package v4data gives access to the public data of github.com/cowleygroup/V4_compact_models at
// the pinned commit, and guarantees that every byte the suite uses is the published byte.
//
// The manifest (manifest.go) lists every upstream file with its git blob SHA-1. A Store
// (store.go) reads files of a data directory and verifies each against the manifest before
// returning it. Profiles (profiles.go) name the file sets the suite runs on. Verify (verify.go)
// checks a whole data directory, and Fetch (fetch.go) downloads missing or corrupt files, verifying
// each before it is moved into place. The data format readers of the suite read through a Store.
package v4data

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"compactv4/reference"
)

// Repository is the upstream repository whose files the manifest lists.
const Repository = "github.com/cowleygroup/V4_compact_models"

// Commit is the upstream commit the manifest pins (2025-03-07, "Update README.md").
const Commit = "f4552ad9d34a466ebc66658f72a08a8e5038f1cf"

// DefaultBaseURL is where Fetch downloads files from: <DefaultBaseURL>/<path>.
const DefaultBaseURL = "https://raw.githubusercontent.com/cowleygroup/V4_compact_models/" + Commit

// UnknownSize is the Size of an Entry whose size the manifest does not record.
const UnknownSize int64 = -1

// ManifestHeader is the first line of a manifest file.
const ManifestHeader = "path\tgit_blob_sha1\tsize_bytes\tin_shared_copy"

// maxManifestLine bounds a manifest line; real lines are under 150 bytes.
const maxManifestLine = 4096

// Entry is one file of the manifest.
type Entry struct {
	// Path is the file's slash-separated path relative to the repository root.
	Path string
	// SHA1 is the git blob SHA-1 of the file, sha1("blob <size>\x00" + content), in lowercase hex.
	SHA1 string
	// Size is the file's size in bytes, or UnknownSize.
	Size int64
	// InSharedCopy reports whether the local data copy ../shared/v4data holds the file.
	InSharedCopy bool
}

// IsData reports whether the entry is a data file (see IsDataPath).
func (e Entry) IsData() bool { return IsDataPath(e.Path) }

// SizeKnown reports whether the manifest records the entry's size.
func (e Entry) SizeKnown() bool { return e.Size != UnknownSize }

// URL returns the entry's download address below base, or below DefaultBaseURL when base is empty.
func (e Entry) URL(base string) string {
	if base == "" {
		base = DefaultBaseURL
	}
	parts := strings.Split(e.Path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.TrimRight(base, "/") + "/" + strings.Join(parts, "/")
}

// sizeString is the entry's size as the manifest writes it.
func (e Entry) sizeString() string {
	if !e.SizeKnown() {
		return "unknown"
	}
	return strconv.FormatInt(e.Size, 10)
}

// IsDataPath reports whether a manifest path is data rather than code: README.md, LICENSE, and
// every file below a top-level folder whose name starts with "data_". The Python code of the
// upstream repository (classes/, code_*/, script*.py) is not data.
func IsDataPath(p string) bool {
	if p == "README.md" || p == "LICENSE" {
		return true
	}
	top, rest, ok := strings.Cut(p, "/")
	return ok && rest != "" && strings.HasPrefix(top, "data_")
}

// A ParseError reports a malformed manifest, with the 1-based line (or, from NewManifest, entry
// index plus 2, as if the entries had been written below a header) where it was found.
type ParseError struct {
	Line int
	Err  error
}

// Error gives the line and the problem.
func (e *ParseError) Error() string { return fmt.Sprintf("manifest line %d: %v", e.Line, e.Err) }

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// Manifest is a parsed, validated file list: unique clean paths, each with a well-formed git blob
// SHA-1. Its methods return entries in file order. A Manifest is immutable and safe for
// concurrent use.
type Manifest struct {
	entries []Entry
	index   map[string]int
}

// ParseManifest reads a manifest in the format of reference/manifest.tsv: the header line
// ManifestHeader, then one line per file with four tab-separated fields (path, git_blob_sha1,
// size_bytes as a decimal number or "unknown", in_shared_copy as "yes" or "no"), each line ending
// in "\n" (the last one may omit it). It is strict: a malformed row, a path that is not clean and
// relative, a duplicate path, a path that is both a file and a folder, a SHA-1 that is not 40
// lowercase hex digits, a bad size, CRLF line endings or an empty list give a *ParseError.
func ParseManifest(r io.Reader) (*Manifest, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 512), maxManifestLine)
	sc.Split(scanLinesStrict)
	var entries []Entry
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if strings.Contains(line, "\r") {
			return nil, &ParseError{lineNo, errors.New(`carriage return in line (CRLF line endings?); the manifest uses "\n"`)}
		}
		if lineNo == 1 {
			if line != ManifestHeader {
				return nil, &ParseError{lineNo, fmt.Errorf("header is %q, want %q", clip(line), ManifestHeader)}
			}
			continue
		}
		e, err := parseRow(line)
		if err != nil {
			return nil, &ParseError{lineNo, err}
		}
		entries = append(entries, e)
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ParseError{lineNo + 1, fmt.Errorf("line longer than %d bytes", maxManifestLine)}
		}
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	if lineNo == 0 {
		return nil, &ParseError{1, errors.New("empty manifest: no header")}
	}
	return newManifest(entries)
}

// scanLinesStrict is bufio.ScanLines without its removal of "\r", so that ParseManifest can
// reject CRLF files instead of silently accepting them.
func scanLinesStrict(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if atEOF && len(data) == 0 {
		return 0, nil, nil
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF {
		return len(data), data, nil
	}
	return 0, nil, nil
}

func parseRow(line string) (Entry, error) {
	f := strings.Split(line, "\t")
	if len(f) != 4 {
		return Entry{}, fmt.Errorf("%d tab-separated fields, want 4 (path, git_blob_sha1, size_bytes, in_shared_copy): %q", len(f), clip(line))
	}
	e := Entry{Path: f[0], SHA1: f[1]}
	switch f[3] {
	case "yes":
		e.InSharedCopy = true
	case "no":
	default:
		return Entry{}, fmt.Errorf("%s: in_shared_copy is %q, want yes or no", clip(f[0]), clip(f[3]))
	}
	size, err := parseSize(f[2])
	if err != nil {
		return Entry{}, fmt.Errorf("%s: %w", clip(f[0]), err)
	}
	e.Size = size
	if err := checkEntry(e); err != nil {
		return Entry{}, err
	}
	return e, nil
}

func parseSize(s string) (int64, error) {
	if s == "unknown" {
		return UnknownSize, nil
	}
	if s == "" || strings.Trim(s, "0123456789") != "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf(`size_bytes is %q, want a decimal number without sign or leading zeros, or "unknown"`, clip(s))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("size_bytes %q: %w", clip(s), err)
	}
	return n, nil
}

// checkEntry validates one entry's fields.
func checkEntry(e Entry) error {
	if err := checkPath(e.Path); err != nil {
		return err
	}
	if !isSHA1Hex(e.SHA1) {
		return fmt.Errorf("%s: git_blob_sha1 is %q, want 40 lowercase hex digits", e.Path, clip(e.SHA1))
	}
	if e.Size < 0 && e.Size != UnknownSize {
		return fmt.Errorf("%s: negative size %d", e.Path, e.Size)
	}
	return nil
}

// checkPath accepts clean, relative, slash-separated paths of printable UTF-8 without
// backslashes: Fetch and Store join them to a directory, so nothing may climb out of it.
func checkPath(p string) error {
	switch {
	case p == "":
		return errors.New("empty path")
	case len(p) > 1024:
		return fmt.Errorf("path %q is longer than 1024 bytes", clip(p))
	case !utf8.ValidString(p):
		return fmt.Errorf("path %q is not valid UTF-8", clip(p))
	case strings.ContainsFunc(p, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }):
		return fmt.Errorf("path %q contains a control character or backslash", clip(p))
	case p == "." || !fs.ValidPath(p):
		return fmt.Errorf("path %q is not a clean relative slash-separated path", clip(p))
	}
	return nil
}

func isSHA1Hex(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// clip shortens s for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:77] + "..."
	}
	return s
}

// NewManifest validates entries as ParseManifest validates rows and returns them as a Manifest.
// Tests use it to describe synthetic mirrors.
func NewManifest(entries []Entry) (*Manifest, error) {
	for i, e := range entries {
		if err := checkEntry(e); err != nil {
			return nil, &ParseError{i + 2, err}
		}
	}
	return newManifest(append([]Entry(nil), entries...))
}

// newManifest indexes already validated entries, rejecting duplicates and file/folder clashes.
func newManifest(entries []Entry) (*Manifest, error) {
	if len(entries) == 0 {
		return nil, &ParseError{2, errors.New("no entries")}
	}
	m := &Manifest{entries: entries, index: make(map[string]int, len(entries))}
	for i, e := range entries {
		if j, dup := m.index[e.Path]; dup {
			return nil, &ParseError{i + 2, fmt.Errorf("duplicate path %q (first on line %d)", e.Path, j+2)}
		}
		m.index[e.Path] = i
	}
	for i, e := range entries {
		for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
			if j, clash := m.index[dir]; clash {
				return nil, &ParseError{i + 2, fmt.Errorf("%q is listed as a file (line %d) and is a folder of %q", dir, j+2, e.Path)}
			}
		}
	}
	return m, nil
}

var pinned = sync.OnceValues(func() (*Manifest, error) {
	m, err := ParseManifest(bytes.NewReader(reference.Manifest))
	if err != nil {
		return nil, fmt.Errorf("pinned manifest reference/manifest.tsv: %w", err)
	}
	return m, nil
})

// Pinned returns the manifest of Repository at Commit, embedded from reference/manifest.tsv.
func Pinned() (*Manifest, error) { return pinned() }

// Len returns the number of files.
func (m *Manifest) Len() int { return len(m.entries) }

// Entries returns every entry, in file order.
func (m *Manifest) Entries() []Entry { return append([]Entry(nil), m.entries...) }

// Lookup returns the entry of a slash-separated path.
func (m *Manifest) Lookup(p string) (Entry, bool) {
	i, ok := m.index[p]
	if !ok {
		return Entry{}, false
	}
	return m.entries[i], true
}

// Prefix returns the entries whose path starts with prefix (a plain string prefix: pass
// "data_compact_models/models_keras/" for that folder's files), in file order.
func (m *Manifest) Prefix(prefix string) []Entry {
	var out []Entry
	for _, e := range m.entries {
		if strings.HasPrefix(e.Path, prefix) {
			out = append(out, e)
		}
	}
	return out
}

// Match returns the entries whose path matches pattern in the syntax of path.Match, for
// example "data_compact_models/models_keras/*.keras" ('*' does not cross '/'), in file order.
// The only error is path.ErrBadPattern.
func (m *Manifest) Match(pattern string) ([]Entry, error) {
	if _, err := path.Match(pattern, ""); err != nil {
		return nil, fmt.Errorf("manifest match %q: %w", pattern, err)
	}
	var out []Entry
	for _, e := range m.entries {
		if ok, _ := path.Match(pattern, e.Path); ok {
			out = append(out, e)
		}
	}
	return out, nil
}

// DataFiles returns the data entries (see IsDataPath), in file order.
func (m *Manifest) DataFiles() []Entry {
	var out []Entry
	for _, e := range m.entries {
		if e.IsData() {
			out = append(out, e)
		}
	}
	return out
}

// WriteTo writes the manifest in the format ParseManifest reads.
func (m *Manifest) WriteTo(w io.Writer) (int64, error) {
	var b bytes.Buffer
	b.WriteString(ManifestHeader + "\n")
	for _, e := range m.entries {
		shared := "no"
		if e.InSharedCopy {
			shared = "yes"
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", e.Path, e.SHA1, e.sizeString(), shared)
	}
	return b.WriteTo(w)
}
