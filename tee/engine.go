package tee

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pipectl/pipectl/internal/exitcode"
	"golang.org/x/sys/unix"
)

// bufSize is the read/write buffer and the largest chunk moved at once: the
// size of a full enlarged pipe, and about 20% faster than 128 KiB on the
// read/write path (PERF-NOTES.md). It is the only user-space buffer, so
// memory stays bounded whatever the stream length.
const bufSize = 1 << 20

// engine is one Run: the sinks and the state of the copy.
type engine struct {
	opts      Options
	res       *Result
	sinks     []*sink
	firstSpec int // index in sinks of Options.Sinks[0]
	in        int
	zc        bool // tee(2)/splice(2) path
	buf       []byte
	// scratch is a private pipe used to finish a partial tee(2): see
	// remainder. devnull swallows bytes that no sink needs any more.
	scratchR, scratchW *os.File
	devnull            *os.File
	// stop is why the copy ends early ("" while it goes on); abort means
	// stop at once, without finishing the current chunk (exit policies).
	stop     string
	stopSink *SinkResult // the sink whose broken pipe stopped the copy
	abort    bool
}

// Run copies Stdin to standard output and every sink until the end of
// input, the policy says stop, or no output is left; it then closes the
// sinks and waits for command sinks to exit. The returned error is only for
// unusable Options or standard input; everything that happens to a sink is in
// the Result.
func Run(ctx context.Context, opts Options) (*Result, error) {
	start := time.Now()
	if opts.Stdin == nil {
		opts.Stdin = os.Stdin
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	for i, s := range opts.Sinks {
		if (s.Path == "") == (s.Command == "") {
			return nil, fmt.Errorf("sink %d: want exactly one of a path or a command", i+1)
		}
	}
	in, err := rawFd(opts.Stdin)
	if err != nil {
		return nil, fmt.Errorf("standard input: %w", err)
	}
	e := &engine{opts: opts, res: &Result{}, in: in}
	if !opts.NoStdout {
		s := &sink{res: &SinkResult{Kind: KindStdout, ExitCode: -1}, name: "standard output", fd: -1, active: true}
		if fd, err := rawFd(opts.Stdout); err == nil {
			s.fd, s.pipe = fd, isPipe(fd)
		}
		e.sinks = append(e.sinks, s)
	}
	e.firstSpec = len(e.sinks)
	for _, spec := range opts.Sinks {
		r := &SinkResult{Kind: KindFile, Path: spec.Path, Command: spec.Command, Lossy: spec.Lossy, ExitCode: -1}
		name := spec.Path
		if spec.Command != "" {
			r.Kind, r.Path, name = KindCommand, "", spec.Command
		}
		e.sinks = append(e.sinks, &sink{res: r, name: name, fd: -1, lossy: spec.Lossy, active: true})
	}
	for _, s := range e.sinks {
		e.res.Sinks = append(e.res.Sinks, s.res)
	}
	defer func() {
		if e.scratchR != nil {
			_ = e.scratchR.Close()
			_ = e.scratchW.Close()
		}
		if e.devnull != nil {
			_ = e.devnull.Close()
		}
	}()

	if e.open(ctx) {
		for _, s := range e.sinks {
			if s.active && s.fd < 0 && s.res.Kind == KindStdout {
				e.fail(s, "write", unix.EBADF)
			}
		}
		// Bigger pipes mean fewer wake-ups on both paths (PERF-NOTES.md).
		if s := e.sinks; len(s) > 0 && s[0].res.Kind == KindStdout && s[0].pipe {
			growPipe(s[0].fd)
		}
		if isPipe(e.in) {
			growPipe(e.in)
			e.zc = zeroCopy && !opts.NoSplice && e.setupZeroCopy()
		}
		e.buf = make([]byte, bufSize)
		e.res.ZeroCopy = e.zc
		e.copy()
	}
	e.finish()
	e.res.Elapsed = time.Since(start)
	return e.res, nil
}

// setupZeroCopy opens /dev/null and the scratch pipe.
func (e *engine) setupZeroCopy() bool {
	dn, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return false
	}
	e.devnull = dn
	_ = dn.Fd() // blocking mode, for splice
	if e.opts.noScratch {
		return true
	}
	if r, w, err := os.Pipe(); err == nil {
		e.scratchR, e.scratchW = r, w
		_, _ = r.Fd(), w.Fd()
		growPipe(int(w.Fd()))
	}
	return true
}

