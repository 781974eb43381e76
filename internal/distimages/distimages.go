// Package distimages gives a distillation its images (reference/upstream.md §8): the paper
// distilled on 12 M natural images that are not public, so here every image of the data
// directory except the evaluation halves of the test sessions is a base image, and a seeded,
// effectively unlimited stream of augmented images is made from them.
//
// A Set splits the base images into a fixed held-out set (never trained on, shown as they are or
// mirrored, no other change: for held-out fidelity and the pruning criterion, as the paper's
// held-out images) and the training images. Its stream assigns to every position p = 0, 1, … one
// image, a function of the seed and p alone: the base image is the (p mod T)-th of a seeded
// permutation of the T training images drawn for pass ⌊p/T⌋, and its augmentations are drawn
// from a generator seeded by (seed, p). A run resumed at any position therefore sees the same
// images as one that never stopped, and a batch is the same whatever else was made before it.
//
// With Config.TestEvery = m > 0, every m-th position (p = 0, m, 2m, …) takes its base image from
// a second stream of the same kind over the training images of the test sessions alone (the
// sessions marked Test: their training halves), and the other positions take the general
// stream's images in turn. The test sessions' images are then presented more often than their
// share of the base images, while every other image still passes through the general stream.
//
// The augmentation families (Families), each drawn independently per image:
//
//   - mosaic (probability 0.15): the image is a 2×2 mosaic of random crops of the base image and
//     three other training images, each resampled to 56×56; otherwise
//   - crop (0.5): a random resized crop (area 25-100 % of the image, aspect ratio 3/4-4/3,
//     bilinear) back to 112×112; or shift (0.25 of the rest): a translation by up to 28 pixels
//     on each axis, borders mirrored;
//   - mirror (0.5): left-right flip;
//   - rot90 (0.25): a rotation by 90°, 180° or 270°;
//   - gaudy (0.1): upstream's gaudy transform (classes/class_images.py get_gaudy_images, σ = 0):
//     each channel set to 0 below its mean over the image and to 255 at or above it; otherwise
//   - colour (0.5): contrast ×0.6-1.4 about the image's mean, saturation ×0.4-1.6 about each
//     pixel's grey, brightness ±30 grey levels, and a gain of 0.9-1.1 per channel.
//
// Pixels are computed in float32 and rounded to uint8 at the end, as images are stored.
package distimages

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"

	"compactv4/internal/imagezip"
	"compactv4/internal/model"
)

// Size is the side of every image, model.ImageSize.
const Size = model.ImageSize

const pixels = Size * Size * 3

// Ref is one base image: image Index (0-based; zip entry image%04d.jpg of Index+1) of a session,
// mirrored left-right when Flipped.
type Ref struct {
	Session string
	Index   int
	Flipped bool
}

// Families are the augmentation families a stream uses.
type Families struct {
	Mirror, Crop, Shift, Rot90, Colour, Mosaic, Gaudy bool
}

// AllFamilies enables every family.
var AllFamilies = Families{true, true, true, true, true, true, true}

var familyNames = []string{"mirror", "crop", "shift", "rot90", "colour", "mosaic", "gaudy"}

func (f *Families) flags() []*bool {
	return []*bool{&f.Mirror, &f.Crop, &f.Shift, &f.Rot90, &f.Colour, &f.Mosaic, &f.Gaudy}
}

// String lists the enabled families, comma-separated in a fixed order, or "none".
func (f Families) String() string {
	var on []string
	for i, b := range f.flags() {
		if *b {
			on = append(on, familyNames[i])
		}
	}
	if len(on) == 0 {
		return "none"
	}
	return strings.Join(on, ",")
}

// ParseFamilies reads a comma-separated list of families (mirror, crop, shift, rot90, colour,
// mosaic, gaudy), "all" or "none".
func ParseFamilies(s string) (Families, error) {
	switch s {
	case "all":
		return AllFamilies, nil
	case "none":
		return Families{}, nil
	}
	var f Families
	ptrs := f.flags()
	for _, name := range strings.Split(s, ",") {
		i := slices.Index(familyNames, strings.TrimSpace(name))
		if i < 0 {
			return Families{}, fmt.Errorf("augmentation family %q: want a comma-separated list of %s, or all or none", name, strings.Join(familyNames, ", "))
		}
		*ptrs[i] = true
	}
	return f, nil
}

