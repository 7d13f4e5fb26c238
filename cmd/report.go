package cmd

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"
)

// reportFile is where a run or pipe --report goes: stderr for "-", or a
// file opened before anything runs, so that a bad path fails first rather
// than after the work is done.
type reportFile struct {
	name string
	w    io.Writer
	f    *os.File
}

// openReport opens the --report destination; nil (and no error) when the
// flag is unset. The error is a ready exitError (125).
func openReport(c *cli.Context) (*reportFile, error) {
	p := c.String("report")
	switch p {
	case "":
		return nil, nil
	case "-":
		return &reportFile{name: p, w: c.App.ErrWriter}, nil
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, failf(c, exitSetup, "cannot open --report file "+p, err)
	}
	return &reportFile{name: p, w: f, f: f}, nil
}

// write writes the JSON record and returns the exit status and message
// lines updated for a failed write: reported, and 125 if all else went
// well. A nil reportFile writes nothing.
func (r *reportFile) write(c *cli.Context, record []byte, code int, lines []string) (int, []string) {
	if r == nil {
		return code, lines
	}
	_, err := r.w.Write(record)
	if r.f != nil {
		if cerr := r.f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		lines = append(lines, message(c, "cannot write --report file "+r.name, err))
		if code == exitOK {
			code = exitSetup
		}
	}
	return code, lines
}

// close releases the file on paths that return before write; after write
// it is a harmless second close.
func (r *reportFile) close() {
	if r != nil && r.f != nil {
		r.f.Close()
	}
}
