// Package cmd is pipectl's command-line interface: the urfave/cli command
// tree, flag and argument checks, help text, and the mapping of library
// errors to messages and exit statuses. The plumbing itself lives in the
// fifo, run and tee packages.
package cmd

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// version is set at link time (-ldflags "-X github.com/pipectl/pipectl/cmd.version=v1.2.3");
// without it the module version or VCS revision from the build info is used.
var version = ""

func init() {
	// The default -v alias of --version would clash with flags users expect
	// from the tools pipectl replaces.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version and exit"}
}

// Version reports pipectl's version string.
func Version() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if (v == "" || v == "(devel)") && rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		return "devel-" + rev + dirty
	}
	if v == "" {
		return "(devel)"
	}
	return v
}

// example is one command line shown under EXAMPLES in --help and the man page.
type example struct {
	Command string
	Meaning string
}

// New builds the pipectl command tree.
func New() *cli.App {
	app := &cli.App{
		Name:    "pipectl",
		Usage:   "safe Unix plumbing for shell scripts, pipelines and CI jobs",
		Version: Version(),
		Description: "pipectl creates and removes named FIFOs, runs commands with their streams captured,\n" +
			"runs pipelines with every stage's exit status, and fans a stream out to files, FIFOs\n" +
			"and commands, turning broken pipes and failed stages into exit codes a script can act on.",
		Commands: []*cli.Command{
			fifoCommand(),
			runCommand(),
			pipeCommand(),
			teeCommand(),
			explainCommand(),
			completionCommand(),
		},
		HideHelpCommand:      true,
		EnableBashCompletion: true,
		// pipectl exits once, in main, with the status exitStatus decides.
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Action:         groupAction,
		Writer:         os.Stdout,
		ErrWriter:      os.Stderr,
	}
	examples["pipectl"] = []example{
		{"pipectl fifo make --temp", "create a private FIFO and print its path"},
		{"pipectl explain 141", "say what exit status 141 means"},
	}
	for _, c := range app.Commands {
		prepare(c, "pipectl")
	}
	app.Description = withExamples(app.Description, "pipectl")
	return app
}

// prepare gives every command in the tree the same usage-error handling and
// appends its examples to its help text.
func prepare(c *cli.Command, parent string) {
	c.OnUsageError = onUsageError
	c.HideHelpCommand = true
	full := parent + " " + c.Name
	if len(c.Subcommands) > 0 && c.Action == nil {
		c.Action = groupAction
	}
	c.Description = withExamples(c.Description, full)
	for _, s := range c.Subcommands {
		prepare(s, full)
	}
}

// examples holds the EXAMPLES of each command, keyed by full command name
// ("pipectl fifo make"); help text and man pages are both built from it.
var examples = map[string][]example{}

func withExamples(desc, full string) string {
	ex := examples[full]
	if len(ex) == 0 {
		return desc
	}
	var b strings.Builder
	b.WriteString(strings.TrimRight(desc, "\n"))
	if desc != "" {
		b.WriteString("\n\n")
	}
	b.WriteString("EXAMPLES:\n")
	for _, e := range ex {
		fmt.Fprintf(&b, "   %s\n      %s\n", e.Command, e.Meaning)
	}
	return strings.TrimRight(b.String(), "\n")
}

// groupAction runs for a command that only groups subcommands (and for the
// bare app): no argument is a usage error, as is an unknown subcommand.
func groupAction(c *cli.Context) error {
	var names []string
	cmds := c.App.Commands
	if c.Command != nil && len(c.Command.Subcommands) > 0 {
		cmds = c.Command.Subcommands
	}
	for _, s := range cmds {
		if !s.Hidden && s.Name != "help" {
			names = append(names, s.Name)
		}
	}
	if c.Args().Present() {
		return usageError(c, "unknown command %q (want one of: %s)", c.Args().First(), strings.Join(names, ", "))
	}
	return usageError(c, "missing command (want one of: %s)", strings.Join(names, ", "))
}

// Main runs pipectl with args (os.Args form) and returns its exit status.
func Main(args []string) int {
	// Without a handler, Go kills the process on a write to a broken pipe on
	// fd 1 or 2; handled, the write returns EPIPE and pipectl chooses the
	// exit status. Notify (not Ignore) keeps children at the default
	// disposition, so they still die of SIGPIPE as they should.
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	defer signal.Stop(sigpipe)

	return exitStatus(os.Stderr, New().Run(args))
}
