// Package kerasweights pins the Keras ImageNet weight files that the task-driven networks of the
// teacher fit load (reference/upstream.md §3.2; internal/imagenet): each file with the address
// keras.applications downloads it from and the MD5 that keras.applications itself records, found
// where Keras caches it and downloaded through internal/pinfetch (hashed while streaming, renamed
// into place only when the MD5 matches), like the V4 data.
//
// A file is looked for in -weights DIR when given, else in $KERAS_HOME/models (when KERAS_HOME is
// set) and ~/.keras/models, the cache of keras.utils.get_file. Locate verifies it before use;
// an absent file is "not runnable", named with its MD5 and both ways to get it.
//
// Every verification (Locate, and Fetch after its download) computes the file's SHA-256 in the
// same pass as its MD5. A file whose SHA-256 is pinned is checked against it; for one whose
// SHA-256 is not yet recorded, the SHA-256 computed is written to the caller's log
// (UnpinnedMessage), so that the first user with the file can record it in the table below.
package kerasweights

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"compactv4/internal/pinfetch"
)

// File is one pinned weight file.
type File struct {
	// Network is the keras.applications network whose weights the file holds (without its
	// classifier: the "notop" file).
	Network string
	// Name is the file name, as keras.applications caches it under models/.
	Name string
	// URL is where keras.applications downloads it from.
	URL string
	// MD5 is the file's MD5 as keras.applications records it (the file_hash of get_file).
	MD5 string
	// SHA256 is the file's SHA-256, computed by this suite from the file; "" while not yet
	// recorded (the file could not be downloaded where this table was written), when only the
	// MD5 is checked and every verification prints the SHA-256 it computed (UnpinnedMessage).
	SHA256 string
	// Recorded says where URL and MD5 are written in the Keras source.
	Recorded string
}

// The pinned files. URLs and MD5s are those of keras-team/keras: keras/src/applications/resnet.py
// (BASE_WEIGHTS_PATH and WEIGHTS_HASHES["resnet50"][1], at commit
// 040582fc160b1080954ddc1f554dd70fbbb1da5a) and keras/src/applications/vgg19.py
// (WEIGHTS_PATH_NO_TOP and the file_hash of the notop file, at commit
// 3859fb42a8e103c6d8f1c5dd9e219d9e59a8e522). get_file treats a 32-digit file_hash as an MD5.
var (
	ResNet50 = File{
		Network:  "ResNet50",
		Name:     "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
		URL:      "https://storage.googleapis.com/tensorflow/keras-applications/resnet/resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
		MD5:      "4d473c1dd8becc155b73f8504c6f6626",
		SHA256:   "", // not yet recorded: no network access where this table was written
		Recorded: "keras-team/keras keras/src/applications/resnet.py, WEIGHTS_HASHES[\"resnet50\"]",
	}
	VGG19 = File{
		Network:  "VGG19",
		Name:     "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
		URL:      "https://storage.googleapis.com/tensorflow/keras-applications/vgg19/vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5",
		MD5:      "253f8cb515780f3b799900260a226db6",
		SHA256:   "", // not yet recorded: no network access where this table was written
		Recorded: "keras-team/keras keras/src/applications/vgg19.py, VGG19(include_top=False)",
	}
)

// Files returns the pinned files.
func Files() []File { return []File{ResNet50, VGG19} }

// searchDirs returns the directories where the weight files are looked for, in order: dir alone
// when it is not empty; else $KERAS_HOME/models when KERAS_HOME is set, then ~/.keras/models.
func searchDirs(dir string) []string {
	if dir != "" {
		return []string{dir}
	}
	var out []string
	if kh := os.Getenv("KERAS_HOME"); kh != "" {
		out = append(out, filepath.Join(kh, "models"))
	}
	if home, err := os.UserHomeDir(); err == nil {
		out = append(out, filepath.Join(home, ".keras", "models"))
	}
	return out
}

// FetchDir is where Fetch writes: dir when not empty, else the first of searchDirs (where
// keras.applications would cache the files).
func FetchDir(dir string) (string, error) {
	ds := searchDirs(dir)
	if len(ds) == 0 {
		return "", errors.New("no weights directory: give -weights DIR, or set KERAS_HOME or HOME")
	}
	return ds[0], nil
}

// A MissingError reports a weight file found in none of the directories: what needs it is not
// runnable.
type MissingError struct {
	File
	Dirs []string
}

// Error names the file, its MD5 and both ways to get it.
func (e *MissingError) Error() string {
	return fmt.Sprintf("not runnable: the %s ImageNet weight file %s (MD5 %s, as keras.applications records it) is not in %s. %s",
		e.Network, e.Name, e.MD5, strings.Join(e.Dirs, " or "), howToGet(e.File, e.Dirs))
}

// Unwrap makes errors.Is(err, fs.ErrNotExist) hold.
func (e *MissingError) Unwrap() error { return fs.ErrNotExist }

// A CorruptError reports a weight file whose hash is not the pinned one.
type CorruptError struct {
	File
	Path string
	// Hash names the hash that differs ("MD5" or "SHA-256"); Got is the file's.
	Hash, Want, Got string
}

