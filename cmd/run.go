package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/pipectl/pipectl/internal/exitcode"
	"github.com/pipectl/pipectl/run"
	"github.com/urfave/cli/v2"
)

// optionalValue is a string flag whose value may be left out: "--timestamps"
// alone is Set("true"), "--timestamps=FORMAT" sets FORMAT. (The flag
// package treats a Value with IsBoolFlag like a bool flag.)
type optionalValue struct {
	s   string
	set bool
}

// Set records the flag's value ("true" when given without one).
func (v *optionalValue) Set(s string) error { v.s, v.set = s, true; return nil }

// String returns the value as given.
func (v *optionalValue) String() string {
	if v == nil {
		return ""
	}
	return v.s
}

// IsBoolFlag lets the flag stand alone, without a value.
func (v *optionalValue) IsBoolFlag() bool { return true }

// limitFlags are the timeout flags run and pipe share, named as in GNU timeout.
func limitFlags() []cli.Flag {
	return []cli.Flag{
		durationFlag("timeout", "stop the command after `DUR` (1.5, 30s, 2m, 1h30m; 0 = no limit): exit 124", "t"),
		&cli.StringFlag{Name: "signal", Aliases: []string{"s"}, Value: "TERM", Usage: "send `SIG` (name or number) to the command's process group when the timeout expires"},
		durationFlag("kill-after", "if the command still runs `DUR` after the timeout signal, send SIGKILL (exit 137)", "k"),
	}
}

func limitsOf(c *cli.Context) (run.Limits, error) {
	sig, err := exitcode.ParseSignal(c.String("signal"))
	if err != nil {
		return run.Limits{}, usageError(c, "--signal: %v", err)
	}
	return run.Limits{Timeout: durationOf(c, "timeout"), Signal: sig, KillAfter: durationOf(c, "kill-after")}, nil
}

// argsNote is how run and pipe treat their arguments; shown in help and man.
const argsNote = "Options come first: everything from the first argument that is not an option on\n" +
	"belongs to the command, so 'pipectl run ls -l' runs 'ls -l'. '--' ends pipectl's\n" +
	"options explicitly and is needed only when the command itself starts with '-'."

func runCommand() *cli.Command {
	examples["pipectl run"] = []example{
		{"pipectl run -- make test", "run a command transparently: same streams, same exit status"},
		{"pipectl run --output build.log --timestamps -- make", "show the build and keep a timestamped log of stdout and stderr in arrival order"},
		{"pipectl run --quiet-unless-fail -- backup.sh", "a cron job that is silent unless it fails (like chronic)"},
		{"pipectl run --timeout 10m --kill-after 30s --report - -- ./integration-tests", "stop after 10 minutes (exit 124), SIGKILL 30s later if needed; JSON report on stderr"},
		{"GITHUB_ACTIONS=true pipectl run --group 'Unit tests' -- go test ./...", "fold the output into a collapsible group in the CI log"},
	}
	flags := []cli.Flag{
		&cli.StringFlag{Name: "stdout", Usage: "also write the command's stdout to `FILE`"},
		&cli.StringFlag{Name: "stderr", Usage: "also write the command's stderr to `FILE`"},
		&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "also write stdout and stderr to `FILE`, in the order they arrive"},
		&cli.BoolFlag{Name: "append", Aliases: []string{"a"}, Usage: "append to capture files instead of truncating them"},
		&cli.BoolFlag{Name: "quiet", Aliases: []string{"q"}, Usage: "do not copy the command's output to pipectl's stdout and stderr"},
		&cli.BoolFlag{Name: "unordered", Usage: "carry stdout and stderr through two plain pipes: no limit on one write's size, but back-to-back writes to the two streams may be swapped (see STREAMS)"},
		&cli.StringFlag{Name: "stdin", Usage: "read the command's stdin from `FILE` (or FIFO) instead of pipectl's"},
		&cli.StringFlag{Name: "label", Aliases: []string{"l"}, Usage: "prefix each line with `NAME` (implies line annotation, see ANNOTATION)"},
		&cli.GenericFlag{Name: "timestamps", Value: &optionalValue{}, Usage: "prefix each line with a time: --timestamps or --timestamps=`FORMAT` (%H:%M:%S, elapsed, delta, or a Go layout)"},
		&cli.BoolFlag{Name: "quiet-unless-fail", Usage: "hold the output and show it only if the command fails, in order (like chronic)"},
		sizeFlag("max-hold", "with --quiet-unless-fail, keep at most `SIZE` of output: its head and tail (default 16MiB)"),
	}
	flags = append(flags, limitFlags()...)
	flags = append(flags,
		&cli.BoolFlag{Name: "sigpipe-ok", Usage: "a command killed by SIGPIPE counts as success (exit 0)"},
		&cli.StringFlag{Name: "report", Usage: "write a JSON report to `FILE` ('-' = stderr) when the command ends"},
		&cli.StringFlag{Name: "group", Usage: "in GitHub Actions or GitLab CI, fold the output into a collapsible section titled `TITLE`"},
	)
	manSections["pipectl run"] = runManSections
	return &cli.Command{
		Name:      "run",
		Usage:     "run one command, transparently or with its streams captured",
		UsageText: "pipectl run [OPTIONS] [--] COMMAND [ARGS...]",
		ArgsUsage: "[--] COMMAND [ARGS...]",
		Description: "Runs COMMAND directly (no shell) and is transparent by default: the command gets\n" +
			"pipectl's stdin, stdout and stderr and its exit status passes through (126 not\n" +
			"executable, 127 not found, 128+N killed by signal N). Options add capture,\n" +
			"annotation, holding, a timeout and a report; captured output still reaches the\n" +
			"terminal unless --quiet. Signals INT, TERM, HUP and QUIT sent to pipectl go to the\n" +
			"command's process group; if pipectl dies, even by SIGKILL, the command and what it\n" +
			"started are killed.\n\n" +
			argsNote,
		Flags:  flags,
		Action: runAction,
	}
}

