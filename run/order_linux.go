//go:build linux

package run

import (
	"errors"
	"os"
	"slices"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Ordering of stdout and stderr
//
// Two pipes carry no common clock: when a command writes a line to stdout
// and then one to stderr, pipectl can find both pipes readable and cannot
// tell which came first (measured: with back-to-back alternating lines,
// most lines come out of order). So when both streams pass through pipectl,
// each gets a SOCK_SEQPACKET socket pair instead: every write() is one
// message, and with SO_TIMESTAMPNS the kernel stamps each message when it
// is sent. The reader merges the two queues by those stamps.
//
// Merge rule: drain both sockets in passes. A message stamped t was
// queued at t, so once a pass has started after t it is visible to that
// pass. After pass k, every message stamped at or before the latest stamp
// seen by pass k-1 has therefore been read, and those can be written out in
// stamp order; when a pass finds nothing new, everything read is written.
// The result is the order of the command's writes for any command that
// writes its streams one after the other (one thread, or several taking
// turns), at the cost of a limit on a single write's size (sockMsgMax).

// sockBuf is the send buffer asked for on the command's sockets; the
// kernel caps it at 2 x net.core.wmem_max. It bounds the size of one
// write(): a larger write fails with EMSGSIZE.
const sockBuf = 8 << 20

// orderedPair is the command's end (fd 1 or 2) and pipectl's end of one
// stream's socket pair.
type orderedPair struct {
	child *os.File
	fd    int // pipectl's end, blocking, CLOEXEC
	max   int // the largest message the command can send
}

// newOrderedPairs returns socket pairs for stdout and stderr, or an error
// (the caller then falls back to pipes).
func newOrderedPairs() ([3]*orderedPair, error) {
	var pairs [3]*orderedPair
	for _, s := range []Stream{Stdout, Stderr} {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			closePairs(pairs)
			return pairs, err
		}
		_ = unix.SetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_SNDBUF, sockBuf)
		// SO_PASSCRED names each message's sender, which is who gets
		// SIGPIPE after pipectl's own stream broke (see pumpOrdered).
		_ = unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_PASSCRED, 1)
		if err := unix.SetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			unix.Close(fds[0])
			unix.Close(fds[1])
			closePairs(pairs)
			return pairs, err
		}
		// The command never reads its stdout: shut that direction so a
		// stray read fails rather than blocks.
		_ = unix.Shutdown(fds[1], unix.SHUT_RD)
		max, err := unix.GetsockoptInt(fds[1], unix.SOL_SOCKET, unix.SO_SNDBUF)
		if err != nil || max < 64<<10 {
			max = 64 << 10
		}
		pairs[s] = &orderedPair{child: os.NewFile(uintptr(fds[1]), s.String()), fd: fds[0], max: max}
	}
	return pairs, nil
}

func closePairs(pairs [3]*orderedPair) {
	for _, p := range pairs {
		if p != nil {
			p.child.Close()
			if p.fd >= 0 {
				unix.Close(p.fd)
				p.fd = -1
			}
		}
	}
}

// maxMsg returns the largest message the command can send on p: the
// socket's send buffer (a larger write() fails with EMSGSIZE).
func (p *orderedPair) maxMsg() int { return p.max }

type stamped struct {
	s    Stream
	ts   int64
	seq  int
	data []byte
}

