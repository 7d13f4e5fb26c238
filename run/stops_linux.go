//go:build linux

package run

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// followStops keeps job control working while the command's process group
// holds the terminal (see tty.go). Ctrl-Z stops that group, not pipectl, so
// the shell would never see its job stop. On every SIGCHLD pipectl looks
// (waitid WSTOPPED, which never reaps) for a stopped process among pids;
// when one stopped, pipectl takes the terminal back and stops its own job
// with SIGTSTP, as the terminal would have. When the shell continues it
// (fg or bg), pipectl hands the terminal back if it is in the foreground
// (fg) and continues the command's group.
func followStops(tty, pgid int, pids []int) (stop func()) {
	if tty < 0 {
		return func() {}
	}
	chld := make(chan os.Signal, 8)
	cont := make(chan os.Signal, 1)
	signal.Notify(chld, syscall.SIGCHLD)
	signal.Notify(cont, syscall.SIGCONT)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-chld:
			}
			if !anyStopped(pids) {
				continue
			}
			reclaimTTY(tty)
			// Drain a stale SIGCONT, then stop this job like the terminal would.
			select {
			case <-cont:
			default:
			}
			_ = unix.Kill(0, unix.SIGTSTP)
			// SIGCONT arrives when the shell resumes the job. If the stop was
			// discarded (an orphaned process group, where SIGTSTP does
			// nothing), carry on after a moment: the command is resumed.
			select {
			case <-cont:
			case <-time.After(200 * time.Millisecond):
			case <-done:
				return
			}
			if p, err := unix.IoctlGetInt(tty, unix.TIOCGPGRP); err == nil && p == unix.Getpgrp() {
				_ = unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, pgid)
			}
			_ = unix.Kill(-pgid, unix.SIGCONT)
		}
	}()
	return func() {
		close(done)
		<-finished
		signal.Stop(chld)
		signal.Stop(cont)
	}
}

// cldStopped is si_code CLD_STOPPED: the child was stopped by a signal.
const cldStopped = 5

// anyStopped consumes the stop notifications of pids and reports whether
// there was one. Without WEXITED, waitid never reaps.
func anyStopped(pids []int) bool {
	stopped := false
	for _, pid := range pids {
		var info unix.Siginfo // zeroed: with WNOHANG and no event it stays so
		if err := unix.Waitid(unix.P_PID, pid, &info, unix.WSTOPPED|unix.WNOHANG, nil); err == nil &&
			info.Signo == int32(unix.SIGCHLD) && info.Code == cldStopped {
			stopped = true
		}
	}
	return stopped
}
