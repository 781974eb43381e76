// Package statefile keeps a long run's state in a file between its stops: gob-encoded and
// written atomically, so that a stop during a write leaves the previous checkpoint whole.
package statefile

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
	"os"

	"compactv4/harness"
)

// Read decodes the checkpoint at path into v, which must point to the type Write was given. It
// returns false and no error when there is no file, and an error saying how to start over when
// the file does not decode.
func Read(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := Decode(b, v); err != nil {
		return false, fmt.Errorf("checkpoint %s does not decode (delete it to start over): %w", path, err)
	}
	return true, nil
}

// Decode decodes checkpoint bytes into v.
func Decode(b []byte, v any) error {
	return gob.NewDecoder(bytes.NewReader(b)).Decode(v)
}

// Write stores v at path atomically.
func Write(path string, v any) error {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(v); err != nil {
		return fmt.Errorf("checkpoint %s: %w", path, err)
	}
	return harness.WriteFileAtomic(path, b.Bytes())
}
