package tee

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/exitcode"
)

// Policy is what happens when writing to an output fails. The policies are
// GNU tee's --output-error modes.
type Policy int

const (
	// PolicySigpipe is GNU tee's default: a broken pipe (EPIPE) on any
	// output ends the copy, as SIGPIPE ends GNU tee; the current chunk is
	// still delivered to the healthy outputs first. Any other write error is
	// reported, that output is dropped and the others carry on.
	PolicySigpipe Policy = iota
	// PolicyWarn reports every write error, EPIPE included, drops that
	// output and carries on with the others.
	PolicyWarn
	// PolicyWarnNoPipe is PolicyWarn, except that a broken pipe drops the
	// output silently and does not count as a failure (GNU tee -p).
	PolicyWarnNoPipe
	// PolicyExit ends the copy at the first write or open error, EPIPE
	// included.
	PolicyExit
	// PolicyExitNoPipe is PolicyExit, except that a broken pipe drops the
	// output silently, does not count as a failure and the copy goes on.
	PolicyExitNoPipe
)

var policyNames = []string{"sigpipe", "warn", "warn-nopipe", "exit", "exit-nopipe"}

// String returns the policy's --output-error name ("sigpipe" for the default).
func (p Policy) String() string {
	if int(p) >= 0 && int(p) < len(policyNames) {
		return policyNames[p]
	}
	return fmt.Sprintf("Policy(%d)", int(p))
}

// ParsePolicy parses a GNU tee --output-error MODE: warn, warn-nopipe, exit
// or exit-nopipe ("sigpipe" names the default mode).
func ParsePolicy(s string) (Policy, error) {
	for i, n := range policyNames {
		if s == n {
			return Policy(i), nil
		}
	}
	return 0, fmt.Errorf("invalid output error mode %q: want warn, warn-nopipe, exit or exit-nopipe", s)
}

// nopipe reports whether the policy ignores broken pipes.
func (p Policy) nopipe() bool { return p == PolicyWarnNoPipe || p == PolicyExitNoPipe }

// exits reports whether the policy stops at the first counted error.
func (p Policy) exits() bool { return p == PolicyExit || p == PolicyExitNoPipe }

// Kind is what a sink writes to.
type Kind string

// The kinds of sink.
const (
	KindStdout  Kind = "stdout"
	KindFile    Kind = "file"
	KindFIFO    Kind = "fifo"
	KindDevice  Kind = "device"
	KindCommand Kind = "command"
)

// Sink describes one output: Path (a file, FIFO or device) or Command (run
// with sh -c, its standard input fed by a pipe). Exactly one must be set.
type Sink struct {
	Path    string
	Command string
	// Lossy makes the sink best effort: when it cannot take data at once,
	// the data is dropped (and counted) instead of stalling the others.
	// Its pipe buffer (1 MiB when the kernel allows) is its bounded buffer.
	Lossy bool
}

// Options configure Run. The zero value copies os.Stdin to os.Stdout only.
type Options struct {
	// Sinks are the outputs besides standard output, in order.
	Sinks []Sink
	// NoStdout leaves standard output out of the outputs.
	NoStdout bool
	// Append opens file sinks for appending instead of truncating them.
	Append bool
	// Policy decides what a write error does; see Policy.
	Policy Policy
	// OpenTimeout bounds the wait for a reader of each FIFO sink; 0 waits
	// forever, like GNU tee. A FIFO still without a reader at the deadline
	// fails with an error matching ErrOpenTimeout.
	OpenTimeout time.Duration
	// NoSplice forces the portable read/write path even where tee(2) and
	// splice(2) would work.
	NoSplice bool
	// Stdin, Stdout and Stderr default to the process's own. Stdout is the
	// standard-output sink and the standard output of command sinks, Stderr
	// their standard error.
	Stdin, Stdout, Stderr *os.File
	// Meter, if set, is updated as the copy goes on (for progress display).
	Meter *Meter
	// OnError, if set, is called (from Run's goroutine) once for each sink
	// error that the policy reports, at the moment it happens, so that a
	// warning can be printed while the copy continues. Broken pipes that a
	// nopipe policy or the default policy pass over silently are not
	// reported; they are still in the Result.
	OnError func(*SinkError)

	// noScratch (tests only) disables the scratch pipe, so that partial
	// tees are finished from user space.
	noScratch bool
	// refuse (tests only) makes tee/splice into the sinks it picks act as
	// if the kernel had answered EINVAL, to exercise the per-sink fallback.
	refuse func(*SinkResult) bool
}

// Meter counts the bytes read from standard input so far; it is safe to read
// from another goroutine while Run is copying.
type Meter struct {
	bytes atomic.Int64
}

// Bytes returns the number of bytes read from standard input so far.
func (m *Meter) Bytes() int64 { return m.bytes.Load() }

// ErrOpenTimeout is matched (errors.Is) by the error of a FIFO sink that
// found no reader within Options.OpenTimeout.
var ErrOpenTimeout = errors.New("no reader opened the fifo in time")

