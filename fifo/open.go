package fifo

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// Open opens the FIFO at path for reading (os.O_RDONLY) or writing
// (os.O_WRONLY). Like open(2) on a FIFO it waits for a peer to open the
// other end; timeout bounds that wait (0 waits forever) and its expiry is a
// *TimeoutError. The path must be a FIFO (symlinks to one are fine): a
// regular file is refused rather than silently read or overwritten.
//
// The returned file is in blocking mode, so reads and writes wait for the
// peer instead of seeing EOF or EAGAIN before it is ready.
func Open(path string, flag int, timeout time.Duration) (*os.File, error) {
	if flag != os.O_RDONLY && flag != os.O_WRONLY {
		return nil, &fs.PathError{Op: "open", Path: path, Err: errors.New("flag must be O_RDONLY or O_WRONLY")}
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, pathError("open", path, err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return nil, pathError("open", path, &NotFIFOError{Type: fileType(fi.Mode())})
	}

	opened := make(chan openResult, 1)
	go func() {
		// A blocking open(2) in its own goroutine: it is the only portable
		// way to learn that a peer arrived without becoming a peer first.
		fd, err := unix.Open(path, flag|unix.O_CLOEXEC, 0)
		opened <- openResult{fd, err}
	}()
	var r openResult
	if timeout <= 0 {
		r = <-opened
	} else {
		timer := time.NewTimer(timeout)
		defer timer.Stop()
		select {
		case r = <-opened:
		case <-timer.C:
			unblock(path, flag, opened)
			peer := "writer"
			if flag == os.O_WRONLY {
				peer = "reader"
			}
			return nil, pathError("open", path, &TimeoutError{Peer: peer, After: timeout})
		}
	}
	if r.err != nil {
		return nil, pathError("open", path, r.err)
	}
	return os.NewFile(uintptr(r.fd), path), nil
}

type openResult struct {
	fd  int
	err error
}

// unblock ends a blocked open of path by briefly opening the other end
// without blocking, then closes both, so that no goroutine or descriptor is
// leaked by a timeout. The goroutine may not have reached open(2) yet (a
// non-blocking writer then fails with ENXIO), hence the retries.
func unblock(path string, flag int, opened <-chan openResult) {
	peerFlag := unix.O_WRONLY | unix.O_NONBLOCK
	if flag == os.O_WRONLY {
		peerFlag = unix.O_RDONLY | unix.O_NONBLOCK
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		peer, err := unix.Open(path, peerFlag|unix.O_CLOEXEC, 0)
		select {
		case r := <-opened:
			if err == nil {
				unix.Close(peer)
			}
			if r.err == nil {
				unix.Close(r.fd)
			}
			return
		case <-tick.C:
			if err == nil {
				unix.Close(peer)
			}
		}
	}
}

// copyBufferSize is the read/write chunk: PERF-NOTES measured 128 KiB as
// the point where syscall overhead stops dominating.
const copyBufferSize = 128 << 10

// ReadOptions controls Read.
type ReadOptions struct {
	// Timeout bounds the wait for the first writer (0: wait forever).
	Timeout time.Duration
	// KeepOpen keeps reading across writers: pipectl holds a write end
	// itself, so a writer closing never produces EOF and the next writer's
	// data follows. Read then only returns on an error (such as the
	// destination going away).
	KeepOpen bool
}

// Read copies the FIFO at path to dst until the last writer closes it (or,
// with KeepOpen, until an error). A failure to write to dst is returned as
// is, so the caller can tell it (e.g. EPIPE) from a FIFO error, which is an
// *fs.PathError naming path.
func Read(path string, dst io.Writer, opts ReadOptions) (int64, error) {
	f, err := Open(path, os.O_RDONLY, opts.Timeout)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if opts.KeepOpen {
		// We are a reader now, so a non-blocking write open succeeds.
		hold, err := unix.Open(path, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
		if err != nil {
			return 0, pathError("open", path, err)
		}
		defer unix.Close(hold)
	}
	return copyStream(dst, f, path, true)
}

// WriteOptions controls Write.
type WriteOptions struct {
	// Timeout bounds the wait for a reader (0: wait forever).
	Timeout time.Duration
}

// Write copies src to the FIFO at path until src ends. A reader that goes
// away is an *fs.PathError wrapping syscall.EPIPE; a failure to read src
// is returned as is.
func Write(path string, src io.Reader, opts WriteOptions) (int64, error) {
	f, err := Open(path, os.O_WRONLY, opts.Timeout)
	if err != nil {
		return 0, err
	}
	n, err := copyStream(f, src, path, false)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = pathError("close", path, cerr)
	}
	return n, err
}

// copyStream copies src to dst, attributing errors on the FIFO side to
// path: fifoIsSrc says which side the FIFO is.
func copyStream(dst io.Writer, src io.Reader, path string, fifoIsSrc bool) (int64, error) {
	buf := make([]byte, copyBufferSize)
	var total int64
	for {
		n, rerr := src.Read(buf)
		if n > 0 {
			w, werr := dst.Write(buf[:n])
			total += int64(w)
			if werr != nil {
				if !fifoIsSrc {
					werr = pathError("write", path, werr)
				}
				return total, werr
			}
		}
		if rerr == io.EOF {
			return total, nil
		}
		if rerr != nil {
			if fifoIsSrc {
				rerr = pathError("read", path, rerr)
			}
			return total, rerr
		}
	}
}
