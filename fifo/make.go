package fifo

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// MakeOptions controls Make.
type MakeOptions struct {
	// Mode is applied exactly (ignoring the umask), as mkfifo -m does, when
	// ModeSet is true. Otherwise the FIFO gets DefaultMode less the umask.
	Mode    os.FileMode
	ModeSet bool
	// Parents creates missing parent directories, as mkdir -p does.
	Parents bool
	// ExistOK makes an existing FIFO at the path a success. An existing
	// non-FIFO is always an error.
	ExistOK bool
}

// Make creates a FIFO at path.
func Make(path string, opts MakeOptions) error {
	if opts.Parents {
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			return err
		}
	}
	mode := DefaultMode
	if opts.ModeSet {
		mode = opts.Mode
	}
	if err := unix.Mkfifo(path, uint32(mode.Perm())); err != nil {
		if errors.Is(err, syscall.EEXIST) {
			return existing(path, opts.ExistOK)
		}
		return pathError("mkfifo", path, err)
	}
	if opts.ModeSet {
		// mkfifo(2) applies the umask; an explicit mode must not be
		// narrowed by it. The FIFO only ever gets more open here, never
		// briefly more open than asked.
		if err := unix.Fchmodat(unix.AT_FDCWD, path, uint32(mode.Perm()), 0); err != nil {
			return pathError("chmod", path, err)
		}
	}
	return nil
}

// existing decides what a path that already exists means for Make.
func existing(path string, ok bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return pathError("mkfifo", path, err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return pathError("mkfifo", path, &NotFIFOError{Type: fileType(fi.Mode())})
	}
	if !ok {
		return pathError("mkfifo", path, ErrExist)
	}
	return nil
}

// TempDirPrefix starts the name of every directory MakeTemp creates; Remove
// recognises such a directory by it (and by being a private directory of
// the caller's) and removes it once its FIFO is gone.
const TempDirPrefix = "pipectl-fifo-"

// DefaultTempName is the FIFO's name inside a MakeTemp directory when the
// caller gives none.
const DefaultTempName = "fifo"

// MakeTemp creates a FIFO named name (DefaultTempName if empty) inside a
// new private (0700) directory under dir (os.TempDir() if empty) and
// returns its path: mktemp for FIFOs. The FIFO's mode is 0600 unless
// opts.ModeSet. On failure nothing is left behind.
func MakeTemp(dir, name string, opts MakeOptions) (string, error) {
	if name == "" {
		name = DefaultTempName
	}
	if name == "." || name == ".." || strings.ContainsRune(name, '/') {
		return "", &fs.PathError{Op: "mkfifo", Path: name, Err: errors.New("a temp fifo name must be a plain file name, without /")}
	}
	if dir == "" {
		dir = os.TempDir()
	}
	d, err := os.MkdirTemp(dir, TempDirPrefix+"*")
	if err != nil {
		// os.MkdirTemp reports a missing dir as a failed "stat" and other
		// failures on the generated name; name the dir the caller gave.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", &fs.PathError{Op: "mkdirtemp", Path: dir, Err: err}
	}
	if !opts.ModeSet {
		opts.Mode, opts.ModeSet = 0o600, true
	}
	opts.Parents, opts.ExistOK = false, false
	path := filepath.Join(d, name)
	if err := Make(path, opts); err != nil {
		os.Remove(d)
		return "", err
	}
	return path, nil
}
