package cmd

import (
	_ "embed"
	"fmt"

	"github.com/urfave/cli/v2"
)

// The bash and zsh scripts ask pipectl itself for candidates through
// urfave/cli's --generate-bash-completion, so they never go stale.
var (
	//go:embed completion/pipectl.bash
	bashCompletion string
	//go:embed completion/pipectl.zsh
	zshCompletion string
)

func completionCommand() *cli.Command {
	examples["pipectl completion"] = []example{
		{`source <(pipectl completion bash)`, "enable completion in the current bash"},
		{`pipectl completion fish > ~/.config/fish/completions/pipectl.fish`, "install fish completion"},
	}
	return &cli.Command{
		Name:      "completion",
		Usage:     "print a shell completion script",
		ArgsUsage: "bash|zsh|fish",
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError(c, "want exactly one shell: bash, zsh or fish")
			}
			var script string
			switch shell := c.Args().First(); shell {
			case "bash":
				script = bashCompletion
			case "zsh":
				script = zshCompletion
			case "fish":
				s, err := c.App.ToFishCompletion()
				if err != nil {
					return failf(c, exitFailure, "fish", err)
				}
				script = s
			default:
				return usageError(c, "unsupported shell %q: want bash, zsh or fish", shell)
			}
			_, err := fmt.Fprint(c.App.Writer, script)
			return writeError(c, err)
		},
	}
}
