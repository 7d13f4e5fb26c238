// Package run spawns one command, or a pipeline of shell commands, the way
// a careful shell script would want: streams passed through untouched or
// captured and annotated, signals forwarded to the whole process group,
// GNU timeout's timeout semantics, no orphans and no zombies, and an exact
// account of how every process ended.
//
// The package never prints and never exits: Run and Pipe return a result
// and typed errors (*StartError, *SetupError, *WriteError) that the caller
// turns into messages and exit statuses.
package run

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/exitcode"
)

// DefaultMaxHold is how much output --quiet-unless-fail keeps by default.
const DefaultMaxHold = 16 << 20

// Config describes one command to run and what to do with its streams.
type Config struct {
	// Argv is the command and its arguments; Argv[0] is searched in PATH.
	Argv []string

	// Stdin, if set, is a file (or FIFO) the command reads instead of
	// inheriting pipectl's stdin.
	Stdin string
	// StdoutFile and StderrFile capture one stream each; OutputFile
	// captures both, in the order they arrive.
	StdoutFile, StderrFile, OutputFile string
	// Append appends to capture files instead of truncating them.
	Append bool
	// Quiet keeps the command's output off pipectl's stdout and stderr.
	Quiet bool
	// QuietUnlessFail holds the output and shows it only if the command
	// fails (chronic); at most MaxHold bytes are kept (DefaultMaxHold if 0).
	QuietUnlessFail bool
	MaxHold         int64
	// HoldCut is called while replaying held output, between head and
	// tail, when n bytes had to be dropped.
	HoldCut func(n int64)

	// Label and Time annotate each line (see annotator); nil Time: none.
	Label string
	Time  *TimeFormat

	Limits

	// Unordered carries stdout and stderr through two pipes even when both
	// pass through pipectl: no limit on the size of one write, but writes
	// to the two streams made back to back may be swapped (see
	// order_linux.go).
	Unordered bool

	// NoGuard leaves out the guard process that kills the command's whole
	// process group if pipectl dies (see startGuard): the command itself
	// still gets the parent-death signal on Linux, what it started does not.
	NoGuard bool

	// SigpipeOK counts a command killed by SIGPIPE as a success.
	SigpipeOK bool

	// In, Out and Err are pipectl's own streams (os.Stdin, os.Stdout and
	// os.Stderr when nil). A stream that needs no processing is handed to
	// the command as is, so it sees the same terminal, pipe or file.
	In, Out, Err *os.File
}

// Result is how the command ended and what passed through pipectl.
type Result struct {
	Argv []string
	Pid  int
	// Status is the command's exit status as a shell reports it: its exit
	// code, or 128+N when signal N killed it.
	Status int
	// Signal is the signal that killed the command, or 0.
	Signal syscall.Signal
	// TimedOut: the timeout expired and the command was signalled.
	TimedOut bool
	// Killed: SIGKILL was sent because of the timeout.
	Killed bool
	// BrokenPipe: the command died of SIGPIPE, or the reader of pipectl's
	// stdout or stderr went away while the command's output was copied to it.
	BrokenPipe bool
	// OutputBroken: it was pipectl's stdout or stderr that broke.
	OutputBroken bool
	// SigpipeOK is Config.SigpipeOK, kept to compute ExitStatus.
	SigpipeOK bool

	Wall, User, Sys time.Duration
	// MaxRSS is the command's peak resident set size in bytes.
	MaxRSS int64
	// StdoutBytes and StderrBytes count what the command wrote when the
	// stream passed through pipectl, or went straight to its own regular
	// capture file (counted by the file's growth); -1 when the command
	// wrote it directly elsewhere (a terminal, pipe, or shared file).
	StdoutBytes, StderrBytes int64
	// WriteErrors are failed writes to capture files or pipectl's streams;
	// the first error of each destination only.
	WriteErrors []error
}

// Failed reports whether the command itself failed: a non-zero status
// other than a forgiven SIGPIPE, or a timeout.
func (r *Result) Failed() bool { return r.ExitStatus() != 0 }

// ExitStatus is the status pipectl should exit with for this command, by
// GNU timeout's rules: 124 when the timeout expired, except 137 when the
// command had to be (and was) killed by SIGKILL; otherwise the command's
// own status; 0 for SIGPIPE under SigpipeOK; 141 when the command
// succeeded but pipectl's own stdout or stderr broke.
func (r *Result) ExitStatus() int {
	if r.TimedOut {
		if r.Signal == syscall.SIGKILL {
			return exitcode.SignalBase + int(syscall.SIGKILL)
		}
		return StatusTimeout
	}
	if r.SigpipeOK && r.Status == StatusSIGPIPE {
		return 0
	}
	if r.Status == 0 && r.OutputBroken && !r.SigpipeOK {
		return StatusSIGPIPE
	}
	return r.Status
}

