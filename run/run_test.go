package run

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Result
		want int
	}{
		{"success", Result{}, 0},
		{"own code", Result{Status: 3}, 3},
		{"signal", Result{Status: 143, Signal: syscall.SIGTERM}, 143},
		{"timeout, exited on TERM", Result{Status: 143, Signal: syscall.SIGTERM, TimedOut: true}, 124},
		{"timeout, exited 0 after TERM", Result{Status: 0, TimedOut: true}, 124},
		{"timeout, had to KILL", Result{Status: 137, Signal: syscall.SIGKILL, TimedOut: true, Killed: true}, 137},
		{"timeout with --signal KILL", Result{Status: 137, Signal: syscall.SIGKILL, TimedOut: true}, 137},
		{"SIGPIPE", Result{Status: 141, Signal: syscall.SIGPIPE}, 141},
		{"SIGPIPE ok", Result{Status: 141, Signal: syscall.SIGPIPE, SigpipeOK: true}, 0},
		{"exit 141 ok", Result{Status: 141, SigpipeOK: true}, 0},
		{"SIGTERM not ok", Result{Status: 143, Signal: syscall.SIGTERM, SigpipeOK: true}, 143},
		{"own stdout broke", Result{OutputBroken: true}, 141},
		{"own stdout broke, ok", Result{OutputBroken: true, SigpipeOK: true}, 0},
		{"own stdout broke, command failed", Result{Status: 2, OutputBroken: true}, 2},
	} {
		if got := tc.r.ExitStatus(); got != tc.want {
			t.Errorf("%s: ExitStatus() = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestStartError(t *testing.T) {
	for _, tc := range []struct {
		err  *StartError
		want int
	}{
		{&StartError{Name: "x", Err: exec.ErrNotFound}, 127},
		{&StartError{Name: "./x", Err: fs.ErrNotExist}, 127},
		{&StartError{Name: "./x", Err: syscall.ENOENT}, 127},
		{&StartError{Name: "./x", Err: syscall.ENOENT, Exec: true}, 126},
		{&StartError{Name: "./x", Err: syscall.EACCES}, 126},
		{&StartError{Name: "./x", Err: syscall.ENOEXEC, Exec: true}, 126},
	} {
		if got := tc.err.ExitStatus(); got != tc.want {
			t.Errorf("%v (exec %v): ExitStatus() = %d, want %d", tc.err, tc.err.Exec, got, tc.want)
		}
	}
	_, err := lookPath("no-such-command-for-run-test")
	var se *StartError
	if !errors.As(err, &se) || se.ExitStatus() != 127 {
		t.Errorf("lookPath(missing) = %v, want a StartError with status 127", err)
	}
	_, err = lookPath(t.TempDir())
	if !errors.As(err, &se) || se.ExitStatus() != 126 {
		t.Errorf("lookPath(dir) = %v, want a StartError with status 126", err)
	}
}

func st(status int, sig syscall.Signal) StageResult {
	return StageResult{Status: status, Signal: sig, BrokenPipe: status == StatusSIGPIPE}
}

func TestPipeStatus(t *testing.T) {
	pipeK := syscall.SIGPIPE
	for _, tc := range []struct {
		name        string
		stages      []StageResult
		rule        StatusRule
		strict      bool
		want, stage int
	}{
		{"all ok", []StageResult{st(0, 0), st(0, 0)}, Pipefail, false, 0, -1},
		{"yes | head", []StageResult{st(141, pipeK), st(0, 0)}, Pipefail, false, 0, -1},
		{"yes | head strict", []StageResult{st(141, pipeK), st(0, 0)}, Pipefail, true, 141, 0},
		{"yes | cat | head", []StageResult{st(141, pipeK), st(141, pipeK), st(0, 0)}, Pipefail, false, 0, -1},
		{"exit 141 counts as broken pipe", []StageResult{st(141, 0), st(0, 0)}, Pipefail, false, 0, -1},
		{"reader failed", []StageResult{st(141, pipeK), st(2, 0)}, Pipefail, false, 2, 1},
		{"reader failed, first", []StageResult{st(141, pipeK), st(2, 0)}, First, false, 141, 0},
		{"last stage SIGPIPE", []StageResult{st(0, 0), st(141, pipeK)}, Pipefail, false, 141, 1},
		{"pipefail rightmost", []StageResult{st(3, 0), st(4, 0), st(0, 0)}, Pipefail, false, 4, 1},
		{"first", []StageResult{st(3, 0), st(4, 0), st(0, 0)}, First, false, 3, 0},
		{"last ok", []StageResult{st(3, 0), st(0, 0)}, Last, false, 0, -1},
		{"last fails", []StageResult{st(3, 0), st(5, 0)}, Last, false, 5, 1},
		{"max", []StageResult{st(3, 0), st(143, syscall.SIGTERM), st(4, 0)}, Max, false, 143, 1},
	} {
		stages := append([]StageResult(nil), tc.stages...)
		classify(stages, tc.strict)
		got, stage := pipeStatus(stages, tc.rule)
		if got != tc.want || stage != tc.stage {
			t.Errorf("%s: status %d from stage %d, want %d from %d", tc.name, got, stage, tc.want, tc.stage)
		}
	}
	for _, s := range []string{"pipefail", "first", "last", "max"} {
		if _, err := ParseStatusRule(s); err != nil {
			t.Errorf("ParseStatusRule(%q): %v", s, err)
		}
	}
	if _, err := ParseStatusRule("median"); err == nil {
		t.Error("ParseStatusRule(median): no error")
	}
}

func replay(h *Hold) (string, int64) {
	var b strings.Builder
	var cut int64
	h.Replay(func(c Chunk) error {
		if c.Stream == Stderr {
			b.WriteString("E:")
		}
		b.Write(c.Data)
		return nil
	}, func(n int64) { cut = n; b.WriteString("[cut]") })
	return b.String(), cut
}

func TestHold(t *testing.T) {
	h := NewHold(1 << 10)
	h.Add(Stdout, []byte("a\n"))
	h.Add(Stderr, []byte("b\n"))
	h.Add(Stdout, []byte("c\n"))
	if got, cut := replay(h); got != "a\nE:b\nc\n" || cut != 0 {
		t.Errorf("small: %q cut %d", got, cut)
	}

	// 20 bytes: 10 of head, 10 of tail, cut at line boundaries.
	h = NewHold(20)
	var all bytes.Buffer
	for i := 0; i < 10; i++ {
		line := []byte("line" + string(rune('0'+i)) + "\n")
		all.Write(line)
		h.Add(Stdout, line)
	}
	if h.Held() > 20 {
		t.Errorf("holds %d bytes, more than 20", h.Held())
	}
	got, cut := replay(h)
	if got != "line0\n[cut]line9\n" || cut != int64(all.Len())-12 {
		t.Errorf("bounded: %q cut %d, want line0, [cut], line9 with %d cut", got, cut, all.Len()-12)
	}

	// One write far larger than the budget.
	h = NewHold(100)
	h.Add(Stdout, bytes.Repeat([]byte("x"), 1<<20))
	if h.Held() != 100 || h.Cut() != 1<<20-100 {
		t.Errorf("flood: held %d cut %d", h.Held(), h.Cut())
	}

	// Order across streams survives the tail's trimming.
	h = NewHold(8)
	for _, p := range []string{"1\n", "2\n", "3\n", "4\n", "5\n", "6\n"} {
		s := Stdout
		if p[0]%2 == 0 {
			s = Stderr
		}
		h.Add(s, []byte(p))
	}
	if got, _ := replay(h); got != "1\nE:2\n[cut]5\nE:6\n" {
		t.Errorf("streams: %q", got)
	}
}

func TestAnnotator(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 600000000, time.UTC)
	a := newAnnotator("web", nil, start)
	var out bytes.Buffer
	out.Write(a.add(Stdout, []byte("one\ntw"), start))
	out.Write(a.add(Stderr, []byte("err\n"), start))
	out.Write(a.add(Stdout, []byte("o\n\nthree"), start))
	out.Write(a.flush(Stdout))
	out.Write(a.flush(Stderr))
	want := "web O: one\nweb E: err\nweb O: two\nweb O: \nweb O: three\n"
	if out.String() != want {
		t.Errorf("got %q, want %q", out.String(), want)
	}

	tf, err := ParseTimeFormat("%Y-%m-%d %H:%M:%.S %j %s %%")
	if err != nil {
		t.Fatal(err)
	}
	a = newAnnotator("", tf, start)
	if got := string(a.add(Stdout, []byte("x\n"), start)); got != "2026-01-02 03:04:05.600000 002 1767323045 % O: x\n" {
		t.Errorf("strftime: %q", got)
	}
	tf, _ = ParseTimeFormat("elapsed")
	a = newAnnotator("", tf, start)
	if got := string(a.add(Stderr, []byte("x\n"), start.Add(1500*time.Millisecond))); got != "+1.500s E: x\n" {
		t.Errorf("elapsed: %q", got)
	}
	tf, _ = ParseTimeFormat("delta")
	a = newAnnotator("", tf, start)
	a.add(Stdout, []byte("x\n"), start.Add(time.Second))
	if got := string(a.add(Stdout, []byte("y\n"), start.Add(1250*time.Millisecond))); got != "+0.250s O: y\n" {
		t.Errorf("delta: %q", got)
	}
	tf, _ = ParseTimeFormat("15:04")
	a = newAnnotator("", tf, start)
	if got := string(a.add(Stdout, []byte("x\n"), start)); got != "03:04 O: x\n" {
		t.Errorf("go layout: %q", got)
	}
	for _, bad := range []string{"%Q", "%.X", "%"} {
		if _, err := ParseTimeFormat(bad); err == nil {
			t.Errorf("ParseTimeFormat(%q): no error", bad)
		}
	}

	// A line longer than maxLine is written in annotated pieces.
	a = newAnnotator("", nil, start)
	got := string(a.add(Stdout, bytes.Repeat([]byte("z"), maxLine*2+10), start))
	got += string(a.flush(Stdout))
	if n := strings.Count(got, "O: "); n != 3 || strings.Count(got, "z") != maxLine*2+10 {
		t.Errorf("long line: %d pieces, %d bytes", n, strings.Count(got, "z"))
	}
}

// TestRunOrder runs a real command through the library: both streams into
// one file, in the order of the writes, and both still reaching Out/Err.
func TestRunOrder(t *testing.T) {
	dir := t.TempDir()
	out, _ := os.Create(filepath.Join(dir, "out"))
	errf, _ := os.Create(filepath.Join(dir, "err"))
	defer out.Close()
	defer errf.Close()
	script := `i=0; while [ $i -lt 500 ]; do echo o$i; echo e$i >&2; i=$((i+1)); done; exit 5`
	res, err := Run(Config{
		Argv:       []string{"sh", "-c", script},
		OutputFile: filepath.Join(dir, "all"),
		Out:        out,
		Err:        errf,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitStatus() != 5 || res.Pid == 0 || res.StdoutBytes == 0 || res.StderrBytes == 0 {
		t.Errorf("result %+v", res)
	}
	var want, wantOut strings.Builder
	for i := 0; i < 500; i++ {
		want.WriteString("o" + itoa(i) + "\ne" + itoa(i) + "\n")
		wantOut.WriteString("o" + itoa(i) + "\n")
	}
	all, _ := os.ReadFile(filepath.Join(dir, "all"))
	if string(all) != want.String() {
		t.Errorf("--output not in write order:\n%.200s", all)
	}
	got, _ := os.ReadFile(filepath.Join(dir, "out"))
	if string(got) != wantOut.String() {
		t.Errorf("stdout: %.200s", got)
	}
}

func itoa(i int) string {
	return strings.TrimSpace(strings.Repeat(" ", 0) + string(appendInt(nil, i)))
}

func appendInt(b []byte, i int) []byte {
	if i >= 10 {
		b = appendInt(b, i/10)
	}
	return append(b, byte('0'+i%10))
}
