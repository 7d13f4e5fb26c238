package fifo

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// holders fills info.Readers and info.Writers from /proc/PID/fd and
// /proc/PID/fdinfo, matching the FIFO by device and inode.
func holders(fi os.FileInfo, info *Info) bool {
	want, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	procs, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		fdDir := filepath.Join("/proc", p.Name(), "fd")
		fds, err := os.ReadDir(fdDir)
		if err != nil {
			continue // gone, or not ours to see
		}
		var comm string
		for _, f := range fds {
			var st syscall.Stat_t
			if syscall.Stat(filepath.Join(fdDir, f.Name()), &st) != nil {
				continue
			}
			if st.Dev != want.Dev || st.Ino != want.Ino {
				continue
			}
			fd, _ := strconv.Atoi(f.Name())
			read, write := accessMode(pid, f.Name())
			if comm == "" {
				comm = command(pid)
			}
			h := Holder{PID: pid, Command: comm, FD: fd}
			if read {
				info.Readers = append(info.Readers, h)
			}
			if write {
				info.Writers = append(info.Writers, h)
			}
		}
	}
	return true
}

// accessMode reads the open flags of a descriptor from /proc/PID/fdinfo.
func accessMode(pid int, fd string) (read, write bool) {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "fdinfo", fd))
	if err != nil {
		return false, false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			if err != nil {
				return false, false
			}
			switch flags & syscall.O_ACCMODE {
			case syscall.O_RDONLY:
				return true, false
			case syscall.O_WRONLY:
				return false, true
			default:
				return true, true
			}
		}
	}
	return false, false
}

func command(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "comm"))
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// bytesWaiting asks the kernel how much data sits in the FIFO.
func bytesWaiting(path string) *int {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil
	}
	defer unix.Close(fd)
	n, err := unix.IoctlGetInt(fd, unix.TIOCINQ) // TIOCINQ is FIONREAD on Linux
	if err != nil {
		return nil
	}
	return &n
}
