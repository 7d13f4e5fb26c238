//go:build !linux

package run

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in process group pgid (0: a new group led by
// the child). There is no parent-death signal outside Linux: the guard
// process (see startGuard) is what kills the group when pipectl dies.
func sysProcAttr(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
}

// growPipe is a no-op where pipe buffers cannot be resized.
func growPipe(*os.File) {}

// maxRSSBytes converts ru_maxrss, which BSD and macOS report in bytes.
func maxRSSBytes(ru *syscall.Rusage) int64 { return int64(ru.Maxrss) }