// fail records an error of sink s and applies the policy to it. It returns
// false when the copy must stop at once (an exit policy).
func (e *engine) fail(s *sink, op string, err error) bool {
	s.active = false
	s.close()
	se := &SinkError{Kind: s.res.Kind, Name: s.name, Op: op, Err: err}
	if s.res.Err == nil {
		s.res.Err = se
	}
	bp := se.BrokenPipe()
	switch {
	case bp && e.opts.Policy == PolicySigpipe:
		// GNU tee dies of SIGPIPE here; finish the current chunk for the
		// healthy outputs first, so they all end at the same byte.
		if e.stop == "" {
			e.stop, e.stopSink = "broken pipe", s.res
		}
		return true
	case bp && e.opts.Policy.nopipe():
		return true
	}
	if e.opts.OnError != nil {
		e.opts.OnError(se)
	}
	if e.opts.Policy.exits() {
		e.stop, e.abort = "error", true
		return false
	}
	return true
}

// inputFailed records a read error on standard input and stops the copy.
func (e *engine) inputFailed(err error) {
	e.res.InputErr = err
	e.stop, e.abort = "input error", true
}

func (e *engine) activeCount() int {
	n := 0
	for _, s := range e.sinks {
		if s.active {
			n++
		}
	}
	return n
}

// copy moves the whole stream, one chunk at a time, every chunk to every
// active sink before the next is read.
func (e *engine) copy() {
	for {
		if e.stop != "" {
			return
		}
		if e.activeCount() == 0 {
			// Like GNU tee: with no output left there is no point reading on.
			e.stop = "no outputs"
			return
		}
		// Zero-copy only pays while some output is a pipe that takes
		// tee/splice; with none (files, terminals, or fallen back), a plain
		// read costs fewer system calls than sizing the chunk first.
		zc := e.zc && e.anySpliceSink()
		if zc {
			if s := e.soleSpliceSink(); s != nil {
				if n, done := e.spliceThrough(s); done {
					return
				} else if n > 0 {
					e.counted(n)
				}
				continue
			}
		}
		var n int
		var err error
		if zc {
			n, err = e.queued()
		} else {
			n, err = readSome(e.in, e.buf)
		}
		if err != nil {
			e.inputFailed(err)
			return
		}
		if n == 0 {
			return
		}
		if zc {
			e.chunkZeroCopy(n)
		} else {
			for _, s := range e.sinks {
				if s.active {
					e.writeTo(s, e.buf[:n])
				}
				if e.abort {
					break
				}
			}
		}
		e.counted(n)
	}
}

// counted adds n bytes read from the input to the totals.
func (e *engine) counted(n int) {
	e.res.BytesIn += int64(n)
	if e.opts.Meter != nil {
		e.opts.Meter.bytes.Add(int64(n))
	}
}

// anySpliceSink reports whether an active sink is a pipe that takes
// tee(2)/splice(2).
func (e *engine) anySpliceSink() bool {
	for _, s := range e.sinks {
		if s.active && s.pipe && !s.user {
			return true
		}
	}
	return false
}

// soleSpliceSink returns the only active sink when it is a lossless pipe
// that splice(2) works on: pass-through, the commonest case once the other
// outputs are gone or when there were none.
func (e *engine) soleSpliceSink() *sink {
	var only *sink
	for _, s := range e.sinks {
		if s.active {
			if only != nil {
				return nil
			}
			only = s
		}
	}
	if only == nil || !only.pipe || only.user || only.lossy {
		return nil
	}
	return only
}

