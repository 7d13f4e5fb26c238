package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
)

// TestTeeMemoryBounded streams 64 MiB and then 1 GiB through pipectl tee
// into a pipe, /dev/null and a command sink, on both paths, and checks
// pipectl's peak RSS: tens of MB at most, and no larger for the long stream
// than for the short one (the only buffer is 1 MiB, whatever the length).
func TestTeeMemoryBounded(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("peak RSS from wait4 is checked on Linux")
	}
	if testing.Short() {
		t.Skip("streams 2 GiB in all")
	}
	pipectl, err := exec.LookPath("pipectl") // testscript.Main put it in PATH
	if err != nil {
		t.Fatal(err)
	}
	limitKiB := int64(64 << 10)
	if raceEnabled {
		limitKiB *= 4 // the race detector's shadow memory
	}
	hwmFile := t.TempDir() + "/hwm"
	for _, noSplice := range []string{"", "1"} {
		var rss [2]int64
		for i, size := range []string{"64M", "1G"} {
			// The command sink reads pipectl's own high-water mark once it
			// has seen all the data, while pipectl waits for it. (wait4's
			// Maxrss would not do: a child started with vfork inherits the
			// test binary's peak at exec.)
			script := fmt.Sprintf(`head -c %s /dev/zero | "$0" tee /dev/null -c 'cat >/dev/null; grep VmHWM /proc/$PPID/status > %s' | cat >/dev/null`, size, hwmFile)
			c := exec.Command("sh", "-c", script, pipectl)
			c.Env = append(os.Environ(), "PIPECTL_TEE_NOSPLICE="+noSplice)
			if out, err := c.CombinedOutput(); err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
			data, err := os.ReadFile(hwmFile)
			if err != nil {
				t.Fatal(err)
			}
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(string(data)), "VmHWM: %d kB", &kib); err != nil {
				t.Fatalf("cannot parse %q: %v", data, err)
			}
			rss[i] = kib
			t.Logf("nosplice=%q %s: peak RSS %d KiB", noSplice, size, rss[i])
			if rss[i] > limitKiB {
				t.Errorf("nosplice=%q %s: peak RSS %d KiB > %d KiB", noSplice, size, rss[i], limitKiB)
			}
		}
		if rss[1] > rss[0]+8<<10 {
			t.Errorf("nosplice=%q: peak RSS grew with the stream: %d KiB -> %d KiB", noSplice, rss[0], rss[1])
		}
	}
}
