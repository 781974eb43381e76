package plots

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

// readNPY2D reads a little-endian float64 2-D .npy array (C order), enough
// for this test; the project's real reader lives elsewhere.
func readNPY2D(t *testing.T, path string) [][]float64 {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 10 || string(data[1:6]) != "NUMPY" || data[6] != 1 {
		t.Fatalf("%s: not a version-1 .npy file", path)
	}
	hlen := int(binary.LittleEndian.Uint16(data[8:10]))
	header := string(data[10 : 10+hlen])
	if !strings.Contains(header, "'descr': '<f8'") || !strings.Contains(header, "'fortran_order': False") {
		t.Fatalf("%s: header %q: want C-ordered <f8", path, header)
	}
	shape := header[strings.Index(header, "(")+1 : strings.Index(header, ")")]
	dims := strings.Split(shape, ",")
	rows, err1 := strconv.Atoi(strings.TrimSpace(dims[0]))
	cols, err2 := strconv.Atoi(strings.TrimSpace(dims[1]))
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: shape %q", path, shape)
	}
	body := data[10+hlen:]
	if len(body) != 8*rows*cols {
		t.Fatalf("%s: %d bytes of data for %dx%d", path, len(body), rows, cols)
	}
	m := make([][]float64, rows)
	for i := range m {
		m[i] = make([]float64, cols)
		for j := range m[i] {
			m[i][j] = math.Float64frombits(binary.LittleEndian.Uint64(body[8*(i*cols+j):]))
		}
	}
	return m
}

// TestRealResponses draws figures of real V4 responses (one session) with
// every x–y builder and checks that each renders identically twice.
func TestRealResponses(t *testing.T) {
	path := datadirtest.File(t, "data_V4_responses/responses_repeat_averaged/responses_190923.npy")
	resp := readNPY2D(t, path) // neurons × images
	var groups []Group
	var all []float64
	dropped := 0
	for i, row := range resp[:min(8, len(resp))] {
		var vs []float64
		for _, v := range row {
			if finite(v) {
				vs = append(vs, v)
			} else {
				dropped++
			}
		}
		groups = append(groups, Group{Label: fmt.Sprint(i + 1), Values: vs})
		all = append(all, vs...)
	}
	t.Logf("%d neurons × %d images; %d non-finite values dropped", len(resp), len(resp[0]), dropped)
	n := min(len(groups[0].Values), len(groups[1].Values))
	figs := map[string]func() (Drawer, error){
		"scatter": func() (Drawer, error) {
			return asDrawer(Scatter([]Series{{X: groups[0].Values[:n], Y: groups[1].Values[:n]}}, ScatterOptions{Axes: Axes{XLabel: "Neuron 1", YLabel: "Neuron 2"}, Unity: true}))
		},
		"groups": func() (Drawer, error) {
			return asDrawer(Groups(groups, GroupOptions{Axes: Axes{XLabel: "Neuron", YLabel: "Response"}, Seed: 1}))
		},
		"histogram": func() (Drawer, error) {
			return asDrawer(Histogram([]Distribution{{Label: "responses", Values: all}}, HistOptions{Density: true}))
		},
	}
	for name, build := range figs {
		d1, err := build()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		d2, err := build()
		if err != nil {
			t.Fatal(err)
		}
		p1, s1, err := Render(d1, SingleColumn, SingleColumn*0.6)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		p2, s2, err := Render(d2, SingleColumn, SingleColumn*0.6)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(p1, p2) || !bytes.Equal(s1, s2) {
			t.Errorf("%s: renders differ", name)
		}
		if *previewDir != "" {
			if err := Save(d1, *previewDir, "real_"+name, SingleColumn, SingleColumn*0.6); err != nil {
				t.Fatal(err)
			}
		}
	}
}
