package cmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/pipectl/pipectl/internal/exitcode"
	"github.com/pipectl/pipectl/tee"
	"github.com/urfave/cli/v2"
)

// noSpliceEnv forces tee's portable read/write path; the tests use it to
// check that both paths deliver the same bytes.
const noSpliceEnv = "PIPECTL_TEE_NOSPLICE"

func teeCommand() *cli.Command {
	examples["pipectl tee"] = []example{
		{`make 2>&1 | pipectl tee build.log`, "show a build's output and keep a copy, like tee"},
		{`pipectl tee -c 'gzip > data.gz' -c 'sha256sum > data.sha256' --no-stdout < data`,
			"compress and checksum a stream in one pass; exits non-zero if either command fails"},
		{`pipectl tee --open-timeout 10s /tmp/feed.fifo < events | ./consume`,
			"feed a FIFO read by another script, giving up with 124 if nobody opens it in 10s"},
		{`pipectl tee --progress --size 4G --no-stdout /mnt/backup/disk.img < /dev/sdb`,
			"copy a large stream with bytes, rate and ETA on the terminal"},
		{`producer | pipectl tee --lossy -c './live-view' --report tee.json > full.log`,
			"a slow viewer that may miss data never slows the log; tee.json says how much it missed"},
		{`seq 1000000 | pipectl tee -p numbers.txt | head -n 1`,
			"the reader stopping early is no error (exit 0) and numbers.txt still gets every line"},
	}
	manSections["pipectl tee"] = teeManSections
	return &cli.Command{
		Name:      "tee",
		Usage:     "copy standard input to standard output, files, FIFOs and commands, losing nothing",
		UsageText: "pipectl tee [OPTIONS] [FILE|FIFO|-c COMMAND]...",
		Description: "Copies standard input to standard output and to every sink, in order: FILE paths\n" +
			"(truncated, or appended to with -a), FIFO paths (opened for writing; --open-timeout\n" +
			"bounds the wait for a reader), and -c/--exec COMMAND sinks (run with sh -c, fed\n" +
			"through a pipe, their standard output is pipectl's, like >(COMMAND)). Options may come\n" +
			"before, between or after sinks; '--' ends them; '-' is a file named '-'.\n\n" +
			"Lossless by default: a slow sink slows the whole stream and every sink gets every\n" +
			"byte. --lossy makes the next sink best effort: it drops data (counted in --report)\n" +
			"rather than stall the others.\n\n" +
			"Write errors follow GNU tee: by default a broken pipe on any output ends pipectl with\n" +
			"141 (GNU tee dies of SIGPIPE), other errors are reported, that output is dropped and\n" +
			"the rest carry on (exit 1). --output-error and -p choose another policy; see ERROR\n" +
			"POLICIES in pipectl-tee(1). pipectl waits for its command sinks; one that exits\n" +
			"non-zero makes the exit status 1.\n\n" +
			"On Linux, when standard input and an output are pipes, the data is duplicated with\n" +
			"tee(2) and moved with splice(2) between 1 MiB pipe buffers, never copied through\n" +
			"pipectl. " + noSpliceEnv + "=1 forces the portable read/write path.",
		SkipFlagParsing: true,
		Flags: []cli.Flag{
			&cli.BoolFlag{DisableDefaultText: true, Name: "append", Aliases: []string{"a"}, Usage: "append to FILE sinks instead of truncating them"},
			&cli.StringFlag{Name: "exec", Aliases: []string{"c"}, Usage: "add a sink that runs `COMMAND` with sh -c, fed through a pipe (repeatable)"},
			&cli.BoolFlag{DisableDefaultText: true, Name: "no-stdout", Usage: "do not copy to standard output, only to the sinks"},
			&cli.BoolFlag{DisableDefaultText: true, Name: "lossy", Usage: "make the next sink best effort: drop what it cannot take at once instead of slowing the others"},
			&cli.StringFlag{Name: "output-error", Usage: "what a write error does: `MODE` warn, warn-nopipe, exit or exit-nopipe, as GNU tee; give it with '=', bare --output-error means warn-nopipe"},
			&cli.BoolFlag{DisableDefaultText: true, Name: "p", Usage: "ignore broken pipes: same as --output-error=warn-nopipe"},
			&cli.BoolFlag{DisableDefaultText: true, Name: "ignore-interrupts", Aliases: []string{"i"}, Usage: "ignore SIGINT"},
			durationFlag("open-timeout", "give up on a FIFO sink that no reader opens within `DURATION` (exit 124); 0 waits forever"),
			&cli.StringFlag{Name: "report", Usage: "write a JSON report per sink to `FILE` ('-' for standard error)"},
			&cli.BoolFlag{DisableDefaultText: true, Name: "progress", Usage: "show bytes, rate and elapsed time on standard error when it is a terminal"},
			sizeFlag("size", "expected input `SIZE` (64K, 2GiB), for the ETA of --progress"),
		},
		Action: teeAction,
	}
}

