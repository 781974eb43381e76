package readn

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

func TestFull(t *testing.T) {
	data := bytes.Repeat([]byte{1, 2, 3, 4, 5, 6, 7}, 40000) // 280,000 bytes: several growth steps
	tests := []struct {
		name    string
		in      []byte
		n       int
		wantLen int
		wantErr error
	}{
		{"empty", nil, 0, 0, nil},
		{"exact", data, len(data), len(data), nil},
		{"prefix", data, 100, 100, nil},
		{"short", data[:10], 11, 0, io.ErrUnexpectedEOF},
		{"empty input", nil, 1, 0, io.ErrUnexpectedEOF},
		{"huge claim", data[:1000], 1 << 40, 0, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Full(bytes.NewReader(tt.in), tt.n)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err == nil && (len(got) != tt.wantLen || !bytes.Equal(got, tt.in[:tt.wantLen])) {
				t.Fatalf("got %d bytes, want the first %d of the input", len(got), tt.wantLen)
			}
		})
	}
	if _, err := Full(bytes.NewReader(data), -1); err == nil {
		t.Fatal("negative length: no error")
	}
}

type failing struct{}

func (failing) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestFullPassesOtherErrors(t *testing.T) {
	_, err := Full(failing{}, 10)
	if err == nil || errors.Is(err, io.ErrUnexpectedEOF) || err.Error() != "disk on fire" {
		t.Fatalf("err = %v, want the reader's own error", err)
	}
}

func TestFullAllocationBounded(t *testing.T) {
	in := make([]byte, 1000)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		if _, err := Full(bytes.NewReader(in), 1<<40); err == nil {
			t.Fatal("no error for a 1,000-byte input claiming 1 TiB")
		}
	}
	runtime.ReadMemStats(&after)
	// Each call holds one 64 KiB buffer: a claimed terabyte must not be allocated.
	if got := after.TotalAlloc - before.TotalAlloc; got > 10*(1<<17) {
		t.Fatalf("%d bytes allocated by 10 reads of a 1,000-byte input claiming 1 TiB", got)
	}
}
