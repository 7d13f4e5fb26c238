package run

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// TimeFormat renders the time of a line for --timestamps. Build one with
// ParseTimeFormat.
type TimeFormat struct {
	kind   string // "abs", "elapsed" or "delta"
	layout string // strftime-style format (abs only)
	goFmt  bool   // layout is a Go reference-time layout
}

// DefaultTimeFormat is the layout of a bare --timestamps, as annotate-output.
const DefaultTimeFormat = "%H:%M:%S"

// ParseTimeFormat accepts:
//
//   - "" or "true": DefaultTimeFormat, the wall-clock time
//   - "elapsed": seconds since the command started, "+1.234s" (like ts -s)
//   - "delta": seconds since the previous line, "+0.012s" (like ts -i)
//   - a strftime-style format with % directives (like ts): %Y %m %d %H %M
//     %S %y %b %a %e %j %p %F %T %s %z %Z %%, and ts's fractional forms
//     %.S %.s %.T (microseconds)
//   - anything else without a %: a Go time layout ("15:04:05.000", "2006-01-02T15:04:05Z07:00")
func ParseTimeFormat(s string) (*TimeFormat, error) {
	switch s {
	case "", "true":
		return &TimeFormat{kind: "abs", layout: DefaultTimeFormat}, nil
	case "elapsed", "delta":
		return &TimeFormat{kind: s}, nil
	case "false":
		return nil, nil
	}
	if !strings.Contains(s, "%") {
		return &TimeFormat{kind: "abs", layout: s, goFmt: true}, nil
	}
	// Reject unknown directives now rather than print them on every line.
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if i < len(s) && s[i] == '.' {
			i++
			if i >= len(s) || !strings.ContainsRune("sST", rune(s[i])) {
				return nil, fmt.Errorf("invalid time format %q: %%. must be followed by S, s or T", s)
			}
			continue
		}
		if i >= len(s) || !strings.ContainsRune("YmdHMSybaejpFTszZ%", rune(s[i])) {
			return nil, fmt.Errorf("invalid time format %q: unknown directive %%%s", s, s[i:min(i+1, len(s))])
		}
	}
	return &TimeFormat{kind: "abs", layout: s}, nil
}

// Append appends the rendering of now to b; start is when the command
// started and prev the time of the previous line.
func (f *TimeFormat) Append(b []byte, now, start, prev time.Time) []byte {
	switch f.kind {
	case "elapsed":
		return fmt.Appendf(b, "+%.3fs", now.Sub(start).Seconds())
	case "delta":
		return fmt.Appendf(b, "+%.3fs", now.Sub(prev).Seconds())
	}
	if f.goFmt {
		return now.AppendFormat(b, f.layout)
	}
	return strftime(b, f.layout, now)
}

func strftime(b []byte, layout string, t time.Time) []byte {
	for i := 0; i < len(layout); i++ {
		c := layout[i]
		if c != '%' || i+1 >= len(layout) {
			b = append(b, c)
			continue
		}
		i++
		frac := false
		if layout[i] == '.' && i+1 < len(layout) {
			frac = true
			i++
		}
		switch layout[i] {
		case 'Y':
			b = strconv.AppendInt(b, int64(t.Year()), 10)
		case 'y':
			b = t.AppendFormat(b, "06")
		case 'm':
			b = t.AppendFormat(b, "01")
		case 'd':
			b = t.AppendFormat(b, "02")
		case 'e':
			b = t.AppendFormat(b, "_2")
		case 'H':
			b = t.AppendFormat(b, "15")
		case 'M':
			b = t.AppendFormat(b, "04")
		case 'S':
			b = t.AppendFormat(b, "05")
			if frac {
				b = t.AppendFormat(b, ".000000")
			}
		case 'T':
			b = t.AppendFormat(b, "15:04:05")
			if frac {
				b = t.AppendFormat(b, ".000000")
			}
		case 's':
			b = strconv.AppendInt(b, t.Unix(), 10)
			if frac {
				b = fmt.Appendf(b, ".%06d", t.Nanosecond()/1000)
			}
		case 'b':
			b = t.AppendFormat(b, "Jan")
		case 'a':
			b = t.AppendFormat(b, "Mon")
		case 'j':
			b = fmt.Appendf(b, "%03d", t.YearDay())
		case 'p':
			b = t.AppendFormat(b, "PM")
		case 'F':
			b = t.AppendFormat(b, "2006-01-02")
		case 'z':
			b = t.AppendFormat(b, "-0700")
		case 'Z':
			b = t.AppendFormat(b, "MST")
		default:
			b = append(b, layout[i])
		}
	}
	return b
}

// maxLine bounds a line held back while waiting for its newline; a longer
// line is written in pieces, each annotated.
const maxLine = 64 << 10

// annotator turns raw output into annotated lines:
//
//	[TIME ][LABEL ]O: text
//	[TIME ][LABEL ]E: text
//
// as annotate-output does (O: stdout, E: stderr). Output is line-oriented:
// a partial line is held until its newline (or maxLine bytes, or the end of
// the stream, when a newline is added), so lines from the two streams never
// interleave mid-line. A line's time is when its first byte arrived.
type annotator struct {
	label     string
	tf        *TimeFormat
	start     time.Time
	prev      time.Time
	partial   [3][]byte
	partialAt [3]time.Time
	out       []byte
}

func newAnnotator(label string, tf *TimeFormat, start time.Time) *annotator {
	return &annotator{label: label, tf: tf, start: start, prev: start}
}

// add consumes p from stream s and returns the complete annotated lines it
// produced; the result is valid until the next call.
func (a *annotator) add(s Stream, p []byte, now time.Time) []byte {
	a.out = a.out[:0]
	for len(p) > 0 {
		if len(a.partial[s]) == 0 {
			a.partialAt[s] = now
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			room := maxLine - len(a.partial[s])
			if len(p) < room {
				a.partial[s] = append(a.partial[s], p...)
				return a.out
			}
			a.partial[s] = append(a.partial[s], p[:room]...)
			p = p[room:]
			a.line(s, a.partial[s], true)
			continue
		}
		if len(a.partial[s]) > 0 {
			a.partial[s] = append(a.partial[s], p[:i+1]...)
			a.line(s, a.partial[s], false)
		} else {
			a.line(s, p[:i+1], false)
		}
		p = p[i+1:]
	}
	return a.out
}

// flush returns the held partial line of s, completed with a newline.
func (a *annotator) flush(s Stream) []byte {
	a.out = a.out[:0]
	if len(a.partial[s]) > 0 {
		a.line(s, a.partial[s], true)
	}
	return a.out
}

func (a *annotator) line(s Stream, text []byte, addNewline bool) {
	at := a.partialAt[s]
	if a.tf != nil {
		a.out = a.tf.Append(a.out, at, a.start, a.prev)
		a.out = append(a.out, ' ')
	}
	a.prev = at
	if a.label != "" {
		a.out = append(a.out, a.label...)
		a.out = append(a.out, ' ')
	}
	if s == Stderr {
		a.out = append(a.out, "E: "...)
	} else {
		a.out = append(a.out, "O: "...)
	}
	a.out = append(a.out, text...)
	if addNewline {
		a.out = append(a.out, '\n')
	}
	a.partial[s] = a.partial[s][:0]
}
