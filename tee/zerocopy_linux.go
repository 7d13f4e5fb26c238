//go:build linux

package tee

import "golang.org/x/sys/unix"

// zeroCopy reports whether this system has tee(2) and splice(2).
const zeroCopy = true

// pipeSize is the buffer size pipectl asks for on every pipe it touches:
// /proc/sys/fs/pipe-max-size's default, and where fewer wake-ups across CPUs
// pay off most (see PERF-NOTES.md).
const pipeSize = 1 << 20

// teeFd duplicates up to n bytes from the head of pipe in onto pipe out
// without consuming them.
func teeFd(in, out, n int, nonblock bool) (int, error) {
	flags := 0
	if nonblock {
		flags = unix.SPLICE_F_NONBLOCK
	}
	k, err := unix.Tee(in, out, n, flags)
	return int(k), err
}

// spliceFd moves up to n bytes from in to out; one of them is a pipe.
func spliceFd(in, out, n int) (int, error) {
	k, err := unix.Splice(in, nil, out, nil, n, unix.SPLICE_F_MOVE)
	return int(k), err
}

// growPipe raises a pipe's buffer to pipeSize. Failure is not an error: the
// kernel answers EPERM past /proc/sys/fs/pipe-max-size or the per-user pipe
// budget, and the copy works with the smaller buffer, only slower.
func growPipe(fd int) {
	if cur, err := unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0); err == nil && cur >= pipeSize {
		return
	}
	_, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize)
}

// pipeQueued returns how many bytes are waiting in pipe fd.
func pipeQueued(fd int) (int, error) {
	return unix.IoctlGetInt(fd, unix.TIOCINQ) // TIOCINQ is FIONREAD on Linux
}
