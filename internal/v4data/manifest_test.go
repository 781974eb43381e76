package v4data

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"compactv4/internal/datadir"
	"compactv4/internal/fuzzbound"
	"compactv4/reference"
)

const (
	licenseSHA1 = "f288702d2fa16d3cdf0035b15a9fcbc552cd88e7"
	row         = "data_x/a.npy\t" + licenseSHA1 + "\t10\tyes"
)

func TestPinnedManifest(t *testing.T) {
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	if m.Len() != 1798 {
		t.Errorf("Len = %d, want 1798", m.Len())
	}
	var shared, unknown, data int
	for _, e := range m.Entries() {
		if e.InSharedCopy {
			shared++
			if !e.SizeKnown() {
				t.Errorf("%s is in the shared copy but has no size", e.Path)
			}
		}
		if !e.SizeKnown() {
			unknown++
		}
		if e.IsData() {
			data++
		}
	}
	// Counts from reference/upstream.md §1.
	if shared != 1441 || unknown != 106 || data != 1766 {
		t.Errorf("shared %d, unknown size %d, data %d; want 1441, 106, 1766", shared, unknown, data)
	}
	if got := len(m.DataFiles()); got != data {
		t.Errorf("DataFiles: %d, want %d", got, data)
	}
	e, ok := m.Lookup("LICENSE")
	if !ok || e != (Entry{"LICENSE", licenseSHA1, 35149, true}) {
		t.Errorf("Lookup(LICENSE) = %+v, %v", e, ok)
	}
	if _, ok := m.Lookup("data_compact_models"); ok {
		t.Error("Lookup of a folder succeeded")
	}
	keras, err := m.Match("data_compact_models/models_keras/*.keras")
	if err != nil || len(keras) != 219 {
		t.Errorf("Match models_keras: %d entries, %v; want 219", len(keras), err)
	}
	if got := len(m.Prefix("data_compact_models/models_keras/")); got != 219 {
		t.Errorf("Prefix models_keras: %d, want 219", got)
	}
	if got := len(m.Prefix("data_shared_compact_models/")); got != 57 {
		t.Errorf("Prefix data_shared_compact_models/: %d, want 57", got)
	}
	if _, err := m.Match("[x"); err == nil {
		t.Error("Match accepted a bad pattern")
	}
}

// The embedded manifest must be the one delivered with the local data copy, and WriteTo must
// reproduce it byte for byte.
func TestManifestRoundTrip(t *testing.T) {
	m, err := Pinned()
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := m.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), reference.Manifest) {
		t.Error("WriteTo does not reproduce reference/manifest.tsv")
	}
	root, err := datadir.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	shared, err := os.ReadFile(filepath.Join(root, "..", "shared", "v4data.manifest.tsv"))
	if err != nil {
		t.Skipf("no shared manifest to compare with: %v", err)
	}
	if !bytes.Equal(shared, reference.Manifest) {
		t.Error("reference/manifest.tsv differs from ../shared/v4data.manifest.tsv")
	}
}

func TestParseManifestErrors(t *testing.T) {
	h := ManifestHeader + "\n"
	sha2 := strings.Repeat("b", 40)
	tests := []struct {
		name, in, want string
		line           int
	}{
		{"empty", "", "empty manifest", 1},
		{"bad header", "path\tsha\n" + row + "\n", "header is", 1},
		{"header only", h, "no entries", 2},
		{"three fields", h + "a\t" + licenseSHA1 + "\t1\n", "3 tab-separated fields", 2},
		{"five fields", h + row + "\tx\n", "5 tab-separated fields", 2},
		{"short sha", h + "a\tabc\t1\tyes\n", "40 lowercase hex", 2},
		{"upper sha", h + "a\t" + strings.ToUpper(licenseSHA1) + "\t1\tyes\n", "40 lowercase hex", 2},
		{"non-hex sha", h + "a\t" + strings.Repeat("g", 40) + "\t1\tyes\n", "40 lowercase hex", 2},
		{"negative size", h + "a\t" + licenseSHA1 + "\t-1\tyes\n", "size_bytes", 2},
		{"plus size", h + "a\t" + licenseSHA1 + "\t+1\tyes\n", "size_bytes", 2},
		{"leading zero", h + "a\t" + licenseSHA1 + "\t01\tyes\n", "leading zeros", 2},
		{"empty size", h + "a\t" + licenseSHA1 + "\t\tyes\n", "size_bytes", 2},
		{"huge size", h + "a\t" + licenseSHA1 + "\t99999999999999999999\tyes\n", "out of range", 2},
		{"bad shared", h + "a\t" + licenseSHA1 + "\t1\tmaybe\n", "in_shared_copy", 2},
		{"duplicate", h + row + "\n" + row + "\n", "duplicate path", 3},
		{"file and folder", h + "data_x\t" + sha2 + "\t1\tno\n" + row + "\n", "listed as a file", 3},
		{"absolute", h + "/etc/passwd\t" + sha2 + "\t1\tno\n", "not a clean relative", 2},
		{"dotdot", h + "data_x/../../x\t" + sha2 + "\t1\tno\n", "not a clean relative", 2},
		{"dot", h + ".\t" + sha2 + "\t1\tno\n", "not a clean relative", 2},
		{"trailing slash", h + "data_x/\t" + sha2 + "\t1\tno\n", "not a clean relative", 2},
		{"double slash", h + "data_x//a\t" + sha2 + "\t1\tno\n", "not a clean relative", 2},
		{"backslash", h + "data_x\\a\t" + sha2 + "\t1\tno\n", "backslash", 2},
		{"empty path", h + "\t" + sha2 + "\t1\tno\n", "empty path", 2},
		{"blank line", h + row + "\n\n", "1 tab-separated fields", 3},
		{"crlf", h + row + "\r\n", "carriage return", 2},
		{"invalid utf8", h + "data_\xff\t" + sha2 + "\t1\tno\n", "UTF-8", 2},
		{"long line", h + strings.Repeat("a", 5000) + "\n", "longer than", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseManifest(strings.NewReader(tt.in))
			if err == nil {
				t.Fatalf("parsed %d entries, want error containing %q", m.Len(), tt.want)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q (line %d), want line %d containing %q", err, pe.Line, tt.line, tt.want)
			}
		})
	}
}