// SinkError is the failure of one sink: opening, starting, writing to it, or
// (for a command) its exit status.
type SinkError struct {
	Kind Kind
	// Name is the path, "standard output", or the command text.
	Name string
	// Op is "open", "start", "write" or "exit".
	Op string
	// Err is the cause: a syscall.Errno (EPIPE, ENOSPC, EACCES...),
	// ErrOpenTimeout, or an *ExitError for a command sink.
	Err error
}

// Error formats the error as "<sink>: <cause>".
func (e *SinkError) Error() string { return e.Display() + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *SinkError) Unwrap() error { return e.Err }

// Display is how messages name the sink: the path, "standard output", or
// the command as sh -c 'COMMAND'.
func (e *SinkError) Display() string {
	if e.Kind == KindCommand {
		return "sh -c " + shellQuote(e.Name)
	}
	return e.Name
}

// BrokenPipe reports whether the sink's reader went away: a write got EPIPE,
// or a command sink was killed by SIGPIPE.
func (e *SinkError) BrokenPipe() bool {
	if errors.Is(e.Err, syscall.EPIPE) {
		return true
	}
	var x *ExitError
	return errors.As(e.Err, &x) && x.Signal == syscall.SIGPIPE
}

// ExitError is the exit status of a command sink that did not exit 0.
type ExitError struct {
	// Code is the shell-style status: the exit code, or 128+N when killed
	// by signal N.
	Code int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
}

// Error says how the command ended, e.g. "exited with status 3".
func (e *ExitError) Error() string {
	if e.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%s), status %d", int(e.Signal), exitcode.Name(e.Signal), e.Code)
	}
	return fmt.Sprintf("exited with status %d", e.Code)
}

// SinkResult is what happened to one sink.
type SinkResult struct {
	Kind Kind
	// Path is the file or FIFO path ("" for stdout and commands).
	Path string
	// Command is the command text of a command sink.
	Command string
	Lossy   bool
	// Bytes is how many bytes the sink accepted.
	Bytes int64
	// Dropped is how many bytes a lossy sink dropped.
	Dropped int64
	// Err is the sink's first error, nil if none.
	Err *SinkError
	// ExitCode is a command sink's shell-style exit status (-1 if it never
	// ran or was not waited for).
	ExitCode int
	// Signal is the signal that killed a command sink, or 0.
	Signal syscall.Signal
}

// Result is the outcome of Run.
type Result struct {
	// Sinks holds one entry per output: standard output first (unless
	// NoStdout), then Options.Sinks in order.
	Sinks []*SinkResult
	// BytesIn is how many bytes were read from standard input.
	BytesIn int64
	// Elapsed is the wall time of the copy, opening included.
	Elapsed time.Duration
	// ZeroCopy reports whether the tee(2)/splice(2) path was used.
	ZeroCopy bool
	// Stopped says why the copy ended before the end of input, or "" when
	// it reached the end: "broken pipe" (default policy), "error" (an exit
	// policy, or, under the default policy, a command sink whose pipe broke
	// because it failed), "no outputs" (every output failed) or "input
	// error".
	Stopped string
	// InputErr is a read error on standard input, if any.
	InputErr error

	stats stats // for tests: which code paths ran
}

// stats counts how often the rarer branches of the zero-copy path ran, so
// that tests can check that they were exercised.
type stats struct {
	partialTees     int // tee(2) returned fewer bytes than asked
	scratchFinishes int // ...finished through the scratch pipe
	userFinishes    int // ...finished from the user-space buffer
	userChunks      int // chunks read into user space on the zero-copy path
	splicedChunks   int // chunks consumed by splice(2) into a sink
	discardedChunks int // chunks consumed by splice(2) into /dev/null
}

// BrokenPipe reports whether the copy ended because of a broken pipe under
// the default policy: GNU tee would have died of SIGPIPE (exit 141).
func (r *Result) BrokenPipe() bool { return r.Stopped == "broken pipe" }

// Failed reports whether any error counts as a failure under policy p:
// every sink error except broken pipes that p ignores (and, under the default
// policy, broken pipes, which BrokenPipe reports instead).
func (r *Result) Failed(p Policy) bool {
	for _, s := range r.Sinks {
		if s.Err != nil && counts(s.Err, p) {
			return true
		}
	}
	return r.InputErr != nil
}

// TimedOut reports whether a FIFO sink found no reader in time.
func (r *Result) TimedOut() bool {
	for _, s := range r.Sinks {
		if s.Err != nil && errors.Is(s.Err, ErrOpenTimeout) {
			return true
		}
	}
	return false
}

// counts reports whether err is a failure under policy p (as opposed to a
// broken pipe that p passes over or turns into a SIGPIPE-style stop).
func counts(err *SinkError, p Policy) bool {
	if !err.BrokenPipe() {
		return true
	}
	return p == PolicyWarn || p == PolicyExit
}

// shellQuote quotes s for sh in single quotes, for messages.
func shellQuote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, `'\''`...)
		} else {
			out = append(out, s[i])
		}
	}
	return string(append(out, '\''))
}
