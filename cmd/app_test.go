package cmd

import (
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// TestEveryCommandHasExamplesAndUsageHandling walks the whole command tree:
// every command documents at least one example in --help, and every command
// turns flag errors into exit 2 instead of urfave/cli's default.
func TestEveryCommandHasExamplesAndUsageHandling(t *testing.T) {
	app := New()
	if !strings.Contains(app.Description, "EXAMPLES:") {
		t.Error("pipectl --help has no EXAMPLES")
	}
	var walk func(prefix string, cmds []*cli.Command)
	walk = func(prefix string, cmds []*cli.Command) {
		for _, c := range cmds {
			name := prefix + " " + c.Name
			if !strings.Contains(c.Description, "EXAMPLES:") {
				t.Errorf("%s --help has no EXAMPLES", name)
			}
			if c.OnUsageError == nil {
				t.Errorf("%s has no OnUsageError", name)
			}
			walk(name, c.Subcommands)
		}
	}
	walk("pipectl", app.Commands)
}

func TestVersion(t *testing.T) {
	if v := Version(); v == "" {
		t.Error("empty version")
	}
	old := version
	defer func() { version = old }()
	version = "v1.2.3"
	if v := Version(); v != "v1.2.3" {
		t.Errorf("Version() = %q with -ldflags version v1.2.3", v)
	}
}
