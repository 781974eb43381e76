// Package readn reads a length-prefixed payload whose length comes from untrusted input.
//
// A corrupt header may claim gigabytes; allocating that up front turns a damaged file into an
// out-of-memory crash. Full grows its buffer only as data actually arrives, so it never holds
// much more than the input provides.
package readn

import (
	"fmt"
	"io"
)

// chunk is the first allocation and the smallest growth step.
const chunk = 1 << 16

// Full reads exactly n bytes from r. It allocates at most about twice the bytes r delivers
// (and at least 64 KiB or n, whichever is smaller), never n up front. A short input gives an
// error wrapping io.ErrUnexpectedEOF that says how many bytes were wanted and read.
func Full(r io.Reader, n int) ([]byte, error) {
	if n < 0 {
		return nil, fmt.Errorf("readn: negative length %d", n)
	}
	buf := make([]byte, 0, min(n, chunk))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = append(buf, make([]byte, min(n-len(buf), max(chunk, len(buf))))...)[:len(buf)]
		}
		m, err := io.ReadFull(r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+m]
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%w: want %d bytes, got %d", io.ErrUnexpectedEOF, n, len(buf))
			}
			return nil, err
		}
	}
	return buf, nil
}
