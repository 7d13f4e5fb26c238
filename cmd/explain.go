package cmd

import (
	"fmt"
	"strconv"
	"syscall"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func explainCommand() *cli.Command {
	examples["pipectl explain"] = []example{
		{"pipectl explain 141", "141: killed by SIGPIPE (13): ..."},
		{`pipectl pipe 'make' 'tee build.log' || pipectl explain $?`, "say why a pipeline failed"},
	}
	return &cli.Command{
		Name:      "explain",
		Usage:     "say what an exit status means",
		ArgsUsage: "CODE...",
		Description: "Prints what each exit status CODE (0-255) means in plain words, as pipectl and\n" +
			"the shell use them: pipectl's own codes (1, 2, 124-127), signals (128+N), and 141,\n" +
			"the broken pipe.",
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError(c, "missing exit status")
			}
			for _, arg := range c.Args().Slice() {
				code, err := strconv.Atoi(arg)
				if err != nil || code < 0 || code > 255 {
					return usageError(c, "invalid exit status %q: want a number from 0 to 255", arg)
				}
				if _, err := fmt.Fprintf(c.App.Writer, "%d: %s\n", code, explainStatus(code)); err != nil {
					return writeError(c, err)
				}
			}
			return nil
		},
	}
}

// signalPhrases says, for the signals scripts meet most, who usually sends
// them; other signals get the system's description.
var signalPhrases = map[syscall.Signal]string{
	syscall.SIGHUP:  "the terminal or session went away (hangup)",
	syscall.SIGINT:  "interrupted, usually Ctrl-C",
	syscall.SIGQUIT: "quit, usually Ctrl-\\ (may dump core)",
	syscall.SIGKILL: "killed outright: kill -9, timeout --kill-after, or the out-of-memory killer",
	syscall.SIGSEGV: "invalid memory access (a crash)",
	syscall.SIGABRT: "aborted itself (assertion or panic)",
	syscall.SIGPIPE: "the process wrote to a pipe whose reader had exited",
	syscall.SIGTERM: "asked to terminate: kill, timeout, or a service manager stopping it",
}

// explainStatus describes one exit status in plain words.
func explainStatus(code int) string {
	switch code {
	case exitOK:
		return "success"
	case exitFailure:
		return "failure: the operation failed (pipectl: a fifo action, a write error under an exit policy, a failed sink command), or a command's own general error"
	case exitUsage:
		return "usage error: unknown flag, bad value or missing argument (pipectl, and most tools by convention)"
	case exitTimeout:
		return "timed out: a --timeout expired and the command was stopped (GNU timeout convention)"
	case exitSetup:
		return "pipectl itself failed around the command (e.g. could not create a pipe or open a capture file)"
	case exitNotExecutable:
		return "the command was found but could not be executed (permission denied, not a program)"
	case exitNotFound:
		return "the command was not found"
	}
	if n := code - exitSignalBase; n > 0 && n < 65 {
		sig := syscall.Signal(n)
		name := unix.SignalName(sig)
		if name == "" {
			name = "signal " + strconv.Itoa(n)
		}
		why, ok := signalPhrases[sig]
		if !ok {
			why = sig.String()
		}
		s := fmt.Sprintf("killed by %s (%d): %s", name, n, why)
		if sig == syscall.SIGPIPE {
			s += "; pipectl also exits 141 when its own write hits a broken pipe"
		}
		return s
	}
	return "the command's own exit status, passed through unchanged; see its documentation"
}
