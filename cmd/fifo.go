package cmd

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"

	"github.com/pipectl/pipectl/fifo"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

func fifoCommand() *cli.Command {
	examples["pipectl fifo"] = []example{
		{`f=$(pipectl fifo make --temp) && trap 'pipectl fifo rm "$f"' EXIT`, "a private FIFO for this script, removed with its directory on exit"},
	}
	manSections["pipectl fifo"] = fifoManSection
	return &cli.Command{
		Name:  "fifo",
		Usage: "create, remove, inspect, read and write named pipes",
		Description: "Named pipes without the traps: make them with a mode or in a private temp directory,\n" +
			"remove only FIFOs (never a file a typo points at), see who holds one open, and read or\n" +
			"write one with a timeout instead of hanging forever for the other end.",
		Subcommands: []*cli.Command{
			fifoMakeCommand(),
			fifoRmCommand(),
			fifoStatCommand(),
			fifoReadCommand(),
			fifoWriteCommand(),
		},
	}
}

const fifoManSection = `# FIFO RULES

**make** creates each PATH with mode 0666 less the umask, or exactly MODE with **-m**
(octal, or symbolic as in chmod(1): a clause without u/g/o/a honours the umask, as in
mkfifo(1)). An existing FIFO is an error unless **--exist-ok**; an existing file of any
other type is always an error and is left alone. **--temp** creates a directory named
pipectl-fifo-XXXXXX (mode 0700) under **--dir** or $TMPDIR and a FIFO (mode 0600,
named NAME or "fifo") inside it, and prints the FIFO's path.

**rm** removes FIFOs only. A regular file, directory, symlink (even one that points at a
FIFO) or device is refused and left untouched; symlinks are never followed. When the
FIFO was made by **make --temp** and its directory is now empty, the directory is
removed too.

**stat** prints the type, mode, owner, the processes holding the FIFO open for reading
and for writing (PID, command name and descriptor, from /proc; other users' processes
are visible only to root; not available on macOS), and the bytes written but not yet
read. With **--json** it prints one JSON object per PATH, one per line, with the stable
fields path, type, mode, uid, gid, owner, group, holders_known, readers and writers
(arrays of {pid, command, fd}) and bytes_waiting (null when it cannot be measured
without disturbing the FIFO: when only writers hold it open).

**read** waits for a writer (at most **--timeout**, then exit 124), copies everything to
stdout until the last writer closes, and exits 0. With **--keep-open** pipectl holds a
write end itself, so writers may come and go and none of their data is lost to an early
EOF; it then reads until it is killed or its stdout goes away. **write** waits for a
reader (at most **--timeout**, exit 124) and copies stdin to the FIFO; a reader that goes
away ends it with exit 141. The timeout bounds only the wait for the other end, not the
copy. On a timeout pipectl briefly opens the other end itself to release its own
blocked open(2); another process blocked on the same FIFO at that instant is released
too.

With several PATHs, each is attempted, each failure is reported on its own line, and
the exit status is 1 if any failed.
`

func fifoMakeCommand() *cli.Command {
	examples["pipectl fifo make"] = []example{
		{"pipectl fifo make -m 600 /run/myjob/in", "create a FIFO only its owner can use"},
		{"pipectl fifo make -p --exist-ok work/queue", "create parents as needed; an existing FIFO is fine"},
		{"pipectl fifo make --temp --dir /dev/shm progress", "print the path of a new FIFO in a private directory"},
	}
	return &cli.Command{
		Name:      "make",
		Usage:     "create named pipes (mkfifo)",
		ArgsUsage: "PATH... | --temp [NAME]",
		UsageText: "pipectl fifo make [-m MODE] [-p] [--exist-ok] PATH...\npipectl fifo make --temp [--dir DIR] [-m MODE] [NAME]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "mode", Aliases: []string{"m"}, Usage: "permission `MODE`, octal (600) or symbolic (u=rw,go=), exact rather than umask'ed"},
			&cli.BoolFlag{Name: "parents", Aliases: []string{"p"}, Usage: "create missing parent directories"},
			&cli.BoolFlag{Name: "exist-ok", Usage: "an existing FIFO at PATH is not an error"},
			&cli.BoolFlag{Name: "temp", Usage: "create the FIFO in a new private directory and print its path"},
			&cli.StringFlag{Name: "dir", Usage: "with --temp: create the private directory under `DIR` (default $TMPDIR or /tmp)"},
		},
		Action: fifoMake,
	}
}

