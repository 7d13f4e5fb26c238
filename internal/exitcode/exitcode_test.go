package exitcode

import (
	"os/exec"
	"syscall"
	"testing"
)

func TestOfRealProcesses(t *testing.T) {
	cases := []struct {
		script string
		code   int
		sig    syscall.Signal
	}{
		{"exit 0", 0, 0},
		{"exit 3", 3, 0},
		{"kill -TERM $$", 143, syscall.SIGTERM},
		{"kill -KILL $$", 137, syscall.SIGKILL},
		{"kill -PIPE $$", 141, syscall.SIGPIPE},
	}
	for _, c := range cases {
		cmd := exec.Command("sh", "-c", c.script)
		_ = cmd.Run()
		code, sig := Of(cmd.ProcessState)
		if code != c.code || sig != c.sig {
			t.Errorf("%q: got (%d, %v), want (%d, %v)", c.script, code, sig, c.code, c.sig)
		}
	}
	if code, _ := Of(nil); code != -1 {
		t.Errorf("Of(nil) = %d, want -1", code)
	}
}

func TestParseSignal(t *testing.T) {
	good := map[string]syscall.Signal{
		"TERM": syscall.SIGTERM, "sigterm": syscall.SIGTERM, "SIGKILL": syscall.SIGKILL,
		"9": syscall.SIGKILL, "hup": syscall.SIGHUP, " INT ": syscall.SIGINT,
	}
	for in, want := range good {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "65", "NOPE", "SIG", "1.5"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q): no error", in)
		}
	}
	if Name(syscall.SIGPIPE) != "SIGPIPE" {
		t.Errorf("Name(SIGPIPE) = %q", Name(syscall.SIGPIPE))
	}
}
