package cmd

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pipectl/pipectl/internal/exitcode"
	"github.com/pipectl/pipectl/run"
	"github.com/urfave/cli/v2"
)

func pipeCommand() *cli.Command {
	examples["pipectl pipe"] = []example{
		{"pipectl pipe 'yes' 'head -n1'", "exits 0: the SIGPIPE that stops yes is a broken pipe, not a failure"},
		{"pipectl pipe 'make 2>&1' 'tee build.log'", "keep a build log and still fail when make fails (pipefail), naming the stage"},
		{"pipectl pipe --report - --status=first 'gen-data' 'sort' 'uniq -c'", "exit with the first failure, JSON per stage on stderr"},
	}
	flags := []cli.Flag{
		&cli.StringFlag{Name: "status", Value: "pipefail", Usage: "which stage's status to exit with: `RULE` pipefail (the last that failed), first (the first that failed), last (the last stage's), max (the highest)"},
		&cli.BoolFlag{Name: "strict-sigpipe", Usage: "count a stage killed by SIGPIPE as a failure (141) even when the stage after it succeeded"},
		&cli.StringFlag{Name: "report", Usage: "write a JSON report of every stage to `FILE` ('-' = stderr) when the pipeline ends"},
		&cli.StringFlag{Name: "shell", Value: "/bin/sh", Usage: "run each stage as `SHELL` -c STAGE"},
	}
	flags = append(flags, limitFlags()...)
	manSections["pipectl pipe"] = pipeManSections
	return &cli.Command{
		Name:      "pipe",
		Usage:     "run a pipeline and report every stage's exit status",
		UsageText: "pipectl pipe [OPTIONS] [--] STAGE STAGE...",
		ArgsUsage: "[--] STAGE STAGE...",
		Description: "Runs each STAGE as 'sh -c STAGE', connected stdout to stdin by OS pipes (the data\n" +
			"never passes through pipectl): the first stage reads pipectl's stdin, the last\n" +
			"writes pipectl's stdout, all share pipectl's stderr. The exit status is that of the\n" +
			"last stage that failed (bash pipefail) unless --status says otherwise. A stage\n" +
			"killed by SIGPIPE because a later stage stopped reading early, when that stage\n" +
			"succeeded, is a broken pipe, not a failure: 'pipectl pipe yes \"head -n1\"' exits 0.\n" +
			"When a stage fails, one line on stderr names it and lists every status.\n\n" +
			argsNote,
		Flags:  flags,
		Action: pipeAction,
	}
}

func pipeAction(c *cli.Context) error {
	stages := c.Args().Slice()
	if len(stages) == 0 {
		return usageError(c, "missing stages")
	}
	for i, s := range stages {
		if strings.TrimSpace(s) == "" {
			return usageError(c, "stage %d is empty", i+1)
		}
	}
	rule, err := run.ParseStatusRule(c.String("status"))
	if err != nil {
		return usageError(c, "--status: %v", err)
	}
	lim, err := limitsOf(c)
	if err != nil {
		return err
	}
	if c.IsSet("report") && c.String("report") == "" {
		return usageError(c, "--report: empty file name")
	}
	report, err := openReport(c)
	if err != nil {
		return err
	}
	defer report.close()
	res, err := run.Pipe(run.PipeConfig{
		Stages:        stages,
		Shell:         c.String("shell"),
		Limits:        lim,
		Status:        rule,
		StrictSigpipe: c.Bool("strict-sigpipe"),
	})
	var se *run.SetupError
	if errors.As(err, &se) {
		return failf(c, exitSetup, se.What, se.Err)
	} else if err != nil {
		return failf(c, exitSetup, "", err)
	}
	var lines []string
	if res.Culprit >= 0 {
		lines = append(lines, pipeSummary(c, res))
	}
	code, lines := report.write(c, run.NewPipeReport(res, c.String("status")).JSON(), res.Status, lines)
	if code == exitOK && len(lines) == 0 {
		return nil
	}
	return &exitError{Code: code, Lines: lines}
}

