package run

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/exitcode"
)

// Exit statuses this package decides on its own, following GNU timeout.
const (
	// StatusTimeout is the exit status after a --timeout expired.
	StatusTimeout = 124
	// StatusNotExecutable is the status of a command found but not executable.
	StatusNotExecutable = 126
	// StatusNotFound is the status of a command that was not found.
	StatusNotFound = 127
	// StatusSIGPIPE is the status of a process killed by SIGPIPE.
	StatusSIGPIPE = exitcode.SignalBase + int(syscall.SIGPIPE)
)

// StartError says the command could not be started at all.
type StartError struct {
	Name string // the command as given (argv[0])
	Err  error
	// Exec: the command was found, but execve failed (a bad interpreter
	// line, a missing dynamic loader, a wrong architecture).
	Exec bool
}

// Error describes the failure in one line.
func (e *StartError) Error() string { return e.Name + ": " + e.Err.Error() }

// Unwrap returns the underlying error (an errno, usually).
func (e *StartError) Unwrap() error { return e.Err }

// NotFound reports whether the command does not exist (exit 127), as
// opposed to existing but not being executable (exit 126).
func (e *StartError) NotFound() bool {
	return !e.Exec && (errors.Is(e.Err, exec.ErrNotFound) || errors.Is(e.Err, fs.ErrNotExist))
}

// ExitStatus is the status a shell gives for this failure: 127 or 126.
func (e *StartError) ExitStatus() int {
	if e.NotFound() {
		return StatusNotFound
	}
	return StatusNotExecutable
}

// SetupError is a failure of pipectl's own plumbing around the command
// (opening a capture file, creating a pipe): exit 125.
type SetupError struct {
	What string // what was being set up, naming the path: "--stdout file out.log"
	Err  error
}

// Error describes the failure in one line.
func (e *SetupError) Error() string { return e.What + ": " + e.Err.Error() }

// Unwrap returns the underlying error (an errno, usually).
func (e *SetupError) Unwrap() error { return e.Err }

// WriteError is a failed write of the command's output to a capture file
// or to pipectl's own stdout/stderr.
type WriteError struct {
	Dest string // "stdout", "stderr" or the capture file's path
	Err  error
}

// Error describes the failure in one line.
func (e *WriteError) Error() string { return "write error: " + e.Dest + ": " + e.Err.Error() }

// Unwrap returns the underlying error (an errno, usually).
func (e *WriteError) Unwrap() error { return e.Err }

// lookPath resolves argv[0] like a shell does: a name with a slash is used
// as is, others are searched in PATH. A PATH entry of "." is honoured, as
// in sh, rather than refused like os/exec does by default.
func lookPath(name string) (string, error) {
	path, err := exec.LookPath(name)
	if errors.Is(err, exec.ErrDot) {
		return path, nil
	}
	if err != nil {
		var ee *exec.Error
		if errors.As(err, &ee) {
			err = ee.Err
		}
		return "", &StartError{Name: name, Err: plainErr(err)}
	}
	return path, nil
}

