//go:build !linux

package run

// followStops is Linux-only: elsewhere, Ctrl-Z on a command that holds the
// terminal stops the command but not pipectl.
func followStops(tty, pgid int, pids []int) (stop func()) { return func() {} }
