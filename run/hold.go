package run

import "bytes"

// Stream names one of a command's output streams.
type Stream int

// The two output streams, numbered like their file descriptors.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

// String names the stream: "stdout" or "stderr".
func (s Stream) String() string {
	if s == Stderr {
		return "stderr"
	}
	return "stdout"
}

// Chunk is a piece of output and the stream it was written to.
type Chunk struct {
	Stream Stream
	Data   []byte
}

// Hold keeps output in arrival order for --quiet-unless-fail, in bounded
// memory: the first half of the budget keeps the head of the output, the
// second half a sliding tail; what falls between is counted as cut. The
// zero value is not usable: call NewHold.
type Hold struct {
	max          int64
	head, tail   []Chunk
	headN, tailN int64
	cut          int64
	// cutAtLine: the last byte cut from the tail's front was a newline, so
	// the tail starts with a whole line.
	cutAtLine bool
}

// mergeLimit bounds how large a chunk grows by merging consecutive writes
// to the same stream (merging keeps per-chunk overhead low for many small
// lines; the bound keeps trimming the tail cheap).
const mergeLimit = 64 << 10

// NewHold returns a Hold that keeps at most max bytes (max >= 2).
func NewHold(max int64) *Hold {
	if max < 2 {
		max = 2
	}
	return &Hold{max: max}
}

// Add records p, written to stream s. p is copied.
func (h *Hold) Add(s Stream, p []byte) {
	headCap := h.max / 2
	if h.headN < headCap {
		n := int64(len(p))
		if n > headCap-h.headN {
			n = headCap - h.headN
		}
		h.head = appendChunk(h.head, s, p[:n])
		h.headN += n
		p = p[n:]
	}
	if len(p) == 0 {
		return
	}
	tailCap := h.max - headCap
	if int64(len(p)) > tailCap {
		h.cut += h.tailN + int64(len(p)) - tailCap
		h.tail, h.tailN = nil, 0
		h.cutAtLine = p[int64(len(p))-tailCap-1] == '\n'
		p = p[int64(len(p))-tailCap:]
	}
	h.tail = appendChunk(h.tail, s, p)
	h.tailN += int64(len(p))
	for h.tailN > tailCap {
		excess := h.tailN - tailCap
		c := &h.tail[0]
		if int64(len(c.Data)) <= excess {
			h.cutAtLine = c.Data[len(c.Data)-1] == '\n'
			h.cut += int64(len(c.Data))
			h.tailN -= int64(len(c.Data))
			h.tail[0] = Chunk{}
			h.tail = h.tail[1:]
			continue
		}
		h.cutAtLine = c.Data[excess-1] == '\n'
		c.Data = c.Data[excess:]
		h.cut += excess
		h.tailN -= excess
	}
}

func appendChunk(cs []Chunk, s Stream, p []byte) []Chunk {
	if len(p) == 0 {
		return cs
	}
	if n := len(cs); n > 0 && cs[n-1].Stream == s && len(cs[n-1].Data)+len(p) <= mergeLimit {
		cs[n-1].Data = append(cs[n-1].Data, p...)
		return cs
	}
	return append(cs, Chunk{Stream: s, Data: append([]byte(nil), p...)})
}

// Cut is the number of bytes dropped between head and tail.
func (h *Hold) Cut() int64 { return h.cut }

// Held is the number of bytes kept.
func (h *Hold) Held() int64 { return h.headN + h.tailN }

// Replay hands the kept output to emit in order: the head, then cut(n)
// when n > 0 bytes were dropped, then the tail. When something was cut,
// the head ends and the tail starts at a line boundary (if the kept part
// has one), so no half line is shown; those bytes count as cut. Replay
// stops at emit's first error.
func (h *Hold) Replay(emit func(Chunk) error, cut func(n int64)) error {
	head, tail, n := h.head, h.tail, h.cut
	if n > 0 {
		head = trimHead(head, n)
		n += h.headN - sizeOf(head)
		if !h.cutAtLine {
			before := sizeOf(tail)
			tail = trimTail(tail)
			n += before - sizeOf(tail)
		}
	}
	for _, c := range head {
		if err := emit(c); err != nil {
			return err
		}
	}
	if n > 0 && cut != nil {
		cut(n)
	}
	for _, c := range tail {
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}

func sizeOf(cs []Chunk) int64 {
	var n int64
	for _, c := range cs {
		n += int64(len(c.Data))
	}
	return n
}

// trimHead drops what follows the head's last newline.
func trimHead(cs []Chunk, _ int64) []Chunk {
	for i := len(cs) - 1; i >= 0; i-- {
		if j := bytes.LastIndexByte(cs[i].Data, '\n'); j >= 0 {
			out := append([]Chunk(nil), cs[:i+1]...)
			out[i].Data = out[i].Data[:j+1]
			return out
		}
	}
	return cs
}

// trimTail drops what precedes the tail's first newline.
func trimTail(cs []Chunk) []Chunk {
	for i, c := range cs {
		if j := bytes.IndexByte(c.Data, '\n'); j >= 0 {
			out := append([]Chunk(nil), cs[i:]...)
			out[0].Data = out[0].Data[j+1:]
			if len(out[0].Data) == 0 {
				out = out[1:]
			}
			return out
		}
	}
	return cs
}