// Config configures a Set.
type Config struct {
	HeldOut  int    // number of held-out base images
	Seed     uint64 // seeds the held-out choice, the permutations and the augmentations
	Families Families
	// TestEvery, when positive, draws every TestEvery-th image of the stream from the training
	// images of the test sessions (Session.Test); 0 draws every image from all training images.
	TestEvery int
	// LeaveOutSynth leaves out, in Load, the synthesized images that upstream's training class
	// leaves out (v4data.SynthImages); by default they are base images like the others.
	LeaveOutSynth bool
}

// Session is one session's images and which of them a Set may use.
type Session struct {
	ID     string
	Images *imagezip.Images // Size×Size RGB
	// Exclude, when set, reports images never to use (the evaluation half of a test session).
	Exclude func(index int) bool
	// Test marks a test session, whose training images Config.TestEvery presents more often.
	Test bool
}

// Set is the base images of a distillation split into held-out and training images, and the
// stream of augmented training images.
type Set struct {
	cfg      Config
	sessions []Session
	order    map[string]int
	heldOut  []Ref
	train    []Ref
	test     []Ref // the training images of the test sessions

	mu      sync.Mutex
	general permutation // of train
	tests   permutation // of test
}

// permutation caches the seeded permutation of one pass of a stream over n base images.
type permutation struct {
	salt uint64
	pass int64
	perm []int32
}

// index returns the base image (an index below n) of position p of the stream.
func (q *permutation) index(seed uint64, n, p int64) int32 {
	pass, k := p/n, p%n
	if q.perm == nil || pass != q.pass {
		rng := rand.New(rand.NewPCG(seed, q.salt|uint64(pass)))
		if q.perm == nil {
			q.perm = make([]int32, n)
		}
		for i := range q.perm {
			q.perm[i] = int32(i)
		}
		rng.Shuffle(len(q.perm), func(i, j int) { q.perm[i], q.perm[j] = q.perm[j], q.perm[i] })
		q.pass = pass
	}
	return q.perm[k]
}

// New splits the sessions' images (in the order given, each in index order) into cfg.HeldOut
// held-out images and the training images.
func New(sessions []Session, cfg Config) (*Set, error) {
	if cfg.TestEvery < 0 {
		return nil, fmt.Errorf("distillation images: a test-session interval of %d: want 0 (none) or more", cfg.TestEvery)
	}
	s := &Set{cfg: cfg, sessions: sessions, order: map[string]int{},
		general: permutation{salt: 0x7061737300000000}, // "pass"
		tests:   permutation{salt: 0x7465737400000000}, // "test"
	}
	var all []Ref
	for i, ss := range sessions {
		if ss.Images == nil || ss.Images.H != Size || ss.Images.W != Size {
			return nil, fmt.Errorf("distillation images: session %s: want %d×%d images", ss.ID, Size, Size)
		}
		if _, dup := s.order[ss.ID]; dup {
			return nil, fmt.Errorf("distillation images: session %s given twice", ss.ID)
		}
		s.order[ss.ID] = i
		for k := range ss.Images.N {
			if ss.Exclude == nil || !ss.Exclude(k) {
				all = append(all, Ref{Session: ss.ID, Index: k})
			}
		}
	}
	if cfg.HeldOut < 0 || len(all)-cfg.HeldOut < 4 {
		return nil, fmt.Errorf("distillation images: %d base images cannot give %d held-out images and at least 4 training images", len(all), cfg.HeldOut)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x68656c646f7574)) // "heldout"
	perm := rng.Perm(len(all))
	held := make([]bool, len(all))
	for _, i := range perm[:cfg.HeldOut] {
		held[i] = true
	}
	for i, r := range all {
		if held[i] {
			s.heldOut = append(s.heldOut, r)
		} else {
			s.train = append(s.train, r)
			if sessions[s.order[r.Session]].Test {
				s.test = append(s.test, r)
			}
		}
	}
	if cfg.TestEvery > 0 && len(s.test) == 0 {
		return nil, fmt.Errorf("distillation images: every %d-th image from the test sessions, but no test session has a training image", cfg.TestEvery)
	}
	for i := range s.heldOut {
		s.heldOut[i].Flipped = rng.IntN(2) == 1
	}
	return s, nil
}

// Config returns the set's configuration.
func (s *Set) Config() Config { return s.cfg }

// Sessions returns the ids of the sessions whose images the set uses, in order.
func (s *Set) Sessions() []string {
	out := make([]string, len(s.sessions))
	for i, ss := range s.sessions {
		out[i] = ss.ID
	}
	return out
}

// HeldOut returns the held-out images, in session and index order.
func (s *Set) HeldOut() []Ref { return slices.Clone(s.heldOut) }

// Train is the number of training base images.
func (s *Set) Train() int { return len(s.train) }

// TestImages is the number of training base images of the test sessions.
func (s *Set) TestImages() int { return len(s.test) }