// teeManSections is the hand-written part of pipectl-tee(1).
const teeManSections = `# ERROR POLICIES

| mode | broken pipe (EPIPE) on an output | other write error (ENOSPC, EIO...) | exit status |
| --- | --- | --- | --- |
| default | stop reading; the current chunk still reaches the healthy outputs | message, drop that output, go on | 141 on a broken pipe, else 1 on an error |
| **-p**, **--output-error**, **--output-error=warn-nopipe** | drop that output silently, go on | message, drop it, go on | 1 on an error, broken pipes do not count |
| **--output-error=warn** | message, drop it, go on | message, drop it, go on | 1 |
| **--output-error=exit** | message, stop at once | message, stop at once | 1 |
| **--output-error=exit-nopipe** | drop that output silently, go on | message, stop at once | 1 on an error |

When no output is left, pipectl stops reading, like GNU tee. An output that cannot be opened
(missing directory, permission denied, a directory) gets a message and exit status 1 while the
others still get every byte, except under the exit modes, which stop before copying anything.
A FIFO that no reader opens within --open-timeout is such an output, with exit status 124.

A command sink that exits non-zero makes the exit status 1 (its own status is in the report).
A command sink killed by SIGPIPE counts as a broken pipe: 141 by default, ignored by the nopipe
modes. Exit status precedence: 141, then 124, then 1.

# LOSSY SINKS

**--lossy** applies to the sink right after it, of any kind. A lossy sink is written without
waiting: what its pipe buffer (1 MiB where the kernel allows) cannot take at once is dropped,
at whatever byte it falls, and counted in the report's **dropped**. A lossy sink never slows the
others or changes the exit status, except that an error on it (EPIPE...) is handled by the
policy like any other. Writes to regular files never wait, so a lossy file drops nothing.

# REPORT

**--report FILE** (or **-** for standard error) writes one JSON object when pipectl ends:

` + "```" + `
{
  "sinks": [
    {
      "kind": "stdout" | "file" | "fifo" | "device" | "command",
      "path": string | null,           // file, fifo or device path
      "command": string | null,        // command sink text (run with sh -c)
      "lossy": bool,
      "bytes": int,                    // bytes the sink accepted
      "dropped": int,                  // bytes a lossy sink dropped
      "error": string | null,          // first error, as in the message
      "op": "open" | "start" | "write" | "exit" | null,
      "broken_pipe": bool,             // EPIPE, or the command died of SIGPIPE
      "timed_out": bool,               // FIFO without a reader (--open-timeout)
      "exit_status": int | null,       // command sinks: shell-style status (128+N)
      "signal": string | null          // command sinks: "SIGPIPE" etc.
    }
  ],
  "totals": {
    "bytes_in": int, "sinks": int, "failed": int, "broken_pipes": int,
    "dropped": int, "elapsed_seconds": float, "zero_copy": bool
  },
  "policy": "sigpipe" | "warn" | "warn-nopipe" | "exit" | "exit-nopipe",
  "stopped": null | "broken pipe" | "error" | "no outputs" | "input error",
  "exit_status": int
}
` + "```" + `

# ENVIRONMENT

**` + noSpliceEnv + `=1**
: use read(2)/write(2) even where tee(2)/splice(2) would work (same bytes, slower).

**NO_COLOR**
: respected; --progress uses no color in any case.
`