// spliceThrough moves whatever the input holds (up to bufSize) straight
// into s with one blocking splice(2): no need to know the chunk size first
// when nobody else needs the same bytes. It returns the bytes moved, and
// done at the end of the input.
func (e *engine) spliceThrough(s *sink) (n int, done bool) {
	if e.refused(s) {
		s.user = true
		return 0, false
	}
	k, err := spliceFd(e.in, s.fd, bufSize)
	switch {
	case err == nil && k == 0:
		return 0, true
	case err == nil:
		e.res.stats.splicedChunks++
		s.res.Bytes += int64(k)
		return k, false
	case err == unix.EINTR:
		return 0, false
	case err == unix.EAGAIN:
		// A non-blocking end (shared with another process): wait until
		// both sides are ready (or report an error or hang-up).
		if err := waitFd(e.in, unix.POLLIN); err != nil {
			e.inputFailed(err)
			return 0, true
		}
		if err := waitFd(s.fd, unix.POLLOUT); err != nil {
			e.fail(s, "write", err)
		}
		return 0, false
	case unsupported(err):
		s.user = true
		return 0, false
	default:
		e.fail(s, "write", err)
		return 0, false
	}
}

// queued waits until the input pipe holds data and returns how much (at
// most bufSize), or 0 at the end of input. Knowing the chunk size before
// touching it is what lets every sink get exactly the same bytes.
func (e *engine) queued() (int, error) {
	for {
		n, err := pipeQueued(e.in)
		if err != nil {
			return 0, err
		}
		if n > 0 {
			return min(n, bufSize), nil
		}
		fds := []unix.PollFd{{Fd: int32(e.in), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
			return 0, err
		}
		if fds[0].Revents&unix.POLLIN == 0 && fds[0].Revents&unix.POLLHUP != 0 {
			// No data and no writer left. Data written just before the
			// last writer closed raises POLLIN too, so this is the end.
			return 0, nil
		}
		if fds[0].Revents&(unix.POLLERR|unix.POLLNVAL) != 0 {
			return 0, unix.EIO
		}
	}
}

// chunkZeroCopy delivers the next n bytes of the input pipe, which are known
// to be there, to every active sink:
//
//   - tee(2) duplicates them onto each pipe sink without consuming them;
//   - then, if any sink needs user space (not a pipe, or the kernel said
//     EINVAL, or a partial tee could not be finished in the kernel), they are
//     read(2) once into the buffer and written to those sinks;
//   - otherwise splice(2) moves them into the last lossless pipe sink, which
//     consumes them from the input (or into /dev/null when no lossless pipe
//     sink is left).
func (e *engine) chunkZeroCopy(n int) {
	needUser := false
	for _, s := range e.sinks {
		s.pending, s.skip = false, 0
		if s.active && (!s.pipe || s.user) {
			needUser = true
		}
	}
	var last *sink
	if !needUser {
		for i := len(e.sinks) - 1; i >= 0; i-- {
			if s := e.sinks[i]; s.active && s.pipe && !s.user && !s.lossy {
				last = s
				break
			}
		}
	}
	for _, s := range e.sinks {
		if !s.active || s == last {
			continue
		}
		if s.pipe && !s.user {
			e.teeTo(s, n)
			if s.pending {
				needUser = true
			}
		} else {
			s.pending = true
		}
		if e.abort {
			return
		}
	}
	if needUser && last != nil {
		e.teeTo(last, n)
		last = nil
		if e.abort {
			return
		}
	}
	switch {
	case needUser:
		e.res.stats.userChunks++
		buf := e.buf[:n]
		if err := readFull(e.in, buf); err != nil {
			e.inputFailed(err)
			return
		}
		for _, s := range e.sinks {
			if s.active && s.pending {
				e.writeTo(s, buf[s.skip:])
				if e.abort {
					return
				}
			}
		}
	case last != nil:
		e.res.stats.splicedChunks++
		e.spliceTo(last, n)
	default:
		e.res.stats.discardedChunks++
		if err := e.discard(e.in, n); err != nil {
			e.inputFailed(err)
		}
	}
}

// refused reports whether a test has told the engine to act as if the
// kernel had answered EINVAL to tee/splice on sink s.
func (e *engine) refused(s *sink) bool {
	return e.opts.refuse != nil && e.opts.refuse(s.res)
}

// unsupported reports whether a tee/splice error means "not on this kind of
// file": the sink falls back to read/write.
func unsupported(err error) bool {
	return err == unix.EINVAL || err == unix.ENOSYS || err == unix.EOPNOTSUPP
}

// teeTo duplicates the n bytes at the head of the input onto pipe sink s.
func (e *engine) teeTo(s *sink, n int) {
	if e.refused(s) {
		s.user, s.pending = true, true
		return
	}
	if s.lossy {
		k, err := teeFd(e.in, s.fd, n, true)
		for err == unix.EINTR {
			k, err = teeFd(e.in, s.fd, n, true)
		}
		switch {
		case err == unix.EAGAIN:
			k, err = 0, nil
		case unsupported(err):
			s.user, s.pending = true, true
			return
		case err != nil:
			e.fail(s, "write", err)
			return
		}
		s.res.Bytes += int64(k)
		s.res.Dropped += int64(n - k)
		return
	}
	var k int
	var err error
	for {
		k, err = teeFd(e.in, s.fd, n, false)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN { // s.fd is shared and non-blocking
			if err = waitFd(s.fd, unix.POLLOUT); err == nil {
				continue
			}
		}
		break
	}
	switch {
	case unsupported(err):
		s.user, s.pending = true, true
		return
	case err != nil:
		e.fail(s, "write", err)
		return
	}
	s.res.Bytes += int64(k)
	if k < n {
		e.res.stats.partialTees++
		e.remainder(s, k, n)
	}
}

// remainder finishes a partial tee: sink s got the first k of the n bytes.
// tee(2) always starts at the head of the input, so teeing again would
// repeat bytes. Instead the whole chunk is teed into the empty private
// scratch pipe, its first k bytes are thrown away and the rest spliced into
// s, all without a copy. If the scratch pipe cannot take the whole chunk, s
// gets bytes k..n from the user-space buffer after the chunk is read.
func (e *engine) remainder(s *sink, k, n int) {
	if e.scratchW != nil {
		sr, sw := int(e.scratchR.Fd()), int(e.scratchW.Fd())
		t, err := teeFd(e.in, sw, n, true)
		for err == unix.EINTR {
			t, err = teeFd(e.in, sw, n, true)
		}
		if err == nil && t == n {
			if err := e.discard(sr, k); err == nil {
				e.res.stats.scratchFinishes++
				if m, err := e.spliceFrom(sr, s, n-k); err != nil {
					_ = e.discard(sr, n-k-m)
				}
				return
			}
		}
		if t > 0 {
			rest, _ := pipeQueued(sr)
			_ = e.discard(sr, rest)
		}
	}
	e.res.stats.userFinishes++
	s.pending, s.skip = true, k
}

// spliceFrom moves n bytes from pipe src into sink s, waiting as needed. On
// a sink error it records it and returns how many bytes it moved; the rest
// is still in src.
func (e *engine) spliceFrom(src int, s *sink, n int) (int, error) {
	moved := 0
	for moved < n {
		k, err := spliceFd(src, s.fd, n-moved)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err = waitFd(s.fd, unix.POLLOUT); err == nil {
				continue
			}
		case err == nil && k == 0:
			err = unix.EIO
		}
		if err != nil {
			e.fail(s, "write", err)
			return moved, err
		}
		s.res.Bytes += int64(k)
		moved += k
	}
	return moved, nil
}