func fifoMake(c *cli.Context) error {
	var opts fifo.MakeOptions
	if c.IsSet("mode") {
		umask := unix.Umask(0)
		unix.Umask(umask)
		m, err := fifo.ParseMode(c.String("mode"), os.FileMode(umask))
		if err != nil {
			return usageError(c, "%v", err)
		}
		opts.Mode, opts.ModeSet = m, true
	}
	opts.Parents, opts.ExistOK = c.Bool("parents"), c.Bool("exist-ok")

	if c.Bool("temp") {
		if c.NArg() > 1 {
			return usageError(c, "--temp takes at most one NAME, got %d", c.NArg())
		}
		if opts.Parents || opts.ExistOK {
			return usageError(c, "--temp cannot be combined with --parents or --exist-ok")
		}
		path, err := fifo.MakeTemp(c.String("dir"), c.Args().First(), opts)
		if err != nil {
			return failf(c, exitFailure, errPath(err, c.String("dir")), fifoWhy(c, err))
		}
		_, err = fmt.Fprintln(c.App.Writer, path)
		return writeError(c, err)
	}
	if c.IsSet("dir") {
		return usageError(c, "--dir only applies with --temp")
	}
	if c.NArg() == 0 {
		return usageError(c, "missing path")
	}
	return eachPath(c, func(path string) error { return fifo.Make(path, opts) })
}

func fifoRmCommand() *cli.Command {
	examples["pipectl fifo rm"] = []example{
		{`pipectl fifo rm "$f"`, "remove a FIFO (and the private directory --temp made for it)"},
		{"pipectl fifo rm -f work/queue", "remove it if it is there; refuse if it is not a FIFO"},
	}
	return &cli.Command{
		Name:      "rm",
		Usage:     "remove named pipes, and nothing else",
		ArgsUsage: "PATH...",
		UsageText: "pipectl fifo rm [-f] PATH...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "force", Aliases: []string{"f"}, Usage: "a missing PATH is not an error"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 && !c.Bool("force") {
				return usageError(c, "missing path")
			}
			force := c.Bool("force")
			return eachPath(c, func(path string) error { return fifo.Remove(path, force) })
		},
	}
}

func fifoStatCommand() *cli.Command {
	examples["pipectl fifo stat"] = []example{
		{"pipectl fifo stat /run/myjob/in", "who reads and writes it, and how many bytes are waiting"},
		{"pipectl fifo stat --json f | jq '.readers | length'", "count its readers"},
	}
	return &cli.Command{
		Name:      "stat",
		Usage:     "show a FIFO's mode, owner, readers, writers and bytes waiting",
		ArgsUsage: "PATH...",
		UsageText: "pipectl fifo stat [--json] PATH...",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print one JSON object per PATH, one per line"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return usageError(c, "missing path")
			}
			asJSON := c.Bool("json")
			var out error
			err := eachPath(c, func(path string) error {
				info, err := fifo.Stat(path)
				if err != nil {
					return err
				}
				if out == nil {
					out = printFIFOInfo(c, info, asJSON)
				}
				return nil
			})
			if out != nil {
				return writeError(c, out)
			}
			return err
		},
	}
}

func printFIFOInfo(c *cli.Context, info *fifo.Info, asJSON bool) error {
	w := c.App.Writer
	if asJSON {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	holders := func(hs []fifo.Holder) string {
		if !info.HoldersKnown {
			return "unknown (no /proc on this system)"
		}
		if len(hs) == 0 {
			return "none"
		}
		var parts []string
		for _, h := range hs {
			parts = append(parts, fmt.Sprintf("%d (%s, fd %d)", h.PID, h.Command, h.FD))
		}
		return strings.Join(parts, ", ")
	}
	waiting := "unknown"
	if info.BytesWaiting != nil {
		waiting = fmt.Sprint(*info.BytesWaiting)
	}
	_, err := fmt.Fprintf(w, "%s: fifo, mode %s, owner %s:%s\n  readers: %s\n  writers: %s\n  bytes waiting: %s\n",
		info.Path, info.Mode, info.Owner, info.Group, holders(info.Readers), holders(info.Writers), waiting)
	return err
}

func fifoReadCommand() *cli.Command {
	examples["pipectl fifo read"] = []example{
		{"pipectl fifo read --timeout 30 /run/myjob/out > result", "wait at most 30s for a writer, then copy its data"},
		{"pipectl fifo read --keep-open log.fifo | tee -a all.log", "collect from any number of writers, one after another"},
	}
	return &cli.Command{
		Name:      "read",
		Usage:     "copy a FIFO to stdout",
		ArgsUsage: "PATH",
		UsageText: "pipectl fifo read [--timeout DUR] [--keep-open] PATH",
		Flags: []cli.Flag{
			durationFlag("timeout", "wait at most `DUR` for a writer (exit 124); 0 waits forever"),
			&cli.BoolFlag{Name: "keep-open", Usage: "keep reading across writers: a writer closing is never EOF"},
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(c, "want exactly one PATH, got %d", c.NArg())
			}
			path := c.Args().First()
			_, err := fifo.Read(path, c.App.Writer, fifo.ReadOptions{
				Timeout:  durationOf(c, "timeout"),
				KeepOpen: c.Bool("keep-open"),
			})
			return fifoCopyError(c, path, err)
		},
	}
}

