package synth

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// synthMagic starts the binary encoding of a Synth (version 1).
const synthMagic = "STIMSYN1"

// Limits of ReadSynth, far above what the experiment writes (112×112 images, 1,000 steps), so
// that a corrupt length cannot make it allocate gigabytes.
const (
	maxSide  = 4096
	maxTrace = 1 << 22
)

// MarshalBinary encodes s (for the result cache): the magic "STIMSYN1", then little-endian
// uint32 H, W, int32 BestStep, uint32 Restart, float64 Response, Initial, uint32 len(Trace),
// the H·W·3 float64 image values and the float32 trace.
func (s *Synth) MarshalBinary() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("encode synthesis: %w", err)
	}
	var b bytes.Buffer
	b.WriteString(synthMagic)
	hdr := struct {
		H, W     uint32
		BestStep int32
		Restart  uint32
		Response float64
		Initial  float64
		Trace    uint32
	}{uint32(s.H), uint32(s.W), int32(s.BestStep), uint32(s.Restart), s.Response, s.Initial, uint32(len(s.Trace))}
	for _, v := range []any{hdr, s.Image, s.Trace} {
		if err := binary.Write(&b, binary.LittleEndian, v); err != nil {
			return nil, fmt.Errorf("encode synthesis: %w", err)
		}
	}
	return b.Bytes(), nil
}

// check reports a Synth that no synthesis can produce.
func (s *Synth) check() error {
	switch {
	case s.H < 1 || s.W < 1 || s.H > maxSide || s.W > maxSide:
		return fmt.Errorf("image size %d×%d out of range", s.H, s.W)
	case len(s.Image) != s.H*s.W*3:
		return fmt.Errorf("%d image values for %d×%d×3", len(s.Image), s.H, s.W)
	case len(s.Trace) > maxTrace:
		return fmt.Errorf("trace of %d steps, more than %d", len(s.Trace), maxTrace)
	case s.BestStep < -1 || s.BestStep >= len(s.Trace):
		return fmt.Errorf("best step %d outside the %d recorded steps", s.BestStep, len(s.Trace))
	case s.Restart < 0 || s.Restart > math.MaxInt32:
		return fmt.Errorf("restart %d out of range", s.Restart)
	case !finite(s.Response) || !finite(s.Initial):
		return fmt.Errorf("responses %v, %v are not finite", s.Response, s.Initial)
	}
	for i, v := range s.Image {
		if !(v >= 0 && v <= 255) {
			return fmt.Errorf("image value %d is %v, outside [0, 255]", i, v)
		}
	}
	for i, v := range s.Trace {
		if !finite(float64(v)) {
			return fmt.Errorf("response after step %d is %v", i, v)
		}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// ReadSynth decodes what MarshalBinary wrote. It rejects a wrong magic, sizes beyond its limits,
// truncated or trailing data, and values no synthesis produces (non-finite responses, pixels
// outside [0, 255]), with an error saying which.
func ReadSynth(r io.Reader) (*Synth, error) {
	magic := make([]byte, len(synthMagic))
	if _, err := io.ReadFull(r, magic); err != nil {
		return nil, fmt.Errorf("read synthesis: magic: %w", unexpected(err))
	}
	if string(magic) != synthMagic {
		return nil, fmt.Errorf("read synthesis: magic %q, want %q", magic, synthMagic)
	}
	var hdr struct {
		H, W     uint32
		BestStep int32
		Restart  uint32
		Response float64
		Initial  float64
		Trace    uint32
	}
	if err := binary.Read(r, binary.LittleEndian, &hdr); err != nil {
		return nil, fmt.Errorf("read synthesis: header: %w", unexpected(err))
	}
	if hdr.H < 1 || hdr.W < 1 || hdr.H > maxSide || hdr.W > maxSide {
		return nil, fmt.Errorf("read synthesis: image size %d×%d out of range", hdr.H, hdr.W)
	}
	if hdr.Trace > maxTrace {
		return nil, fmt.Errorf("read synthesis: trace of %d steps, more than %d", hdr.Trace, maxTrace)
	}
	s := &Synth{
		H: int(hdr.H), W: int(hdr.W), BestStep: int(hdr.BestStep), Restart: int(hdr.Restart),
		Response: hdr.Response, Initial: hdr.Initial,
	}
	// Read in bounded chunks so that a short input fails before a large allocation.
	var err error
	if s.Image, err = readFloats(r, s.H*s.W*3, 8, float64le); err != nil {
		return nil, fmt.Errorf("read synthesis: image: %w", err)
	}
	if s.Trace, err = readFloats(r, int(hdr.Trace), 4, float32le); err != nil {
		return nil, fmt.Errorf("read synthesis: trace: %w", err)
	}
	var one [1]byte
	if n, _ := r.Read(one[:]); n > 0 {
		return nil, errors.New("read synthesis: trailing data")
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("read synthesis: %w", err)
	}
	return s, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

const chunk = 1 << 14

// readFloats reads n little-endian values of size bytes each, decoded by decode, in chunks, so
// that a header that claims more values than the stream holds costs no more than the stream.
func readFloats[T float32 | float64](r io.Reader, n, size int, decode func([]byte) T) ([]T, error) {
	out := make([]T, 0, min(n, chunk))
	buf := make([]byte, size*min(n, chunk))
	for len(out) < n {
		k := min(n-len(out), chunk)
		if _, err := io.ReadFull(r, buf[:size*k]); err != nil {
			return nil, unexpected(err)
		}
		for i := 0; i < k; i++ {
			out = append(out, decode(buf[size*i:]))
		}
	}
	return out, nil
}

func float64le(b []byte) float64 { return math.Float64frombits(binary.LittleEndian.Uint64(b)) }

func float32le(b []byte) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(b)) }
