package cmd

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit statuses shared by every subcommand. They follow the wrapper
// conventions of GNU timeout/env/nohup so that a script can tell pipectl's
// own failures from its child's; `pipectl explain` describes each one.
const (
	exitOK            = 0
	exitFailure       = 1
	exitUsage         = 2
	exitTimeout       = 124
	exitSetup         = 125
	exitNotExecutable = 126
	exitNotFound      = 127
	exitSignalBase    = 128
	exitBrokenPipe    = exitSignalBase + int(syscall.SIGPIPE)
)

// exitError ends pipectl with Code. Lines, if any, are complete messages
// (already prefixed with the command name) printed on stderr on the way out;
// an exitError without lines means the messages were printed already.
type exitError struct {
	Code  int
	Lines []string
}

func (e *exitError) Error() string {
	if len(e.Lines) == 0 {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return strings.Join(e.Lines, "\n")
}

// commandName is the name errors of this command start with, such as
// "pipectl fifo make".
func commandName(c *cli.Context) string {
	if c == nil || c.Command == nil || c.Command.HelpName == "" {
		return "pipectl"
	}
	return c.Command.HelpName
}

// usageError is a bad invocation: exit 2 with a pointer to --help.
func usageError(c *cli.Context, format string, args ...any) error {
	name := commandName(c)
	msg := fmt.Sprintf(format, args...)
	return &exitError{Code: exitUsage, Lines: []string{
		fmt.Sprintf("%s: %s (see '%s --help')", name, msg, name),
	}}
}

// failf is a failure of the operation itself, in the house format
// "pipectl <command>: <what>: <why>".
func failf(c *cli.Context, code int, what string, why error) error {
	return &exitError{Code: code, Lines: []string{message(c, what, why)}}
}

// message formats one error line; what is usually the path or command.
func message(c *cli.Context, what string, why error) string {
	if what == "" {
		return fmt.Sprintf("%s: %s", commandName(c), describe(why))
	}
	return fmt.Sprintf("%s: %s: %s", commandName(c), what, describe(why))
}

// describe turns an error into the lowercase "why" part of a message,
// dropping the op/path decoration of *os.PathError and friends, which the
// caller already names.
func describe(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

// onUsageError makes flag parsing errors exit 2 with a one-line message on
// stderr instead of urfave/cli's default of help text on stdout and exit 1.
func onUsageError(c *cli.Context, err error, _ bool) error {
	msg := err.Error()
	msg = strings.Replace(msg, "flag provided but not defined: ", "unknown flag ", 1)
	return usageError(c, "%s", msg)
}

// exitStatus prints what err has to say on stderr and returns the process
// exit status. It is the one place where errors become exit codes.
func exitStatus(stderr io.Writer, err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		for _, line := range ee.Lines {
			fmt.Fprintln(stderr, line)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "pipectl: %s\n", describe(err))
	return exitFailure
}

// writeError maps a failed write to pipectl's own stdout: a reader that went
// away ends pipectl quietly with 141, as GNU tools die of SIGPIPE; anything
// else (ENOSPC on /dev/full, EIO) is reported and exits 1.
func writeError(c *cli.Context, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, syscall.EPIPE) {
		return &exitError{Code: exitBrokenPipe}
	}
	return failf(c, exitFailure, "write error", err)
}