func teeAction(c *cli.Context) error {
	a, err := parseTeeArgs(c.Args().Slice())
	if err != nil {
		return usageError(c, "%s", err)
	}
	if a.help {
		return cli.ShowCommandHelp(c.Lineage()[1], c.Command.Name)
	}
	if a.noStdout && len(a.sinks) == 0 {
		return usageError(c, "--no-stdout with no sink: nothing to write to")
	}
	var report io.WriteCloser
	if a.report == "-" {
		report = nopCloser{os.Stderr}
	} else if a.report != "" {
		f, err := os.Create(a.report)
		if err != nil {
			return failf(c, exitFailure, a.report, err)
		}
		report = f
	}
	if a.ignoreInt {
		// Notify, not Ignore: command sinks must not inherit SIG_IGN.
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, syscall.SIGINT)
		defer signal.Stop(ch)
	}

	var stderrMu sync.Mutex
	var prog *progress
	if a.progress && isatty.IsTerminal(os.Stderr.Fd()) {
		prog = newProgress(os.Stderr, &stderrMu, a.size)
	}
	opts := tee.Options{
		Sinks:       a.sinks,
		NoStdout:    a.noStdout,
		Append:      a.appendMode,
		Policy:      a.policy,
		OpenTimeout: a.openTimeout,
		NoSplice:    os.Getenv(noSpliceEnv) != "" && os.Getenv(noSpliceEnv) != "0",
		OnError: func(se *tee.SinkError) {
			stderrMu.Lock()
			defer stderrMu.Unlock()
			if prog != nil {
				prog.clearLocked()
			}
			fmt.Fprintln(os.Stderr, teeMessage(c, se, a.openTimeout, a.timeoutText))
		},
	}
	if prog != nil {
		opts.Meter = &prog.meter
		prog.start()
	}
	res, err := tee.Run(context.Background(), opts)
	if prog != nil {
		prog.stop()
	}
	if err != nil {
		// The error names its subject ("standard input: ...", "sink 2:
		// ..."); describe would strip it down to the errno.
		return &exitError{Code: exitFailure, Lines: []string{commandName(c) + ": " + err.Error()}}
	}
	code := exitOK
	switch {
	case res.BrokenPipe():
		code = exitBrokenPipe
	case res.TimedOut():
		code = exitTimeout
	case res.Failed(a.policy):
		code = exitFailure
	}
	var lines []string
	if res.InputErr != nil {
		lines = append(lines, message(c, "standard input", res.InputErr))
	}
	if report != nil {
		err := writeTeeReport(report, res, a.policy, code)
		if cerr := report.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			lines = append(lines, message(c, "--report "+a.report, err))
			code = max(code, exitFailure)
		}
	}
	if code == exitOK && len(lines) == 0 {
		return nil
	}
	return &exitError{Code: code, Lines: lines}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// teeMessage is the one-line message for a sink error.
func teeMessage(c *cli.Context, se *tee.SinkError, timeout time.Duration, text string) string {
	if errors.Is(se, tee.ErrOpenTimeout) {
		return message(c, se.Display(), fmt.Errorf("no reader opened the fifo within %s (--open-timeout %s)", timeout, text))
	}
	return message(c, se.Display(), se.Err)
}

// teeReport is the --report JSON; the schema is documented in pipectl-tee(1)
// and is stable: fields may be added, never renamed or removed.
type teeReport struct {
	Sinks      []teeSinkReport `json:"sinks"`
	Totals     teeTotals       `json:"totals"`
	Policy     string          `json:"policy"`
	Stopped    *string         `json:"stopped"`
	ExitStatus int             `json:"exit_status"`
}

type teeSinkReport struct {
	Kind       string  `json:"kind"`
	Path       *string `json:"path"`
	Command    *string `json:"command"`
	Lossy      bool    `json:"lossy"`
	Bytes      int64   `json:"bytes"`
	Dropped    int64   `json:"dropped"`
	Error      *string `json:"error"`
	Op         *string `json:"op"`
	BrokenPipe bool    `json:"broken_pipe"`
	TimedOut   bool    `json:"timed_out"`
	ExitStatus *int    `json:"exit_status"`
	Signal     *string `json:"signal"`
}