// pumpOrdered reads both streams from their sockets until both reach EOF
// (or are abandoned after a broken pipe), handing chunks to o in the
// order the command wrote them.
func (o *outputs) pumpOrdered(pairs [3]*orderedPair, bufSize int) {
	buf := make([]byte, bufSize)
	oob := make([]byte, unix.CmsgSpace(int(unsafe.Sizeof(unix.Timespec{})))+unix.CmsgSpace(unix.SizeofUcred))
	open := map[Stream]bool{Stdout: true, Stderr: true}
	abandoned := map[Stream]bool{}
	var pending []stamped
	seq := 0
	var seen, safe int64 = -1 << 62, -1 << 62

	emit := func(upTo int64) {
		slices.SortStableFunc(pending, func(a, b stamped) int {
			switch {
			case a.ts < b.ts:
				return -1
			case a.ts > b.ts:
				return 1
			}
			return a.seq - b.seq
		})
		i := 0
		for ; i < len(pending) && pending[i].ts <= upTo; i++ {
			m := pending[i]
			if !abandoned[m.s] && o.write(m.s, m.data) {
				abandoned[m.s] = true
			}
		}
		pending = append(pending[:0], pending[i:]...)
	}
	// drain reads everything now queued on s; it reports whether it read
	// anything (EOF included).
	drain := func(s Stream) bool {
		got := false
		for open[s] {
			n, oobn, _, _, err := unix.Recvmsg(pairs[s].fd, buf, oob, unix.MSG_DONTWAIT)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) {
				return got
			}
			got = true
			ts, pid, stampedOK := stampOf(oob[:oobn])
			if err != nil || (n == 0 && !stampedOK) {
				// EOF (no message, no stamp) or an error: this stream is done.
				closeEnd(pairs[s], open, s)
				return got
			}
			if n == 0 {
				continue
			}
			if abandoned[s] {
				// pipectl's own stream broke. On a pipe the command's next
				// write would kill it with SIGPIPE; a socket only returns
				// EPIPE, so deliver the signal to the writer, then refuse
				// further writes (EPIPE) for a command that ignores it.
				if pid > 0 {
					_ = unix.Kill(int(pid), unix.SIGPIPE)
				}
				_ = unix.Shutdown(pairs[s].fd, unix.SHUT_RD)
				continue
			}
			seq++
			pending = append(pending, stamped{s: s, ts: ts, seq: seq, data: append([]byte(nil), buf[:n]...)})
			seen = max(seen, ts)
		}
		return got
	}
	for open[Stdout] || open[Stderr] {
		var pfd []unix.PollFd
		for _, s := range []Stream{Stdout, Stderr} {
			if open[s] {
				pfd = append(pfd, unix.PollFd{Fd: int32(pairs[s].fd), Events: unix.POLLIN})
			}
		}
		if _, err := unix.Poll(pfd, -1); err != nil && !errors.Is(err, unix.EINTR) {
			break
		}
		for {
			a := drain(Stdout)
			b := drain(Stderr)
			if !a && !b {
				emit(1<<62 - 1)
				break
			}
			emit(safe)
			safe = seen
		}
	}
	emit(1<<62 - 1)
	for _, s := range []Stream{Stdout, Stderr} {
		closeEnd(pairs[s], open, s)
		if !abandoned[s] {
			o.mu.Lock()
			if o.ann != nil {
				o.emit(s, o.ann.flush(s))
			}
			o.mu.Unlock()
		}
	}
}

// closeEnd closes pipectl's end of s: at EOF, or after pipectl's own
// stream broke, so that the command's next write fails with EPIPE (SIGPIPE)
// as in a shell pipeline.
func closeEnd(p *orderedPair, open map[Stream]bool, s Stream) {
	open[s] = false
	if p.fd >= 0 {
		// Shut reading first: the command's next write then fails with
		// EPIPE (SIGPIPE), as on a pipe; closing a socket with unread
		// messages would give it ECONNRESET instead.
		_ = unix.Shutdown(p.fd, unix.SHUT_RD)
		unix.Close(p.fd)
		p.fd = -1
	}
}

// stampOf extracts the SCM_TIMESTAMPNS stamp and the sender's pid
// (SCM_CREDENTIALS) of a received message.
func stampOf(oob []byte) (ts int64, pid int32, ok bool) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return 0, 0, false
	}
	for _, m := range msgs {
		if m.Header.Level != unix.SOL_SOCKET {
			continue
		}
		switch {
		case m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= int(unsafe.Sizeof(unix.Timespec{})):
			ts, ok = (*unix.Timespec)(unsafe.Pointer(&m.Data[0])).Nano(), true
		case m.Header.Type == unix.SCM_CREDENTIALS:
			if cred, err := unix.ParseUnixCredentials(&m); err == nil {
				pid = cred.Pid
			}
		}
	}
	return ts, pid, ok
}
