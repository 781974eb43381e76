// Package pinfetch downloads files pinned by a hash (a SHA-1, or the MD5 that keras.applications
// records for its weight files) and proves them: each body is streamed to a temporary file beside
// its destination while it is hashed, and only a body whose hash (and size, when known) matches is
// synced and renamed into place, so that a file at a pinned path is never a partial or unverified
// download. Transient failures are retried with seeded, jittered backoff; a dead network stops
// the whole fetch early. The data sources of the suite (internal/v4data, internal/areadata,
// internal/kerasweights) describe their files as Files and share this one download path.
package pinfetch

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strconv"
)

// Hash is how a File's hash (File.SHA1) is computed.
type Hash int

const (
	// GitBlobSHA1 is git's object hash, sha1("blob <size>\x00" + content), as `git hash-object`
	// prints it: the hash GitHub mirrors are pinned by.
	GitBlobSHA1 Hash = iota
	// PlainSHA1 is the SHA-1 of the content alone, as `sha1sum` prints it.
	PlainSHA1
	// MD5 is the MD5 of the content alone, as `md5sum` prints it: the hash keras.applications
	// records for the weight files it downloads (keras.utils.get_file's file_hash of 32 digits).
	MD5
	// SHA256 is the SHA-256 of the content alone, as `sha256sum` prints it.
	SHA256
)

// String names the hash in messages.
func (h Hash) String() string {
	switch h {
	case PlainSHA1:
		return "SHA-1"
	case MD5:
		return "MD5"
	case SHA256:
		return "SHA-256"
	}
	return "git blob SHA-1"
}

// sizedHasher hashes content whose size is declared up front (a git blob header needs it before
// the first byte) and checks that exactly that many bytes were written.
type sizedHasher struct {
	h     hash.Hash
	size  int64 // declared
	wrote int64
}

func (h Hash) newHasher(size int64) *sizedHasher {
	s := &sizedHasher{h: sha1.New(), size: size}
	switch h {
	case MD5:
		s.h = md5.New()
	case SHA256:
		s.h = sha256.New()
	case GitBlobSHA1:
		s.h.Write([]byte("blob " + strconv.FormatInt(size, 10) + "\x00"))
	}
	return s
}

func (b *sizedHasher) Write(p []byte) (int, error) {
	b.wrote += int64(len(p))
	return b.h.Write(p)
}

// sum returns the hash, or an error when the content written differs in length from the declared
// size.
func (b *sizedHasher) sum() (string, error) {
	if b.wrote != b.size {
		return "", fmt.Errorf("content is %d bytes, expected %d", b.wrote, b.size)
	}
	return hex.EncodeToString(b.h.Sum(nil)), nil
}

// Bytes returns the hash of content in lowercase hex.
func (h Hash) Bytes(content []byte) string {
	b := h.newHasher(int64(len(content)))
	b.Write(content)
	s, _ := b.sum()
	return s
}

// Sized hashes r, which must hold exactly size bytes, and returns the hash and the bytes read.
func (h Hash) Sized(r io.Reader, size int64) (string, int64, error) {
	b := h.newHasher(size)
	n, err := io.Copy(b, io.LimitReader(r, size+1))
	if err != nil {
		return "", n, fmt.Errorf("%s: %w", h, err)
	}
	sum, err := b.sum()
	if err != nil {
		return "", n, fmt.Errorf("%s: file changed while hashing: %w", h, err)
	}
	return sum, n, nil
}

// File returns the hash and size of the named regular file, streaming it.
func (h Hash) File(name string) (sum string, size int64, err error) {
	f, err := os.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0, err
	}
	if !fi.Mode().IsRegular() {
		return "", 0, fmt.Errorf("%s is not a regular file (%v)", name, fi.Mode().Type())
	}
	sum, size, err = h.Sized(f, fi.Size())
	if err != nil {
		return "", size, fmt.Errorf("%s: %w", name, err)
	}
	return sum, size, nil
}
