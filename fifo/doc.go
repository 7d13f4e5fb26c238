// Package fifo creates, removes, inspects and opens named pipes (FIFOs)
// safely: creation respects the umask unless a mode is given, removal never
// touches anything but a FIFO and never follows symlinks, and opening can be
// bounded by a timeout instead of blocking forever for a peer.
//
// Errors are *fs.PathError values naming the path, wrapping the errno or one
// of this package's errors (ErrExist, *NotFIFOError, *TimeoutError).
package fifo
