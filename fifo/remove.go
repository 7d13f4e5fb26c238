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

// Remove deletes the FIFO at path. Anything else (regular file, directory,
// symlink, even a symlink to a FIFO) is refused with a *NotFIFOError and
// left untouched; symlinks are never followed. With force, a missing path
// is not an error (as rm -f). When the FIFO was the last entry of a
// directory MakeTemp created, that directory is removed too.
func Remove(path string, force bool) error {
	fi, err := os.Lstat(path)
	if err != nil {
		if force && (errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.ENOTDIR)) {
			return nil
		}
		return pathError("remove", path, err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return pathError("remove", path, &NotFIFOError{Type: fileType(fi.Mode())})
	}
	// unlink(2) never follows a final symlink, so a FIFO swapped for a
	// symlink between Lstat and here still cannot hurt the target.
	if err := unix.Unlink(path); err != nil {
		if force && errors.Is(err, syscall.ENOENT) {
			return nil
		}
		return pathError("remove", path, err)
	}
	removeTempDir(filepath.Dir(path))
	return nil
}

// removeTempDir removes dir if it looks like a directory MakeTemp made
// (its name, a private directory owned by us) and is now empty. rmdir(2)
// refuses a non-empty directory, so nothing else can be lost.
func removeTempDir(dir string) {
	if !strings.HasPrefix(filepath.Base(dir), TempDirPrefix) {
		return
	}
	fi, err := os.Lstat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
		return
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Geteuid() {
		return
	}
	_ = unix.Rmdir(dir)
}
