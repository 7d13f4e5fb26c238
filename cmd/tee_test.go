package cmd

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestProgressLine(t *testing.T) {
	cases := []struct {
		n       int64
		elapsed time.Duration
		size    uint64
		want    string
	}{
		{0, 0, 0, "0 B  0 B/s  0:00:00"},
		{3 << 20, 2 * time.Second, 0, "3.0 MiB  1.5 MiB/s  0:00:02"},
		{1 << 30, 10 * time.Second, 4 << 30, "1.0 GiB  102.4 MiB/s  0:00:10   25%  ETA 0:00:30"},
		{5 << 30, 3661 * time.Second, 4 << 30, "5.0 GiB  1.4 MiB/s  1:01:01  100%"},
	}
	for _, tc := range cases {
		if got := progressLine(tc.n, tc.elapsed, tc.size); got != tc.want {
			t.Errorf("progressLine(%d, %s, %d) = %q, want %q", tc.n, tc.elapsed, tc.size, got, tc.want)
		}
	}
}

// TestProgressDraw: the status line is redrawn in place with \r, erased
// before a message, and ended with a newline; it only reads the meter.
func TestProgressDraw(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	p := newProgress(&buf, &mu, 0)
	p.start()
	p.draw(false)
	mu.Lock()
	p.clearLocked()
	mu.Unlock()
	p.stop()
	out := buf.String()
	if !strings.HasPrefix(out, "\r0 B  ") || !strings.Contains(out, "\r\x1b[K") || !strings.HasSuffix(out, "\n") {
		t.Errorf("progress output %q", out)
	}
}
