package cmd

import (
	"fmt"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/urfave/cli/v2"
)

// exitStatusMarkdown is the EXIT STATUS section every page shares; the
// codes are the ones exitStatus produces and `pipectl explain` describes.
const exitStatusMarkdown = `# EXIT STATUS

**0**
: success

**1**
: the operation failed: a fifo action, a write error under an exit policy, a sink command that failed

**2**
: usage error: unknown flag, bad value, missing argument (one line on stderr, with a pointer to --help)

**124**
: a timeout expired: no peer opened the FIFO in time, or a command was stopped by --timeout

**125**
: pipectl itself failed around a command (cannot create a pipe, cannot open a capture file)

**126**
: the command was found but could not be executed

**127**
: the command was not found

**128+N**
: the command was killed by signal N (SIGKILL 137, SIGTERM 143)

**141**
: broken pipe: a write hit EPIPE (the reader went away), or the child died of SIGPIPE

For run and pipe, a command's own exit status passes through unchanged.
` + "`pipectl explain CODE`" + ` prints what a status means.
`

// manSections holds hand-written extra sections (markdown) for a page, keyed
// by full command name ("pipectl fifo"); commands add to it as they are built.
var manSections = map[string]string{}

// ManPages renders pipectl's man pages, section 1: pipectl.1 for the whole
// tool and pipectl-CMD.1 for each top-level command. Keys are file names.
func ManPages() (map[string]string, error) {
	app := New()
	app.Description = withoutExamples(app.Description)
	pages := map[string]string{}
	seeAlso := []string{"pipectl(1)"}
	for _, c := range app.Commands {
		if !c.Hidden {
			seeAlso = append(seeAlso, "pipectl-"+c.Name+"(1)")
		}
	}
	seeAlso = append(seeAlso, "mkfifo(1)", "tee(1)", "timeout(1)")
	page, err := manPage(app, "pipectl", seeAlso)
	if err != nil {
		return nil, err
	}
	pages["pipectl.1"] = page
	for _, c := range app.Commands {
		if c.Hidden {
			continue
		}
		name := "pipectl-" + c.Name
		sub := &cli.App{
			Name:        name,
			Usage:       c.Usage,
			UsageText:   commandUsage(c),
			Description: withoutExamples(c.Description),
			Flags:       c.Flags,
			Commands:    c.Subcommands,
		}
		for _, s := range sub.Commands {
			s.Description = withoutExamples(s.Description)
		}
		page, err := manPage(sub, "pipectl "+c.Name, seeAlso)
		if err != nil {
			return nil, err
		}
		pages[name+".1"] = page
	}
	return pages, nil
}

// withSynopsis replaces urfave/cli's SYNOPSIS, which shows only the page
// name, with the usage lines the help text shows.
func withSynopsis(md string, app *cli.App) string {
	start := strings.Index(md, "# SYNOPSIS\n")
	if start < 0 {
		return md
	}
	end := strings.Index(md[start+1:], "\n# ")
	if end < 0 {
		return md
	}
	end += start + 1
	usage := app.UsageText
	if usage == "" {
		usage = app.Name + " [--help] [--version] COMMAND [OPTIONS] [ARGUMENTS...]"
	}
	var b strings.Builder
	b.WriteString("# SYNOPSIS\n\n")
	for _, line := range strings.Split(usage, "\n") {
		fmt.Fprintf(&b, "%s  \n", line)
	}
	md = md[:start] + b.String() + md[end:]
	// The template repeats the usage in a "Usage:" block: drop it.
	if i := strings.Index(md, "**Usage**:\n\n```"); i >= 0 {
		if j := strings.Index(md[i+len("**Usage**:\n\n```"):], "```\n"); j >= 0 {
			md = md[:i] + md[i+len("**Usage**:\n\n```")+j+len("```\n"):]
		}
	}
	return md
}

// withoutExamples drops the EXAMPLES block that prepare appended to a help
// text: the man page has an EXAMPLES section of its own.
func withoutExamples(desc string) string {
	if i := strings.Index(desc, "EXAMPLES:\n"); i >= 0 {
		return strings.TrimSpace(desc[:i])
	}
	return desc
}

func commandUsage(c *cli.Command) string {
	if c.UsageText != "" {
		return c.UsageText
	}
	if len(c.Subcommands) > 0 {
		return fmt.Sprintf("pipectl %s COMMAND [OPTIONS] [ARGUMENTS...]", c.Name)
	}
	return strings.TrimSpace(fmt.Sprintf("pipectl %s [OPTIONS] %s", c.Name, c.ArgsUsage))
}

func manPage(app *cli.App, full string, seeAlso []string) (string, error) {
	md, err := app.ToMarkdown()
	if err != nil {
		return "", err
	}
	md = withSynopsis(md, app)
	var b strings.Builder
	fmt.Fprintf(&b, "%% %s 1\n\n", app.Name)
	b.WriteString(md)
	b.WriteString("\n")
	if extra := manSections[full]; extra != "" {
		b.WriteString(strings.TrimSpace(extra))
		b.WriteString("\n\n")
	}
	b.WriteString(exitStatusMarkdown)
	var ex []example
	if full == "pipectl" {
		// The tool's page shows one example of each command.
		ex = append(ex, examples[full]...)
		for _, c := range app.Commands {
			if e := examples[full+" "+c.Name]; len(e) > 0 {
				ex = append(ex, e[0])
			}
		}
	} else {
		ex = append(ex, examples[full]...)
		for _, c := range app.Commands {
			ex = append(ex, examples[full+" "+c.Name]...)
		}
	}
	if len(ex) > 0 {
		b.WriteString("\n# EXAMPLES\n\n")
		for _, e := range ex {
			fmt.Fprintf(&b, "%s\n\n```\n%s\n```\n\n", e.Meaning, e.Command)
		}
	}
	b.WriteString("# SEE ALSO\n\n")
	b.WriteString(strings.Join(seeAlso, ", "))
	b.WriteString("\n")
	return string(md2man.Render([]byte(b.String()))), nil
}
