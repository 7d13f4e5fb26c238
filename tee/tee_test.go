package tee

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// streamSize is the size of the random stream the integrity tests push
// through every kind of sink: above 50 MB, and large enough that every
// pipe fills and back-pressure, partial tees and EPIPE all happen.
const streamSize = 52 << 20

var (
	randOnce sync.Once
	randData []byte
)

// random returns streamSize deterministic pseudo-random bytes.
func random() []byte {
	randOnce.Do(func() {
		var seed [32]byte
		copy(seed[:], "pipectl tee integrity test seed")
		r := rand.NewChaCha8(seed)
		randData = make([]byte, streamSize)
		_, _ = r.Read(randData)
	})
	return randData
}

// blockingPipe returns a pipe whose ends are blocking descriptors, as a
// shell gives them to pipectl.
func blockingPipe(t testing.TB) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	_, _ = r.Fd(), w.Fd() // Fd switches both ends to blocking mode
	t.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

// feed writes data to w and closes it.
func feed(w *os.File, data []byte) {
	go func() {
		_, _ = w.Write(data)
		_ = w.Close()
	}()
}

// reader is a consumer: it reads a pipe or FIFO to the end and keeps the
// digest and count of what it read. slow makes it read 4 KiB at a time and
// yield often, so that the writer's pipe is nearly always full.
type reader struct {
	done  chan struct{}
	n     int64
	sum   [32]byte
	err   error
	limit int64 // stop (close) after this many bytes, if > 0
}

func consume(r io.ReadCloser, slow bool, limit int64) *reader {
	c := &reader{done: make(chan struct{}), limit: limit}
	go func() {
		defer close(c.done)
		defer r.Close()
		h := sha256.New()
		buf := make([]byte, 128<<10)
		if slow {
			buf = buf[:4<<10]
		}
		for i := 0; ; i++ {
			if c.limit > 0 && c.n >= c.limit {
				break
			}
			k, err := r.Read(buf)
			h.Write(buf[:k])
			c.n += int64(k)
			if err == io.EOF {
				break
			}
			if err != nil {
				c.err = err
				break
			}
			if slow && i%64 == 0 {
				time.Sleep(100 * time.Microsecond)
			}
		}
		copy(c.sum[:], h.Sum(nil))
	}()
	return c
}

func (c *reader) wait(t testing.TB) *reader {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(2 * time.Minute):
		t.Fatal("consumer never finished")
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
	return c
}

// fifoReader makes a FIFO and starts a consumer that opens it for reading.
func fifoReader(t testing.TB, dir, name string, slow bool, limit int64) (string, *reader) {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := unix.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	opened := make(chan *os.File)
	go func() {
		f, err := os.OpenFile(path, os.O_RDONLY, 0)
		if err != nil {
			panic(err)
		}
		opened <- f
	}()
	c := &reader{done: make(chan struct{})}
	go func() {
		inner := consume(<-opened, slow, limit)
		<-inner.done
		c.n, c.sum, c.err = inner.n, inner.sum, inner.err
		close(c.done)
	}()
	return path, c
}

func fileSum(t testing.TB, path string) (int64, [32]byte) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(len(b)), sha256.Sum256(b)
}

