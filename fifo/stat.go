package fifo

import (
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// Info describes a FIFO and who holds it open. Its JSON form is what
// `pipectl fifo stat --json` prints, one object per line; field names are
// stable.
type Info struct {
	Path  string `json:"path"`
	Type  string `json:"type"`
	Mode  string `json:"mode"`
	UID   int    `json:"uid"`
	GID   int    `json:"gid"`
	Owner string `json:"owner"`
	Group string `json:"group"`
	// HoldersKnown is false where open descriptors cannot be listed (no
	// /proc, as on macOS); Readers and Writers are then empty.
	HoldersKnown bool     `json:"holders_known"`
	Readers      []Holder `json:"readers"`
	Writers      []Holder `json:"writers"`
	// BytesWaiting is the data written but not yet read, or nil when it
	// cannot be learned without disturbing the FIFO (see Stat).
	BytesWaiting *int `json:"bytes_waiting"`
}

// Holder is a process holding a FIFO open. A process that opened it
// read-write appears among both readers and writers.
type Holder struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
	FD      int    `json:"fd"`
}

// Stat describes the FIFO at path (not following a final symlink). Readers
// and writers come from /proc on Linux; processes of other users are only
// visible with the privilege to see their descriptors.
//
// The bytes waiting are measured with FIONREAD on a non-blocking read
// descriptor, opened only when a reader already exists or nobody holds the
// FIFO: opening a read end while only writers hold it would release a
// writer blocked in open(2), which would later die of a broken pipe. In
// that one case BytesWaiting is nil.
func Stat(path string) (*Info, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, pathError("stat", path, err)
	}
	if fi.Mode()&fs.ModeNamedPipe == 0 {
		return nil, pathError("stat", path, &NotFIFOError{Type: fileType(fi.Mode())})
	}
	info := &Info{
		Path:    path,
		Type:    "fifo",
		Mode:    fmt.Sprintf("%04o", uint32(fi.Mode().Perm())|specialBits(fi.Mode())),
		Readers: []Holder{},
		Writers: []Holder{},
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		info.UID, info.GID = int(st.Uid), int(st.Gid)
	}
	info.Owner = strconv.Itoa(info.UID)
	if u, err := user.LookupId(info.Owner); err == nil {
		info.Owner = u.Username
	}
	info.Group = strconv.Itoa(info.GID)
	if g, err := user.LookupGroupId(info.Group); err == nil {
		info.Group = g.Name
	}
	info.HoldersKnown = holders(fi, info)

	if info.HoldersKnown && len(info.Readers) == 0 && len(info.Writers) == 0 {
		// The kernel frees a pipe's buffer when its last holder closes.
		zero := 0
		info.BytesWaiting = &zero
	} else if info.HoldersKnown && len(info.Readers) > 0 {
		info.BytesWaiting = bytesWaiting(path)
	}
	return info, nil
}

func specialBits(m fs.FileMode) uint32 {
	var b uint32
	if m&fs.ModeSetuid != 0 {
		b |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		b |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		b |= 0o1000
	}
	return b
}