// spliceTo moves the n bytes at the head of the input into sink s,
// consuming them. If the kernel refuses, the chunk is read and written. If
// s fails, the rest of the chunk is dropped: the other sinks already have
// their copy (tee runs first).
func (e *engine) spliceTo(s *sink, n int) {
	k, err := 0, error(unix.EINVAL)
	if !e.refused(s) {
		k, err = spliceFd(e.in, s.fd, n)
	}
	for err == unix.EINTR {
		k, err = spliceFd(e.in, s.fd, n)
	}
	if unsupported(err) {
		s.user = true
		buf := e.buf[:n]
		if err := readFull(e.in, buf); err != nil {
			e.inputFailed(err)
			return
		}
		e.writeTo(s, buf)
		return
	}
	moved := 0
	switch {
	case err == nil:
		moved = k
		s.res.Bytes += int64(k)
	case err != unix.EAGAIN:
		e.fail(s, "write", err)
		if err := e.discard(e.in, n); err != nil {
			e.inputFailed(err)
		}
		return
	}
	m, err := e.spliceFrom(e.in, s, n-moved)
	if err != nil {
		if err := e.discard(e.in, n-moved-m); err != nil {
			e.inputFailed(err)
		}
	}
}

// discard consumes n bytes from pipe fd: spliced into /dev/null, or read.
func (e *engine) discard(fd, n int) error {
	for n > 0 {
		var k int
		var err error
		if e.devnull != nil {
			k, err = spliceFd(fd, int(e.devnull.Fd()), n)
			if unsupported(err) {
				_ = e.devnull.Close()
				e.devnull = nil
				continue
			}
		} else {
			k, err = unix.Read(fd, e.buf[:min(n, len(e.buf))])
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			if err := waitFd(fd, unix.POLLIN); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		case k == 0:
			return unix.EIO
		}
		n -= k
	}
	return nil
}

