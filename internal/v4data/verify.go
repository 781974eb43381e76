package v4data

import (
	"compactv4/internal/pinfetch"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// BlobSHA1Bytes returns the git blob SHA-1 of content, as `git hash-object` prints it.
func BlobSHA1Bytes(content []byte) string { return pinfetch.GitBlobSHA1.Bytes(content) }

// BlobSHA1 returns the git blob SHA-1 (as `git hash-object` prints it) and the size of what
// remains to be read from r.
//
// When r is a regular file (it has a Stat method reporting a regular file, like *os.File), the
// size comes from Stat (minus the current offset, when r can tell it) and the content is
// streamed through the hash, so large files are not held in memory; a file that grows or shrinks
// while it is read gives an error. Any other reader is read into memory first, because the
// blob header needs the size before the content.
func BlobSHA1(r io.Reader) (sum string, size int64, err error) {
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		fi, err := st.Stat()
		if err == nil && fi.Mode().IsRegular() {
			size := fi.Size()
			if sk, ok := r.(io.Seeker); ok {
				if off, err := sk.Seek(0, io.SeekCurrent); err == nil {
					size -= off
				}
			}
			if size >= 0 {
				return blobSHA1Sized(r, size)
			}
		}
	}
	content, err := io.ReadAll(r)
	if err != nil {
		return "", 0, fmt.Errorf("git blob hash: %w", err)
	}
	return BlobSHA1Bytes(content), int64(len(content)), nil
}

// blobSHA1Sized hashes r, which must hold exactly size bytes.
func blobSHA1Sized(r io.Reader, size int64) (string, int64, error) {
	return pinfetch.GitBlobSHA1.Sized(r, size)
}

// BlobSHA1File returns the git blob SHA-1 and size of the named file, streaming it.
func BlobSHA1File(name string) (sum string, size int64, err error) {
	return pinfetch.GitBlobSHA1.File(name)
}

// Status is the state of one manifest file in a data directory.
type Status int

// The states of a file.
const (
	// Missing: no file at the entry's path.
	Missing Status = iota
	// Valid: the file's git blob SHA-1 equals the manifest's.
	Valid
	// Corrupt: the file exists but its hash differs, or it cannot be read as a regular file.
	Corrupt
)

// String returns "missing", "valid" or "corrupt".
func (s Status) String() string {
	switch s {
	case Missing:
		return "missing"
	case Valid:
		return "valid"
	case Corrupt:
		return "corrupt"
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// FileResult is the verification of one manifest file.
type FileResult struct {
	Entry
	Status Status
	// GotSHA1 and GotSize describe the file on disk when it could be hashed (Valid or Corrupt).
	GotSHA1 string
	GotSize int64
	// Err says why a Corrupt file could not be hashed (a folder in its place, a read error);
	// nil when it was hashed.
	Err error
}

// Problem describes a Corrupt result for a person: expected and actual hash, or the read error.
func (r FileResult) Problem() string {
	switch {
	case r.Status != Corrupt:
		return r.Status.String()
	case r.Err != nil:
		return fmt.Sprintf("unreadable: %v", r.Err)
	case r.SizeKnown() && r.GotSize != r.Size:
		return fmt.Sprintf("git blob SHA-1 %s, want %s (size %d bytes, want %d)", r.GotSHA1, r.SHA1, r.GotSize, r.Size)
	}
	return fmt.Sprintf("git blob SHA-1 %s, want %s", r.GotSHA1, r.SHA1)
}

// VerifyOptions configure Verify.
type VerifyOptions struct {
	// Profile names the files to check (see ProfileFiles); "" means ProfileFull.
	Profile string
	// Parallel bounds the number of files hashed at once; 0 means runtime.GOMAXPROCS(0).
	Parallel int
}

// Report is the outcome of Verify: every file of the profile, classified, in manifest order.
type Report struct {
	// Dir is the data directory verified.
	Dir string
	// Profile is the profile whose files were checked.
	Profile string
	// Files holds one result per file of the profile.
	Files []FileResult
	// Extra lists the slash-separated paths of regular files below the top-level data_* folders
	// that the manifest does not list (for example leftovers of an interrupted copy), sorted.
	Extra []string
}

// Count returns the number of files with status s.
func (r Report) Count(s Status) int {
	n := 0
	for _, f := range r.Files {
		if f.Status == s {
			n++
		}
	}
	return n
}

// With returns the results with status s, in manifest order.
func (r Report) With(s Status) []FileResult {
	var out []FileResult
	for _, f := range r.Files {
		if f.Status == s {
			out = append(out, f)
		}
	}
	return out
}

// Verify hashes every file of the profile in dir, GOMAXPROCS files at a time (or
// opts.Parallel), and classifies it as valid, corrupt or missing; it also lists extra files.
// Corrupt and missing files are reported, not returned as errors: the error is for a directory
// that cannot be read at all or a bad option.
func Verify(dir string, m *Manifest, opts VerifyOptions) (Report, error) {
	profile := opts.Profile
	if profile == "" {
		profile = ProfileFull
	}
	rep := Report{Dir: dir, Profile: profile}
	files, err := m.ProfileFiles(profile)
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return rep, fmt.Errorf("verify: data directory: %w", err)
	}
	if !fi.IsDir() {
		return rep, fmt.Errorf("verify: data directory %s is not a directory", dir)
	}
	par := opts.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	rep.Files = make([]FileResult, len(files))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(par, len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				rep.Files[i] = verifyFile(dir, files[i])
			}
		}()
	}
	for i := range files {
		work <- i
	}
	close(work)
	wg.Wait()

	rep.Extra, err = extraFiles(dir, m)
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", dir, err)
	}
	return rep, nil
}

// verifyFile classifies one file.
func verifyFile(dir string, e Entry) FileResult {
	r := FileResult{Entry: e}
	sum, size, err := BlobSHA1File(filepath.Join(dir, filepath.FromSlash(e.Path)))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		r.Status = Missing
	case err != nil:
		r.Status, r.Err = Corrupt, err
	case sum == e.SHA1:
		r.Status, r.GotSHA1, r.GotSize = Valid, sum, size
	default:
		r.Status, r.GotSHA1, r.GotSize = Corrupt, sum, size
	}
	return r
}

// extraFiles walks the top-level data folders (data_*) of dir and returns the regular files that
// the manifest does not list.
func extraFiles(dir string, m *Manifest) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list extra files: %w", err)
	}
	var extra []string
	for _, de := range des {
		top := de.Name()
		if !strings.HasPrefix(top, "data_") {
			continue
		}
		root := filepath.Join(dir, top)
		// Follow a symlinked data folder (a common way to share one copy between checkouts).
		if r, err := filepath.EvalSymlinks(root); err == nil {
			root = r
		} else if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			name := path.Join(top, filepath.ToSlash(rel))
			if _, ok := m.Lookup(name); !ok {
				extra = append(extra, name)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list extra files: %w", err)
		}
	}
	sort.Strings(extra)
	return extra, nil
}
