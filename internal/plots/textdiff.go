package plots

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// TextDiffStats summarise a line diff of two texts (e.g. two SVG figures).
type TextDiffStats struct {
	// LinesA and LinesB count the lines of each text.
	LinesA, LinesB int
	// Removed lines of A and Added lines of B make up a shortest edit
	// script (Myers' algorithm) turning A into B.
	Removed, Added int
	// Approximate is set when the texts differ too much for a shortest
	// edit script within the work bound; Removed and Added then count the
	// lines of A missing from B and of B missing from A as multisets,
	// ignoring order (a lower bound).
	Approximate bool
	// Equal reports byte-for-byte equality.
	Equal bool
}

// String formats the statistics for people.
func (s TextDiffStats) String() string {
	if s.Equal {
		return fmt.Sprintf("%d lines, identical", s.LinesA)
	}
	approx := ""
	if s.Approximate {
		approx = " (at least; order ignored)"
	}
	return fmt.Sprintf("%d → %d lines: %d removed, %d added%s", s.LinesA, s.LinesB, s.Removed, s.Added, approx)
}

// maxEditDistance bounds the work of the shortest-edit-script search:
// O((N+M)·D) with D ≤ maxEditDistance.
const maxEditDistance = 4000

// splitLines splits text into lines; a final newline does not start an
// extra empty line.
func splitLines(b []byte) [][]byte {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.Split(b, []byte("\n"))
}

// DiffText counts the lines removed from a and added in b.
func DiffText(a, b []byte) TextDiffStats {
	la, lb := splitLines(a), splitLines(b)
	st := TextDiffStats{LinesA: len(la), LinesB: len(lb), Equal: bytes.Equal(a, b)}
	if st.Equal {
		return st
	}
	// Number the distinct lines, so that comparisons are integer ones.
	ids := map[string]int{}
	num := func(ls [][]byte) []int {
		out := make([]int, len(ls))
		for i, l := range ls {
			id, ok := ids[string(l)]
			if !ok {
				id = len(ids)
				ids[string(l)] = id
			}
			out[i] = id
		}
		return out
	}
	x, y := num(la), num(lb)
	// Trim the common prefix and suffix.
	for len(x) > 0 && len(y) > 0 && x[0] == y[0] {
		x, y = x[1:], y[1:]
	}
	for len(x) > 0 && len(y) > 0 && x[len(x)-1] == y[len(y)-1] {
		x, y = x[:len(x)-1], y[:len(y)-1]
	}
	d, ok := editDistance(x, y, maxEditDistance)
	if ok {
		st.Removed = (d + len(x) - len(y)) / 2
		st.Added = (d - len(x) + len(y)) / 2
		return st
	}
	count := map[int]int{}
	for _, v := range x {
		count[v]++
	}
	for _, v := range y {
		if count[v] > 0 {
			count[v]--
		} else {
			st.Added++
		}
	}
	for _, c := range count {
		st.Removed += c
	}
	st.Approximate = true
	return st
}

// editDistance returns the number of insertions and deletions of a
// shortest edit script from x to y (Myers 1986), or false if it exceeds
// maxD.
func editDistance(x, y []int, maxD int) (int, bool) {
	n, m := len(x), len(y)
	if n == 0 || m == 0 {
		return n + m, true
	}
	limit := min(n+m, maxD)
	off := limit + 1
	v := make([]int, 2*limit+3)
	for d := 0; d <= limit; d++ {
		for k := -d; k <= d; k += 2 {
			var px int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				px = v[off+k+1] // down: insertion
			} else {
				px = v[off+k-1] + 1 // right: deletion
			}
			py := px - k
			for px < n && py < m && x[px] == y[py] {
				px++
				py++
			}
			v[off+k] = px
			if px >= n && py >= m {
				return d, true
			}
		}
	}
	return 0, false
}

// DiffTextFiles compares two text files (e.g. SVG figures) with DiffText.
func DiffTextFiles(pathA, pathB string) (TextDiffStats, error) {
	a, err := readAllFile(pathA)
	if err != nil {
		return TextDiffStats{}, fmt.Errorf("diff: %w", err)
	}
	b, err := readAllFile(pathB)
	if err != nil {
		return TextDiffStats{}, fmt.Errorf("diff: %w", err)
	}
	return DiffText(a, b), nil
}

// maxTextBytes bounds the texts DiffTextFiles reads.
const maxTextBytes = 256 << 20

// readAllFile reads a file of at most maxTextBytes.
func readAllFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTextBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxTextBytes {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, maxTextBytes)
	}
	return data, nil
}
