package tee

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// The data path works on raw blocking file descriptors: splice(2) and tee(2)
// on descriptors that Go's poller made non-blocking return EAGAIN, and a
// sequential loop of blocking calls is exactly the back-pressure a lossless
// tee needs. Descriptors pipectl does not own (standard input and output) may
// still be non-blocking, because another process set O_NONBLOCK on a shared
// file description; their flags are never changed, EAGAIN is answered with
// poll(2) instead.

// waitFd blocks until fd is ready for events (unix.POLLIN or unix.POLLOUT),
// or has an error or hang-up that the next call will report.
func waitFd(fd int, events int16) error {
	fds := []unix.PollFd{{Fd: int32(fd), Events: events}}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		return err
	}
}

// writeFull writes all of p to fd, waiting as long as it takes.
func writeFull(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(fd, p[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := waitFd(fd, unix.POLLOUT); err != nil {
				return done, err
			}
		case err != nil:
			return done, err
		case n == 0:
			return done, unix.EIO
		}
	}
	return done, nil
}

// writeSome writes as much of p to the non-blocking fd as it takes without
// waiting; the rest is for the caller to drop.
func writeSome(fd int, p []byte) (int, error) {
	done := 0
	for done < len(p) {
		n, err := unix.Write(fd, p[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			return done, nil
		case err != nil:
			return done, err
		case n == 0:
			return done, nil
		}
	}
	return done, nil
}

// readSome reads up to len(p) bytes, waiting for at least one; 0 means end
// of input.
func readSome(fd int, p []byte) (int, error) {
	for {
		n, err := unix.Read(fd, p)
		switch {
		case err == unix.EINTR:
		case err == unix.EAGAIN:
			if err := waitFd(fd, unix.POLLIN); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, err
		default:
			return n, nil
		}
	}
}

// readFull reads exactly len(p) bytes, which the caller knows are waiting.
func readFull(fd int, p []byte) error {
	done := 0
	for done < len(p) {
		n, err := readSome(fd, p[done:])
		if err != nil {
			return err
		}
		if n == 0 {
			return unix.EIO // the bytes were promised by FIONREAD
		}
		done += n
	}
	return nil
}

// isPipe reports whether fd is a pipe or FIFO.
func isPipe(fd int) bool {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return false
	}
	return st.Mode&unix.S_IFMT == unix.S_IFIFO
}

// rawFd returns f's descriptor without switching it to blocking mode (which
// os.File.Fd would do, changing a file description shared with other
// processes). The descriptor stays valid while f is open.
func rawFd(f *os.File) (int, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd := -1
	if err := rc.Control(func(u uintptr) { fd = int(u) }); err != nil {
		return -1, err
	}
	if fd < 0 {
		return -1, errors.New("no file descriptor")
	}
	return fd, nil
}