func fifoWriteCommand() *cli.Command {
	examples["pipectl fifo write"] = []example{
		{"make 2>&1 | pipectl fifo write --timeout 10 /run/myjob/in", "feed a FIFO, giving up if no reader comes within 10s"},
	}
	return &cli.Command{
		Name:      "write",
		Usage:     "copy stdin to a FIFO",
		ArgsUsage: "PATH",
		UsageText: "pipectl fifo write [--timeout DUR] PATH",
		Flags: []cli.Flag{
			durationFlag("timeout", "wait at most `DUR` for a reader (exit 124); 0 waits forever"),
		},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(c, "want exactly one PATH, got %d", c.NArg())
			}
			path := c.Args().First()
			_, err := fifo.Write(path, os.Stdin, fifo.WriteOptions{Timeout: durationOf(c, "timeout")})
			return fifoCopyError(c, path, err)
		},
	}
}

// fifoCopyError maps an error of fifo.Read or fifo.Write to an exit status:
// 124 for a peer that never came, 141 for a broken pipe (quietly when it is
// pipectl's own stdout, as cat would), 1 otherwise.
func fifoCopyError(c *cli.Context, path string, err error) error {
	if err == nil {
		return nil
	}
	var pe *fs.PathError
	onFIFO := errors.As(err, &pe) && pe.Path == path
	switch {
	case errors.Is(err, fifo.ErrTimeout):
		return failf(c, exitTimeout, path, fifoWhy(c, err))
	case errors.Is(err, syscall.EPIPE) && onFIFO:
		return failf(c, exitBrokenPipe, path, errors.New("broken pipe: the reader went away"))
	case errors.Is(err, syscall.EPIPE):
		return &exitError{Code: exitBrokenPipe}
	case onFIFO:
		return failf(c, exitFailure, path, fifoWhy(c, err))
	case errors.As(err, &pe) && pe.Op == "read":
		return failf(c, exitFailure, "stdin", err)
	}
	return failf(c, exitFailure, "stdout", err)
}

// eachPath runs op on every argument, reporting each failure on its own
// line; the status is 1 if any failed.
func eachPath(c *cli.Context, op func(path string) error) error {
	failed := false
	for _, path := range c.Args().Slice() {
		if err := op(path); err != nil {
			failed = true
			fmt.Fprintln(c.App.ErrWriter, message(c, errPath(err, path), fifoWhy(c, err)))
		}
	}
	if failed {
		return &exitError{Code: exitFailure}
	}
	return nil
}

// errPath is the path an error is about: the argument, unless the failure
// was on another path (a parent directory being created).
func errPath(err error, arg string) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path != "" && arg == "" {
		return pe.Path
	}
	return arg
}

// fifoWhy phrases a fifo error's cause for a message, with a hint where
// there is an obvious next step.
func fifoWhy(c *cli.Context, err error) error {
	var pe *fs.PathError
	switch {
	case errors.Is(err, fifo.ErrExist):
		return errors.New("fifo already exists (use --exist-ok to accept it)")
	case errors.As(err, &pe) && pe.Op == "mkdir":
		return fmt.Errorf("cannot create directory %s: %s", pe.Path, describe(pe.Err))
	case errors.As(err, &pe) && pe.Op == "mkdirtemp":
		return fmt.Errorf("cannot create temp directory in %s: %s", pe.Path, describe(pe.Err))
	}
	var nf *fifo.NotFIFOError
	if errors.As(err, &nf) && (c.Command.Name == "make" || c.Command.Name == "rm") {
		return errors.New(nf.Error() + "; left untouched")
	}
	return errors.New(describe(err))
}
