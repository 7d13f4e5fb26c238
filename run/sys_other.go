//go:build !linux

package run

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in process group pgid (0: a new group led by
// the child). Without a parent-death signal outside Linux, a command
// outlives a pipectl killed by SIGKILL; any signal pipectl can catch is
// still passed on to the whole group.
func sysProcAttr(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
}

// growPipe is a no-op where pipe buffers cannot be resized.
func growPipe(*os.File) {}

// maxRSSBytes converts ru_maxrss, which BSD and macOS report in bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) }