// base returns the pixels of a reference, unflipped.
func (s *Set) base(r Ref) []uint8 {
	return s.sessions[s.order[r.Session]].Images.Image(r.Index)
}

// HeldOutPixels returns the held-out images (uint8 NHWC), mirrored where their Ref says so.
func (s *Set) HeldOutPixels() []uint8 {
	out := make([]uint8, len(s.heldOut)*pixels)
	for i, r := range s.heldOut {
		dst := out[i*pixels : (i+1)*pixels]
		copy(dst, s.base(r))
		if r.Flipped {
			mirror8(dst)
		}
	}
	return out
}

// ErrPosition reports a negative stream position.
var ErrPosition = errors.New("negative stream position")

// Fill writes the stream's images at positions pos … pos+n−1 into dst (n·Size·Size·3 bytes).
func (s *Set) Fill(pos int64, n int, dst []uint8) error {
	if pos < 0 {
		return ErrPosition
	}
	if len(dst) != n*pixels {
		return fmt.Errorf("distillation images: %d bytes for %d images", len(dst), n)
	}
	buf := make([]float32, pixels)
	tmp := make([]float32, pixels)
	for i := range n {
		p := pos + int64(i)
		s.augment(p, s.trainRef(p), buf, tmp)
		quantize(buf, dst[i*pixels:(i+1)*pixels])
	}
	return nil
}

// trainRef is the base image of stream position p.
func (s *Set) trainRef(p int64) Ref {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := int64(s.cfg.TestEvery); m > 0 {
		if p%m == 0 {
			return s.test[s.tests.index(s.cfg.Seed, int64(len(s.test)), p/m)]
		}
		p -= p/m + 1 // the general stream's position: the positions before p not taken by the tests'
	}
	return s.train[s.general.index(s.cfg.Seed, int64(len(s.train)), p)]
}

// Probabilities of the families (see the package doc).
const (
	pMosaic = 0.15
	pCrop   = 0.5
	pShift  = 0.25
	pMirror = 0.5
	pRot90  = 0.25
	pGaudy  = 0.1
	pColour = 0.5
)

// augment draws the augmented image of position p from base image r into out.
func (s *Set) augment(p int64, r Ref, out, tmp []float32) {
	f := s.cfg.Families
	rng := rand.New(rand.NewPCG(s.cfg.Seed^0x6175676d656e74, uint64(p))) // "augment"
	switch {
	case f.Mosaic && rng.Float64() < pMosaic:
		const h = Size / 2
		for q := range 4 {
			src := s.base(r)
			if q > 0 {
				src = s.base(s.train[rng.IntN(len(s.train))])
			}
			x0, y0, w, hh := randomCrop(rng)
			resample(src, x0, y0, w, hh, out, (q%2)*h, (q/2)*h, h, h)
		}
	case f.Crop && rng.Float64() < pCrop:
		x0, y0, w, h := randomCrop(rng)
		resample(s.base(r), x0, y0, w, h, out, 0, 0, Size, Size)
	case f.Shift && rng.Float64() < pShift:
		shift(s.base(r), rng.IntN(57)-28, rng.IntN(57)-28, out)
	default:
		for i, v := range s.base(r) {
			out[i] = float32(v)
		}
	}
	if f.Mirror && rng.Float64() < pMirror {
		mirror(out)
	}
	if f.Rot90 && rng.Float64() < pRot90 {
		rotate(out, tmp, 1+rng.IntN(3))
	}
	switch {
	case f.Gaudy && rng.Float64() < pGaudy:
		gaudy(out)
	case f.Colour && rng.Float64() < pColour:
		colour(out, rng)
	}
}

// randomCrop draws a crop of 25-100 % of the image's area with aspect ratio (w/h) between 3/4
// and 4/3 (log-uniform), placed uniformly.
func randomCrop(rng *rand.Rand) (x0, y0, w, h float64) {
	area := (0.25 + 0.75*rng.Float64()) * Size * Size
	ratio := math.Exp(math.Log(0.75) + (math.Log(4.0/3)-math.Log(0.75))*rng.Float64())
	w = min(math.Sqrt(area*ratio), Size)
	h = min(math.Sqrt(area/ratio), Size)
	x0 = (Size - w) * rng.Float64()
	y0 = (Size - h) * rng.Float64()
	return x0, y0, w, h
}

