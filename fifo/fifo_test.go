package fifo

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMakeAndRemove(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := Make(p, MakeOptions{Mode: 0o604, ModeSet: true}); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o604 {
		t.Fatalf("mode = %v, want named pipe 0604", fi.Mode())
	}
	if err := Make(p, MakeOptions{}); !errors.Is(err, ErrExist) {
		t.Fatalf("second Make: %v, want ErrExist", err)
	}
	if err := Make(p, MakeOptions{ExistOK: true}); err != nil {
		t.Fatalf("Make with ExistOK: %v", err)
	}
	if err := Remove(p, false); err != nil {
		t.Fatal(err)
	}
	if err := Remove(p, false); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Remove of missing: %v, want ErrNotExist", err)
	}
	if err := Remove(p, true); err != nil {
		t.Fatalf("forced Remove of missing: %v", err)
	}
}

func TestRefusesNonFIFO(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	os.WriteFile(file, []byte("keep"), 0o644)
	target := filepath.Join(dir, "target")
	if err := Make(target, MakeOptions{}); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	os.Symlink(target, link)

	for path, typ := range map[string]string{file: "regular file", dir: "directory", link: "symlink"} {
		var nf *NotFIFOError
		if err := Remove(path, true); !errors.As(err, &nf) || nf.Type != typ {
			t.Errorf("Remove(%s) = %v, want NotFIFOError %q", path, err, typ)
		}
		if err := Make(path, MakeOptions{ExistOK: true}); !errors.As(err, &nf) || nf.Type != typ {
			t.Errorf("Make(%s) = %v, want NotFIFOError %q", path, err, typ)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s was touched: %v", path, err)
		}
	}
	if _, err := Open(file, os.O_RDONLY, time.Second); !errors.As(err, new(*NotFIFOError)) {
		t.Errorf("Open(regular file) = %v, want NotFIFOError", err)
	}
	if b, _ := os.ReadFile(file); string(b) != "keep" {
		t.Errorf("file content changed to %q", b)
	}
}

func TestMakeTempAndRemoveItsDir(t *testing.T) {
	base := t.TempDir()
	p, err := MakeTemp(base, "", MakeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(p)
	if filepath.Dir(dir) != base || !strings.HasPrefix(filepath.Base(dir), TempDirPrefix) || filepath.Base(p) != DefaultTempName {
		t.Fatalf("unexpected temp path %s", p)
	}
	di, _ := os.Stat(dir)
	fi, _ := os.Lstat(p)
	if di.Mode().Perm() != 0o700 || fi.Mode().Perm() != 0o600 {
		t.Fatalf("modes dir %v fifo %v, want 0700 and 0600", di.Mode(), fi.Mode())
	}
	if err := Remove(p, false); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temp dir not removed: %v", err)
	}
	for _, bad := range []string{"a/b", ".", ".."} {
		if _, err := MakeTemp(base, bad, MakeOptions{}); err == nil {
			t.Errorf("MakeTemp name %q: no error", bad)
		}
	}
	if _, err := MakeTemp(filepath.Join(base, "missing"), "", MakeOptions{}); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("MakeTemp in missing dir: %v", err)
	}
	if left, _ := os.ReadDir(base); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

// TestOpenTimeoutLeaksNothing checks that a timed-out open returns in time
// and leaves neither a goroutine blocked in open(2) nor a descriptor.
func TestOpenTimeoutLeaksNothing(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Make(p, MakeOptions{}); err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	fdsBefore := openFDs(t)
	for _, flag := range []int{os.O_RDONLY, os.O_WRONLY} {
		for i := 0; i < 20; i++ {
			_, err := Open(p, flag, time.Millisecond)
			var te *TimeoutError
			if !errors.As(err, &te) || !errors.Is(err, ErrTimeout) {
				t.Fatalf("Open: %v, want TimeoutError", err)
			}
		}
	}
	// The opening goroutines have delivered their results; give them the
	// moment they need to return.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d before, %d after", before, runtime.NumGoroutine())
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
	if n := openFDs(t); n > fdsBefore {
		t.Errorf("open descriptors: %d before, %d after", fdsBefore, n)
	}
}

