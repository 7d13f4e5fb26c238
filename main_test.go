package main

import (
	"errors"
	"flag"
	"os"
	"os/exec"
	"strconv"
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
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"status":    cmdStatus,
			"waitfifo":  cmdWaitFIFO,
			"fileexist": cmdFileExist,
		},
	})
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