// resample writes the region (x0, y0, w, h) of a Size×Size uint8 image into the dw×dh block at
// (dx0, dy0) of dst (Size×Size float32), bilinearly, sampling at pixel centres.
func resample(src []uint8, x0, y0, w, h float64, dst []float32, dx0, dy0, dw, dh int) {
	for j := range dh {
		sy := min(max(y0+(float64(j)+0.5)*h/float64(dh)-0.5, 0), Size-1)
		iy := min(int(sy), Size-2)
		fy := float32(sy - float64(iy))
		for i := range dw {
			sx := min(max(x0+(float64(i)+0.5)*w/float64(dw)-0.5, 0), Size-1)
			ix := min(int(sx), Size-2)
			fx := float32(sx - float64(ix))
			a := (iy*Size + ix) * 3
			b := a + Size*3
			o := ((dy0+j)*Size + dx0 + i) * 3
			for c := range 3 {
				top := float32(src[a+c]) + fx*(float32(src[a+3+c])-float32(src[a+c]))
				bot := float32(src[b+c]) + fx*(float32(src[b+3+c])-float32(src[b+c]))
				dst[o+c] = top + fy*(bot-top)
			}
		}
	}
}

// reflect maps a coordinate outside [0, n) back inside by mirroring at the borders.
func reflect(i, n int) int {
	for i < 0 || i >= n {
		if i < 0 {
			i = -i - 1
		} else {
			i = 2*n - i - 1
		}
	}
	return i
}

// shift translates the image by (dx, dy) pixels, mirroring at the borders.
func shift(src []uint8, dx, dy int, dst []float32) {
	for y := range Size {
		sy := reflect(y-dy, Size)
		for x := range Size {
			sx := reflect(x-dx, Size)
			a, o := (sy*Size+sx)*3, (y*Size+x)*3
			dst[o], dst[o+1], dst[o+2] = float32(src[a]), float32(src[a+1]), float32(src[a+2])
		}
	}
}

func mirror(im []float32) {
	for y := range Size {
		row := im[y*Size*3 : (y+1)*Size*3]
		for x := range Size / 2 {
			a, b := x*3, (Size-1-x)*3
			for c := range 3 {
				row[a+c], row[b+c] = row[b+c], row[a+c]
			}
		}
	}
}

func mirror8(im []uint8) {
	for y := range Size {
		row := im[y*Size*3 : (y+1)*Size*3]
		for x := range Size / 2 {
			a, b := x*3, (Size-1-x)*3
			for c := range 3 {
				row[a+c], row[b+c] = row[b+c], row[a+c]
			}
		}
	}
}

// rotate turns the image by k quarter turns counter-clockwise, using tmp.
func rotate(im, tmp []float32, k int) {
	for y := range Size {
		for x := range Size {
			var sy, sx int
			switch k {
			case 1:
				sy, sx = x, Size-1-y
			case 2:
				sy, sx = Size-1-y, Size-1-x
			default:
				sy, sx = Size-1-x, y
			}
			a, o := (sy*Size+sx)*3, (y*Size+x)*3
			tmp[o], tmp[o+1], tmp[o+2] = im[a], im[a+1], im[a+2]
		}
	}
	copy(im, tmp)
}

// gaudy is upstream's get_gaudy_images with σ = 0: per channel, 0 below the channel's mean over
// the image, 255 at or above it.
func gaudy(im []float32) {
	for c := range 3 {
		var sum float64
		for i := c; i < len(im); i += 3 {
			sum += float64(im[i])
		}
		m := sum / float64(len(im)/3)
		for i := c; i < len(im); i += 3 {
			if float64(im[i]) < m {
				im[i] = 0
			} else {
				im[i] = 255
			}
		}
	}
}

// colour applies a random contrast, saturation, brightness and per-channel gain.
func colour(im []float32, rng *rand.Rand) {
	contrast := float32(0.6 + 0.8*rng.Float64())
	sat := float32(0.4 + 1.2*rng.Float64())
	bright := float32(60*rng.Float64() - 30)
	var gain [3]float32
	for c := range gain {
		gain[c] = float32(0.9 + 0.2*rng.Float64())
	}
	var sum float64
	for _, v := range im {
		sum += float64(v)
	}
	mean := float32(sum / float64(len(im)))
	for i := 0; i < len(im); i += 3 {
		grey := 0.299*im[i] + 0.587*im[i+1] + 0.114*im[i+2]
		for c := range 3 {
			v := grey + (im[i+c]-grey)*sat
			v = mean + (v-mean)*contrast
			im[i+c] = (v + bright) * gain[c]
		}
	}
}

// quantize rounds to the nearest uint8, clamping to [0, 255].
func quantize(src []float32, dst []uint8) {
	for i, v := range src {
		dst[i] = uint8(min(max(math.Round(float64(v)), 0), 255))
	}
}
