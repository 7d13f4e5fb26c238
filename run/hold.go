package run

// Stream names one of a command's output streams.
type Stream int

// The two output streams, numbered like their file descriptors.
const (
	Stdout Stream = 1
	Stderr Stream = 2
)

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
	if int64(len(p)) >= tailCap {
		h.cut += h.tailN + int64(len(p)) - tailCap
		h.tail, h.tailN = nil, 0
		p = p[int64(len(p))-tailCap:]
	}
	h.tail = appendChunk(h.tail, s, p)
	h.tailN += int64(len(p))
	for h.tailN > tailCap {
		excess := h.tailN - tailCap
		c := &h.tail[0]
		if int64(len(c.Data)) <= excess {
			h.cut += int64(len(c.Data))
			h.tailN -= int64(len(c.Data))
			h.tail[0] = Chunk{}
			h.tail = h.tail[1:]
			continue
		}
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
// when n > 0 bytes were dropped, then the tail. It stops at emit's first error.
func (h *Hold) Replay(emit func(Chunk) error, cut func(n int64)) error {
	for _, c := range h.head {
		if err := emit(c); err != nil {
			return err
		}
	}
	if h.cut > 0 && cut != nil {
		cut(h.cut)
	}
	for _, c := range h.tail {
		if err := emit(c); err != nil {
			return err
		}
	}
	return nil
}
