package tee

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"time"

	"golang.org/x/sys/unix"
)

// sink is one output while Run is copying.
type sink struct {
	res  *SinkResult
	name string // for messages: path, "standard output" or the command
	fd   int
	// file keeps an owned descriptor that came from an *os.File (command
	// pipes) alive and is how it is closed; raw owned descriptors (files,
	// FIFOs) have own set instead.
	file   *os.File
	own    bool
	closed bool
	pipe   bool // fd is a pipe or FIFO: tee(2)/splice(2) may work
	lossy  bool
	active bool
	// user: this sink gets read/write, because it is not a pipe or the
	// kernel refused tee/splice on it (EINVAL).
	user bool
	// pending: this chunk (from byte skip on) still has to be written to
	// the sink from the user-space buffer.
	pending bool
	skip    int
	cmd     *exec.Cmd
	// waitPath is set while a FIFO sink waits for a reader.
	waitPath string
}

// close releases the sink's descriptor, if pipectl owns it. Closing a
// command's pipe is what tells the command its input has ended.
func (s *sink) close() {
	if s.closed {
		return
	}
	s.closed = true
	switch {
	case s.file != nil:
		_ = s.file.Close()
	case s.own && s.fd >= 0:
		_ = unix.Close(s.fd)
	}
}

// openFlags are the flags every path sink is opened with. O_NONBLOCK makes
// opening a FIFO without a reader fail at once with ENXIO instead of
// blocking; it is cleared again on lossless sinks once open.
func openFlags(appendMode bool) int {
	f := unix.O_WRONLY | unix.O_CREAT | unix.O_CLOEXEC | unix.O_NONBLOCK | unix.O_NOCTTY
	if appendMode {
		return f | unix.O_APPEND
	}
	return f | unix.O_TRUNC
}

// errNoReader means a FIFO has no reader yet: keep trying.
var errNoReader = errors.New("no reader yet")

// openPath makes one attempt at opening a path sink without blocking.
func (e *engine) openPath(s *sink, path string) error {
	fd, err := unix.Open(path, openFlags(e.opts.Append), 0o666)
	for err == unix.EINTR {
		fd, err = unix.Open(path, openFlags(e.opts.Append), 0o666)
	}
	if err == unix.ENXIO {
		// ENXIO from a non-blocking open for writing is how the kernel says
		// "FIFO without a reader"; a device can say it too, so check.
		var st unix.Stat_t
		if unix.Stat(path, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFIFO {
			s.res.Kind = KindFIFO
			return errNoReader
		}
	}
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		_ = unix.Close(fd)
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		s.res.Kind, s.pipe = KindFIFO, true
	case unix.S_IFREG:
		s.res.Kind = KindFile
	default:
		s.res.Kind = KindDevice
	}
	// A lossy sink keeps O_NONBLOCK: a write that would wait is dropped.
	// The file description is pipectl's own, so this affects nobody else.
	if !s.lossy {
		if err := unix.SetNonblock(fd, false); err != nil {
			_ = unix.Close(fd)
			return err
		}
	}
	s.fd, s.own = fd, true
	if s.pipe {
		growPipe(fd)
	}
	return nil
}

// startCommand runs a command sink with sh -c, its standard input the read
// end of a fresh pipe. os.Pipe gives real pipe descriptors on both ends (so
// tee(2)/splice(2) work), close-on-exec, and Fd puts the write end in
// blocking mode for the data path.
func (e *engine) startCommand(s *sink, command string) error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	c := exec.Command("sh", "-c", command)
	c.Stdin, c.Stdout, c.Stderr = r, e.opts.Stdout, e.opts.Stderr
	err = c.Start()
	_ = r.Close()
	if err != nil {
		_ = w.Close()
		var ee *exec.Error
		if errors.As(err, &ee) {
			return ee.Err
		}
		return err
	}
	s.cmd, s.file, s.pipe = c, w, true
	s.fd = int(w.Fd())
	if s.lossy {
		if err := unix.SetNonblock(s.fd, true); err != nil {
			return err
		}
	}
	growPipe(s.fd)
	return nil
}

// open opens every sink, in order: path sinks with one non-blocking attempt
// each, then command sinks are started (a command may be the reader a FIFO
// sink waits for), then FIFOs without a reader are retried until one
// appears or OpenTimeout passes. It returns false when an exit policy says
// to stop at the first failure.
//
// Why a retry loop rather than a blocking open: a blocking open(2) of a
// FIFO cannot be interrupted from Go except by a signal or by opening the
// FIFO for reading ourselves, and a goroutine stuck in it holds a thread and,
// if it ever returns, a descriptor nobody wants. The non-blocking attempt
// either succeeds (a reader is there) or fails with ENXIO and holds nothing,
// so giving up at the deadline leaks nothing. Several FIFOs are waited for
// at once, so readers may open them in any order. The price is a reaction
// time of up to maxBackoff after a reader appears.
func (e *engine) open(ctx context.Context) bool {
	var waiting []*sink
	for i, spec := range e.opts.Sinks {
		s := e.sinks[e.firstSpec+i]
		if spec.Command != "" {
			continue
		}
		switch err := e.openPath(s, spec.Path); {
		case err == errNoReader:
			s.waitPath = spec.Path
			waiting = append(waiting, s)
		case err != nil:
			if !e.fail(s, "open", err) {
				return false
			}
		}
	}
	for i, spec := range e.opts.Sinks {
		s := e.sinks[e.firstSpec+i]
		if spec.Command == "" {
			continue
		}
		if err := e.startCommand(s, spec.Command); err != nil {
			if !e.fail(s, "start", err) {
				return false
			}
		}
	}
	if len(waiting) == 0 {
		return true
	}
	const minBackoff, maxBackoff = 100 * time.Microsecond, 10 * time.Millisecond
	backoff := minBackoff
	var deadline <-chan time.Time
	if e.opts.OpenTimeout > 0 {
		t := time.NewTimer(e.opts.OpenTimeout)
		defer t.Stop()
		deadline = t.C
	}
	for {
		timer := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			timer.Stop()
			// Every waiting FIFO met the same end: record each before an
			// exit policy says stop.
			goOn := true
			for _, s := range waiting {
				if !e.fail(s, "open", ctx.Err()) {
					goOn = false
				}
			}
			return goOn
		case <-deadline:
			timer.Stop()
			// Every waiting FIFO met the same end: record each before an
			// exit policy says stop.
			goOn := true
			for _, s := range waiting {
				if !e.fail(s, "open", ErrOpenTimeout) {
					goOn = false
				}
			}
			return goOn
		case <-timer.C:
		}
		backoff = min(backoff*2, maxBackoff)
		still := waiting[:0]
		for _, s := range waiting {
			switch err := e.openPath(s, s.waitPath); {
			case err == errNoReader:
				still = append(still, s)
			case err != nil:
				if !e.fail(s, "open", err) {
					return false
				}
			}
		}
		waiting = still
		if len(waiting) == 0 {
			return true
		}
	}
}
