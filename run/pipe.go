package run

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/pipectl/pipectl/internal/exitcode"
)

// StatusRule says which stage's status a pipeline exits with.
type StatusRule int

// The pipeline status rules of --status.
const (
	// Pipefail: the status of the last (rightmost) stage that failed, as
	// bash's set -o pipefail; 0 if none failed.
	Pipefail StatusRule = iota
	// First: the status of the first (leftmost) stage that failed.
	First
	// Last: the last stage's status whatever the others did (POSIX sh).
	Last
	// Max: the highest status of all stages.
	Max
)

// ParseStatusRule parses a --status value: pipefail, first, last or max.
func ParseStatusRule(s string) (StatusRule, error) {
	switch s {
	case "pipefail", "":
		return Pipefail, nil
	case "first":
		return First, nil
	case "last":
		return Last, nil
	case "max":
		return Max, nil
	}
	return 0, fmt.Errorf("invalid status rule %q: want pipefail, first, last or max", s)
}

// PipeConfig describes a pipeline of shell command lines.
type PipeConfig struct {
	// Stages are shell command lines, each run as Shell -c STAGE.
	Stages []string
	// Shell runs each stage ("/bin/sh" when empty).
	Shell string
	Limits
	Status StatusRule
	// StrictSigpipe counts a stage killed by SIGPIPE as a failure even when
	// the stage after it succeeded.
	StrictSigpipe bool
	// NoGuard leaves out the guard process (see startGuard); for tests
	// that prove the guard is needed.
	NoGuard bool
	// In, Out and Err are pipectl's streams (os.Stdin, os.Stdout and
	// os.Stderr when nil): the first stage's stdin, the last stage's
	// stdout, and every stage's stderr.
	In, Out, Err *os.File
}

// StageResult is how one stage ended.
type StageResult struct {
	Command string
	Pid     int
	// Status is the stage's exit status as a shell reports it (128+N for
	// signal N).
	Status int
	Signal syscall.Signal
	// BrokenPipe: the stage died of SIGPIPE (or exited 141): it wrote
	// after its reader had gone.
	BrokenPipe bool
	// Forgiven: a broken pipe caused by a later stage that finished early
	// and succeeded; it does not count as a failure.
	Forgiven        bool
	Wall, User, Sys time.Duration
	MaxRSS          int64
}

// Effective is the status the stage counts with in the pipeline's status
// (0 for a forgiven broken pipe).
func (s *StageResult) Effective() int {
	if s.Forgiven {
		return 0
	}
	return s.Status
}

// PipeResult is how a pipeline ended.
type PipeResult struct {
	Stages   []StageResult
	TimedOut bool
	Killed   bool
	Wall     time.Duration
	// Status is the pipeline's exit status under the rule (124/137 after a
	// timeout, as in Run).
	Status int
	// Culprit is the index of the stage whose status is Status, or -1 when
	// Status is 0 or comes from the timeout.
	Culprit int
}

