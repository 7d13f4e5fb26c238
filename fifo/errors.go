package fifo

import (
	"errors"
	"fmt"
	"io/fs"
	"time"
)

// ErrExist is returned (inside an *fs.PathError) when Make finds a FIFO
// already at the path and the caller did not allow that.
var ErrExist = errors.New("fifo already exists")

// ErrTimeout matches every *TimeoutError with errors.Is.
var ErrTimeout = errors.New("timed out")

// NotFIFOError reports that a path is something other than a FIFO. Type
// names what it is instead ("regular file", "directory", "symlink", ...).
type NotFIFOError struct {
	Type string
}

func (e *NotFIFOError) Error() string {
	return fmt.Sprintf("is a %s, not a fifo", e.Type)
}

// TimeoutError reports that no peer opened the other end of a FIFO in time.
type TimeoutError struct {
	// Peer is what was awaited: "writer" or "reader".
	Peer  string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("no %s opened it within %s", e.Peer, e.After)
}

// Is makes errors.Is(err, ErrTimeout) true for every TimeoutError.
func (e *TimeoutError) Is(target error) bool { return target == ErrTimeout }

// fileType names the type of a non-FIFO file for error messages.
func fileType(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "regular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symlink"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	case m&fs.ModeNamedPipe != 0:
		return "fifo"
	}
	return "special file"
}

func pathError(op, path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == path {
		return pe
	}
	return &fs.PathError{Op: op, Path: path, Err: err}
}
