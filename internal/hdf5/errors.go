package hdf5

import (
	"errors"
	"fmt"
)

// ErrFormat is matched (errors.Is) by every error that reports malformed or corrupt HDF5 structure.
var ErrFormat = errors.New("hdf5: invalid format")

// ErrNotFound is matched by the error of a path lookup that names no member.
var ErrNotFound = errors.New("hdf5: not found")

// FormatError reports malformed or corrupt HDF5 structure. It matches ErrFormat.
type FormatError struct {
	What   string // what was being read, e.g. "object header", "v1 B-tree node"
	Offset int64  // absolute file offset of that structure, or -1 when unknown
	Msg    string // what is wrong
}

// Error formats the error as "hdf5: what at offset N: msg".
func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("hdf5: %s: %s", e.What, e.Msg)
	}
	return fmt.Sprintf("hdf5: %s at offset %d: %s", e.What, e.Offset, e.Msg)
}

// Is reports whether target is ErrFormat.
func (e *FormatError) Is(target error) bool { return target == ErrFormat }

// formatErr builds a *FormatError; off is an absolute file offset or -1.
func formatErr(what string, off int64, format string, args ...any) error {
	return &FormatError{What: what, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// unsupported builds an error matching errors.ErrUnsupported.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("hdf5: %s: %w", fmt.Sprintf(format, args...), errors.ErrUnsupported)
}
