//go:build !linux

package fifo

import "os"

// holders cannot list open descriptors without /proc; Stat reports the
// holders as unknown.
func holders(os.FileInfo, *Info) bool { return false }

// bytesWaiting is unknown without FIONREAD on FIFOs.
func bytesWaiting(string) *int { return nil }
