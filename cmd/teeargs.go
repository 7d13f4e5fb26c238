package cmd

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pipectl/pipectl/internal/units"
	"github.com/pipectl/pipectl/tee"
)

// teeArgs is a parsed `pipectl tee` command line.
type teeArgs struct {
	sinks       []tee.Sink
	appendMode  bool
	ignoreInt   bool
	noStdout    bool
	progress    bool
	help        bool
	policy      tee.Policy
	openTimeout time.Duration
	timeoutText string
	report      string
	size        uint64
}

// parseTeeArgs parses tee's arguments itself rather than through urfave/cli,
// for three reasons that the Go flag package cannot meet: the order of
// sinks matters (--lossy applies to the sink after it, and sinks are written
// in the order given), options may follow operands as with GNU getopt
// (`tee out.log -a`), and --output-error takes an optional argument that
// must be attached (`--output-error` alone means warn-nopipe, as in GNU tee).
// Short options may be bundled (-ap); `--` ends options; a lone `-` is a
// file named "-", as POSIX requires of tee.
func parseTeeArgs(args []string) (teeArgs, error) {
	var a teeArgs
	lossyNext := false
	addSink := func(s tee.Sink) {
		s.Lossy = lossyNext
		lossyNext = false
		a.sinks = append(a.sinks, s)
	}
	// value returns the argument of an option that requires one: attached
	// (--exec=CMD, -cCMD) or the next argument.
	i := 0
	value := func(name, attached string, hasAttached bool) (string, error) {
		if hasAttached {
			return attached, nil
		}
		if i+1 >= len(args) {
			return "", fmt.Errorf("flag %s needs a value", name)
		}
		i++
		return args[i], nil
	}
	for ; i < len(args); i++ {
		arg := args[i]
		switch {
		case arg == "--":
			for _, p := range args[i+1:] {
				if p == "" {
					return a, fmt.Errorf("empty file name")
				}
				addSink(tee.Sink{Path: p})
			}
			i = len(args)
		case strings.HasPrefix(arg, "--"):
			name, val, hasVal := strings.Cut(arg[2:], "=")
			flag := "--" + name
			noValue := func() error {
				if hasVal {
					return fmt.Errorf("flag %s does not take a value", flag)
				}
				return nil
			}
			switch name {
			case "append":
				a.appendMode = true
			case "ignore-interrupts":
				a.ignoreInt = true
			case "no-stdout":
				a.noStdout = true
			case "progress":
				a.progress = true
			case "lossy":
				if lossyNext {
					return a, fmt.Errorf("flag --lossy given twice for the same sink")
				}
				lossyNext = true
			case "help":
				a.help = true
			case "output-error":
				if !hasVal {
					a.policy = tee.PolicyWarnNoPipe
					break
				}
				p, err := tee.ParsePolicy(val)
				if err != nil || val == "sigpipe" {
					return a, fmt.Errorf("invalid value %q for flag --output-error: want warn, warn-nopipe, exit or exit-nopipe", val)
				}
				a.policy = p
				continue
			case "exec":
				v, err := value(flag, val, hasVal)
				if err != nil {
					return a, err
				}
				if strings.TrimSpace(v) == "" {
					return a, fmt.Errorf("flag --exec needs a command")
				}
				addSink(tee.Sink{Command: v})
				continue
			case "open-timeout":
				v, err := value(flag, val, hasVal)
				if err != nil {
					return a, err
				}
				d, err := units.ParseDuration(v)
				if err != nil {
					return a, fmt.Errorf("flag --open-timeout: %v", err)
				}
				a.openTimeout, a.timeoutText = d, v
				continue
			case "report":
				v, err := value(flag, val, hasVal)
				if err != nil {
					return a, err
				}
				if v == "" {
					return a, fmt.Errorf("flag --report needs a file name (or - for stderr)")
				}
				a.report = v
				continue
			case "size":
				v, err := value(flag, val, hasVal)
				if err != nil {
					return a, err
				}
				n, err := units.ParseSize(v)
				if err != nil {
					return a, fmt.Errorf("flag --size: %v", err)
				}
				a.size = n
				continue
			default:
				return a, fmt.Errorf("unknown flag %s", printable(flag))
			}
			if err := noValue(); err != nil {
				return a, err
			}
		case len(arg) > 1 && arg[0] == '-':
			// A bundle of short options: -a -i -p -h, and -c CMD last.
		bundle:
			for j := 1; j < len(arg); j++ {
				switch arg[j] {
				case 'a':
					a.appendMode = true
				case 'i':
					a.ignoreInt = true
				case 'p':
					a.policy = tee.PolicyWarnNoPipe
				case 'h':
					a.help = true
				case 'c':
					v, err := value("-c", arg[j+1:], j+1 < len(arg))
					if err != nil {
						return a, err
					}
					if strings.TrimSpace(v) == "" {
						return a, fmt.Errorf("flag -c needs a command")
					}
					addSink(tee.Sink{Command: v})
					break bundle
				default:
					return a, fmt.Errorf("unknown flag %s", printable("-"+string(arg[j])))
				}
			}
		case arg == "":
			return a, fmt.Errorf("empty file name")
		default:
			addSink(tee.Sink{Path: arg})
		}
	}
	if lossyNext {
		return a, fmt.Errorf("flag --lossy must come before the sink it applies to")
	}
	return a, nil
}

// printable quotes s if it holds anything but graphic characters, so that
// an error message stays on one line.
func printable(s string) string {
	for _, r := range s {
		if !unicode.IsGraphic(r) || r == utf8.RuneError {
			return strconv.Quote(s)
		}
	}
	return s
}