// Error names the file, both hashes and how to replace it.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("not runnable: the %s ImageNet weight file %s is corrupt: %s %s, pinned %s. %s",
		e.Network, e.Path, e.Hash, e.Got, e.Want, howToGet(e.File, []string{filepath.Dir(e.Path)}))
}

// command is how users run the suite's command line, for the hints.
const command = "go run ./harness/cmd/replicate"

func howToGet(f File, dirs []string) string {
	flag := ""
	if len(dirs) > 0 {
		flag = " " + dirs[0]
	}
	return fmt.Sprintf("Get it with `%s data fetch -weights%s`, or download %s and place it as %s.",
		command, flag, f.URL, filepath.Join(firstOr(dirs, "~/.keras/models"), f.Name))
}

func firstOr(s []string, def string) string {
	if len(s) == 0 {
		return def
	}
	return s[0]
}

// Locate returns the path of f in the first directory that holds a file of that name (-weights
// dir when given, else $KERAS_HOME/models, then ~/.keras/models), after checking its MD5 (and
// its SHA-256 when recorded): the error is a *MissingError when no directory holds it, a
// *CorruptError when a hash differs. When f's SHA-256 is not recorded, the one computed is
// written to log (UnpinnedMessage; nil log: not written).
func Locate(f File, dir string, log io.Writer) (string, error) {
	dirs := searchDirs(dir)
	for _, d := range dirs {
		p := filepath.Join(d, f.Name)
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("%s weights: %w", f.Network, err)
		}
		if st.IsDir() {
			return "", fmt.Errorf("%s weights: %s is a directory", f.Network, p)
		}
		if err := verify(f, p, log); err != nil {
			return "", err
		}
		return p, nil
	}
	return "", &MissingError{File: f, Dirs: dirs}
}

// hashes returns the MD5 and the SHA-256 of the regular file at p, read once.
func hashes(p string) (md5sum, sha256sum string, err error) {
	r, err := os.Open(p)
	if err != nil {
		return "", "", err
	}
	defer r.Close()
	fi, err := r.Stat()
	if err != nil {
		return "", "", err
	}
	if !fi.Mode().IsRegular() {
		return "", "", fmt.Errorf("%s is not a regular file (%v)", p, fi.Mode().Type())
	}
	m, s := md5.New(), sha256.New()
	if _, err := io.Copy(io.MultiWriter(m, s), r); err != nil {
		return "", "", fmt.Errorf("hashing %s: %w", p, err)
	}
	return hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s.Sum(nil)), nil
}

// UnpinnedMessage is the line written when a file with the pinned MD5 is verified at path and
// its SHA-256, sha, is not yet recorded in the table of this package.
func UnpinnedMessage(f File, path, sha string) string {
	return fmt.Sprintf("sha256 of %s: %s (MD5 %s verified); the SHA-256 of %s is not yet recorded: record it as SHA256 of kerasweights.%s in internal/kerasweights/kerasweights.go",
		path, sha, f.MD5, f.Name, f.Network)
}

// verify checks the file at p against f's MD5, and its SHA-256 when recorded; both are computed
// in one pass. Without a recorded SHA-256, a verified file's SHA-256 is written to log.
func verify(f File, p string, log io.Writer) error {
	gotMD5, gotSHA, err := hashes(p)
	if err != nil {
		return fmt.Errorf("%s weights: %w", f.Network, err)
	}
	if gotMD5 != f.MD5 {
		return &CorruptError{File: f, Path: p, Hash: "MD5", Want: f.MD5, Got: gotMD5}
	}
	if f.SHA256 == "" {
		if log != nil {
			fmt.Fprintln(log, UnpinnedMessage(f, p, gotSHA))
		}
		return nil
	}
	if gotSHA != f.SHA256 {
		return &CorruptError{File: f, Path: p, Hash: "SHA-256", Want: f.SHA256, Got: gotSHA}
	}
	return nil
}

// Fetch makes files valid in FetchDir(dir): a file already there with the pinned MD5 is kept;
// the others are downloaded from their URLs through pinfetch.Fetch (whose options apply; Dir is
// set here), verified against their MD5 before being renamed into place. Then every file is
// verified again as Locate does: against its SHA-256 when one is recorded (a mismatch removes
// the file), else its SHA-256 is written to log (UnpinnedMessage; nil log: not written).
func Fetch(ctx context.Context, dir string, files []File, opts pinfetch.Options, log io.Writer) (pinfetch.Summary, error) {
	d, err := FetchDir(dir)
	if err != nil {
		return pinfetch.Summary{}, err
	}
	opts.Dir = d
	if opts.Source == "" {
		opts.Source = "storage.googleapis.com (keras.applications)"
	}
	pf := make([]pinfetch.File, len(files))
	for i, f := range files {
		pf[i] = pinfetch.File{Path: f.Name, URL: f.URL, SHA1: f.MD5, Hash: pinfetch.MD5, Size: -1}
	}
	sum, err := pinfetch.Fetch(ctx, pf, opts)
	if err != nil {
		return sum, err
	}
	for _, f := range files {
		p := filepath.Join(d, f.Name)
		if verr := verify(f, p, log); verr != nil {
			if errors.As(verr, new(*CorruptError)) {
				os.Remove(p)
			}
			return sum, verr
		}
	}
	return sum, nil
}