// writeTo writes p to s from user space: every byte, waiting as long as it
// takes, or for a lossy sink what it takes at once, dropping the rest.
func (e *engine) writeTo(s *sink, p []byte) {
	if s.fd < 0 {
		e.fail(s, "write", unix.EBADF)
		return
	}
	var k int
	var err error
	if s.lossy {
		k, err = writeSome(s.fd, p)
		if err == nil {
			s.res.Dropped += int64(len(p) - k)
		}
	} else {
		k, err = writeFull(s.fd, p)
	}
	s.res.Bytes += int64(k)
	if err != nil {
		e.fail(s, "write", err)
	}
}

// finish closes every sink and waits for the commands. A command's exit
// status is recorded; a non-zero one is the sink's error unless it already
// has a more telling one (a broken pipe is replaced, since the command's
// own failure is what counts then).
func (e *engine) finish() {
	if e.abort && e.stop == "" {
		e.stop = "error"
	}
	e.res.Stopped = e.stop
	for _, s := range e.sinks {
		s.close()
	}
	for _, s := range e.sinks {
		if s.cmd == nil {
			continue
		}
		_ = s.cmd.Wait()
		code, sig := exitcode.Of(s.cmd.ProcessState)
		s.res.ExitCode, s.res.Signal = code, sig
		if code == 0 {
			continue
		}
		se := &SinkError{Kind: KindCommand, Name: s.name, Op: "exit", Err: &ExitError{Code: code, Signal: sig}}
		if s.res.Err != nil && !(s.res.Err.BrokenPipe() && !se.BrokenPipe()) {
			continue
		}
		s.res.Err = se
		if s.res == e.stopSink && !se.BrokenPipe() {
			// The command's own failure is why its pipe broke: that, not
			// the broken pipe, is what the exit status must tell.
			e.res.Stopped = "error"
		}
		if se.BrokenPipe() && e.opts.Policy == PolicySigpipe {
			// The command died of SIGPIPE: it wrote to a reader that went
			// away, the same broken pipe GNU tee would have died of.
			if e.res.Stopped == "" {
				e.res.Stopped = "broken pipe"
			}
			continue
		}
		if (se.BrokenPipe() && e.opts.Policy.nopipe()) || e.opts.OnError == nil {
			continue
		}
		e.opts.OnError(se)
	}
	if e.res.Stopped == "" && e.res.InputErr != nil {
		e.res.Stopped = "input error"
	}
}

// IsTimeout reports whether err (or a SinkError wrapping it) is a FIFO open
// timeout.
func IsTimeout(err error) bool { return errors.Is(err, ErrOpenTimeout) }