// Pipe runs the stages connected stdout to stdin by OS pipes (the data
// never passes through pipectl), all in one process group, and waits for
// every one. A *SetupError means nothing ran.
func Pipe(cfg PipeConfig) (*PipeResult, error) {
	if len(cfg.Stages) == 0 {
		return nil, &SetupError{What: "pipeline", Err: fmt.Errorf("no stages")}
	}
	if cfg.Shell == "" {
		cfg.Shell = "/bin/sh"
	}
	shell, err := lookPath(cfg.Shell)
	if err != nil {
		return nil, &SetupError{What: "cannot find shell " + cfg.Shell, Err: errors.Unwrap(err)}
	}
	cfg.Shell = shell
	if cfg.In == nil {
		cfg.In = os.Stdin
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	if cfg.Err == nil {
		cfg.Err = os.Stderr
	}
	n := len(cfg.Stages)
	// readers[i] is stage i's stdin (i > 0), writers[i] stage i's stdout (i < n-1).
	readers := make([]*os.File, n)
	writers := make([]*os.File, n)
	closeAll := func() {
		for i := range n {
			if readers[i] != nil {
				readers[i].Close()
				readers[i] = nil
			}
			if writers[i] != nil {
				writers[i].Close()
				writers[i] = nil
			}
		}
	}
	defer closeAll()
	for i := 1; i < n; i++ {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, &SetupError{What: fmt.Sprintf("cannot create a pipe for stage %d", i+1), Err: err}
		}
		growPipe(w)
		readers[i], writers[i-1] = r, w
	}
	sup := newSupervisor()
	// No stage is reaped before all have started: the first stage's pid is
	// the group id, and must stay allocated while the others join.
	release := make(chan struct{})
	procs := make([]*proc, 0, n)
	// The guard leads the group and is running before any stage starts,
	// so that nothing a stage starts can outlive pipectl, however early
	// pipectl dies.
	// The guard script is sh syntax, whatever --shell runs the stages.
	guard := startGuard("/bin/sh", cfg.NoGuard)
	pgid := guard.pgid()
	tty, closeTTY := foregroundTTY(cfg.In, cfg.Out, cfg.Err)
	defer closeTTY()
	follow := newStopFollower(tty)
	start := time.Now()
	for i, stage := range cfg.Stages {
		stdin, stdout := cfg.In, cfg.Out
		if i > 0 {
			stdin = readers[i]
		}
		if i < n-1 {
			stdout = writers[i]
		}
		cmd := &exec.Cmd{
			Path:        cfg.Shell,
			Args:        []string{cfg.Shell, "-c", stage},
			Stdin:       stdin,
			Stdout:      stdout,
			Stderr:      cfg.Err,
			SysProcAttr: sysProcAttr(pgid),
		}
		if i == 0 {
			// The first stage puts the group (the guard's, or a new one it
			// leads) in the terminal's foreground.
			inForeground(cmd.SysProcAttr, tty)
		}
		p, err := spawn(cmd, release)
		if err != nil {
			// Stop what started, with whatever it started; the pipes close
			// on return.
			if pgid != 0 {
				_ = syscall.Kill(-pgid, syscall.SIGKILL)
			}
			for _, q := range procs {
				_ = syscall.Kill(q.cmd.Process.Pid, syscall.SIGKILL)
			}
			close(release)
			for _, q := range procs {
				<-q.done
			}
			follow.stop()
			if len(procs) > 0 {
				reclaimTTY(tty)
			}
			guard.stop()
			sup.finish()
			return nil, &SetupError{What: fmt.Sprintf("cannot start stage %d (%s)", i+1, stage), Err: plainErr(err)}
		}
		if pgid == 0 {
			pgid = cmd.Process.Pid
		}
		procs = append(procs, p)
	}
	// pipectl keeps no pipe end: EOF and EPIPE must depend on the stages only.
	closeAll()
	sup.watch(pgid, cfg.Limits)
	close(release)
	pids := make([]int, len(procs))
	for i, p := range procs {
		pids[i] = p.cmd.Process.Pid
	}
	follow.start(pgid, pids)
	for _, p := range procs {
		<-p.done
	}
	follow.stop()
	reclaimTTY(tty)
	guard.stop()
	timedOut, killed := sup.finish()

	res := &PipeResult{TimedOut: timedOut, Killed: killed, Wall: time.Since(start), Culprit: -1}
	for i, p := range procs {
		st := StageResult{Command: cfg.Stages[i], Pid: p.cmd.Process.Pid, Wall: p.wall}
		st.Status, st.Signal = exitcode.Of(p.state)
		st.User, st.Sys, st.MaxRSS = p.usage()
		st.BrokenPipe = st.Status == StatusSIGPIPE
		res.Stages = append(res.Stages, st)
	}
	classify(res.Stages, cfg.StrictSigpipe)
	res.Status, res.Culprit = pipeStatus(res.Stages, cfg.Status)
	if timedOut {
		res.Culprit = -1
		res.Status = StatusTimeout
		for _, st := range res.Stages {
			if st.Signal == syscall.SIGKILL {
				res.Status = exitcode.SignalBase + int(syscall.SIGKILL)
			}
		}
	}
	return res, nil
}

// classify marks forgiven broken pipes: a stage that died of SIGPIPE
// because the next stage stopped reading, when that next stage succeeded
// (or was itself a forgiven broken pipe: yes | cat | head -1). The last
// stage writes to pipectl's stdout: its broken pipe is never forgiven.
func classify(stages []StageResult, strict bool) {
	if strict {
		return
	}
	for i := len(stages) - 2; i >= 0; i-- {
		next := stages[i+1]
		stages[i].Forgiven = stages[i].BrokenPipe && (next.Status == 0 || next.Forgiven)
	}
}

// pipeStatus applies rule to the stages' effective statuses and returns the
// status and the index of the stage it came from (-1 for 0).
func pipeStatus(stages []StageResult, rule StatusRule) (int, int) {
	status, culprit := 0, -1
	switch rule {
	case Last:
		i := len(stages) - 1
		if s := stages[i].Effective(); s != 0 {
			return s, i
		}
	case First:
		for i := range stages {
			if s := stages[i].Effective(); s != 0 {
				return s, i
			}
		}
	case Max:
		for i := range stages {
			if s := stages[i].Effective(); s > status {
				status, culprit = s, i
			}
		}
	default:
		for i := range stages {
			if s := stages[i].Effective(); s != 0 {
				status, culprit = s, i
			}
		}
	}
	return status, culprit
}