func runAction(c *cli.Context) error {
	argv := c.Args().Slice()
	if len(argv) == 0 {
		return usageError(c, "missing command")
	}
	lim, err := limitsOf(c)
	if err != nil {
		return err
	}
	cfg := run.Config{
		Argv:            argv,
		Stdin:           c.String("stdin"),
		StdoutFile:      c.String("stdout"),
		StderrFile:      c.String("stderr"),
		OutputFile:      c.String("output"),
		Append:          c.Bool("append"),
		Quiet:           c.Bool("quiet"),
		Unordered:       c.Bool("unordered"),
		QuietUnlessFail: c.Bool("quiet-unless-fail"),
		Label:           c.String("label"),
		Limits:          lim,
		SigpipeOK:       c.Bool("sigpipe-ok"),
	}
	if c.IsSet("max-hold") {
		n := sizeOf(c, "max-hold")
		if n < 2 || n > 1<<40 {
			return usageError(c, "--max-hold: want a size from 2 bytes to 1TiB, got %q", c.Generic("max-hold"))
		}
		cfg.MaxHold = int64(n)
	}
	if v, ok := c.Generic("timestamps").(*optionalValue); ok && v.set {
		tf, err := run.ParseTimeFormat(v.s)
		if err != nil {
			return usageError(c, "--timestamps: %v", err)
		}
		cfg.Time = tf
	}
	if argv[0] == "" {
		return usageError(c, "empty command name")
	}
	seen := map[string]string{}
	for _, f := range []string{"stdout", "stderr", "output", "stdin", "report"} {
		if c.IsSet(f) && c.String(f) == "" {
			return usageError(c, "--%s: empty file name", f)
		}
		// Two flags naming one file would clobber it (or, for --stdin,
		// truncate the input before the command reads it).
		// "-" is stderr only for --report; for a capture flag it is a file.
		if p := c.String(f); p != "" && !(f == "report" && p == "-") && p != os.DevNull {
			key := filepath.Clean(p)
			if other, ok := seen[key]; ok {
				return usageError(c, "--%s and --%s name the same file %s", other, f, p)
			}
			seen[key] = f
		}
	}
	stderr := c.App.ErrWriter
	cfg.HoldCut = func(n int64) {
		fmt.Fprintf(stderr, "%s: [... %d bytes of output cut: --max-hold kept the first and last part ...]\n", commandName(c), n)
	}

	report, err := openReport(c)
	if err != nil {
		return err
	}
	defer report.close()

	start, end := groupMarkers(os.Getenv, c.String("group"), time.Now())
	if c.String("group") != "" && start != "" {
		if _, err := io.WriteString(c.App.Writer, start); err != nil {
			return writeError(c, err)
		}
		defer func() { io.WriteString(c.App.Writer, end(time.Now())) }()
	}

	res, err := run.Run(cfg)
	code, lines := runStatus(c, res, err)
	code, lines = report.write(c, run.NewReport(argv, res, err, code).JSON(), code, lines)
	if code == exitOK && len(lines) == 0 {
		return nil
	}
	return &exitError{Code: code, Lines: lines}
}