// Run runs the command described by cfg and waits for it and for all its
// output. A *StartError or *SetupError means the command did not run (the
// Result is nil); write errors on the way are in Result.WriteErrors.
func Run(cfg Config) (*Result, error) {
	if len(cfg.Argv) == 0 || cfg.Argv[0] == "" {
		return nil, &StartError{Name: "", Err: errors.New("missing command")}
	}
	if cfg.In == nil {
		cfg.In = os.Stdin
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Err == nil {
		cfg.Err = os.Stderr
	}
	path, err := lookPath(cfg.Argv[0])
	if err != nil {
		return nil, err
	}
	w, err := wire(&cfg)
	defer w.closeAll()
	if err != nil {
		return nil, err
	}

	cmd := &exec.Cmd{
		Path:        path,
		Args:        cfg.Argv,
		Stdin:       w.stdin,
		Stdout:      w.child[Stdout],
		Stderr:      w.child[Stderr],
		SysProcAttr: sysProcAttr(0),
	}
	// The guard leads the command's process group and is running before
	// the command starts (see startGuard).
	guard := startGuard("/bin/sh", cfg.NoGuard)
	cmd.SysProcAttr.Pgid = guard.pgid()
	tty, closeTTY := foregroundTTY(w.stdin, w.child[Stdout], w.child[Stderr])
	defer closeTTY()
	inForeground(cmd.SysProcAttr, tty)
	follow := newStopFollower(tty)
	sup := newSupervisor()
	release := make(chan struct{})
	p, err := spawn(cmd, release)
	if err != nil {
		close(release)
		follow.stop()
		reclaimTTY(tty)
		guard.stop()
		sup.finish()
		return nil, &StartError{Name: cfg.Argv[0], Err: plainErr(err), Exec: true}
	}
	close(release)
	pgid := guard.pgid()
	if pgid == 0 {
		pgid = cmd.Process.Pid
	}
	sup.watch(pgid, cfg.Limits)
	follow.start(pgid, []int{cmd.Process.Pid})
	// The child has its copies: pipectl keeps only the read ends, so EOF
	// comes when the command (and anything it passed its stdout to) is done.
	w.closeChildEnds()
	out := w.out
	out.start = p.start
	if out.ann != nil {
		out.ann.start, out.ann.prev = p.start, p.start
	}
	var wg sync.WaitGroup
	if w.ordered[Stdout] != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out.pumpOrdered(w.ordered, w.ordered[Stdout].maxMsg()+1)
		}()
	}
	for s, r := range w.read {
		if r != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				out.pump(Stream(s), r)
			}()
		}
	}
	<-p.done
	// How the command ended is decided now: a timeout that expires later,
	// while pipectl waits for output that something the command started
	// still holds, stops those leftovers but does not turn the command's
	// own status into 124 (GNU timeout only waits for its child).
	timedOut, killed := sup.state()
	follow.stop()
	reclaimTTY(tty)
	// Something the command started may still hold its stdout or stderr:
	// pipectl waits for the end of the output, as $(...) does, and the
	// timeout, the forwarded signals and the guard keep covering the
	// process group until then.
	wg.Wait()
	guard.stop()
	sup.finish()

	res := &Result{
		Argv:        cfg.Argv,
		Pid:         cmd.Process.Pid,
		TimedOut:    timedOut,
		Killed:      killed,
		SigpipeOK:   cfg.SigpipeOK,
		Wall:        p.wall,
		StdoutBytes: -1,
		StderrBytes: -1,
	}
	res.Status, res.Signal = exitcode.Of(p.state)
	res.User, res.Sys, res.MaxRSS = p.usage()
	if w.read[Stdout] != nil || w.ordered[Stdout] != nil {
		res.StdoutBytes = out.bytes[Stdout]
	}
	if w.read[Stderr] != nil || w.ordered[Stderr] != nil {
		res.StderrBytes = out.bytes[Stderr]
	}
	for _, s := range []Stream{Stdout, Stderr} {
		if f := w.sized[s]; f != nil {
			if fi, err := f.Stat(); err == nil {
				n := fi.Size() - w.startSize[s]
				if s == Stdout {
					res.StdoutBytes = n
				} else {
					res.StderrBytes = n
				}
			}
		}
	}
	res.OutputBroken = out.broken
	res.BrokenPipe = out.broken || res.Signal == syscall.SIGPIPE

	if out.hold != nil && res.ExitStatus() != 0 {
		err := out.hold.Replay(func(c Chunk) error {
			return out.toTerminal(c.Stream, c.Data)
		}, cfg.HoldCut)
		if err != nil && !errors.Is(err, syscall.EPIPE) {
			out.errs = append(out.errs, err)
		}
	}
	res.WriteErrors = out.errs
	return res, nil
}

