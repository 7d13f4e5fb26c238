package cmd

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pipectl/pipectl/tee"
)

func TestParseTeeArgs(t *testing.T) {
	cases := []struct {
		args []string
		want teeArgs
	}{
		{nil, teeArgs{}},
		{[]string{"a", "-a", "b"}, teeArgs{appendMode: true, sinks: []tee.Sink{{Path: "a"}, {Path: "b"}}}},
		{[]string{"-ap", "x"}, teeArgs{appendMode: true, policy: tee.PolicyWarnNoPipe, sinks: []tee.Sink{{Path: "x"}}}},
		{[]string{"--output-error"}, teeArgs{policy: tee.PolicyWarnNoPipe}},
		{[]string{"--output-error=warn"}, teeArgs{policy: tee.PolicyWarn}},
		{[]string{"--output-error=exit-nopipe"}, teeArgs{policy: tee.PolicyExitNoPipe}},
		// --output-error takes no separate argument: "exit" is a file, as in GNU tee.
		{[]string{"--output-error", "exit"}, teeArgs{policy: tee.PolicyWarnNoPipe, sinks: []tee.Sink{{Path: "exit"}}}},
		{[]string{"-c", "gzip > x", "--exec=wc -l", "-cwc", "f"}, teeArgs{sinks: []tee.Sink{{Command: "gzip > x"}, {Command: "wc -l"}, {Command: "wc"}, {Path: "f"}}}},
		{[]string{"-ac", "cat"}, teeArgs{appendMode: true, sinks: []tee.Sink{{Command: "cat"}}}},
		{[]string{"a", "--lossy", "-c", "slow", "b", "--lossy", "c"}, teeArgs{sinks: []tee.Sink{{Path: "a"}, {Command: "slow", Lossy: true}, {Path: "b"}, {Path: "c", Lossy: true}}}},
		{[]string{"--", "-a", "--lossy", "-"}, teeArgs{sinks: []tee.Sink{{Path: "-a"}, {Path: "--lossy"}, {Path: "-"}}}},
		{[]string{"-"}, teeArgs{sinks: []tee.Sink{{Path: "-"}}}},
		{[]string{"--open-timeout", "1.5", "--size=2K", "--report", "-", "--progress", "--no-stdout", "-i", "f"},
			teeArgs{openTimeout: 1500 * time.Millisecond, timeoutText: "1.5", size: 2048, report: "-", progress: true, noStdout: true, ignoreInt: true, sinks: []tee.Sink{{Path: "f"}}}},
		{[]string{"--help"}, teeArgs{help: true}},
		{[]string{"-h"}, teeArgs{help: true}},
	}
	for _, tc := range cases {
		got, err := parseTeeArgs(tc.args)
		if err != nil {
			t.Errorf("%q: %v", tc.args, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.args, got, tc.want)
		}
	}
}

func TestParseTeeArgsErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--nosuch"}, "unknown flag --nosuch"},
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"-c"}, "flag -c needs a value"},
		{[]string{"-c", " "}, "flag -c needs a command"},
		{[]string{"--exec"}, "flag --exec needs a value"},
		{[]string{"--exec="}, "flag --exec needs a command"},
		{[]string{"--output-error=bogus"}, `invalid value "bogus" for flag --output-error`},
		{[]string{"--output-error=sigpipe"}, `invalid value "sigpipe"`},
		{[]string{"--open-timeout", "soon"}, `flag --open-timeout: invalid duration "soon"`},
		{[]string{"--open-timeout"}, "flag --open-timeout needs a value"},
		{[]string{"--size", "-1"}, `flag --size: invalid size "-1"`},
		{[]string{"--report="}, "flag --report needs a file name"},
		{[]string{"--append=yes"}, "flag --append does not take a value"},
		{[]string{"f", "--lossy"}, "flag --lossy must come before the sink"},
		{[]string{"--lossy", "--lossy", "f"}, "flag --lossy given twice"},
		{[]string{""}, "empty file name"},
		{[]string{"--", ""}, "empty file name"},
	}
	for _, tc := range cases {
		_, err := parseTeeArgs(tc.args)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// FuzzParseTeeArgs: the parser never panics, and what it accepts is
// well-formed: every sink has exactly one of a path or a non-blank command,
// and a sink path never comes from an option it consumed.
func FuzzParseTeeArgs(f *testing.F) {
	for _, s := range []string{"a\x00-a\x00b", "-apc\x00cat", "--output-error=warn\x00--lossy\x00x", "--\x00-x", "--open-timeout\x001s", "-c", "--size=1MiB\x00--report=-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, joined string) {
		args := strings.Split(joined, "\x00")
		a, err := parseTeeArgs(args)
		if err != nil {
			if err.Error() == "" || strings.Contains(err.Error(), "\n") {
				t.Fatalf("bad error message %q", err)
			}
			return
		}
		for _, s := range a.sinks {
			if (s.Path == "") == (s.Command == "") {
				t.Fatalf("sink %+v from %q", s, args)
			}
			if s.Command != "" && strings.TrimSpace(s.Command) == "" {
				t.Fatalf("blank command from %q", args)
			}
		}
		if len(a.sinks) > len(args) {
			t.Fatalf("%d sinks from %d args", len(a.sinks), len(args))
		}
	})
}
