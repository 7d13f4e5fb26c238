//go:build linux

package run

import (
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// stopFollower keeps job control working while the command's process group
// holds the terminal (see tty.go). Ctrl-Z stops that group, not pipectl, so
// the shell would never see its job stop. On every SIGCHLD pipectl looks
// (waitid WSTOPPED, which never reaps) for a stopped process among the
// command's; when one stopped, pipectl takes the terminal back and stops
// its own job with SIGTSTP, as the terminal would have. When the shell
// continues it (fg or bg), pipectl hands the terminal back if it is in the
// foreground (fg) and continues the command's group.
type stopFollower struct {
	tty      int
	chld     chan os.Signal
	cont     chan os.Signal
	done     chan struct{}
	finished chan struct{}
	started  bool
}

// newStopFollower starts catching SIGCHLD before the command starts, so
// that a stop right after it starts is not missed. With no terminal (tty
// < 0) it does nothing.
func newStopFollower(tty int) *stopFollower {
	f := &stopFollower{tty: tty, done: make(chan struct{}), finished: make(chan struct{})}
	if tty < 0 {
		return f
	}
	f.chld = make(chan os.Signal, 8)
	f.cont = make(chan os.Signal, 1)
	signal.Notify(f.chld, syscall.SIGCHLD)
	signal.Notify(f.cont, syscall.SIGCONT)
	return f
}

// start follows the processes pids of process group pgid. Call it once.
func (f *stopFollower) start(pgid int, pids []int) {
	if f.tty < 0 {
		return
	}
	f.started = true
	go func() {
		defer close(f.finished)
		for {
			select {
			case <-f.done:
				return
			case <-f.chld:
			}
			if !anyStopped(pids) {
				continue
			}
			reclaimTTY(f.tty)
			// Drop a stale SIGCONT, then stop this job as the terminal would.
			select {
			case <-f.cont:
			default:
			}
			_ = unix.Kill(0, unix.SIGTSTP)
			// SIGCONT arrives when the shell resumes the job. If the stop was
			// discarded (an orphaned process group, where SIGTSTP does
			// nothing), carry on after a moment: the command is resumed.
			select {
			case <-f.cont:
			case <-time.After(200 * time.Millisecond):
			case <-f.done:
				return
			}
			if p, err := unix.IoctlGetInt(f.tty, unix.TIOCGPGRP); err == nil && p == unix.Getpgrp() {
				_ = unix.IoctlSetPointerInt(f.tty, unix.TIOCSPGRP, pgid)
			}
			_ = unix.Kill(-pgid, unix.SIGCONT)
		}
	}()
}

// stop ends the following; call it once the processes have been reaped.
func (f *stopFollower) stop() {
	if f.tty < 0 {
		return
	}
	close(f.done)
	if f.started {
		<-f.finished
	}
	signal.Stop(f.chld)
	signal.Stop(f.cont)
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