// plainErr strips *fs.PathError decoration, which repeats the path the
// caller names anyway.
func plainErr(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// proc is one started process. Its goroutine stays locked to the OS thread
// that forked it until the process is reaped, because Linux delivers the
// parent-death signal when that thread exits, not when pipectl does.
type proc struct {
	cmd   *exec.Cmd
	start time.Time
	done  chan struct{} // closed once reaped; state is set then
	state *os.ProcessState
	wall  time.Duration
}

// spawn starts cmd. The process is not reaped before release is closed, so
// that its pid stays valid as a process group id while later pipeline
// stages join that group.
func spawn(cmd *exec.Cmd, release <-chan struct{}) (*proc, error) {
	p := &proc{cmd: cmd, done: make(chan struct{})}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		p.start = time.Now()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		<-release
		// Every stream is an *os.File, so Wait has no copying to finish:
		// its only job is to reap the process. The error is in the state.
		_ = cmd.Wait()
		p.wall = time.Since(p.start)
		p.state = cmd.ProcessState
		close(p.done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// usage returns the user and system CPU time and max RSS of a reaped process.
func (p *proc) usage() (user, sys time.Duration, maxRSS int64) {
	if p.state == nil {
		return 0, 0, 0
	}
	user, sys = p.state.UserTime(), p.state.SystemTime()
	if ru, ok := p.state.SysUsage().(*syscall.Rusage); ok && ru != nil {
		maxRSS = maxRSSBytes(ru)
	}
	return user, sys, maxRSS
}

// forwarded are the signals that, sent to pipectl, are passed on to the
// command's process group: the ones a terminal, a CI runner or a service
// manager uses to stop a job.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// Limits are the timeout settings shared by run and pipe, with GNU
// timeout's meaning.
type Limits struct {
	// Timeout stops the command after this long (0: no limit).
	Timeout time.Duration
	// Signal is sent to the process group when Timeout expires (default SIGTERM).
	Signal syscall.Signal
	// KillAfter sends SIGKILL this long after Signal if the command is
	// still running (0: never).
	KillAfter time.Duration
}

// supervisor passes signals to a process group and enforces a timeout.
// It only signals the group while the group is known to be alive (not all
// its processes reaped), so a recycled pid is never hit.
type supervisor struct {
	mu       sync.Mutex
	pgid     int
	alive    bool
	timedOut bool
	killed   bool // SIGKILL was sent because of the timeout
	sigs     chan os.Signal
	stop     chan struct{}
	wg       sync.WaitGroup
}

// newSupervisor starts catching the forwarded signals at once, so that one
// arriving while the command starts is queued rather than killing pipectl.
func newSupervisor() *supervisor {
	s := &supervisor{sigs: make(chan os.Signal, 8), stop: make(chan struct{})}
	signal.Notify(s.sigs, forwarded...)
	return s
}

// watch begins forwarding to pgid and arms the timeout. Call finish once
// every process of the group has been reaped.
func (s *supervisor) watch(pgid int, lim Limits) {
	s.mu.Lock()
	s.pgid, s.alive = pgid, true
	s.mu.Unlock()
	sig := lim.Signal
	if sig == 0 {
		sig = syscall.SIGTERM
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		var timeout, kill <-chan time.Time
		if lim.Timeout > 0 {
			t := time.NewTimer(lim.Timeout)
			defer t.Stop()
			timeout = t.C
		}
		for {
			select {
			case <-s.stop:
				return
			case v := <-s.sigs:
				s.kill(v.(syscall.Signal), false)
			case <-timeout:
				s.mu.Lock()
				s.timedOut = true
				s.mu.Unlock()
				s.kill(sig, sig == syscall.SIGKILL)
				if sig != syscall.SIGKILL && sig != syscall.SIGCONT {
					// A stopped process cannot act on the signal: wake it,
					// as GNU timeout does.
					s.kill(syscall.SIGCONT, false)
				}
				if lim.KillAfter > 0 {
					t := time.NewTimer(lim.KillAfter)
					defer t.Stop()
					kill = t.C
				}
			case <-kill:
				s.kill(syscall.SIGKILL, true)
			}
		}
	}()
}

func (s *supervisor) kill(sig syscall.Signal, byTimeout bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.alive {
		return
	}
	if byTimeout {
		s.killed = true
	}
	_ = syscall.Kill(-s.pgid, sig)
}

// state reports whether the timeout has expired and whether SIGKILL had
// to be sent, so far.
func (s *supervisor) state() (timedOut, killed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timedOut, s.killed
}

// finish stops forwarding and reports whether the timeout expired and
// whether SIGKILL had to be sent.
func (s *supervisor) finish() (timedOut, killed bool) {
	s.mu.Lock()
	s.alive = false
	s.mu.Unlock()
	signal.Stop(s.sigs)
	close(s.stop)
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.timedOut, s.killed
}
