// Package units parses the durations and sizes that pipectl flags accept,
// in both GNU coreutils form ("1.5", "2m", "1d", "64K") and Go form
// ("1m30s", "250ms").
package units

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ParseDuration parses a duration the way GNU timeout does (a bare number is
// seconds, fractions allowed, suffixes s, m, h, d), falling back to Go's
// time.ParseDuration form. "0" means no limit and returns 0. A tiny positive
// value never rounds down to 0: it becomes 1ns, so a limit the user asked for
// is never silently turned into "no limit".
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("invalid duration \"\": empty")
	}
	if d, ok, err := parseGNUDuration(t); ok {
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: %v", s, err)
		}
		return d, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want seconds (1.5), a unit (2m, 1h, 1d) or Go form (1m30s, 250ms)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("invalid duration %q: negative", s)
	}
	return d, nil
}

// parseGNUDuration handles NUMBER[smhd]. ok is false when s is not of that
// shape, so the caller can try Go's form instead.
func parseGNUDuration(s string) (d time.Duration, ok bool, err error) {
	num, mult := s, float64(time.Second)
	switch s[len(s)-1] {
	case 's':
		num = s[:len(s)-1]
	case 'm':
		num, mult = s[:len(s)-1], float64(time.Minute)
	case 'h':
		num, mult = s[:len(s)-1], float64(time.Hour)
	case 'd':
		num, mult = s[:len(s)-1], float64(24*time.Hour)
	}
	if num == "" || strings.Contains(num, "_") {
		// Go's "1ms" and friends also land here, for time.ParseDuration.
		return 0, false, nil
	}
	// Like GNU timeout (strtod), accept exponents and "inf" (no limit in
	// practice); NaN is no duration.
	f, perr := strconv.ParseFloat(num, 64)
	if perr != nil || math.IsNaN(f) {
		return 0, false, nil
	}
	if f < 0 {
		return 0, true, errors.New("negative")
	}
	v := f * mult
	if v > math.MaxInt64 {
		return time.Duration(math.MaxInt64), true, nil
	}
	d = time.Duration(v)
	if d == 0 && f > 0 {
		d = 1 // never round a requested limit down to "no limit"
	}
	return d, true, nil
}

// sizeUnits maps a unit suffix to its multiplier. Single letters and the
// "iB" forms are powers of 1024, as in GNU tools; "KB", "MB"... are powers
// of 1000.
var sizeUnits = map[string]uint64{
	"": 1, "b": 1, "B": 1,
	"k": 1 << 10, "K": 1 << 10, "KiB": 1 << 10, "KB": 1e3, "kB": 1e3,
	"M": 1 << 20, "MiB": 1 << 20, "MB": 1e6,
	"G": 1 << 30, "GiB": 1 << 30, "GB": 1e9,
	"T": 1 << 40, "TiB": 1 << 40, "TB": 1e12,
	"P": 1 << 50, "PiB": 1 << 50, "PB": 1e15,
}

// ParseSize parses a byte count: a plain number, or a number with a unit
// (64K, 1MiB, 2GB; K/M/G and KiB/MiB/GiB are binary, KB/MB/GB decimal).
// Fractions are allowed with a unit (1.5M).
func ParseSize(s string) (uint64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && (t[i] >= '0' && t[i] <= '9' || t[i] == '.') {
		i++
	}
	num, unit := t[:i], strings.TrimSpace(t[i:])
	mult, ok := sizeUnits[unit]
	if num == "" || !ok {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with a unit (64K, 1MiB, 2GB)", s)
	}
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseUint(num, 10, 64)
		if err != nil || (mult > 1 && n > math.MaxUint64/mult) {
			return 0, fmt.Errorf("invalid size %q: too large", s)
		}
		return n * mult, nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size %q: want bytes or a number with a unit (64K, 1MiB, 2GB)", s)
	}
	v := f * float64(mult)
	if v >= math.MaxUint64 {
		return 0, fmt.Errorf("invalid size %q: too large", s)
	}
	return uint64(v), nil
}