// pipeSummary is the one line saying which stage failed and how every
// stage ended, like bash's PIPESTATUS:
//
//	pipectl pipe: stage 2 of 3 (grep x) failed: exit status 1 (statuses: 0 1 0)
func pipeSummary(c *cli.Context, res *run.PipeResult) string {
	st := res.Stages[res.Culprit]
	var all []string
	for _, s := range res.Stages {
		v := strconv.Itoa(s.Status)
		if s.Forgiven {
			v += "(broken pipe)"
		}
		all = append(all, v)
	}
	return fmt.Sprintf("%s: stage %d of %d (%s) failed: %s (statuses: %s)", commandName(c),
		res.Culprit+1, len(res.Stages), oneLine(st.Command), howEnded(st), strings.Join(all, " "))
}

func howEnded(st run.StageResult) string {
	switch {
	case st.BrokenPipe && st.Signal != 0:
		return "broken pipe (killed by SIGPIPE)"
	case st.Signal != 0:
		return "killed by " + exitcode.Name(st.Signal)
	}
	return "exit status " + strconv.Itoa(st.Status)
}

// oneLine keeps a multi-line stage on the summary's single line.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// pipeManSections documents what the flags alone cannot say.
var pipeManSections = `# EXIT STATUS OF A PIPELINE

Each stage ends with a status as a shell reports it (128+N when killed by signal N).
A stage that died of SIGPIPE (or exited 141) wrote after the stage reading from it
had exited: it is a *broken pipe*. A broken pipe is forgiven (counts as 0) when the
stage after it succeeded or was itself forgiven, so 'yes | cat | head -n1' succeeds;
the last stage writes to pipectl's stdout, so its broken pipe always counts.
--strict-sigpipe forgives nothing. A program that ignores SIGPIPE and exits with
a status of its own after EPIPE (Python exits 1 or 120) cannot be told from any
other failure and counts as one; the report's seconds show which stage ended first.
Then --status picks the pipeline's status:

**pipefail** (default)
: the status of the last (rightmost) stage that failed, 0 if none did: bash's set -o pipefail

**first**
: the status of the first (leftmost) stage that failed

**last**
: the last stage's status, whatever the others did: plain POSIX sh

**max**
: the highest status of all stages

When a stage failed, one line on stderr names it and lists every stage's status:

    pipectl pipe: stage 2 of 3 (grep x) failed: exit status 1 (statuses: 0 1 0)

--timeout, --signal and --kill-after work as in pipectl run (124, 137), on the
pipeline's process group: every stage runs in one group. Signals INT, TERM, HUP and
QUIT sent to pipectl are passed to the group. If pipectl dies, even by SIGKILL,
every stage and every command a stage started is killed (parent-death signal on
Linux, and the guard process described in pipectl-run(1)); every stage is reaped. pipectl holds no pipe end:
the stages alone decide EOF and broken pipes.

# REPORT

--report FILE writes one line of JSON when the pipeline ends ('-' = stderr).
Schema version 1; fields are only ever added.

**version**
: 1

**status**
: the pipeline's exit status (what pipectl exits with)

**rule**
: the --status rule

**failed_stage**
: the 1-based index of the stage the status came from, or null

**timed_out**, **killed**
: the timeout expired; SIGKILL had to be sent

**wall_seconds**
: elapsed time of the pipeline

**stages**
: one object per stage: index (1-based), command, pid, status (shell-style), signal (name or null), broken_pipe, forgiven, seconds (elapsed), user_seconds, sys_seconds, max_rss_bytes

Example:

    {"version":1,"status":0,"rule":"pipefail","failed_stage":null,"timed_out":false,"killed":false,"wall_seconds":0.003,"stages":[{"index":1,"command":"yes","pid":4242,"status":141,"signal":"SIGPIPE","broken_pipe":true,"forgiven":true,"seconds":0.002,"user_seconds":0,"sys_seconds":0.001,"max_rss_bytes":1703936},{"index":2,"command":"head -n1","pid":4243,"status":0,"signal":null,"broken_pipe":false,"forgiven":false,"seconds":0.002,"user_seconds":0,"sys_seconds":0.001,"max_rss_bytes":1572864}]}
`