func openFDs(t *testing.T) int {
	entries, err := os.ReadDir("/dev/fd")
	if err != nil {
		t.Skip("no /dev/fd")
	}
	return len(entries)
}

func TestReadWrite(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Make(p, MakeOptions{}); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	done := make(chan error, 1)
	go func() {
		_, err := Write(p, bytes.NewReader(data), WriteOptions{Timeout: 10 * time.Second})
		done <- err
	}()
	var got bytes.Buffer
	n, err := Read(p, &got, ReadOptions{Timeout: 10 * time.Second})
	if err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
		t.Fatalf("Read: n=%d err=%v equal=%v", n, err, bytes.Equal(got.Bytes(), data))
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// lineWriter signals each write, so the test can wait for data to arrive.
type lineWriter struct {
	buf   bytes.Buffer
	wrote chan struct{}
	fail  error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	if w.fail != nil {
		return 0, w.fail
	}
	w.buf.Write(p)
	w.wrote <- struct{}{}
	return len(p), nil
}

func TestReadKeepOpenAcrossWriters(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Make(p, MakeOptions{}); err != nil {
		t.Fatal(err)
	}
	w := &lineWriter{wrote: make(chan struct{}, 10)}
	done := make(chan error, 1)
	go func() {
		_, err := Read(p, w, ReadOptions{KeepOpen: true})
		done <- err
	}()
	for _, s := range []string{"one\n", "two\n", "three\n"} {
		if _, err := Write(p, strings.NewReader(s), WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		<-w.wrote
	}
	select {
	case err := <-done:
		t.Fatalf("Read returned between writers: %v", err)
	default:
	}
	if got := w.buf.String(); got != "one\ntwo\nthree\n" {
		t.Fatalf("got %q", got)
	}
	// A failing destination ends the read with that error, unwrapped.
	w.fail = syscall.EPIPE
	if _, err := Write(p, strings.NewReader("four\n"), WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Read: %v, want EPIPE", err)
	}
}

func TestWriteBrokenPipe(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Make(p, MakeOptions{}); err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.OpenFile(p, os.O_RDONLY, 0)
		if err == nil {
			f.Read(make([]byte, 1))
			f.Close()
		}
	}()
	_, err := Write(p, io.LimitReader(zeros{}, 8<<20), WriteOptions{Timeout: 10 * time.Second})
	var pe *fs.PathError
	if !errors.Is(err, syscall.EPIPE) || !errors.As(err, &pe) || pe.Path != p {
		t.Fatalf("Write: %v, want EPIPE on %s", err, p)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestStat(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := Make(p, MakeOptions{Mode: 0o640, ModeSet: true}); err != nil {
		t.Fatal(err)
	}
	info, err := Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if info.Type != "fifo" || info.Mode != "0640" || len(info.Readers) != 0 || len(info.Writers) != 0 {
		t.Fatalf("idle: %+v", info)
	}
	if runtime.GOOS != "linux" {
		return
	}
	// Hold it open read-write from this process, with 5 bytes waiting.
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write([]byte("hello"))
	info, err = Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Readers) != 1 || len(info.Writers) != 1 || info.Readers[0].PID != os.Getpid() || info.Readers[0].FD != int(f.Fd()) {
		t.Fatalf("holders: %+v", info)
	}
	if info.BytesWaiting == nil || *info.BytesWaiting != 5 {
		t.Fatalf("bytes waiting: %v", info.BytesWaiting)
	}
	if _, err := Stat(filepath.Dir(p)); !errors.As(err, new(*NotFIFOError)) {
		t.Fatalf("Stat(dir): %v", err)
	}
}