// StageReport is one stage in the pipe --report JSON.
type StageReport struct {
	Index       int     `json:"index"`
	Command     string  `json:"command"`
	Pid         int     `json:"pid"`
	Status      int     `json:"status"`
	Signal      *string `json:"signal"`
	BrokenPipe  bool    `json:"broken_pipe"`
	Forgiven    bool    `json:"forgiven"`
	Seconds     float64 `json:"seconds"`
	UserSeconds float64 `json:"user_seconds"`
	SysSeconds  float64 `json:"sys_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
}

// PipeReport is the pipe --report JSON record (schema version ReportVersion).
type PipeReport struct {
	Version     int           `json:"version"`
	Status      int           `json:"status"`
	Rule        string        `json:"rule"`
	FailedStage *int          `json:"failed_stage"`
	TimedOut    bool          `json:"timed_out"`
	Killed      bool          `json:"killed"`
	WallSeconds float64       `json:"wall_seconds"`
	Stages      []StageReport `json:"stages"`
}

// NewPipeReport builds the report of a finished pipeline.
func NewPipeReport(res *PipeResult, rule string) *PipeReport {
	r := &PipeReport{Version: ReportVersion, Status: res.Status, Rule: rule, TimedOut: res.TimedOut,
		Killed: res.Killed, WallSeconds: res.Wall.Seconds(), Stages: []StageReport{}}
	if res.Culprit >= 0 {
		i := res.Culprit + 1
		r.FailedStage = &i
	}
	for i, st := range res.Stages {
		sr := StageReport{Index: i + 1, Command: st.Command, Pid: st.Pid, Status: st.Status,
			BrokenPipe: st.BrokenPipe, Forgiven: st.Forgiven, Seconds: st.Wall.Seconds(),
			UserSeconds: st.User.Seconds(), SysSeconds: st.Sys.Seconds(), MaxRSSBytes: st.MaxRSS}
		if st.Signal != 0 {
			s := exitcode.Name(st.Signal)
			sr.Signal = &s
		}
		r.Stages = append(r.Stages, sr)
	}
	return r
}

// JSON renders the report as one line of JSON followed by a newline.
func (r *PipeReport) JSON() []byte { return marshalLine(r) }

// guardScript kills the whole process group when its stdin, a pipe whose
// only writer is pipectl, ends: if pipectl dies, even by SIGKILL, the read
// ends at EOF and every process of the group dies. ("done" is accepted as
// a release too, though stop simply kills the guard.)
// The parent-death signal alone would only reach the stage shells, not the
// commands they started.
// It ignores the signals meant for the command (Ctrl-C, a timeout's TERM),
// so that it outlives them: it is pipectl that ends it.
const guardScript = `trap '' INT QUIT HUP TERM TSTP; read x; [ "$x" = done ] || kill -s KILL 0`

// guard is the helper process of startGuard; a zero guard does nothing.
type guard struct {
	cmd *exec.Cmd
	w   *os.File
}

// startGuard starts the guard as the leader of a new process group, which
// the commands then join (guard.pgid). Starting it first leaves no moment
// in which a command runs unguarded. It is best effort: if it cannot
// start, the commands run without it, in a group of their own.
func startGuard(shell string, disabled bool) guard {
	if disabled {
		return guard{}
	}
	r, w, err := os.Pipe()
	if err != nil {
		return guard{}
	}
	defer r.Close()
	cmd := &exec.Cmd{
		Path: shell,
		Args: []string{shell, "-c", guardScript},
		// No parent-death signal: the guard must outlive pipectl to act.
		SysProcAttr: &syscall.SysProcAttr{Setpgid: true},
		Stdin:       r,
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return guard{}
	}
	return guard{cmd: cmd, w: w}
}

// pgid is the process group the guard leads, for the commands to join, or
// 0 (a new group of their own) when there is no guard.
func (g guard) pgid() int {
	if g.cmd == nil {
		return 0
	}
	return g.cmd.Process.Pid
}

// stop ends the guard once every process it guards has ended, and reaps
// it. SIGKILL ends it at once (waiting for the shell to read "done" would
// add a scheduling round trip to every command); the pipe is closed only
// after it is gone, so it never sees EOF.
func (g guard) stop() {
	if g.cmd == nil {
		return
	}
	_ = g.cmd.Process.Kill()
	_ = g.cmd.Wait()
	g.w.Close()
}