type teeTotals struct {
	BytesIn     int64   `json:"bytes_in"`
	Sinks       int     `json:"sinks"`
	Failed      int     `json:"failed"`
	BrokenPipes int     `json:"broken_pipes"`
	Dropped     int64   `json:"dropped"`
	Elapsed     float64 `json:"elapsed_seconds"`
	ZeroCopy    bool    `json:"zero_copy"`
}

func strp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func writeTeeReport(w io.Writer, res *tee.Result, p tee.Policy, code int) error {
	r := teeReport{Sinks: []teeSinkReport{}, Policy: p.String(), Stopped: strp(res.Stopped), ExitStatus: code}
	r.Totals = teeTotals{BytesIn: res.BytesIn, Sinks: len(res.Sinks), Elapsed: res.Elapsed.Seconds(), ZeroCopy: res.ZeroCopy}
	for _, s := range res.Sinks {
		sr := teeSinkReport{Kind: string(s.Kind), Path: strp(s.Path), Command: strp(s.Command), Lossy: s.Lossy, Bytes: s.Bytes, Dropped: s.Dropped}
		if s.Kind == tee.KindCommand && s.ExitCode >= 0 {
			code := s.ExitCode
			sr.ExitStatus = &code
			if s.Signal != 0 {
				sr.Signal = strp(exitcode.Name(s.Signal))
			}
		}
		if s.Err != nil {
			sr.Error = strp(describe(s.Err.Err))
			if tee.IsTimeout(s.Err) {
				sr.Error = strp("no reader opened the fifo in time")
			}
			sr.Op = strp(s.Err.Op)
			sr.BrokenPipe = s.Err.BrokenPipe()
			sr.TimedOut = tee.IsTimeout(s.Err)
			if sr.BrokenPipe {
				r.Totals.BrokenPipes++
			} else {
				r.Totals.Failed++
			}
		}
		r.Totals.Dropped += s.Dropped
		r.Sinks = append(r.Sinks, sr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

// progress draws one status line on a terminal's standard error. It reads a
// byte counter only; the data stream never passes through it.
type progress struct {
	meter tee.Meter
	w     io.Writer
	mu    *sync.Mutex
	size  uint64
	begin time.Time
	done  chan struct{}
	wg    sync.WaitGroup
	drawn bool
}

func newProgress(w io.Writer, mu *sync.Mutex, size uint64) *progress {
	return &progress{w: w, mu: mu, size: size, done: make(chan struct{})}
}

func (p *progress) start() {
	p.begin = time.Now()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(250 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.draw(false)
			}
		}
	}()
}

// stop draws the final line and ends it with a newline.
func (p *progress) stop() {
	close(p.done)
	p.wg.Wait()
	p.draw(true)
}

func (p *progress) draw(final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := progressLine(p.meter.Bytes(), time.Since(p.begin), p.size)
	fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	p.drawn = true
	if final {
		fmt.Fprint(p.w, "\n")
		p.drawn = false
	}
}

// clearLocked erases the status line so that a message starts on a clean
// line; the caller holds p.mu.
func (p *progress) clearLocked() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
}

// progressLine formats bytes so far, average rate, elapsed time and, when
// the total size is known, percentage and ETA.
func progressLine(n int64, elapsed time.Duration, size uint64) string {
	var b strings.Builder
	secs := elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(n) / secs
	}
	fmt.Fprintf(&b, "%s  %s/s  %s", humanBytes(float64(n)), humanBytes(rate), clock(elapsed))
	if size > 0 {
		pct := 100 * float64(n) / float64(size)
		fmt.Fprintf(&b, "  %3.0f%%", min(pct, 100))
		if rate > 0 && uint64(n) < size {
			eta := time.Duration(float64(size-uint64(n)) / rate * float64(time.Second))
			fmt.Fprintf(&b, "  ETA %s", clock(eta))
		}
	}
	return b.String()
}

func humanBytes(v float64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	i := 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	if i == 0 {
		return fmt.Sprintf("%.0f %s", v, units[i])
	}
	return fmt.Sprintf("%.1f %s", v, units[i])
}

func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}
