package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pipectl/pipectl/cmd"
	"github.com/rogpeppe/go-internal/testscript"
)

var update = flag.Bool("u", false, "update testscript golden files in place")

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"pipectl": func() { os.Exit(cmd.Main(os.Args)) },
	})
}

// TestScripts runs the end-to-end CLI scripts in testdata/*.txtar against the
// real binary, real FIFOs, real processes and real signals.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		Condition: func(cond string) (bool, error) {
			// [root]: the tests run as root, which writes through file
			// permissions; scripts use setpriv to drop that power.
			if cond == "root" {
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
		Setup: setupScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":    cmdStatus,
			"waitfifo":  cmdWaitFIFO,
			"waitmatch": cmdWaitMatch,
			"fileexist": cmdFileExist,
			"waitdead":  cmdWaitDead,
		},
	})
}

// setupScript prepares each script's environment. Scripts run as root in CI,
// where permission checks do not apply, so it puts an `unpriv` wrapper on
// PATH that runs a command as nobody when we are root (and as is when we are
// not): `status 1 exec unpriv pipectl fifo make ro/f`. For nobody to reach
// the pipectl binary and $WORK, their directories are opened up to 0755.
func setupScript(env *testscript.Env) error {
	env.Setenv("NO_COLOR", "1")
	bin := filepath.Join(env.WorkDir, ".bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		return err
	}
	wrapper := "#!/bin/sh\n" +
		"if [ \"$(id -u)\" = 0 ]; then exec setpriv --reuid=65534 --regid=65534 --clear-groups \"$@\"; fi\n" +
		"exec \"$@\"\n"
	if err := os.WriteFile(filepath.Join(bin, "unpriv"), []byte(wrapper), 0o755); err != nil {
		return err
	}
	env.Setenv("PATH", bin+string(filepath.ListSeparator)+env.Getenv("PATH"))
	if os.Geteuid() == 0 {
		self, err := exec.LookPath("pipectl")
		if err != nil {
			return err
		}
		for _, dir := range []string{filepath.Dir(self), filepath.Dir(filepath.Dir(self)), env.WorkDir, filepath.Dir(env.WorkDir)} {
			if err := os.Chmod(dir, 0o755); err != nil {
				return err
			}
		}
	}
	return nil
}

// cmdStatus runs a command and asserts its exact exit status:
//
//	status 141 exec pipectl fifo write f
//
// A command killed by signal N counts as 128+N, as a shell reports it.
func cmdStatus(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! status")
	}
	if len(args) < 3 || args[1] != "exec" {
		ts.Fatalf("usage: status CODE exec PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("status: bad code %q", args[0])
	}
	err = ts.Exec(args[2], args[3:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		got = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			got = 128 + int(ws.Signal())
		}
	default:
		ts.Fatalf("status: %v", err)
	}
	if got != want {
		ts.Fatalf("exit status %d, want %d", got, want)
	}
}

// cmdWaitFIFO waits (up to 20s) until PATH exists, so scripts synchronise on
// an event rather than sleeping:
//
//	waitfifo PATH
func cmdWaitFIFO(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: waitfifo PATH")
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, err := os.Lstat(path)
		if (err == nil) != neg {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitfifo %s: timed out", path)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cmdWaitMatch waits (up to 20s) until the file at PATH has content matching
// REGEXP, so a script can wait for a background command to have done
// something observable:
//
//	waitmatch out.txt '^second$'
func cmdWaitMatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: waitmatch PATH REGEXP")
	}
	re, err := regexp.Compile("(?m)" + args[1])
	if err != nil {
		ts.Fatalf("waitmatch: %v", err)
	}
	path := ts.MkAbs(args[0])
	deadline := time.Now().Add(20 * time.Second)
	for {
		if data, err := os.ReadFile(path); err == nil && re.Match(data) {
			return
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(path)
			ts.Fatalf("waitmatch %s %q: timed out; content: %q", args[0], args[1], data)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// cmdFileExist asserts that a path exists (or, negated, does not) without
// following symlinks, which the builtin exists does.
func cmdFileExist(ts *testscript.TestScript, neg bool, args []string) {
	for _, a := range args {
		_, err := os.Lstat(ts.MkAbs(a))
		if neg && err == nil {
			ts.Fatalf("%s exists", a)
		}
		if !neg && err != nil {
			ts.Fatalf("%v", err)
		}
	}
}

// cmdWaitDead waits (up to 20s) until the process whose pid is in FILE has
// died, and fails otherwise; it proves that no orphan is left running:
//
//	waitdead FILE          dead: gone, or a zombie waiting for a reaper
//	waitdead -reaped FILE  gone altogether: its parent has reaped it
func cmdWaitDead(ts *testscript.TestScript, neg bool, args []string) {
	reaped := len(args) == 2 && args[0] == "-reaped"
	if reaped {
		args = args[1:]
	}
	if neg || len(args) != 1 {
		ts.Fatalf("usage: waitdead [-reaped] FILE")
	}
	data, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 {
		ts.Fatalf("waitdead: bad pid %q in %s", data, args[0])
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return // gone
		}
		// The state follows the parenthesised command name.
		if i := strings.LastIndexByte(string(stat), ')'); !reaped && i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("waitdead: process %d still there: %s", pid, stat)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