// runStatus maps what run.Run returned to pipectl's exit status and the
// messages to print.
func runStatus(c *cli.Context, res *run.Result, err error) (int, []string) {
	var se *run.StartError
	var sue *run.SetupError
	switch {
	case errors.As(err, &se):
		why := se.Err
		switch {
		case errors.Is(why, exec.ErrNotFound):
			why = errors.New("command not found")
		case se.Exec && errors.Is(why, fs.ErrNotExist):
			// The file is there: what is missing is its interpreter or loader.
			why = fmt.Errorf("cannot execute (bad interpreter or missing loader): %s", describe(why))
		}
		return se.ExitStatus(), []string{message(c, se.Name, why)}
	case errors.As(err, &sue):
		return exitSetup, []string{message(c, sue.What, sue.Err)}
	case err != nil:
		return exitSetup, []string{message(c, "", err)}
	}
	code := res.ExitStatus()
	var lines []string
	for _, we := range res.WriteErrors {
		var w *run.WriteError
		if errors.As(we, &w) {
			lines = append(lines, message(c, "write error: "+w.Dest, w.Err))
		} else {
			lines = append(lines, message(c, "", we))
		}
	}
	if code == exitOK && len(res.WriteErrors) > 0 {
		// The command succeeded but its output did not all arrive: that is
		// pipectl failing around the command.
		code = exitSetup
	}
	return code, lines
}

