//go:build !linux

package run

// stopFollower is Linux-only (it needs waitid): elsewhere, Ctrl-Z on a
// command that holds the terminal stops the command but not pipectl.
type stopFollower struct{}

func newStopFollower(tty int) *stopFollower        { return &stopFollower{} }
func (f *stopFollower) start(pgid int, pids []int) {}
func (f *stopFollower) stop()                      {}
