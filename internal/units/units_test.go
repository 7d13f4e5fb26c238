package units

import (
	"math"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	good := map[string]time.Duration{
		"0":            0,
		"5":            5 * time.Second,
		"1.5":          1500 * time.Millisecond,
		".5":           500 * time.Millisecond,
		"2s":           2 * time.Second,
		"2m":           2 * time.Minute,
		"1.5h":         90 * time.Minute,
		"1d":           24 * time.Hour,
		"250ms":        250 * time.Millisecond,
		"1m30s":        90 * time.Second,
		"0.0000000001": 1, // tiny never rounds to "no limit"
		" 3 ":          3 * time.Second,
		"1e3":          1000 * time.Second,
		"+5":           5 * time.Second,
		"1e-12":        1,
		"inf":          math.MaxInt64,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "abc", "1x", "s", "nan", "1_0", "-2m", "1..2"} {
		if d, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want error", in, d)
		}
	}
	if d, err := ParseDuration("99999999999999d"); err != nil || d <= 0 {
		// A huge value saturates instead of overflowing to negative.
		t.Errorf("huge duration = %v", d)
	}
}

func TestParseSize(t *testing.T) {
	good := map[string]uint64{
		"0": 0, "512": 512, "64K": 64 << 10, "64k": 64 << 10, "1MiB": 1 << 20,
		"1M": 1 << 20, "2GB": 2e9, "1KB": 1000, "1.5M": 3 << 19, "10B": 10, "1 GiB": 1 << 30,
	}
	for in, want := range good {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "K", "-1", "1X", "1.2.3", "99999999999999999999", "20000P"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want error", in, n)
		}
	}
}