// runManSections documents what the flags alone cannot say.
var runManSections = `# ARGUMENTS

Options come first. Everything from the first argument that is not an option on
belongs to the command: ` + "`pipectl run ls -l`" + ` runs ` + "`ls -l`" + `, and
` + "`pipectl run grep --stdout x`" + ` passes ` + "`--stdout x`" + ` to grep. ` + "`--`" + ` ends
pipectl's options explicitly; it is needed only when the command name starts with ` + "`-`" + `.

# STREAMS

A stream that needs no processing is handed to the command as is: without options
the command sees pipectl's own terminal, pipe or file (isatty, colours and job
control behave as without pipectl). With exactly one destination and no
annotation (for example ` + "`--quiet --stdout FILE`" + `), the command writes straight to
the file. With ` + "`--quiet --output FILE`" + ` both streams share one open file, so their order
in FILE is exactly the order of the command's writes, whatever their size.

Otherwise pipectl copies the streams that need it, byte for byte, to the terminal
and the capture files, draining each independently, so a command that floods
stderr while stdout is read never deadlocks. A single stream is read from a pipe
(1 MiB buffer).

ORDERING. When both streams pass through pipectl (--output, annotation,
--quiet-unless-fail, or a capture of each), two pipes could not keep their relative
order: they carry no common clock, and with a command alternating lines between
stdout and stderr back to back most lines came out swapped (measured: 2900 to
3900 of 4000 positions wrong). So on Linux the command gets a SOCK_SEQPACKET socket
per stream instead: each write() is one message, stamped by the kernel when sent
(SO_TIMESTAMPNS), and pipectl merges the two by those stamps. Guarantee: the order
of the command's write() calls is kept exactly, across both streams, for a command
(or its threads and children) writing one stream at a time; same test, 0 of 4000
wrong in every run. The cost: one write() is one message, so a single write larger
than the socket buffer fails with EMSGSIZE or ENOBUFS: 2 x net.core.wmem_max (416
KiB with default sysctls), and never more than about 4 MiB, since the kernel
allocates each message in one piece.
Line-sized and block-sized (128 KiB) writes are unaffected; a program that writes
a multi-megabyte buffer in one call (a big print in Python, say) needs --unordered. --unordered uses two pipes instead (no size limit, order only
approximate), and --quiet --output FILE shares one file between both streams
(exact order, no limit). On macOS both streams use pipes.

If pipectl's own stdout or stderr is a pipe whose reader goes away, the command
meets the broken pipe on its next write to that stream, as in a shell pipeline:
SIGPIPE (141), or EPIPE if it ignores SIGPIPE. Its captured output stops there too. A capture file that cannot be
written (ENOSPC, EIO) is reported and skipped; the other destinations continue.

# ANNOTATION

With --label or --timestamps, output is written line by line, as annotate-output
does:

    [TIME ][LABEL ]O: a line the command wrote to stdout
    [TIME ][LABEL ]E: a line the command wrote to stderr

stdout lines still go to stdout and stderr lines to stderr; the O:/E: marker tells
them apart once merged (--output, 2>&1). Capture files get the annotated lines too.
A partial line is held until its newline (at most 64 KiB: a longer line is split);
a last line without a newline is completed with one. TIME is the arrival of the
line's first byte, formatted by FORMAT:

**%H:%M:%S** (default)
: wall-clock time, strftime directives %Y %m %d %H %M %S %y %b %a %e %j %p %F %T %s %z %Z %%, and ts(1)'s %.S %.s %.T with microseconds

**elapsed**
: seconds since the command started, +1.234s (like ts -s)

**delta**
: seconds since the previous line, +0.012s (like ts -i)

**a Go layout**
: any FORMAT without %, such as 15:04:05.000 or 2006-01-02T15:04:05Z07:00

# HOLDING OUTPUT

--quiet-unless-fail holds the output (stdout and stderr, in arrival order) and,
if the command fails (non-zero exit status, signal or timeout), writes it to
stdout and stderr as the command did. Capture files are written as usual. Memory
is bounded by --max-hold SIZE (default 16MiB): the first half of SIZE keeps the
head, the second half the most recent output; between them pipectl writes one
line on stderr saying how many bytes were cut.

# TIMEOUT

As GNU timeout(1): when --timeout DUR expires, SIG (--signal, default TERM) is sent
to the command's process group, followed by SIGCONT; with --kill-after DUR2, SIGKILL
follows DUR2 later if the command still runs. The exit status is then 124, or 137
when the command had to be killed by SIGKILL (--signal KILL, or --kill-after). A DUR
is seconds (fractions allowed) with an optional s, m, h, d suffix, or a Go duration
(1m30s, 250ms); 0 means no limit. When the command ends in time but something it
started keeps its output open, pipectl waits for that output until the timeout,
which then stops the leftovers; the status stays the command's own, as GNU timeout
(which waits only for its child) would report it.

# SIGNALS AND PROCESSES

The command runs in its own process group. SIGINT, SIGTERM, SIGHUP and SIGQUIT sent
to pipectl are passed to that group once (so Ctrl-C reaches the command exactly
once); pipectl then exits with the command's status (130 for SIGINT). If pipectl
is killed, even by SIGKILL, the command and everything it started in its process
group are killed: on Linux the command has a parent-death signal, and a small
guard process (sh) in the group, reading a pipe only pipectl writes to, sends
SIGKILL to the group when that pipe closes without pipectl saying "done" (this
costs about 1 ms per command). pipectl always reaps the command: no zombies. The command inherits no file
descriptor that pipectl opened (its pipes, capture and report files).
When pipectl is the terminal's foreground job, it hands the terminal's foreground
to the command's process group while the command runs (as a shell does for a job)
and takes it back afterwards, so editors, prompts and 'read' work as without
pipectl, and Ctrl-C goes to the command directly. (GNU timeout needs --foreground
for that, and then cannot time out the command's children; pipectl can.) Job
control keeps working: when Ctrl-Z stops the command, pipectl takes the terminal
back and stops its own job, so the shell reports it stopped; fg gives the terminal
to the command again and continues it (Linux; on macOS Ctrl-Z stops the command
only).

# REPORT

--report FILE writes one line of JSON when the command ends ('-' writes it to
stderr); FILE is created before the command starts. Schema version 1: fields are
only ever added.

**version**
: 1

**argv**
: the command and its arguments, as given

**pid**
: the command's process id (0 if it did not start)

**exit_code**
: the command's exit status as a shell reports it: its exit code, or 128+N when killed by signal N; null if it did not start

**signal**
: the name of the signal that killed the command ("SIGTERM"), or null

**timed_out**
: true if --timeout expired

**killed**
: true if SIGKILL was sent because of the timeout

**broken_pipe**
: true if the command died of SIGPIPE or pipectl's stdout/stderr reader went away

**wall_seconds**, **user_seconds**, **sys_seconds**
: elapsed time and CPU time of the command (and its reaped children)

**max_rss_bytes**
: peak resident set size of the command

**bytes**
: {"stdout": N, "stderr": N}: bytes the command wrote per stream; null for a stream pipectl could not count: one handed to the command as is (its terminal, a pipe) or sharing one --output file with the other

**pipectl_exit**
: the status pipectl exits with

**error**
: why the command did not run or pipectl failed (a message), or null

**write_errors**
: messages of failed writes to capture files or pipectl's own streams ([] if none)

Example:

    {"version":1,"argv":["false"],"pid":4242,"exit_code":1,"signal":null,"timed_out":false,"killed":false,"broken_pipe":false,"wall_seconds":0.001,"user_seconds":0,"sys_seconds":0.001,"max_rss_bytes":1523712,"bytes":{"stdout":null,"stderr":null},"pipectl_exit":1,"error":null,"write_errors":[]}

# CI GROUPS

--group TITLE wraps the command's output in a collapsible section when
GITHUB_ACTIONS=true (::group::TITLE ... ::endgroup::) or GITLAB_CI=true
(section_start/section_end markers), written to stdout. Elsewhere it does nothing.
`
