// Package reference holds facts from outside the suite, as data: the upstream file manifest of
// github.com/cowleygroup/V4_compact_models at the pinned commit (manifest.tsv) and, as they are
// added, the paper's claims and the locations and checksums of external data sets. README.md in
// this directory says where each file came from.
//
// The files are embedded so that a built binary carries the exact references it was tested
// against. Parsing belongs to the packages that use them (internal/v4data parses the manifest).
package reference

import _ "embed"

// Manifest is manifest.tsv: the 1,798 files that github.com/cowleygroup/V4_compact_models tracks at
// commit f4552ad9d34a466ebc66658f72a08a8e5038f1cf, one per line after a header row, with the
// tab-separated columns path, git_blob_sha1, size_bytes (a decimal number, or "unknown") and
// in_shared_copy ("yes" or "no": whether the local data copy ../shared/v4data holds the file).
// A file is valid when sha1("blob <size>\x00" + content) equals its git_blob_sha1.
//
// Callers must not modify the slice; internal/v4data.Pinned returns the parsed form.
//
//go:embed manifest.tsv
var Manifest []byte

// Claims is claims.json: the paper's checkable claims C1-C9 (README.md in this directory says
// where they came from) with the published value of each, its status (stated, derived, not
// available), the experiment of the suite that speaks to it, and, where the paper or its released
// artefacts give numbers, those numbers under "numbers" for experiments to compare against.
//
//go:embed claims.json
var Claims []byte
