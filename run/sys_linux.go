//go:build linux

package run

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// sysProcAttr puts the child in process group pgid (0: a new group led by
// the child) and asks the kernel to SIGKILL it when pipectl dies, even by
// SIGKILL. The parent-death signal fires when the *thread* that forked the
// child exits, which is why spawn keeps that goroutine locked to its thread
// until the child has been reaped.
func sysProcAttr(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid, Pdeathsig: syscall.SIGKILL}
}

// bigPipe is the pipe capacity asked for: on a 2-CPU machine the cost of a
// pipe is wake-ups, and 1 MiB (the default /proc/sys/fs/pipe-max-size)
// cuts them by 16x (see PERF-NOTES.md).
const bigPipe = 1 << 20

// growPipe enlarges a pipe's buffer; failure (EPERM past the per-user pipe
// budget) is harmless and ignored.
func growPipe(f *os.File) {
	if sc, err := f.SyscallConn(); err == nil {
		_ = sc.Control(func(fd uintptr) {
			_, _ = unix.FcntlInt(fd, unix.F_SETPIPE_SZ, bigPipe)
		})
	}
}

// maxRSSBytes converts ru_maxrss, which Linux reports in KiB.
func maxRSSBytes(ru *syscall.Rusage) int64 { return ru.Maxrss * 1024 }
