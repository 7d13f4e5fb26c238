package run

import (
	"bytes"
	"encoding/json"

	"github.com/pipectl/pipectl/internal/exitcode"
)

// ReportVersion is the version of the --report JSON schema. Fields are only
// ever added; a change to an existing field's meaning bumps the version.
const ReportVersion = 1

// Report is the --report JSON record of one command. The schema is
// documented in the pipectl-run man page; keep the two in step.
type Report struct {
	Version     int       `json:"version"`
	Argv        []string  `json:"argv"`
	Pid         int       `json:"pid"`
	ExitCode    *int      `json:"exit_code"`
	Signal      *string   `json:"signal"`
	TimedOut    bool      `json:"timed_out"`
	Killed      bool      `json:"killed"`
	BrokenPipe  bool      `json:"broken_pipe"`
	WallSeconds float64   `json:"wall_seconds"`
	UserSeconds float64   `json:"user_seconds"`
	SysSeconds  float64   `json:"sys_seconds"`
	MaxRSSBytes int64     `json:"max_rss_bytes"`
	Bytes       ByteCount `json:"bytes"`
	PipectlExit int       `json:"pipectl_exit"`
	Error       *string   `json:"error"`
	WriteErrors []string  `json:"write_errors"`
}

// ByteCount is the bytes the command wrote per stream; null for a stream
// that went straight to its destination without passing through pipectl.
type ByteCount struct {
	Stdout *int64 `json:"stdout"`
	Stderr *int64 `json:"stderr"`
}

// NewReport builds the report of a command; res is nil when it did not
// start (err says why), exit is the status pipectl exits with.
func NewReport(argv []string, res *Result, err error, exit int) *Report {
	r := &Report{Version: ReportVersion, Argv: argv, PipectlExit: exit, WriteErrors: []string{}}
	if r.Argv == nil {
		r.Argv = []string{}
	}
	if err != nil {
		s := err.Error()
		r.Error = &s
	}
	if res == nil {
		return r
	}
	r.Pid = res.Pid
	code := res.Status
	r.ExitCode = &code
	if res.Signal != 0 {
		s := exitcode.Name(res.Signal)
		r.Signal = &s
	}
	r.TimedOut, r.Killed, r.BrokenPipe = res.TimedOut, res.Killed, res.BrokenPipe
	r.WallSeconds = res.Wall.Seconds()
	r.UserSeconds = res.User.Seconds()
	r.SysSeconds = res.Sys.Seconds()
	r.MaxRSSBytes = res.MaxRSS
	if res.StdoutBytes >= 0 {
		n := res.StdoutBytes
		r.Bytes.Stdout = &n
	}
	if res.StderrBytes >= 0 {
		n := res.StderrBytes
		r.Bytes.Stderr = &n
	}
	for _, e := range res.WriteErrors {
		r.WriteErrors = append(r.WriteErrors, e.Error())
	}
	return r
}

// JSON renders the report as one line of JSON followed by a newline.
func (r *Report) JSON() []byte {
	return marshalLine(r)
}

// marshalLine encodes v as one line of JSON, without the HTML escaping
// (\u003e for >) that would make shell commands in argv hard to read.
func marshalLine(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return b.Bytes()
}
