package experiments

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"compactv4/harness"
	"compactv4/internal/datadir"
	"compactv4/internal/datadir/datadirtest"
)

var (
	update = flag.Bool("update", false, "rewrite golden/<experiment>/quick.json from this run")
	note   = flag.String("note", "", "with -update: a note stored in the golden file")
	only   = flag.String("run-experiment", "", "check only this experiment")
)

// TestGoldens runs every registered experiment on the quick profile and compares its numbers
// (and the data files they were computed from) with golden/<experiment>/quick.json.
func TestGoldens(t *testing.T) {
	if len(harness.Experiments()) == 0 {
		t.Fatal("no experiment is registered")
	}
	dir := datadirtest.Dir(t)
	root, err := datadir.ProjectRoot()
	if err != nil {
		t.Fatal(err)
	}
	log := io.Discard
	if testing.Verbose() {
		log = os.Stderr
	}
	// One cache for all experiments, as `replicate run` has: steps that several experiments
	// need (the compact models' predictions) are computed once.
	cache, err := harness.NewCache(t.TempDir(), log)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range harness.Experiments() {
		if *only != "" && e.Name != *only {
			continue
		}
		t.Run(e.Name, func(t *testing.T) {
			out1, out2 := t.TempDir(), t.TempDir()
			rec, err := harness.RunExperiment(context.Background(), e, harness.RunOptions{
				Profile: harness.Quick, DataDir: dir, Out: out1, Cache: cache, Log: log,
			})
			if err != nil {
				t.Fatal(err)
			}
			// Same inputs, same bytes: a second run (reusing the cached steps) must write
			// identical figures, tables and record.
			if _, err := harness.RunExperiment(context.Background(), e, harness.RunOptions{
				Profile: harness.Quick, DataDir: dir, Out: out2, Cache: cache, Log: log,
			}); err != nil {
				t.Fatal(err)
			}
			sameTree(t, filepath.Join(out1, e.Name), filepath.Join(out2, e.Name))
			if *update {
				path := harness.GoldenPath(root, e.Name, harness.Quick)
				if err := harness.WriteGolden(path, harness.GoldenOf(rec, *note)); err != nil {
					t.Fatal(err)
				}
				t.Logf("wrote %s (%d values)", path, len(rec.Values))
				return
			}
			ms, err := harness.CheckGolden(root, rec)
			if err != nil {
				t.Fatal(err)
			}
			for i, m := range ms {
				if i == 30 {
					t.Errorf("... and %d more differences", len(ms)-i)
					break
				}
				t.Error(m)
			}
			for _, f := range rec.Figures {
				if _, err := os.Stat(filepath.Join(root, "figures", e.Name, f+".png")); err != nil {
					t.Errorf("figure %s is not committed under figures/%s: run `make figures`", f, e.Name)
				}
			}
		})
	}
}

// sameTree fails the test unless two directories hold the same files with the same bytes.
func sameTree(t *testing.T, a, b string) {
	t.Helper()
	files := map[string][]byte{}
	err := filepath.WalkDir(a, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(a, p)
		files[rel], err = os.ReadFile(p)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	err = filepath.WalkDir(b, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(b, p)
		got, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		want, ok := files[rel]
		switch {
		case !ok:
			t.Errorf("second run wrote %s, the first did not", rel)
		case !bytes.Equal(got, want):
			t.Errorf("%s differs between two runs", rel)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != len(files) {
		t.Errorf("first run wrote %d files, second %d", len(files), n)
	}
}
