//go:build unix

package run

import (
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// The command runs in its own process group (so that a timeout or a
// forwarded signal reaches everything it started). On a terminal, a
// process group that is not the terminal's foreground group is stopped
// (SIGTTIN) when it reads the terminal: an editor, a password prompt or
// `read` would hang. So when pipectl is the terminal's foreground job, it
// hands the foreground to the command's group for the command's lifetime,
// as a shell does for a job, and takes it back afterwards. Terminal
// signals (Ctrl-C) then go to the command directly, once.

// foregroundTTY returns the descriptor of pipectl's controlling terminal
// if pipectl's process group is in its foreground, or -1: one of files if
// it is that terminal, else /dev/tty (a command may open it directly, as
// password prompts do), which release closes.
func foregroundTTY(files ...*os.File) (fd int, release func()) {
	pgrp := unix.Getpgrp()
	for _, f := range files {
		if f == nil {
			continue
		}
		fd := int(f.Fd())
		if p, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP); err == nil && p == pgrp {
			return fd, func() {}
		}
	}
	t, err := unix.Open("/dev/tty", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, func() {}
	}
	if p, err := unix.IoctlGetInt(t, unix.TIOCGPGRP); err == nil && p == pgrp {
		return t, func() { unix.Close(t) }
	}
	unix.Close(t)
	return -1, func() {}
}

// inForeground makes attr put the new process group in the terminal's
// foreground (Go does tcsetpgrp in the child, with signals blocked).
func inForeground(attr *syscall.SysProcAttr, tty int) {
	if tty >= 0 {
		attr.Foreground = true
		attr.Ctty = tty
	}
}

// reclaimTTY gives the terminal's foreground back to pipectl's own group.
// pipectl is a background process at that point, and tcsetpgrp from the
// background raises SIGTTOU unless it is ignored; no other process is
// started meanwhile, so ignoring it briefly affects nothing else.
func reclaimTTY(tty int) {
	if tty < 0 {
		return
	}
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, unix.Getpgrp())
}
