// Package exitcode decodes how a child process ended into the exit status a
// shell would report, and parses signal names, for the run and tee packages.
package exitcode

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// SignalBase is added to a signal number to form a shell's exit status for a
// process killed by that signal (SIGKILL -> 137, SIGPIPE -> 141).
const SignalBase = 128

// Of returns the shell-style exit status of a finished process: its exit
// code, or 128+N when signal N killed it (in which case sig is N).
// os.ProcessState.ExitCode reports -1 for a signalled process, which is why
// the wait status is decoded here.
func Of(ps *os.ProcessState) (code int, sig syscall.Signal) {
	if ps == nil {
		return -1, 0
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return SignalBase + int(ws.Signal()), ws.Signal()
	}
	return ps.ExitCode(), 0
}

// ParseSignal accepts a signal as a name with or without the SIG prefix, in
// any case (TERM, sigterm, SIGTERM), or as a number (15), like GNU timeout -s.
func ParseSignal(s string) (syscall.Signal, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		if n <= 0 || n > 64 || unix.SignalName(syscall.Signal(n)) == "" && n < 32 {
			return 0, fmt.Errorf("invalid signal %q", s)
		}
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(t)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("invalid signal %q: want a name (TERM, SIGKILL) or a number (15)", s)
}

// Name returns the conventional name of sig, such as "SIGPIPE", or
// "signal N" when the system has no name for it.
func Name(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}