// wiring is what each of the command's streams is connected to.
type wiring struct {
	stdin *os.File
	child [3]*os.File // what the command gets as fd 1 and 2
	read  [3]*os.File // pipectl's read ends, nil when the stream is direct
	// sized is a stream's own capture file written directly by the
	// command, and startSize its size before: the growth is the byte count.
	sized     [3]*os.File
	startSize [3]int64
	// ordered, when set, carries both streams instead of read (see order_linux.go)
	ordered [3]*orderedPair
	out     *outputs
	owned   []*os.File // opened here: closed when Run returns
	ends    []*os.File // the child's pipe ends: closed once it started
}

func (w *wiring) closeChildEnds() {
	for _, f := range w.ends {
		f.Close()
	}
	w.ends = nil
}

func (w *wiring) closeAll() {
	w.closeChildEnds()
	closePairs(w.ordered)
	for _, f := range w.owned {
		f.Close()
	}
}

// wire opens the capture files and decides, per stream, whether the
// command can write straight to its one destination (a terminal, pipe or
// file: no copy, and the command sees the real thing), or needs a pipe
// read by pipectl (several destinations, annotation, holding).
func wire(cfg *Config) (*wiring, error) {
	w := &wiring{out: &outputs{}}
	w.stdin = cfg.In
	if cfg.Stdin != "" {
		f, err := os.Open(cfg.Stdin)
		if err != nil {
			return w, &SetupError{What: "cannot open --stdin file " + cfg.Stdin, Err: plainErr(err)}
		}
		w.owned = append(w.owned, f)
		w.stdin = f
	}
	open := func(flag, path string) (*dest, error) {
		mode := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if cfg.Append {
			mode = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(path, mode, 0o666)
		if err != nil {
			return nil, &SetupError{What: "cannot open " + flag + " file " + path, Err: plainErr(err)}
		}
		w.owned = append(w.owned, f)
		return &dest{name: path, f: f}, nil
	}
	o := w.out
	for _, c := range []struct {
		flag, path string
		streams    []Stream
	}{
		{"--stdout", cfg.StdoutFile, []Stream{Stdout}},
		{"--stderr", cfg.StderrFile, []Stream{Stderr}},
		{"--output", cfg.OutputFile, []Stream{Stdout, Stderr}},
	} {
		if c.path == "" {
			continue
		}
		d, err := open(c.flag, c.path)
		if err != nil {
			return w, err
		}
		for _, s := range c.streams {
			o.files[s] = append(o.files[s], d)
		}
	}
	if cfg.Label != "" || cfg.Time != nil {
		o.ann = newAnnotator(cfg.Label, cfg.Time, time.Now())
	}
	if !cfg.Quiet {
		o.term[Stdout], o.term[Stderr] = cfg.Out, cfg.Err
		// Copying to /dev/null is work for nothing: a stream whose only
		// other destination is a capture file then goes straight to it.
		for _, s := range []Stream{Stdout, Stderr} {
			if isDevNull(o.term[s]) {
				o.term[s] = nil
			}
		}
		if cfg.QuietUnlessFail {
			max := cfg.MaxHold
			if max <= 0 {
				max = DefaultMaxHold
			}
			o.hold = NewHold(max)
		}
	}
	var devnull *os.File
	var through [3]bool
	for _, s := range []Stream{Stdout, Stderr} {
		n := len(o.files[s])
		if o.term[s] != nil {
			n++
		}
		switch {
		case n == 0 && o.ann == nil:
			if devnull == nil {
				f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
				if err != nil {
					return w, &SetupError{What: "cannot open " + os.DevNull, Err: plainErr(err)}
				}
				w.owned = append(w.owned, f)
				devnull = f
			}
			w.child[s] = devnull
		case n == 1 && o.ann == nil && o.hold == nil:
			if o.term[s] != nil {
				w.child[s] = o.term[s]
			} else {
				d := o.files[s][0]
				w.child[s] = d.f
				if cfg.OutputFile == "" || d.name != cfg.OutputFile {
					// A stream's own regular file: its growth is the byte count.
					if fi, err := d.f.Stat(); err == nil && fi.Mode().IsRegular() {
						w.sized[s], w.startSize[s] = d.f, fi.Size()
					}
				}
			}
		default:
			through[s] = true
		}
	}
	if cfg.OutputFile != "" && (through[Stdout] || through[Stderr]) {
		// --output is shared: if one stream is copied by pipectl, a direct
		// write by the other would overtake it. Copy both, in order.
		through[Stdout], through[Stderr] = true, true
	}
	if through[Stdout] && through[Stderr] && !cfg.Unordered {
		// Both streams pass through pipectl: keep their relative order
		// with timestamped sockets where the system has them.
		if pairs, err := newOrderedPairs(); err == nil {
			w.ordered = pairs
			for _, s := range []Stream{Stdout, Stderr} {
				w.ends = append(w.ends, pairs[s].child)
				w.child[s] = pairs[s].child
				through[s] = false
			}
		}
	}
	for _, s := range []Stream{Stdout, Stderr} {
		if !through[s] {
			continue
		}
		r, wr, err := os.Pipe()
		if err != nil {
			return w, &SetupError{What: "cannot create a pipe for " + s.String(), Err: err}
		}
		growPipe(wr)
		w.owned = append(w.owned, r)
		w.ends = append(w.ends, wr)
		w.child[s], w.read[s] = wr, r
	}
	// A stream written directly is no longer pipectl's to write.
	for _, s := range []Stream{Stdout, Stderr} {
		if w.read[s] == nil && w.ordered[s] == nil {
			o.term[s] = nil
		}
	}
	o.termName = [3]string{"", "stdout", "stderr"}
	return w, nil
}

// dest is a capture file; after its first write error it is skipped.
type dest struct {
	name   string
	f      *os.File
	failed bool
}

// outputs receives the command's output from the pump goroutines, one
// chunk at a time under mu, so every destination sees the chunks in the
// one order pipectl read them.
type outputs struct {
	mu       sync.Mutex
	start    time.Time
	files    [3][]*dest
	term     [3]*os.File
	termName [3]string
	ann      *annotator
	hold     *Hold
	bytes    [3]int64
	errs     []error
	broken   bool
}

// copyBuf is the read size of a pump: large reads mean few wake-ups.
const copyBuf = 1 << 20

// pump copies stream s from r until EOF. If pipectl's own stream for s
// breaks (EPIPE), it closes r so that the command, like a shell pipeline's
// writer, meets the broken pipe on its next write.
func (o *outputs) pump(s Stream, r *os.File) {
	buf := make([]byte, copyBuf)
	for {
		n, err := r.Read(buf)
		if n > 0 && o.write(s, buf[:n]) {
			break
		}
		if err != nil {
			break
		}
	}
	o.mu.Lock()
	if o.ann != nil {
		o.emit(s, o.ann.flush(s))
	}
	o.mu.Unlock()
	r.Close()
}

// write handles one chunk; it reports true when the stream should stop.
func (o *outputs) write(s Stream, p []byte) (stop bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.bytes[s] += int64(len(p))
	if o.ann != nil {
		p = o.ann.add(s, p, time.Now())
	}
	return o.emit(s, p)
}

func (o *outputs) emit(s Stream, p []byte) (stop bool) {
	if len(p) == 0 {
		return false
	}
	for _, d := range o.files[s] {
		if d.failed {
			continue
		}
		if _, err := d.f.Write(p); err != nil {
			d.failed = true
			o.errs = append(o.errs, &WriteError{Dest: d.name, Err: plainErr(err)})
		}
	}
	if o.hold != nil {
		o.hold.Add(s, p)
		return false
	}
	return errors.Is(o.toTerminal(s, p), syscall.EPIPE)
}

// toTerminal writes to pipectl's own stream s; after a failure that stream
// is dropped. EPIPE is not an error to report but a broken pipe.
func (o *outputs) toTerminal(s Stream, p []byte) error {
	t := o.term[s]
	if t == nil {
		return nil
	}
	_, err := t.Write(p)
	if err == nil {
		return nil
	}
	o.term[s] = nil
	if errors.Is(err, syscall.EPIPE) {
		o.broken = true
		return err
	}
	werr := &WriteError{Dest: o.termName[s], Err: plainErr(err)}
	o.errs = append(o.errs, werr)
	return werr
}

// String describes a result in one line, for logs and tests.
func (r *Result) String() string {
	return fmt.Sprintf("%v: status %d signal %d timed out %v", r.Argv, r.Status, r.Signal, r.TimedOut)
}

// isDevNull reports whether f is the null device.
func isDevNull(f *os.File) bool {
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	null, err := os.Stat(os.DevNull)
	return err == nil && os.SameFile(fi, null)
}