// run runs Run with data on a pipe as stdin and a consumer on a pipe as
// stdout, and returns the result and the stdout consumer.
func run(t testing.TB, data []byte, opts Options, slowStdout bool) (*Result, *reader) {
	t.Helper()
	inR, inW := blockingPipe(t)
	outR, outW := blockingPipe(t)
	feed(inW, data)
	out := consume(outR, slowStdout, 0)
	opts.Stdin, opts.Stdout = inR, outW
	res, err := Run(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	outW.Close()
	return res, out.wait(t)
}

func paths(t *testing.T, f func(t *testing.T, noSplice bool)) {
	t.Run("splice", func(t *testing.T) {
		if !zeroCopy {
			t.Skip("no tee(2)/splice(2) on " + runtime.GOOS)
		}
		f(t, false)
	})
	t.Run("readwrite", func(t *testing.T) { f(t, true) })
}

// TestIntegrityEverySinkKind pushes 52 MiB of random data through stdout,
// a file, a /dev/null device, a fast and a slow FIFO and a command on both
// paths, and checks every copy by SHA-256.
func TestIntegrityEverySinkKind(t *testing.T) {
	paths(t, func(t *testing.T, noSplice bool) {
		data := random()
		want := sha256.Sum256(data)
		dir := t.TempDir()
		fast, fastR := fifoReader(t, dir, "fast.fifo", false, 0)
		slow, slowR := fifoReader(t, dir, "slow.fifo", true, 0)
		file := filepath.Join(dir, "out.bin")
		cmdOut := filepath.Join(dir, "cmd.bin")
		res, out := run(t, data, Options{
			NoSplice: noSplice,
			Sinks: []Sink{
				{Path: file}, {Path: os.DevNull}, {Path: fast}, {Path: slow},
				{Command: "cat > " + cmdOut},
			},
		}, false)
		if res.ZeroCopy == noSplice {
			t.Fatalf("ZeroCopy = %v with NoSplice = %v", res.ZeroCopy, noSplice)
		}
		for _, s := range res.Sinks {
			if s.Err != nil {
				t.Errorf("%s %s%s: %v", s.Kind, s.Path, s.Command, s.Err)
			}
			if s.Bytes != int64(len(data)) {
				t.Errorf("%s %s%s: %d bytes, want %d", s.Kind, s.Path, s.Command, s.Bytes, len(data))
			}
		}
		kinds := []Kind{KindStdout, KindFile, KindDevice, KindFIFO, KindFIFO, KindCommand}
		for i, k := range kinds {
			if res.Sinks[i].Kind != k {
				t.Errorf("sink %d kind %s, want %s", i, res.Sinks[i].Kind, k)
			}
		}
		if res.BytesIn != int64(len(data)) || res.Stopped != "" || res.Failed(0) || res.BrokenPipe() {
			t.Errorf("result %+v", res)
		}
		check := func(what string, n int64, sum [32]byte) {
			if n != int64(len(data)) || sum != want {
				t.Errorf("%s: %d bytes, checksum mismatch=%v", what, n, sum != want)
			}
		}
		check("stdout", out.n, out.sum)
		fastR.wait(t)
		check("fast fifo", fastR.n, fastR.sum)
		slowR.wait(t)
		check("slow fifo", slowR.n, slowR.sum)
		n, sum := fileSum(t, file)
		check("file", n, sum)
		n, sum = fileSum(t, cmdOut)
		check("command", n, sum)
		if res.Sinks[5].ExitCode != 0 {
			t.Errorf("command exit %d", res.Sinks[5].ExitCode)
		}
		if !noSplice && res.stats.partialTees == 0 {
			t.Errorf("a slow FIFO never caused a partial tee: %+v", res.stats)
		}
		t.Logf("stats %+v", res.stats)
	})
}

// TestIntegrityPipesOnly has only pipe outputs, so that chunks are consumed
// by splice(2) into the last sink, with slow readers forcing partial tees
// that are finished through the scratch pipe — or, with the scratch pipe
// disabled, from user space.
func TestIntegrityPipesOnly(t *testing.T) {
	for _, noScratch := range []bool{false, true} {
		t.Run(fmt.Sprintf("noScratch=%v", noScratch), func(t *testing.T) {
			if !zeroCopy {
				t.Skip("no tee(2)/splice(2)")
			}
			data := random()
			want := sha256.Sum256(data)
			dir := t.TempDir()
			a, ar := fifoReader(t, dir, "a", true, 0)
			b, br := fifoReader(t, dir, "b", false, 0)
			c, cr := fifoReader(t, dir, "c", true, 0)
			res, out := run(t, data, Options{Sinks: []Sink{{Path: a}, {Path: b}, {Path: c}}, noScratch: noScratch}, true)
			for i, r := range []*reader{out, ar.wait(t), br.wait(t), cr.wait(t)} {
				if r.n != int64(len(data)) || r.sum != want {
					t.Errorf("output %d: %d bytes, checksum ok %v", i, r.n, r.sum == want)
				}
			}
			st := res.stats
			t.Logf("stats %+v", st)
			if st.splicedChunks == 0 || st.partialTees == 0 {
				t.Errorf("splice or partial tee path not exercised: %+v", st)
			}
			if noScratch && st.userFinishes == 0 || !noScratch && st.scratchFinishes == 0 {
				t.Errorf("remainder path not exercised: %+v", st)
			}
		})
	}
}

// TestKernelRefuses: when the kernel answers EINVAL to tee/splice on one
// sink, that sink alone falls back to read/write, from the chunk where it
// happened on, and every output still gets every byte. Each case refuses a
// different sink: a teed FIFO, the spliced last one (stdout), and the
// only one (pass-through).
func TestKernelRefuses(t *testing.T) {
	if !zeroCopy {
		t.Skip("no tee(2)/splice(2)")
	}
	data := random()
	want := sha256.Sum256(data)
	for _, victim := range []Kind{KindFIFO, KindStdout} {
		for _, alone := range []bool{false, true} {
			if alone && victim == KindFIFO {
				continue
			}
			t.Run(fmt.Sprintf("%s alone=%v", victim, alone), func(t *testing.T) {
				var calls int
				refuse := func(r *SinkResult) bool {
					if r.Kind != victim {
						return false
					}
					// Let the first few chunks through the fast path.
					calls++
					return calls > 3
				}
				var sinks []Sink
				var fr *reader
				if !alone {
					var path string
					path, fr = fifoReader(t, t.TempDir(), "f", false, 0)
					sinks = []Sink{{Path: path}}
				}
				res, out := run(t, data, Options{Sinks: sinks, refuse: refuse}, false)
				if out.sum != want || res.Failed(0) {
					t.Errorf("stdout ok=%v res %+v", out.sum == want, res)
				}
				if fr != nil && fr.wait(t).sum != want {
					t.Errorf("fifo got %d bytes, checksum mismatch", fr.n)
				}
				if !res.ZeroCopy || calls <= 3 {
					t.Errorf("zero copy %v, refuse called %d times", res.ZeroCopy, calls)
				}
				t.Logf("stats %+v", res.stats)
			})
		}
	}
}

// TestIntegrityStdinFile reads a regular file (no zero-copy possible on the
// input side) and a non-blocking stdin pipe (EAGAIN from the poller's
// descriptors must be waited out, not treated as an error).
func TestIntegrityStdinKinds(t *testing.T) {
	data := random()[:8<<20]
	want := sha256.Sum256(data)
	t.Run("file", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in")
		if err := os.WriteFile(in, data, 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		outR, outW := blockingPipe(t)
		out := consume(outR, false, 0)
		res, err := Run(context.Background(), Options{Stdin: f, Stdout: outW, Sinks: []Sink{{Path: filepath.Join(dir, "copy")}}})
		if err != nil {
			t.Fatal(err)
		}
		outW.Close()
		out.wait(t)
		n, sum := fileSum(t, filepath.Join(dir, "copy"))
		if res.ZeroCopy || out.sum != want || sum != want || n != int64(len(data)) {
			t.Errorf("zc=%v stdout ok=%v file ok=%v", res.ZeroCopy, out.sum == want, sum == want)
		}
	})
	t.Run("nonblocking", func(t *testing.T) {
		inR, inW, err := os.Pipe() // O_NONBLOCK on both ends
		if err != nil {
			t.Fatal(err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		feed(inW, data)
		out := consume(outR, true, 0)
		dir := t.TempDir()
		fifo, fr := fifoReader(t, dir, "f", true, 0)
		res, err := Run(context.Background(), Options{Stdin: inR, Stdout: outW, Sinks: []Sink{{Path: fifo}}})
		if err != nil {
			t.Fatal(err)
		}
		outW.Close()
		inR.Close()
		out.wait(t)
		fr.wait(t)
		if res.Failed(0) || out.sum != want || fr.sum != want {
			t.Errorf("res %+v stdout ok=%v fifo ok=%v", res.Sinks, out.sum == want, fr.sum == want)
		}
	})
}

// TestPassThrough: standard output as the only output, on blocking and on
// non-blocking (EAGAIN) pipes, with a slow reader, on both paths.
func TestPassThrough(t *testing.T) {
	paths(t, func(t *testing.T, noSplice bool) {
		data := random()
		want := sha256.Sum256(data)
		res, out := run(t, data, Options{NoSplice: noSplice}, true)
		if out.sum != want || res.Failed(0) || res.BytesIn != int64(len(data)) {
			t.Errorf("blocking: ok=%v res %+v", out.sum == want, res)
		}
		if !noSplice && res.stats.splicedChunks == 0 {
			t.Errorf("stats %+v", res.stats)
		}
		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		outR, outW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		feed(inW, data)
		nb := consume(outR, true, 0)
		res, err = Run(context.Background(), Options{Stdin: inR, Stdout: outW, NoSplice: noSplice})
		if err != nil {
			t.Fatal(err)
		}
		outW.Close()
		inR.Close()
		if nb.wait(t).sum != want || res.Failed(0) {
			t.Errorf("non-blocking: ok=%v res %+v", nb.sum == want, res)
		}
	})
}

// earlyExit is a sink whose reader goes away after 1 MiB: every write after
// that gets EPIPE.
func earlyExit(t *testing.T) (Sink, *reader) {
	path, r := fifoReader(t, t.TempDir(), "early", false, 1<<20)
	return Sink{Path: path}, r
}

// TestPolicies runs a 52 MiB stream into stdout, a healthy file, a sink
// whose reader exits early (EPIPE) and /dev/full (ENOSPC) under each GNU
// tee policy, and checks what stops, what counts as a failure, and that the
// healthy outputs get every byte whenever the policy says carry on.
func TestPolicies(t *testing.T) {
	type want struct {
		stopped     string
		brokenPipe  bool
		failed      bool
		fullSurvive bool // healthy outputs got every byte
		reported    int  // OnError calls
	}
	cases := []struct {
		policy Policy
		full   bool // add a /dev/full sink
		want   want
	}{
		{PolicySigpipe, false, want{"broken pipe", true, false, false, 0}},
		{PolicySigpipe, true, want{"broken pipe", true, true, false, 1}},
		{PolicyWarn, false, want{"", false, true, true, 1}},
		{PolicyWarn, true, want{"", false, true, true, 2}},
		{PolicyWarnNoPipe, false, want{"", false, false, true, 0}},
		{PolicyWarnNoPipe, true, want{"", false, true, true, 1}},
		{PolicyExit, false, want{"error", false, true, false, 1}},
		{PolicyExitNoPipe, false, want{"", false, false, true, 0}},
		{PolicyExitNoPipe, true, want{"error", false, true, false, 1}},
	}
	for _, tc := range cases {
		name := tc.policy.String()
		if tc.full {
			name += "+devfull"
		}
		t.Run(name, func(t *testing.T) {
			paths(t, func(t *testing.T, noSplice bool) {
				data := random()
				early, er := earlyExit(t)
				file := filepath.Join(t.TempDir(), "healthy")
				sinks := []Sink{{Path: file}, early}
				if tc.full {
					// /dev/full first, so that its ENOSPC comes before the EPIPE.
					sinks = append([]Sink{{Path: "/dev/full"}}, sinks...)
				}
				var reported []*SinkError
				res, out := run(t, data, Options{Sinks: sinks, Policy: tc.policy, NoSplice: noSplice,
					OnError: func(e *SinkError) { reported = append(reported, e) }}, false)
				er.wait(t)
				w := tc.want
				if res.Stopped != w.stopped || res.BrokenPipe() != w.brokenPipe || res.Failed(tc.policy) != w.failed {
					t.Errorf("stopped %q brokenPipe %v failed %v, want %+v", res.Stopped, res.BrokenPipe(), res.Failed(tc.policy), w)
				}
				if len(reported) != w.reported {
					t.Errorf("reported %v, want %d reports", reported, w.reported)
				}
				n, sum := fileSum(t, file)
				full := n == int64(len(data)) && sum == sha256.Sum256(data) && out.n == int64(len(data))
				if full != w.fullSurvive {
					t.Errorf("healthy outputs complete = %v (file %d, stdout %d bytes), want %v", full, n, out.n, w.fullSurvive)
				}
				// Whatever stops the copy, the healthy outputs end at the same
				// byte: every chunk goes to all of them or none.
				if tc.policy == PolicySigpipe && n != out.n {
					t.Errorf("file has %d bytes, stdout %d", n, out.n)
				}
				e := res.Sinks[len(res.Sinks)-1].Err
				if tc.policy.exits() && tc.full {
					// /dev/full stopped the copy before the reader left.
				} else if e == nil || !e.BrokenPipe() || !errors.Is(e, syscall.EPIPE) || e.Op != "write" {
					t.Errorf("early sink error %v", e)
				}
				if tc.full {
					if fe := res.Sinks[1].Err; fe == nil || !errors.Is(fe, syscall.ENOSPC) || fe.BrokenPipe() {
						t.Errorf("/dev/full error %v", fe)
					}
				}
			})
		})
	}
}

// TestAllOutputsGone: with -p and every output broken, reading stops (GNU
// tee does the same) and nothing counts as a failure.
func TestAllOutputsGone(t *testing.T) {
	paths(t, func(t *testing.T, noSplice bool) {
		early, er := earlyExit(t)
		inR, inW := blockingPipe(t)
		feed(inW, random())
		res, err := Run(context.Background(), Options{Stdin: inR, NoStdout: true, Sinks: []Sink{early}, Policy: PolicyWarnNoPipe, NoSplice: noSplice})
		if err != nil {
			t.Fatal(err)
		}
		inR.Close()
		er.wait(t)
		if res.Stopped != "no outputs" || res.Failed(PolicyWarnNoPipe) || res.BytesIn >= streamSize {
			t.Errorf("stopped %q failed %v read %d", res.Stopped, res.Failed(PolicyWarnNoPipe), res.BytesIn)
		}
	})
}

// TestCommandSinks: exit statuses, SIGPIPE deaths, a command that exits
// early without reading, and a missing shell command.
func TestCommandSinks(t *testing.T) {
	small := []byte("hello\n")
	t.Run("exit status", func(t *testing.T) {
		var reported []*SinkError
		res, out := run(t, small, Options{Sinks: []Sink{{Command: "cat >/dev/null; exit 3"}, {Command: "cat"}},
			OnError: func(e *SinkError) { reported = append(reported, e) }}, false)
		s := res.Sinks[1]
		var x *ExitError
		if s.ExitCode != 3 || s.Err == nil || s.Err.Op != "exit" || !errors.As(s.Err, &x) || x.Code != 3 {
			t.Errorf("sink %+v err %v", s, s.Err)
		}
		if !res.Failed(0) || len(reported) != 1 || res.Sinks[2].ExitCode != 0 {
			t.Errorf("failed %v reported %v", res.Failed(0), reported)
		}
		// The second command's stdout is pipectl's stdout.
		if out.n != 2*int64(len(small)) {
			t.Errorf("stdout got %d bytes, want the input twice", out.n)
		}
		if got := s.Err.Display(); got != "sh -c 'cat >/dev/null; exit 3'" {
			t.Errorf("display %q", got)
		}
	})
	t.Run("killed", func(t *testing.T) {
		res, _ := run(t, small, Options{Sinks: []Sink{{Command: "cat >/dev/null; kill -KILL $$"}}}, false)
		s := res.Sinks[1]
		if s.ExitCode != 137 || s.Signal != syscall.SIGKILL || !res.Failed(0) || res.BrokenPipe() {
			t.Errorf("sink %+v", s)
		}
	})
	t.Run("sigpipe death", func(t *testing.T) {
		for _, p := range []Policy{PolicySigpipe, PolicyWarnNoPipe, PolicyWarn} {
			res, _ := run(t, small, Options{Policy: p, Sinks: []Sink{{Command: "cat >/dev/null; kill -PIPE $$"}}}, false)
			s := res.Sinks[1]
			if s.ExitCode != 141 || s.Err == nil || !s.Err.BrokenPipe() {
				t.Errorf("%s: sink %+v", p, s)
			}
			if res.BrokenPipe() != (p == PolicySigpipe) || res.Failed(p) != (p == PolicyWarn) {
				t.Errorf("%s: brokenPipe %v failed %v", p, res.BrokenPipe(), res.Failed(p))
			}
		}
	})
	t.Run("fails without reading", func(t *testing.T) {
		// Writing 52 MiB to a command that exited 5 hits EPIPE; the
		// command's failure, not the broken pipe, decides (exit 1, not 141).
		res, _ := run(t, random(), Options{Sinks: []Sink{{Command: "exit 5"}}}, false)
		s := res.Sinks[1]
		if s.ExitCode != 5 || s.Err == nil || s.Err.Op != "exit" || s.Err.BrokenPipe() {
			t.Errorf("sink %+v err %v", s, s.Err)
		}
		if res.BrokenPipe() || !res.Failed(0) || res.Stopped != "error" {
			t.Errorf("brokenPipe %v failed %v stopped %q", res.BrokenPipe(), res.Failed(0), res.Stopped)
		}
	})
	t.Run("exits without reading", func(t *testing.T) {
		paths(t, func(t *testing.T, noSplice bool) {
			data := random()
			res, out := run(t, data, Options{NoSplice: noSplice, Policy: PolicyWarnNoPipe, Sinks: []Sink{{Command: "exit 0"}}}, false)
			s := res.Sinks[1]
			if s.Err == nil || !s.Err.BrokenPipe() || s.ExitCode != 0 || res.Failed(PolicyWarnNoPipe) {
				t.Errorf("sink %+v err %v", s, s.Err)
			}
			if out.n != int64(len(data)) || out.sum != sha256.Sum256(data) {
				t.Errorf("stdout got %d bytes", out.n)
			}
		})
	})
}

// TestOpenErrors: paths that cannot be opened are reported and dropped; the
// other outputs get every byte — except under an exit policy, which stops
// before reading anything.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		errno      syscall.Errno
		nodac      bool
	}{
		{"missing dir", filepath.Join(dir, "nosuch", "f"), syscall.ENOENT, false},
		{"directory", dir, syscall.EISDIR, false},
		{"permission denied", filepath.Join(ro, "f"), syscall.EACCES, true},
	}
	data := random()[:4<<20]
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, p := range []Policy{PolicySigpipe, PolicyExit} {
				var res *Result
				var out *reader
				do := func() {
					var reported []*SinkError
					good := filepath.Join(t.TempDir(), "good")
					res, out = run(t, data, Options{Policy: p, Sinks: []Sink{{Path: tc.path}, {Path: good}},
						OnError: func(e *SinkError) { reported = append(reported, e) }}, false)
					if len(reported) != 1 || !errors.Is(reported[0], tc.errno) || reported[0].Op != "open" || reported[0].Name != tc.path {
						t.Errorf("%s: reported %v", p, reported)
					}
					_, statErr := os.Stat(good)
					if p == PolicyExit && !os.IsNotExist(statErr) {
						t.Errorf("exit policy opened the sinks after the failing one")
					}
				}
				if tc.nodac {
					withoutDACOverride(t, do)
				} else {
					do()
				}
				if !res.Failed(p) {
					t.Errorf("%s: not failed", p)
				}
				if p == PolicyExit {
					if res.BytesIn != 0 || res.Stopped != "error" {
						t.Errorf("exit policy read %d bytes, stopped %q", res.BytesIn, res.Stopped)
					}
				} else if out.n != int64(len(data)) {
					t.Errorf("stdout got %d bytes", out.n)
				}
			}
		})
	}
}