func TestParseManifestNoFinalNewline(t *testing.T) {
	m, err := ParseManifest(strings.NewReader(ManifestHeader + "\n" + row))
	if err != nil {
		t.Fatal(err)
	}
	if e, ok := m.Lookup("data_x/a.npy"); !ok || e.Size != 10 || !e.InSharedCopy || e.SHA1 != licenseSHA1 {
		t.Errorf("entry %+v, %v", e, ok)
	}
}

func TestNewManifest(t *testing.T) {
	good := Entry{Path: "data_x/a", SHA1: licenseSHA1, Size: UnknownSize}
	if _, err := NewManifest([]Entry{good}); err != nil {
		t.Errorf("NewManifest(good): %v", err)
	}
	tests := []struct {
		name    string
		entries []Entry
	}{
		{"none", nil},
		{"bad size", []Entry{{Path: "a", SHA1: licenseSHA1, Size: -2}}},
		{"bad sha", []Entry{{Path: "a", SHA1: "x", Size: 1}}},
		{"bad path", []Entry{{Path: "../a", SHA1: licenseSHA1, Size: 1}}},
		{"duplicate", []Entry{good, good}},
	}
	for _, tt := range tests {
		if m, err := NewManifest(tt.entries); err == nil {
			t.Errorf("%s: NewManifest accepted %d entries", tt.name, m.Len())
		}
	}
}

func TestIsDataPath(t *testing.T) {
	tests := []struct {
		path string
		want bool
	}{
		{"README.md", true},
		{"LICENSE", true},
		{"data_V4_responses/readme.txt", true},
		{"data_compact_models/models_keras/compact_model_190923_neuron0.keras", true},
		{"classes/class_compact_model.py", false},
		{"code_distill_and_prune/readme.txt", false},
		{"script1_plot_V4_responses_and_images.py", false},
		{"data_x", false},
		{"sub/README.md", false},
	}
	for _, tt := range tests {
		if got := IsDataPath(tt.path); got != tt.want {
			t.Errorf("IsDataPath(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestEntryURL(t *testing.T) {
	e := Entry{Path: "data_x/a b#c.npy"}
	tests := []struct{ base, want string }{
		{"", DefaultBaseURL + "/data_x/a%20b%23c.npy"},
		{"http://h/m/", "http://h/m/data_x/a%20b%23c.npy"},
	}
	for _, tt := range tests {
		if got := e.URL(tt.base); got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.base, got, tt.want)
		}
	}
}

func FuzzParseManifest(f *testing.F) {
	// Excerpts of the real manifest (the whole 150 KB file makes each mutation slow; the round
	// trip of the whole file is TestManifestRoundTrip).
	lines := bytes.SplitAfter(reference.Manifest, []byte("\n"))
	f.Add(bytes.Join(lines[:40], nil))
	f.Add(bytes.Join(append([][]byte{lines[0]}, lines[1700:1740]...), nil))
	if root, err := datadir.ProjectRoot(); err == nil {
		if b, err := os.ReadFile(filepath.Join(root, "..", "shared", "v4data.manifest.tsv")); err == nil {
			f.Add(bytes.Join(bytes.SplitAfter(b, []byte("\n"))[1500:], nil)) // no header: an error
		}
	}
	h := ManifestHeader + "\n"
	for _, s := range []string{
		"",
		h,
		h + row,
		h + row + "\n",
		h + row + "\r\n",
		h + "a/b\t" + licenseSHA1 + "\tunknown\tno\na\t" + licenseSHA1 + "\t0\tyes\n",
		h + "data_x/../y\t" + licenseSHA1 + "\t1\tno\n",
		h + row + "\n" + row + "\n",
	} {
		f.Add([]byte(s))
	}
	fuzzbound.Fuzz(f, func(t *testing.T, in []byte) {
		m, err := ParseManifest(bytes.NewReader(in))
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line < 1 {
				t.Fatalf("error %v is not a *ParseError with a line", err)
			}
			return
		}
		// A strict parser accepts only canonical input: writing it back gives the same bytes
		// (plus a final newline when the input lacked it), and the result parses again.
		var out bytes.Buffer
		if _, err := m.WriteTo(&out); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), in) && !bytes.Equal(out.Bytes(), append(append([]byte(nil), in...), '\n')) {
			t.Fatalf("WriteTo gave %q for input %q", out.Bytes(), in)
		}
		m2, err := ParseManifest(&out)
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if m2.Len() != m.Len() {
			t.Fatalf("re-parse: %d entries, want %d", m2.Len(), m.Len())
		}
		for _, e := range m.Entries() {
			if checkPath(e.Path) != nil || !isSHA1Hex(e.SHA1) {
				t.Fatalf("accepted bad entry %+v", e)
			}
			if got, ok := m2.Lookup(e.Path); !ok || got != e {
				t.Fatalf("re-parse: %+v, want %+v", got, e)
			}
		}
	})
}
