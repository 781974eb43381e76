package v4data

import (
	"errors"
	"math"
	"testing"

	"compactv4/internal/datadir/datadirtest"
)

func openTestStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(datadirtest.Dir(t))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The shapes of reference/upstream.md §2.1 for every session the suite evaluates on.
func TestResponseShapes(t *testing.T) {
	s := openTestStore(t)
	for _, ts := range TestSessions {
		a, err := LoadAveraged(s, ts.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.N != ts.Neurons || a.M != ts.Images {
			t.Errorf("%s: averaged (%d,%d), want (%d,%d)", ts.ID, a.N, a.M, ts.Neurons, ts.Images)
		}
	}
	if got := TestSessions[3].Offset + TestSessions[3].Neurons; got != SharedOutputs {
		t.Errorf("test neurons add up to %d, want %d", got, SharedOutputs)
	}
	for _, tt := range []struct {
		session string
		n, m, r int
		minRep  int
		maxRep  int
	}{
		{"201016", 82, 600, 10, 5, 9},
		{"210325", 50, 640, 10, 6, 10},
	} {
		raw, err := LoadRaw(s, tt.session)
		if err != nil {
			t.Fatal(err)
		}
		if raw.N != tt.n || raw.M != tt.m || raw.R != tt.r {
			t.Errorf("%s: raw (%d,%d,%d), want (%d,%d,%d)", tt.session, raw.N, raw.M, raw.R, tt.n, tt.m, tt.r)
		}
		lo, hi := raw.R, 0
		for i := 0; i < raw.M; i++ {
			k := 0
			for _, v := range raw.Data[i*raw.R : (i+1)*raw.R] {
				if !math.IsNaN(v) {
					k++
				}
			}
			lo, hi = min(lo, k), max(hi, k)
		}
		if lo != tt.minRep || hi != tt.maxRep {
			t.Errorf("%s: %d-%d valid repeats per image, want %d-%d", tt.session, lo, hi, tt.minRep, tt.maxRep)
		}
		// The repeat-averaged file is the nanmean of the raw one (reference/upstream.md §2.1).
		avg, err := LoadAveraged(s, tt.session)
		if err != nil {
			t.Fatal(err)
		}
		for n := 0; n < raw.N; n++ {
			for i := 0; i < raw.M; i++ {
				sum, k := 0.0, 0
				for _, v := range raw.Data[(n*raw.M+i)*raw.R : (n*raw.M+i+1)*raw.R] {
					if !math.IsNaN(v) {
						sum += v
						k++
					}
				}
				if d := math.Abs(sum/float64(k) - avg.Data[n*avg.M+i]); d > 1e-12 {
					t.Fatalf("%s neuron %d image %d: nanmean %v, averaged %v", tt.session, n, i, sum/float64(k), avg.Data[n*avg.M+i])
				}
			}
		}
		sub := raw.Images(100, 103)
		if sub.M != 3 || sub.Data[0] != raw.Data[100*raw.R] || sub.Data[3*raw.R] != raw.Data[raw.M*raw.R+100*raw.R] {
			t.Errorf("%s: Images(100,103) copied the wrong slots", tt.session)
		}
	}
}

func TestLoadImages(t *testing.T) {
	s := openTestStore(t)
	datadirtest.File(t, ImagesPath("190923"))
	im, err := LoadImages(s, "190923", 1200)
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 1200 || im.H != 112 || im.W != 112 || len(im.Pix) != 1200*112*112*3 {
		t.Errorf("images %dx%dx%d (%d bytes)", im.N, im.H, im.W, len(im.Pix))
	}
}

// A session the local copy lacks gives a MissingError naming the file.
func TestMissingSession(t *testing.T) {
	s := openTestStore(t)
	if s.Has(ImagesPath("211022")) {
		t.Skip("the data directory has images_211022.zip")
	}
	_, err := LoadImages(s, "211022", 1600)
	var me *MissingError
	if !errors.As(err, &me) || me.Path != ImagesPath("211022") {
		t.Errorf("err = %v, want a MissingError for %s", err, ImagesPath("211022"))
	}
}

func TestSynthImages(t *testing.T) {
	for _, tt := range []struct {
		session    string
		first, end int
	}{
		{"190924", 600, 900},
		{"190927", 600, 900},
		{"190929", 600, 900},
		{"190923", 0, 0}, // a test session: its images 601-900 are natural images of the evaluation half
		{"190930", 0, 0},
		{"1909245", 0, 0},
		{"210325", 0, 0},
		{"", 0, 0},
	} {
		if first, end := SynthImages(tt.session); first != tt.first || end != tt.end {
			t.Errorf("SynthImages(%q) = %d, %d; want %d, %d", tt.session, first, end, tt.first, tt.end)
		}
	}
}