// withoutDACOverride runs f on a thread without CAP_DAC_OVERRIDE and
// CAP_DAC_READ_SEARCH, so that "permission denied" happens even when the
// tests run as root (capabilities are per thread on Linux). The thread is
// thrown away afterwards.
func withoutDACOverride(t *testing.T, f func()) {
	if os.Geteuid() != 0 {
		f()
		return
	}
	if runtime.GOOS != "linux" {
		t.Skip("running as root: cannot provoke EACCES")
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if err := dropDAC(); err != nil {
			t.Errorf("drop capabilities: %v", err)
			return
		}
		f()
	}()
	<-done
}

// TestOpenTimeout: a FIFO nobody opens fails with ErrOpenTimeout after
// OpenTimeout while the other outputs get every byte; a FIFO whose reader
// comes late, but within the limit, gets everything.
func TestOpenTimeout(t *testing.T) {
	data := []byte("some data\n")
	dir := t.TempDir()
	lonely := filepath.Join(dir, "lonely")
	if err := unix.Mkfifo(lonely, 0o600); err != nil {
		t.Fatal(err)
	}
	var reported []*SinkError
	res, out := run(t, data, Options{OpenTimeout: 50 * time.Millisecond, Sinks: []Sink{{Path: lonely}},
		OnError: func(e *SinkError) { reported = append(reported, e) }}, false)
	if !res.TimedOut() || len(reported) != 1 || !IsTimeout(reported[0]) || res.Sinks[1].Kind != KindFIFO {
		t.Errorf("timed out %v reported %v kind %s", res.TimedOut(), reported, res.Sinks[1].Kind)
	}
	if out.n != int64(len(data)) {
		t.Errorf("stdout got %d bytes", out.n)
	}
	// Nothing is left holding the FIFO: a non-blocking reader sees no writer.
	fd, err := unix.Open(lonely, unix.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	var buf [1]byte
	if n, err := unix.Read(fd, buf[:]); n != 0 || err != nil {
		t.Errorf("read %d %v: someone still writes to the fifo", n, err)
	}
	unix.Close(fd)

	// A reader that opens after pipectl started waiting is found.
	late := filepath.Join(dir, "late")
	if err := unix.Mkfifo(late, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() {
		// Open only once the writer is polling: wait until pipectl has
		// started (its stdout consumer runs), then open.
		f, err := os.Open(late)
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		got <- b
	}()
	res, _ = run(t, data, Options{OpenTimeout: time.Minute, Sinks: []Sink{{Path: late}}}, false)
	if b := <-got; !bytes.Equal(b, data) || res.TimedOut() {
		t.Errorf("late reader got %q, timed out %v", b, res.TimedOut())
	}

	// Under an exit policy the timeout stops everything before any copy.
	res, out = run(t, data, Options{Policy: PolicyExit, OpenTimeout: 10 * time.Millisecond, Sinks: []Sink{{Path: lonely}}}, false)
	if !res.TimedOut() || res.BytesIn != 0 || out.n != 0 {
		t.Errorf("exit policy: timed out %v, copied %d", res.TimedOut(), res.BytesIn)
	}
}

// TestLossy: a lossy sink whose reader does not read until the end drops
// what does not fit its pipe and the others get every byte; dropped +
// accepted equals the stream, and the reader gets exactly the accepted bytes.
func TestLossy(t *testing.T) {
	paths(t, func(t *testing.T, noSplice bool) {
		for _, kind := range []string{"fifo", "command"} {
			t.Run(kind, func(t *testing.T) {
				data := random()
				dir := t.TempDir()
				var sink Sink
				var stalled *os.File
				gate := filepath.Join(dir, "gate")
				counted := filepath.Join(dir, "count")
				if kind == "fifo" {
					path := filepath.Join(dir, "lossy")
					if err := unix.Mkfifo(path, 0o600); err != nil {
						t.Fatal(err)
					}
					// Open for reading without reading anything yet.
					fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
					if err != nil {
						t.Fatal(err)
					}
					stalled = os.NewFile(uintptr(fd), path)
					sink = Sink{Path: path, Lossy: true}
				} else {
					// The command waits on a FIFO gate, opened only after
					// Run has returned, before it reads anything.
					if err := unix.Mkfifo(gate, 0o600); err != nil {
						t.Fatal(err)
					}
					sink = Sink{Command: "read x < " + gate + "; wc -c > " + counted, Lossy: true}
				}
				var res *Result
				var out *reader
				if kind == "command" {
					// Run returns only after the command exits, and the
					// command reads nothing until the gate opens. Open the
					// gate once stdout has every byte: by then the lossy
					// sink has been offered the whole stream.
					inR, inW := blockingPipe(t)
					outR, outW := blockingPipe(t)
					feed(inW, data)
					full := make(chan struct{})
					out = &reader{done: make(chan struct{})}
					go func() {
						defer close(out.done)
						b := make([]byte, len(data))
						n, err := io.ReadFull(outR, b)
						close(full)
						out.n, out.sum, out.err = int64(n), sha256.Sum256(b[:n]), err
						_, _ = io.Copy(io.Discard, outR)
					}()
					done := make(chan struct{})
					go func() {
						defer close(done)
						var err error
						res, err = Run(context.Background(), Options{Stdin: inR, Stdout: outW, NoSplice: noSplice, Sinks: []Sink{sink}})
						if err != nil {
							panic(err)
						}
						outW.Close()
					}()
					<-full
					g, err := os.OpenFile(gate, os.O_WRONLY, 0)
					if err != nil {
						t.Fatal(err)
					}
					_, _ = g.WriteString("go\n")
					g.Close()
					<-done
					out.wait(t)
				} else {
					res, out = run(t, data, Options{NoSplice: noSplice, Sinks: []Sink{sink}}, false)
				}
				s := res.Sinks[1]
				if !s.Lossy || s.Err != nil || res.Failed(0) {
					t.Errorf("lossy sink %+v err %v", s, s.Err)
				}
				if s.Bytes+s.Dropped != int64(len(data)) {
					t.Errorf("accepted %d + dropped %d != %d", s.Bytes, s.Dropped, len(data))
				}
				if out.n != int64(len(data)) || out.sum != sha256.Sum256(data) {
					t.Errorf("lossless stdout got %d bytes", out.n)
				}
				var got int64
				if s.Dropped == 0 {
					t.Errorf("a reader that never read made nothing drop")
				}
				if stalled != nil {
					n, err := io.Copy(io.Discard, stalled)
					stalled.Close()
					if err != nil && !errors.Is(err, syscall.EAGAIN) {
						t.Fatal(err)
					}
					got = n
				} else {
					b, err := os.ReadFile(counted)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := fmt.Sscan(string(b), &got); err != nil {
						t.Fatal(err)
					}
				}
				if got != s.Bytes {
					t.Errorf("reader got %d bytes, sink accepted %d", got, s.Bytes)
				}
				t.Logf("%s: accepted %d dropped %d", kind, s.Bytes, s.Dropped)
			})
		}
	})
}

// TestBadOptions: invalid sinks are rejected up front.
func TestBadOptions(t *testing.T) {
	for _, s := range []Sink{{}, {Path: "a", Command: "b"}} {
		if _, err := Run(context.Background(), Options{Sinks: []Sink{s}}); err == nil {
			t.Errorf("sink %+v accepted", s)
		}
	}
	if _, err := ParsePolicy("nope"); err == nil {
		t.Error("ParsePolicy accepted nope")
	}
	for _, p := range []Policy{PolicySigpipe, PolicyWarn, PolicyWarnNoPipe, PolicyExit, PolicyExitNoPipe} {
		if q, err := ParsePolicy(p.String()); err != nil || q != p {
			t.Errorf("round trip %s: %v %v", p, q, err)
		}
	}
}

// TestInputError: a read error on standard input is reported, not a panic
// or a silent success.
func TestInputError(t *testing.T) {
	d, err := os.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	outR, outW := blockingPipe(t)
	out := consume(outR, false, 0)
	res, err := Run(context.Background(), Options{Stdin: d, Stdout: outW})
	if err != nil {
		t.Fatal(err)
	}
	outW.Close()
	out.wait(t)
	if !errors.Is(res.InputErr, syscall.EISDIR) || res.Stopped != "input error" || !res.Failed(0) {
		t.Errorf("input err %v stopped %q", res.InputErr, res.Stopped)
	}
}
