package plots

import (
	"bytes"
	"encoding/binary"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSaveWritesBothFiles(t *testing.T) {
	dir := t.TempDir()
	p := mustScatter(t)
	if err := Save(p, dir, "fig", SingleColumn/2, SingleColumn/3); err != nil {
		t.Fatal(err)
	}
	// Saving again over the files works and gives the same bytes.
	if err := Save(mustScatter(t), dir, "fig", SingleColumn/2, SingleColumn/3); err != nil {
		t.Fatal(err)
	}
	wantPNG, wantSVG, err := Render(mustScatter(t), SingleColumn/2, SingleColumn/3)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"fig.png": wantPNG, "fig.svg": wantSVG} {
		path := filepath.Join(dir, name)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from Render's bytes", name)
		}
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o644 {
			t.Errorf("%s has mode %v, want 0644", name, st.Mode().Perm())
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %q, want only fig.png and fig.svg (no temporary files)", names)
	}
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	p := mustScatter(t)
	for _, c := range []struct {
		dir, name string
		want      string
	}{
		{dir, "", "plain file name"},
		{dir, "a/b", "plain file name"},
		{dir, "..", "plain file name"},
		{dir, "fig.png", "without .png"},
		{filepath.Join(dir, "missing"), "fig", "missing"},
	} {
		if err := Save(p, c.dir, c.name, 100, 100); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Save(%q, %q): err = %v, want %q", c.dir, c.name, err, c.want)
		}
	}
	if err := Save(p, dir, "tiny", 1, 100); err == nil || !strings.Contains(err.Error(), "sides must be") {
		t.Errorf("tiny figure: err = %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("failed saves left %d files", len(entries))
	}
}

// TestPNGPhysicalSize checks the pHYs chunk: right after IHDR, DPI in
// pixels per metre, and a CRC the standard decoder accepts.
func TestPNGPhysicalSize(t *testing.T) {
	data, err := RenderPNG(mustScatter(t), 144, 72) // 2 × 1 inches
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 2*DPI || cfg.Height != DPI {
		t.Errorf("PNG is %dx%d pixels, want %dx%d", cfg.Width, cfg.Height, 2*DPI, DPI)
	}
	if _, err := png.Decode(bytes.NewReader(data)); err != nil {
		t.Fatalf("decode (checks every CRC): %v", err)
	}
	const at = 8 + 25 // signature, IHDR chunk
	if got := string(data[at+4 : at+8]); got != "pHYs" {
		t.Fatalf("chunk after IHDR is %q, want pHYs", got)
	}
	if n := binary.BigEndian.Uint32(data[at:]); n != 9 {
		t.Errorf("pHYs length %d", n)
	}
	x, y, unit := binary.BigEndian.Uint32(data[at+8:]), binary.BigEndian.Uint32(data[at+12:]), data[at+16]
	if x != 5906 || y != 5906 || unit != 1 { // 150 / 0.0254
		t.Errorf("pHYs %d×%d per unit %d, want 5906×5906 per metre", x, y, unit)
	}
	if bytes.Count(data, []byte("pHYs")) != 1 || bytes.Contains(data, []byte("tIME")) {
		t.Errorf("want exactly one pHYs chunk and no tIME chunk")
	}
}

func TestWithPHYsRejectsForeignData(t *testing.T) {
	if _, err := withPHYs([]byte("not a png at all, but long enough to index"), DPI); err == nil {
		t.Errorf("no error")
	}
}
